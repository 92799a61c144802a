// Example `cloth-throw` (sim/physics/examples, layer sim): find the initial velocities of a
// spring-mass cloth (every particle's, [N, 3]) so that its centre of mass lands on a target
// on the ground after T seconds (it flies, lands and slides with friction). Gradient
// descent (Adam) through the simulator.
import { Tensor, mean, slice, sub, sum, square, tensor } from '../../sim/core/index.ts';
import { ModelBuilder, rollout, State, type Model } from '../../sim/physics/index.ts';
import { exampleResult, fitWithAdam, type ExampleOptions, type ExampleResult } from './common.ts';

/** The cloth: 5 x 5 particles 10 cm apart, 0.8 m above the ground, structural and shear springs. */
export function clothModel(n = 5): Model {
  const b = new ModelBuilder().setGround({ ke: 1e3, kd: 5, kf: 10, mu: 0.4 });
  b.addClothGrid({ origin: [-0.2, -0.2, 0.8], nx: n, ny: n, cellSize: 0.1, mass: 0.04, radius: 0.01, ke: 200, kd: 0.5 });
  return b.finalize();
}

/** Runs the example: optimises all initial particle velocities. */
export function runClothThrow(opts: ExampleOptions & { gridSize?: number } = {}): ExampleResult {
  const t0 = performance.now();
  const model = clothModel(opts.gridSize ?? 5);
  const n = model.particleCount;
  const target = tensor([[1.5, 0.8]]);
  const steps = 100;
  const dt = 1 / 100;
  const substeps = 10;
  const s0 = model.state();
  const com = (q: Tensor): Tensor => mean(q, 0, true);
  const loss = (qd0: Tensor): Tensor => {
    const { final } = rollout(model, new State({ ...s0, particleQd: qd0 }), { steps, dt, substeps, checkpointEvery: 20 });
    // horizontal landing point of the centre of mass (the cloth ends on the ground)
    const cxy = slice(com(final.particleQ), [0, 0], [1, 2]);
    return sum(square(sub(cxy, target)));
  };
  // initial guess: an upward throw straight along x
  const qd0 = tensor(Array.from({ length: n }, () => [1.5, 0, 1]));
  const fit = fitWithAdam(loss, [qd0], [0.1], 40, () => [checkVelocities(n)], opts);
  const meanV = [0, 1, 2].map((a) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += qd0.data[3 * i + a]!;
    return s / n;
  });
  return exampleResult('cloth-throw', fit, t0, {
    particles: n,
    springs: model.springCount,
    target: Array.from(target.data),
    meanInitialVelocity: meanV,
    steps,
    dt,
    substeps,
  });
}

/** A fixed, non-trivial velocity field for the gradient check (a throw with some spin). */
function checkVelocities(n: number): Tensor {
  const v = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    v[3 * i] = 1.2 + 0.05 * Math.sin(i);
    v[3 * i + 1] = 0.6 + 0.05 * Math.cos(i);
    v[3 * i + 2] = 1 + 0.03 * Math.sin(2 * i);
  }
  return new Tensor(v, [n, 3]);
}
