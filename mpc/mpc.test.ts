// Tests of the MPC forward solve (mpc/mpc.ts, mpc/ilqr.ts): convergence on the standard
// problems, optimality of the solution, warm starts, Newton vs Gauss-Newton steps, FnCost,
// per-item reports, and bad input (shapes, bounds, non-PSD cost, NaN dynamics, non-convergence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, ShapeError, Tensor, add, greater, mul, reshape, slice, square, sum, tensor, where } from '../sim/core/index.ts';
import { cartpole, cartpoleCost, cartpoleState } from './cartpole.ts';
import { fnCost, quadCost } from './cost.ts';
import type { Dynamics } from './dynamics.ts';
import { MpcError } from './errors.ts';
import { mpc, shiftControls } from './mpc.ts';
import { pendulum, pendulumCost, pendulumState } from './pendulum.ts';

const rng = new Rng(0);
const B = 8;
const TH = Array.from({ length: B }, () => rng.range(-Math.PI / 2, Math.PI / 2));
const THD = Array.from({ length: B }, () => rng.range(-1, 1));
const pend = () => ({
  dynamics: pendulum(),
  cost: quadCost(pendulumCost().C, pendulumCost().c),
  x_init: pendulumState(TH, THD),
  T: 20,
  u_lower: -2,
  u_upper: 2,
});

function objectiveOf(x: Float64Array, u: Float64Array, T: number, b: number): number {
  const w = [1, 1, 0.1, 0.001];
  let J = 0;
  for (let t = 0; t < T; t++) {
    const tau = [x[(b * T + t) * 3]!, x[(b * T + t) * 3 + 1]!, x[(b * T + t) * 3 + 2]!, u[b * T + t]!];
    tau.forEach((v, i) => (J += 0.5 * w[i]! * v * v));
    J -= tau[0]!;
  }
  return J;
}

function rolloutPendulum(x0: Float64Array, u: Float64Array, T: number): Float64Array {
  const dyn = pendulum();
  const x = new Float64Array(T * 3);
  x.set(x0);
  const ctx = { rows: 1, times: new Int32Array(1), items: new Int32Array(1), T, B: 1 };
  for (let t = 0; t < T - 1; t++)
    dyn.stepRaw!(x.subarray(3 * t, 3 * t + 3), u.subarray(t, t + 1), [dyn.params[0]!.data], ctx, x.subarray(3 * t + 3, 3 * t + 6));
  return x;
}

test('pendulum T = 20, batch 8: every item converges, controls stay in [-2, 2], the objective is the cost of (x, u)', () => {
  const r = mpc(pend());
  assert.deepEqual(r.converged, new Array(B).fill(true));
  assert.deepEqual(r.status, new Array(B).fill('converged'));
  for (const v of r.u.data) assert.ok(v >= -2 && v <= 2);
  for (let b = 0; b < B; b++) {
    assert.ok(Math.abs(r.objective.data[b]! - objectiveOf(r.x.data, r.u.data, 20, b)) < 1e-10);
    // x is the rollout of u from x_init
    const xr = rolloutPendulum(r.x.data.slice(b * 60, b * 60 + 3), r.u.data.slice(b * 20, b * 20 + 20), 20);
    xr.forEach((v, i) => assert.ok(Math.abs(v - r.x.data[b * 60 + i]!) < 1e-12));
  }
});

test('the solution is a local minimum: feasible perturbations of u do not lower the objective', () => {
  const r = mpc(pend(), { tol: 1e-10 });
  const prng = new Rng(3);
  for (let b = 0; b < B; b++) {
    const u = r.u.data.slice(b * 20, b * 20 + 20);
    const J0 = r.objective.data[b]!;
    for (let trial = 0; trial < 20; trial++) {
      const up = u.map((v) => Math.min(2, Math.max(-2, v + 1e-3 * prng.normal())));
      const xp = rolloutPendulum(r.x.data.slice(b * 60, b * 60 + 3), up, 20);
      assert.ok(objectiveOf(xp, up, 20, 0) >= J0 - 1e-12, `item ${b} trial ${trial}`);
    }
  }
});

test('warm starts: from the solution the solver stops at once; a shifted plan warm-starts the next receding-horizon solve', () => {
  const p = pend();
  const r = mpc(p);
  const again = mpc(p, { u_init: r.u.detach() });
  assert.deepEqual(again.iterations, new Array(B).fill(0));
  // receding horizon: advance one step with u_0, re-plan warm vs cold
  const dyn = pendulum();
  const x1 = new Tensor(new Float64Array(B * 3), [B, 3]);
  for (let b = 0; b < B; b++) x1.data.set(r.x.data.subarray((b * 20 + 1) * 3, (b * 20 + 2) * 3), b * 3);
  const cold = mpc({ ...p, dynamics: dyn, x_init: x1 });
  const warm = mpc({ ...p, dynamics: dyn, x_init: x1 }, { u_init: shiftControls(r.u.detach()) });
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  assert.ok(sum(warm.iterations) < sum(cold.iterations), `warm ${sum(warm.iterations)} vs cold ${sum(cold.iterations)}`);
});

test('Newton and Gauss-Newton steps reach the same cartpole solution; Newton needs fewer iterations', () => {
  const z = new Array(B).fill(0);
  const p = {
    dynamics: cartpole(),
    cost: quadCost(cartpoleCost().C, cartpoleCost().c),
    x_init: cartpoleState(z, z, TH, THD),
    T: 20,
    u_lower: -100,
    u_upper: 100,
  };
  const n = mpc(p, { hessian: 'newton', tol: 1e-9, maxIter: 200 });
  const g = mpc(p, { hessian: 'gauss-newton', tol: 1e-9, maxIter: 200 });
  assert.deepEqual(n.converged, new Array(B).fill(true));
  assert.deepEqual(g.converged, new Array(B).fill(true));
  for (let i = 0; i < n.u.size; i++) assert.ok(Math.abs(n.u.data[i]! - g.u.data[i]!) < 1e-5);
  const s = (a: number[]) => a.reduce((x, y) => x + y, 0);
  assert.ok(s(n.iterations) < s(g.iterations) / 2, `Newton ${s(n.iterations)} vs Gauss-Newton ${s(g.iterations)}`);
});

test('an FnCost equal to the quadratic cost gives the same solution', () => {
  const { c } = pendulumCost();
  const fc = fnCost('pendulum-quadratic', (tau) =>
    sum(add(mul(0.5, mul(square(tau), reshape(tensor([1, 1, 0.1, 0.001]), [1, 4]))), mul(tau, reshape(c, [1, 4]))), 1),
  );
  const a = mpc(pend(), { tol: 1e-10 });
  const b = mpc({ ...pend(), cost: fc }, { tol: 1e-10 });
  for (let i = 0; i < a.u.size; i++) assert.ok(Math.abs(a.u.data[i]! - b.u.data[i]!) < 1e-7);
});

test('bad input: shapes name the field', () => {
  const p = pend();
  assert.throws(
    () => mpc({ ...p, x_init: tensor([[1, 0]]) }),
    (e: Error) => e instanceof ShapeError && /x_init has shape \[1, 2\], expected \[B, 3\]/.test(e.message),
  );
  assert.throws(
    () =>
      mpc({
        ...p,
        cost: quadCost(
          tensor([
            [1, 0],
            [0, 1],
          ]),
          pendulumCost().c,
        ),
      }),
    (e: Error) => e instanceof ShapeError && /cost C has shape \[2, 2\]/.test(e.message),
  );
  assert.throws(
    () => mpc({ ...p, cost: quadCost(pendulumCost().C, tensor([1, 2])) }),
    (e: Error) => e instanceof ShapeError && /cost c has shape \[2\]/.test(e.message),
  );
  assert.throws(
    () => mpc(p, { u_init: tensor([[1, 2]]) }),
    (e: Error) => e instanceof ShapeError && /u_init has shape/.test(e.message),
  );
  assert.throws(
    () => mpc({ ...p, u_lower: tensor([1, 2]) }),
    (e: Error) => e instanceof ShapeError && /u_lower has shape \[2\]/.test(e.message),
  );
  assert.throws(
    () => mpc({ ...p, T: 0 }),
    (e: Error) => e instanceof MpcError && /horizon T must be a positive integer/.test(e.message),
  );
});

test('bad input: u_lower > u_upper names the index; NaN in x_init names the item', () => {
  const p = pend();
  const lo = new Float64Array(20).fill(-2);
  lo[7] = 3;
  assert.throws(
    () => mpc({ ...p, u_lower: new Tensor(lo, [20, 1]) }),
    (e: Error) => e instanceof MpcError && /u_lower > u_upper at \[b=0, t=7, i=0\] \(3 > 2\)/.test(e.message),
  );
  const x = pendulumState(TH, THD);
  x.data[4] = NaN;
  assert.throws(
    () => mpc({ ...p, x_init: x }),
    (e: Error) => e instanceof MpcError && /x_init\[1, 1\] is NaN/.test(e.message),
  );
});

test('bad input: a non-PSD cost is named with its time step', () => {
  const C = new Float64Array(20 * 16);
  for (let t = 0; t < 20; t++) for (let i = 0; i < 4; i++) C[t * 16 + i * 5] = 1;
  C[5 * 16 + 2 * 5] = -0.5;
  assert.throws(
    () => mpc({ ...pend(), cost: quadCost(new Tensor(C, [20, 4, 4]), pendulumCost().c) }),
    (e: Error) => e instanceof MpcError && /cost C\[t=5\] is not positive semidefinite/.test(e.message) && (e as MpcError).step === 5,
  );
});

test('NaN from the dynamics is reported with the step and batch item', () => {
  const base = pendulum();
  // a pendulum whose step returns NaN once the angle rate exceeds 1.5 rad/s
  const bad: Dynamics = {
    ...base,
    name: 'nan-pendulum',
    stepRaw: undefined,
    jacobianRaw: undefined,
    step: (x, u, params, ctx) => {
      const y = base.step(x, u, params, ctx);
      const N = x.shape[0]!;
      const w = slice(y, [0, 2], [N, 1]);
      return where(greater(w, 1.5), mul(NaN, y), y);
    },
  };
  const x = pendulumState([0, 0, 0], [0, 1.45, 0]);
  const u = new Tensor(
    new Float64Array(3 * 5).fill(0).map((_, i) => (i >= 5 && i < 10 ? 2 : 0)),
    [3, 5, 1],
  );
  assert.throws(
    () => mpc({ dynamics: bad, cost: quadCost(pendulumCost().C, pendulumCost().c), x_init: x, T: 5, u_lower: -2, u_upper: 2 }, { u_init: u }),
    (e: Error) => e instanceof MpcError && /non-finite state at step 1 of batch item 1/.test(e.message) && (e as MpcError).batchIndex === 1,
  );
});

test('non-convergence is reported per item, and raised on request', () => {
  const r = mpc(pend(), { maxIter: 1 });
  const bad = r.converged.map((c, b) => (c ? -1 : b)).filter((b) => b >= 0);
  assert.ok(bad.length > 0);
  for (const b of bad) {
    assert.equal(r.status[b], 'max-iter');
    assert.match(r.message[b]!, /no convergence in 1 iterations/);
  }
  assert.throws(
    () => mpc(pend(), { maxIter: 1, raiseOnNonConverged: true }),
    (e: Error) => e instanceof MpcError && /did not converge: item \d+: no convergence/.test(e.message),
  );
});

test('equal bounds pin the control', () => {
  const r = mpc({ ...pend(), u_lower: 0.5, u_upper: 0.5 });
  for (const v of r.u.data) assert.equal(v, 0.5);
  assert.deepEqual(r.converged, new Array(B).fill(true));
});
