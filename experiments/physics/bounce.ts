// Example `bounce` (sim/physics/examples, layer sim), after Warp's example_bounce: find the
// initial velocity of a particle so that, after bouncing off a wall and the ground, it is at
// a target point after T seconds. Gradient descent (Adam) through the simulator.
import { Tensor, sub, sum, square, tensor } from '../../sim/core/index.ts';
import { ModelBuilder, rollout, State } from '../../sim/physics/index.ts';
import { exampleResult, fitWithAdam, type ExampleOptions, type ExampleResult } from './common.ts';

/** The bounce scene: a particle at (0, 0, 1), a wall at x = 2 (facing -x), the ground at z = 0. */
export function bounceModel(): ReturnType<ModelBuilder['finalize']> {
  const b = new ModelBuilder().setGround({ ke: 1e4, kd: 5, kf: 0, mu: 0 }).addWall([-1, 0, 0], -2);
  b.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  return b.finalize();
}

/** Runs the example: optimises the initial velocity v0 by gradient descent. */
export function runBounce(opts: ExampleOptions = {}): ExampleResult {
  const t0 = performance.now();
  const model = bounceModel();
  const target = tensor([-1.5, 0, 1.2]);
  const steps = 120;
  const dt = 1 / 120;
  const substeps = 8;
  const s0 = model.state();
  const loss = (v0: Tensor): Tensor => {
    const st = new State({ ...s0, particleQd: v0 });
    const { final } = rollout(model, st, { steps, dt, substeps });
    return sum(square(sub(final.particleQ, target)));
  };
  const v0 = tensor([[5, 0, -5]]);
  const fit = fitWithAdam(loss, [v0], [0.1], 60, () => [tensor([[5, 0, -5]])], opts);
  return exampleResult('bounce', fit, t0, { v0: Array.from(v0.data), target: Array.from(target.data), steps, dt, substeps });
}
