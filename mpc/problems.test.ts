// Tests of the standard problems (mpc/pendulum.ts, mpc/cartpole.ts): one step equals the issue's
// formulas (written here independently, with atan2 as in mpc.pytorch), the analytic raw
// steps and Jacobians agree with the tape, and the costs are the published weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, tensor } from '../sim/core/index.ts';
import { cartpole, cartpoleCost, cartpoleState } from './cartpole.ts';
import { linearize, makeContext, type Dynamics } from './dynamics.ts';
import { pendulum, pendulumCost, pendulumState } from './pendulum.ts';

const ctx1 = (N: number) =>
  makeContext(
    new Int32Array(N),
    Int32Array.from({ length: N }, (_, i) => i),
    2,
    N,
  );

test("pendulum step: thdot' = thdot + dt (3g/(2l) sin th + 3u/(ml^2)), th' = th + dt thdot' (worked numbers)", () => {
  const [g, m, l, dt] = [9, 1.2, 0.8, 0.05];
  const th = 0.5;
  const thdot = 0.2;
  const u = 1.5;
  const w1 = thdot + dt * (((3 * g) / (2 * l)) * Math.sin(th) + (3 * u) / (m * l * l));
  const th1 = Math.atan2(Math.sin(th), Math.cos(th)) + dt * w1;
  const dyn = pendulum(tensor([g, m, l]));
  const y = dyn.step(pendulumState([th], [thdot]), tensor([[u]]), dyn.params, ctx1(1));
  assert.ok(Math.abs(y.data[0]! - Math.cos(th1)) < 1e-14);
  assert.ok(Math.abs(y.data[1]! - Math.sin(th1)) < 1e-14);
  assert.ok(Math.abs(y.data[2]! - w1) < 1e-14);
  // the worked value at the true parameters: th = 0.5, thdot = 0.2, u = 1
  const yt = pendulum().step(pendulumState([0.5], [0.2]), tensor([[1]]), pendulum().params, ctx1(1));
  assert.ok(Math.abs(yt.data[2]! - (0.2 + 0.05 * (15 * Math.sin(0.5) + 3))) < 1e-14);
});

test('cartpole step follows the issue formulas with explicit Euler', () => {
  const [g, mc, mp, l, dt] = [9.8, 1.0, 0.1, 0.5, 0.05];
  const [x, xd, th, thd, u] = [0.3, -0.4, 0.7, 1.1, 12];
  const M = mc + mp;
  const cartIn = (u + mp * l * thd * thd * Math.sin(th)) / M;
  const thAcc = (g * Math.sin(th) - Math.cos(th) * cartIn) / (l * (4 / 3 - (mp * Math.cos(th) ** 2) / M));
  const xAcc = cartIn - (mp * l * thAcc * Math.cos(th)) / M;
  const want = [x + dt * xd, xd + dt * xAcc, Math.cos(th + dt * thd), Math.sin(th + dt * thd), thd + dt * thAcc];
  const dyn = cartpole();
  const y = dyn.step(cartpoleState([x], [xd], [th], [thd]), tensor([[u]]), dyn.params, ctx1(1));
  want.forEach((v, i) => assert.ok(Math.abs(y.data[i]! - v) < 1e-13, `component ${i}: ${y.data[i]} vs ${v}`));
});

function checkRawAgainstTape(dyn: Dynamics, x: Float64Array, u: Float64Array): void {
  const N = u.length / dyn.nu;
  const ctx = ctx1(N);
  const raw = new Float64Array(N * dyn.nx);
  dyn.stepRaw!(
    x,
    u,
    dyn.params.map((p) => p.data),
    ctx,
    raw,
  );
  const tape = dyn.step(tensor(x, [N, dyn.nx]), tensor(u, [N, dyn.nu]), dyn.params, ctx);
  raw.forEach((v, i) => assert.ok(Math.abs(v - tape.data[i]!) < 1e-13, `${dyn.name} step ${i}`));
  const nt = dyn.nx + dyn.nu;
  const Fa = new Float64Array(N * dyn.nx * nt);
  const Ft = new Float64Array(N * dyn.nx * nt);
  linearize(dyn, x, u, dyn.params, ctx, Fa);
  linearize({ ...dyn, jacobianRaw: undefined }, x, u, dyn.params, ctx, Ft);
  Fa.forEach((v, i) => assert.ok(Math.abs(v - Ft[i]!) < 1e-12, `${dyn.name} Jacobian entry ${i}: analytic ${v}, tape ${Ft[i]}`));
}

test('analytic raw steps and Jacobians of the pendulum and cartpole agree with the tape', () => {
  const rng = new Rng(2);
  const N = 6;
  const th = rng.uniforms(N, -3, 3);
  const thd = rng.uniforms(N, -4, 4);
  checkRawAgainstTape(pendulum(tensor([9.5, 1.3, 0.9])), pendulumState(Array.from(th), Array.from(thd)).data, rng.uniforms(N, -2, 2));
  checkRawAgainstTape(
    cartpole(tensor([9.7, 1.2, 0.2, 0.6])),
    cartpoleState(Array.from(rng.uniforms(N, -1, 1)), Array.from(rng.uniforms(N, -1, 1)), Array.from(th), Array.from(thd)).data,
    rng.uniforms(N, -50, 50),
  );
});

test('standard costs: pendulum C = diag(1, 1, 0.1, 0.001), c = (-1, 0, 0, 0); cartpole weights (0.1, 0.1, 1, 1, 0.1, 0.001), goal (0, 0, 1, 0, 0)', () => {
  const p = pendulumCost();
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => p.C.data[i * 5]),
    [1, 1, 0.1, 0.001],
  );
  assert.deepEqual(Array.from(p.c.data), [-1, 0, 0, 0]);
  const c = cartpoleCost();
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((i) => c.C.data[i * 7]),
    [0.1, 0.1, 1, 1, 0.1, 0.001],
  );
  assert.deepEqual(Array.from(c.c.data), [-0, -0, -1, -0, -0, -0]);
});
