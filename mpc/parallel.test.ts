// The MPC batch over worker threads (mpc/parallel.ts): pendulum and cartpole split over 2
// threads give the solutions, reports and gradients of 1 thread bit for bit; what stays on
// one thread (no Dynamics.remote, a function cost, a trace, a small batch); failures in a
// worker named with the batch items it held; the threads option checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Tensor, gradients, square, sum, tensor } from '../sim/core/index.ts';
import { closeWorkers, threadsUnavailable, WorkerError } from '../models/implicit/worker-pool.ts';
import { cartpole, cartpoleCost, cartpoleState, CARTPOLE } from './cartpole.ts';
import { quadCost } from './cost.ts';
import { mpc } from './mpc.ts';
import { mpcThreadCount } from './parallel.ts';
import { pendulum, pendulumCost, pendulumState, PENDULUM } from './pendulum.ts';
import type { Dynamics } from './dynamics.ts';

after(() => closeWorkers());

const B = 8;
const T = 20;
const rng = new Rng(0);
const th = Array.from({ length: B }, () => rng.range(-Math.PI / 2, Math.PI / 2));
const thdot = Array.from({ length: B }, () => rng.range(-1, 1));
const zeros = new Array<number>(B).fill(0);

const cases = [
  { name: 'pendulum', make: (t: Tensor) => pendulum(t), theta: PENDULUM.params, cost: pendulumCost(), x0: pendulumState(th, thdot), lim: PENDULUM.u_upper },
  {
    name: 'cartpole',
    make: (t: Tensor) => cartpole(t),
    theta: CARTPOLE.params,
    cost: cartpoleCost(),
    x0: cartpoleState(zeros, zeros, th, thdot),
    lim: CARTPOLE.u_upper,
  },
];

for (const k of cases) {
  test(`${k.name} MPC, batch ${B}, over 2 threads: solutions, reports and gradients of 1 thread, bit for bit`, () => {
    assert.equal(threadsUnavailable(), null);
    const run = (threads: number) => {
      const theta = tensor([...k.theta]).requireGrad();
      const c = k.cost.c.clone().requireGrad();
      const r = mpc({ dynamics: k.make(theta), cost: quadCost(k.cost.C, c), x_init: k.x0, T, u_lower: -k.lim, u_upper: k.lim }, { threads });
      const [gTheta, gc] = gradients(sum(square(r.u)), [theta, c]);
      return { r, g: [gTheta!.data, gc!.data] };
    };
    const one = run(1);
    const two = run(2);
    assert.deepEqual(two.r.x.data, one.r.x.data);
    assert.deepEqual(two.r.u.data, one.r.u.data);
    assert.deepEqual(two.r.objective.data, one.r.objective.data);
    assert.deepEqual([two.r.iterations, two.r.status, two.r.converged, two.r.stepNorm], [one.r.iterations, one.r.status, one.r.converged, one.r.stepNorm]);
    assert.deepEqual(two.g, one.g);
  });
}

test('what stays on one thread: no remote dynamics, a trace, a small batch', () => {
  const dims = { B, T, n: 3, m: 1 };
  const base = { dims, dynamics: pendulum(), dynParams: [], cost: quadCost(pendulumCost().C, pendulumCost().c), costParams: [], x_init: new Float64Array(0) };
  const p = { ...base, quad: { C: new Float64Array(0), c: new Float64Array(0) }, u_lower: new Float64Array(0), u_upper: new Float64Array(0) };
  assert.equal(mpcThreadCount(2, p, {}), 2);
  assert.equal(mpcThreadCount(1, p, {}), 1);
  assert.equal(mpcThreadCount(2, p, { trace: true }), 1);
  const { remote: _drop, ...local } = pendulum();
  assert.equal(mpcThreadCount(2, { ...p, dynamics: local as Dynamics }, {}), 1);
  assert.equal(mpcThreadCount(2, { ...p, quad: undefined }, {}), 1);
  assert.equal(mpcThreadCount(2, { ...p, dims: { ...dims, B: 2, T: 5 } }, {}), 1);
});

const fixtures = new URL('./test-util.ts', import.meta.url).href;

test('a worker that dies while solving is reported with the batch items it held', () => {
  const dyn: Dynamics = { ...pendulum(), remote: { module: fixtures, name: 'exitingDynamics' } };
  const { C, c } = pendulumCost();
  assert.throws(
    () => mpc({ dynamics: dyn, cost: quadCost(C, c), x_init: pendulumState(th, thdot), T, u_lower: -2, u_upper: 2 }, { threads: 2 }),
    (e: unknown) => e instanceof WorkerError && /mpc: worker thread 1 died \(exit code 4\) while solving batch items 4\.\.7/.test(e.message) && e.start === 4,
  );
  // the pool recovers: the next call is served
  const r = mpc({ dynamics: pendulum(), cost: quadCost(C, c), x_init: pendulumState(th, thdot), T, u_lower: -2, u_upper: 2 }, { threads: 2 });
  assert.ok(r.converged.every(Boolean));
});

test('an error in a worker names the items; a missing factory is named', () => {
  const { C, c } = pendulumCost();
  const solve = (dyn: Dynamics) => mpc({ dynamics: dyn, cost: quadCost(C, c), x_init: pendulumState(th, thdot), T, u_lower: -2, u_upper: 2 }, { threads: 2 });
  assert.throws(
    () => solve({ ...pendulum(), remote: { module: fixtures, name: 'nanPendulum' } }),
    /worker thread 1 failed on batch items 4\.\.7: .*non-finite state .*item numbers count within batch items 4\.\.7: add 4/s,
  );
  assert.throws(() => solve({ ...pendulum(), remote: { module: fixtures, name: 'noSuchFactory' } }), /exports no function noSuchFactory \(Dynamics.remote\)/);
});

test('mpc rejects a threads option that is not a positive integer', () => {
  const { C, c } = pendulumCost();
  assert.throws(
    () => mpc({ dynamics: pendulum(), cost: quadCost(C, c), x_init: pendulumState([0.1], [0]), T }, { threads: 0 }),
    /mpc: threads must be a positive integer, got 0/,
  );
});
