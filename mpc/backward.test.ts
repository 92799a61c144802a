// Tests of the MPC layer's backward (mpc/implicit.ts, mpc/unrolled.ts): every registered
// gradcheck `mpc.*` passes at 1e-6; the implicit gradient equals the unrolled one at
// convergence while the Gauss-Newton one differs on nonlinear dynamics; the envelope theorem;
// pinned controls; non-converged items keep their gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, registeredGradchecks, slice, square, sum, tensor } from '../sim/core/index.ts';
import './checks.ts';
import { quadCost } from './cost.ts';
import { mpc } from './mpc.ts';
import { pendulum, pendulumCost, pendulumState } from './pendulum.ts';

for (const c of registeredGradchecks().filter((g) => g.name.startsWith('mpc.'))) {
  test(`gradcheck ${c.name} passes at rel. error 1e-6`, () => {
    const r = c.run();
    assert.ok(r.passed, `${c.name}: maxRelErr ${r.maxRelErr}, maxAbsErr ${r.maxAbsErr}, inputs ${JSON.stringify(r.inputs.map((i) => [i.name, i.maxRelErr]))}`);
  });
}

const x0 = pendulumState([0.2, -0.3, 1.0], [0.1, 0.5, 0]);
function grads(mode: 'implicit' | 'implicit-gn' | 'unrolled') {
  const theta = tensor([10, 1, 1]).requireGrad();
  const c = pendulumCost().c.clone().requireGrad();
  const x = x0.clone().requireGrad();
  const r = mpc(
    { dynamics: pendulum(theta), cost: quadCost(pendulumCost().C, c), x_init: x, T: 8, u_lower: -2, u_upper: 2 },
    { tol: 1e-11, maxIter: 200, backward: mode },
  );
  return gradients(sum(square(r.u)), [theta, c, x]).map((g) => Array.from(g!.data));
}

test('the implicit gradient equals the unrolled one at convergence; the Gauss-Newton one differs on the pendulum', () => {
  const a = grads('implicit');
  const u = grads('unrolled');
  const g = grads('implicit-gn');
  let maxDiffU = 0;
  let maxDiffG = 0;
  let scale = 0;
  a.forEach((ga, k) =>
    ga.forEach((v, i) => {
      maxDiffU = Math.max(maxDiffU, Math.abs(v - u[k]![i]!));
      maxDiffG = Math.max(maxDiffG, Math.abs(v - g[k]![i]!));
      scale = Math.max(scale, Math.abs(v));
    }),
  );
  assert.ok(maxDiffU < 1e-6 * scale, `implicit vs unrolled: ${maxDiffU} (scale ${scale})`);
  assert.ok(maxDiffG > 1e-3 * scale, `implicit vs Gauss-Newton: ${maxDiffG} (scale ${scale})`);
});

test("envelope theorem: d(optimal objective)/dc_t = tau_t* and d/dC_t = 1/2 tau_t* tau_t*'", () => {
  const { C, c } = pendulumCost();
  const cc = c.clone().requireGrad();
  const CC = C.clone().requireGrad();
  const r = mpc({ dynamics: pendulum(), cost: quadCost(CC, cc), x_init: x0, T: 8, u_lower: -2, u_upper: 2 }, { tol: 1e-11, maxIter: 200 });
  const [gc, gC] = gradients(sum(r.objective), [cc, CC]);
  const tauSum = [0, 0, 0, 0];
  const outer = new Array<number>(16).fill(0);
  for (let b = 0; b < 3; b++) {
    for (let t = 0; t < 8; t++) {
      const tau = [...Array.from(r.x.data.subarray((b * 8 + t) * 3, (b * 8 + t) * 3 + 3)), r.u.data[b * 8 + t]!];
      tau.forEach((v, i) => {
        tauSum[i]! += v;
        tau.forEach((w, j) => (outer[i * 4 + j]! += 0.5 * v * w));
      });
    }
  }
  tauSum.forEach((v, i) => assert.ok(Math.abs(gc!.data[i]! - v) < 1e-8, `dJ/dc[${i}]`));
  outer.forEach((v, i) => assert.ok(Math.abs(gC!.data[i]! - v) < 1e-8, `dJ/dC[${i}]`));
});

test('controls pinned at a bound get no gradient from x_init; free ones do', () => {
  const x = pendulumState([1.0, 0.05], [0, 0]).requireGrad();
  const r = mpc(
    { dynamics: pendulum(), cost: quadCost(pendulumCost().C, pendulumCost().c), x_init: x, T: 6, u_lower: -2, u_upper: 2 },
    { tol: 1e-11, maxIter: 200 },
  );
  // item 0 (th = 1) saturates its first control, item 1 (th = 0.05) does not
  assert.equal(Math.abs(r.u.data[0]!), 2);
  assert.ok(Math.abs(r.u.data[6]!) < 2);
  const [g0] = gradients(slice(r.u, [0, 0, 0], [1, 1, 1]), [x]);
  const [g1] = gradients(slice(r.u, [1, 0, 0], [1, 1, 1]), [x]);
  assert.deepEqual(Array.from(g0!.data), [0, 0, 0, 0, 0, 0]);
  assert.ok(Math.abs(g1!.data[4]!) > 1e-3);
});

test('a non-converged item is flagged and still differentiated (never detached)', () => {
  const theta = tensor([10, 1, 1]).requireGrad();
  const r = mpc(
    { dynamics: pendulum(theta), cost: quadCost(pendulumCost().C, pendulumCost().c), x_init: pendulumState([0.3], [0.2]), T: 10, u_lower: -2, u_upper: 2 },
    { maxIter: 0 },
  );
  assert.equal(r.converged[0], false);
  const [g] = gradients(sum(r.u), [theta]);
  assert.ok(g!.data.some((v) => v !== 0));
  assert.equal(r.backwardInfo.runs, 1);
});
