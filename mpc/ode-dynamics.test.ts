// Tests of ODE-defined MPC dynamics (mpc/ode-dynamics.ts): one step equals a hand-written RK4,
// MPC over the ODE pendulum converges, the two backward modes (backprop through the solver,
// continuous adjoint) give the same gradients, and bad options are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, concat, gradients, square, sum, tensor } from '../sim/core/index.ts';
import { pendulumOde } from './checks.ts';
import { quadCost } from './cost.ts';
import { mpc } from './mpc.ts';
import { odeDynamics } from './ode-dynamics.ts';

const ctx = { rows: 2, times: new Int32Array(2), items: new Int32Array([0, 1]), T: 2, B: 2 };

test('one step of the ODE pendulum is four RK4 steps of the vector field under a held control', () => {
  const [g, m, l] = [9.5, 1.2, 0.8];
  const dyn = pendulumOde(tensor([g, m, l]));
  const x = [
    [0.3, -0.2],
    [2.0, 1.5],
  ];
  const u = [[0.7], [-1.1]];
  const y = dyn.step(tensor(x), tensor(u), dyn.params, ctx);
  const f = (th: number, w: number, uu: number): [number, number] => [w, ((1.5 * g) / l) * Math.sin(th) + (3 * uu) / (m * l * l)];
  for (let r = 0; r < 2; r++) {
    let [th, w] = x[r]!;
    const h = 0.05 / 4;
    for (let k = 0; k < 4; k++) {
      const k1 = f(th!, w!, u[r]![0]!);
      const k2 = f(th! + (h / 2) * k1[0], w! + (h / 2) * k1[1], u[r]![0]!);
      const k3 = f(th! + (h / 2) * k2[0], w! + (h / 2) * k2[1], u[r]![0]!);
      const k4 = f(th! + h * k3[0], w! + h * k3[1], u[r]![0]!);
      th = th! + (h / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
      w = w! + (h / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    }
    assert.ok(Math.abs(y.data[2 * r]! - th!) < 1e-14, `row ${r} th`);
    assert.ok(Math.abs(y.data[2 * r + 1]! - w!) < 1e-14, `row ${r} thdot`);
  }
});

test('MPC over the ODE pendulum converges and balances it; backprop and adjoint backwards agree', () => {
  const C = tensor([
    [1, 0, 0],
    [0, 0.1, 0],
    [0, 0, 0.001],
  ]);
  const c = tensor([0, 0, 0]);
  const grads = [false, true].map((adjoint) => {
    const theta = tensor([10, 1, 1]).requireGrad();
    const r = mpc(
      {
        dynamics: pendulumOde(theta, adjoint),
        cost: quadCost(C, c),
        x_init: tensor([
          [0.4, 0],
          [-0.3, 0.5],
        ]),
        T: 20,
        u_lower: -3,
        u_upper: 3,
      },
      { tol: 1e-10 },
    );
    assert.deepEqual(r.converged, [true, true]);
    for (let b = 0; b < 2; b++) assert.ok(Math.abs(r.x.data[(b * 20 + 19) * 2]!) < 0.1, `item ${b}: final angle ${r.x.data[(b * 20 + 19) * 2]}`);
    return gradients(sum(square(r.u)), [theta])[0]!.data;
  });
  for (let i = 0; i < 3; i++)
    assert.ok(Math.abs(grads[0]![i]! - grads[1]![i]!) <= 1e-6 * Math.abs(grads[0]![i]!), `d/dtheta[${i}]: ${grads[0]![i]} vs ${grads[1]![i]}`);
});

test('odeDynamics names bad options and shapes', () => {
  const f = (x: Tensor): Tensor => x;
  assert.throws(() => odeDynamics({ name: 'bad', nx: 2, nu: 1, dt: 0, f }), /odeDynamics 'bad': dt must be a positive number, got 0/);
  assert.throws(() => odeDynamics({ name: 'bad', nx: 2, nu: 1, dt: 0.1, substeps: 0, f }), /substeps must be a positive integer/);
  const dyn = pendulumOde(tensor([10, 1, 1]));
  assert.throws(() => dyn.step(tensor([[1, 2, 3]]), tensor([[0]]), dyn.params, ctx), /x has shape \[1, 3\], expected \[N, 2\]/);
  assert.throws(() => dyn.step(tensor([[1, 2]]), tensor([[0, 1]]), dyn.params, ctx), /u has shape \[1, 2\], expected \[1, 1\]/);
  const wrong = odeDynamics({ name: 'wrong', nx: 2, nu: 1, dt: 0.1, f: (x, u) => concat([x, u], 1) });
  assert.throws(() => wrong.step(tensor([[1, 0]]), tensor([[0]]), [], ctx), /odeDynamics 'wrong': odeint: f\(t, y, params\) returned shape \[1, 3\]/);
});
