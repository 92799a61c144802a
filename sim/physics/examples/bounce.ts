// Example `bounce` (sim/physics/examples, layer sim), after Warp's example_bounce: find the
// initial velocity of a particle so that, after bouncing off a wall and the ground, it is at
// a target point after T seconds. Gradient descent (Adam) through the simulator.
import { Tensor, sub, sum, square, tensor } from '../../core/index.ts';
import { ModelBuilder } from '../builder.ts';
import { rollout } from '../rollout.ts';
import { State } from '../model.ts';
import { Adam, checkExampleGradient, optimize, type ExampleOptions, type ExampleResult } from './common.ts';

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
  const iterations = opts.iterations ?? 60;
  const adam = new Adam([v0], [0.1]);
  const { initialLoss, finalLoss, history } = optimize(loss, [v0], iterations, (g) => adam.step(g), opts.onIteration);
  const gc = opts.skipGradcheck ? { maxRelErr: NaN, maxAbsErr: NaN, eps: 0, passed: false } : checkExampleGradient(loss, [tensor([[5, 0, -5]])], 1e-6);
  return {
    example: 'bounce',
    initialLoss,
    finalLoss,
    iterations,
    ratio: finalLoss / initialLoss,
    converged: finalLoss < 0.01 * initialLoss,
    gradcheck: gc,
    wallMs: Math.round(performance.now() - t0),
    details: { v0: Array.from(v0.data), target: Array.from(target.data), steps, dt, substeps, lossHistory: history.filter((_, i) => i % 10 === 0) },
  };
}
