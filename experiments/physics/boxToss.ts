// Example `box-toss` (sim/physics/examples, layer sim): find the initial linear and angular
// velocity of a box tossed along a heightmap (it starts resting on it, slides, spins and
// stops by Coulomb friction) so that it comes to rest at a target. The loss is the squared
// horizontal distance to the target plus the squared final speed. Gradient descent (Adam)
// through the simulator: the gradient flows through the box's four bottom-corner contacts
// with the bilinear terrain. The box stays in contact all along: a toss from the air makes
// the loss piecewise smooth with jumps (each corner's touchdown switches the damping term
// kd*min(vn, 0) on at once), which defeats gradient descent and central differences alike.
import { Tensor, add, mul, slice, sub, sum, square, tensor } from '../../sim/core/index.ts';
import { BodyDesc, ModelBuilder, rollout, State, type Model } from '../../sim/physics/index.ts';
import { exampleResult, fitWithAdam, type ExampleOptions, type ExampleResult } from './common.ts';

/** Terrain height of the box-toss scene: a 5% slope up along x and a 3 cm bump near (0.55, 0.35). */
export function boxTossHeight(x: number, y: number): number {
  return 0.05 * x + 0.03 * Math.exp(-((x - 0.55) ** 2 + (y - 0.35) ** 2) / 0.04);
}

/** The box-toss scene: a 17 x 17 heightmap (cell 0.25 m) and a 20 cm, 1 kg box resting on it at the origin. */
export function boxTossModel(): Model {
  const n = 17;
  const heights: number[][] = [];
  for (let j = 0; j < n; j++) heights.push(Array.from({ length: n }, (_, i) => boxTossHeight(-1 + 0.25 * i, -2 + 0.25 * j)));
  const ke = 2e4;
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({ origin: [-1, -2], cellSize: 0.25, heights, ke, kd: 100, mu: 0.3, kf: 100 });
  // resting on the slope at the origin: tilted with it, sunk by its static load m g / (4 ke)
  const th = Math.atan(0.05);
  const z = boxTossHeight(0, 0) + 0.1 / Math.cos(th) - 9.81 / (4 * ke);
  b.addBody(
    BodyDesc.box(0.1, 0.1, 0.1)
      .setMass(1)
      .setRotation(0, -Math.sin(th / 2), 0, Math.cos(th / 2))
      .setTranslation(0, 0, z),
  );
  return b.finalize();
}

/** Runs the example: optimises the initial linear and angular velocity. */
export function runBoxToss(opts: ExampleOptions = {}): ExampleResult {
  const t0 = performance.now();
  const model = boxTossModel();
  const target = tensor([[0.9, 0.3]]);
  const steps = 300;
  const dt = 1 / 200;
  const substeps = 5;
  const s0 = model.state();
  const loss = (v0: Tensor, w0: Tensor): Tensor => {
    const { final } = rollout(model, new State({ ...s0, bodyVel: v0, bodyAngVel: w0 }), { steps, dt, substeps, checkpointEvery: 25 });
    const xy = slice(final.bodyPos, [0, 0], [1, 2]);
    return add(sum(square(sub(xy, target))), mul(0.1, sum(square(final.bodyVel))));
  };
  const v0 = tensor([[1.5, 0, 0.075]]);
  const w0 = tensor([[0, 0, 2]]);
  // central differences: step 3e-6 (rel. error 1.2e-7; at 1e-6 their roundoff shows, 1.1e-6)
  const fit = fitWithAdam(loss, [v0, w0], [0.1, 0.2], 40, () => [tensor([[1.5, 0, 0.075]]), tensor([[0, 0, 2]])], opts, 3e-6);
  const { final } = rollout(model, new State({ ...s0, bodyVel: v0, bodyAngVel: w0 }), { steps, dt, substeps });
  return exampleResult('box-toss', fit, t0, {
    v0: Array.from(v0.data),
    w0: Array.from(w0.data),
    target: Array.from(target.data),
    finalPos: Array.from(final.bodyPos.data),
    finalSpeed: Math.hypot(...final.bodyVel.data),
    steps,
    dt,
    substeps,
  });
}
