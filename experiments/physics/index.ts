// The physics experiments (experiments/physics, outside the layers; exported by no layer): each optimises by gradient descent
// through the simulator and returns {initialLoss, finalLoss, iterations, gradcheck, ...}.
// `impulse example <name>` runs them.
import { runBounce } from './bounce.ts';
import { runBoxToss } from './boxToss.ts';
import { runClothThrow } from './clothThrow.ts';
import type { ExampleOptions, ExampleResult } from './common.ts';
import { runTerrainId } from './terrainId.ts';

export type { ExampleOptions, ExampleResult } from './common.ts';
export { optimize, checkExampleGradient } from './common.ts';
export { runBounce, bounceModel } from './bounce.ts';
export { runClothThrow, clothModel } from './clothThrow.ts';
export { runBoxToss, boxTossModel, boxTossHeight } from './boxToss.ts';
export { runTerrainId, terrainIdModel, trueMu } from './terrainId.ts';

/** The runnable examples by name, with a one-line description. */
export const EXAMPLES: Record<string, { description: string; run: (opts?: ExampleOptions) => ExampleResult }> = {
  bounce: {
    description: "a particle's initial velocity so that after hitting a wall and the ground it reaches a target (Warp's example_bounce)",
    run: runBounce,
  },
  'cloth-throw': { description: 'initial velocities of a 5 x 5 spring-mass cloth so its centre of mass lands on a target', run: runClothThrow },
  'box-toss': { description: 'initial linear and angular velocity of a box tossed along a heightmap so it comes to rest at a target', run: runBoxToss },
  'terrain-id': { description: 'recover a friction map and a stiffness value from one observed trajectory of a tracked point-set robot', run: runTerrainId },
};

/** Runs an example by name; throws naming the known examples for an unknown one. */
export function runExample(name: string, opts: ExampleOptions = {}): ExampleResult {
  const ex = EXAMPLES[name];
  if (!ex) throw new Error(`example: unknown example '${name}' (known: ${Object.keys(EXAMPLES).join(', ')})`);
  return ex.run(opts);
}
