// Tests of forward sensitivities (models/implicit/ode-sensitivity.ts): the seed's joint [x, z]
// system on Lorenz and on exponential decay (closed form), both ways of forming J v, the tape hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, mul, neg, randn, sum, tensor } from '../../sim/core/index.ts';
import { odeint, odeintSensitivities, type OdeFunc } from './ode.ts';
import { lorenz, smallMlp } from './checks-ode.ts';

const SEED = [10, 28, 8 / 3];

test('Lorenz dx/d(sigma, rho, beta) from the joint [x, z] system matches central differences of the solution', () => {
  const ts = [0, 0.2, 0.5];
  const { y, dydp, dydy0, stats } = odeintSensitivities(lorenz, tensor([1, 1, 1]), ts, [tensor(SEED)], { rtol: 1e-10, atol: 1e-10 });
  assert.deepEqual(dydp[0]!.shape, [3, 3, 3]);
  assert.equal(dydy0, null);
  assert.equal(stats.columns, 3);
  // the state itself is the plain solve's (joint error control makes it at least as accurate)
  const plain = odeint(lorenz, tensor([1, 1, 1]), ts, [tensor(SEED)], { rtol: 1e-12, atol: 1e-12 }).y;
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(y.data[i]! - plain.data[i]!) < 1e-7);
  const eps = 1e-6;
  for (let j = 0; j < 3; j++) {
    const hi = SEED.slice();
    const lo = SEED.slice();
    hi[j]! += eps;
    lo[j]! -= eps;
    const yh = odeint(lorenz, tensor([1, 1, 1]), ts, [tensor(hi)], { rtol: 1e-12, atol: 1e-12 }).y.data;
    const yl = odeint(lorenz, tensor([1, 1, 1]), ts, [tensor(lo)], { rtol: 1e-12, atol: 1e-12 }).y.data;
    for (let i = 0; i < 9; i++) {
      const fd = (yh[i]! - yl[i]!) / (2 * eps);
      const s = dydp[0]!.data[i * 3 + j]!;
      assert.ok(Math.abs(s - fd) < 1e-6 * Math.max(1, Math.abs(fd)), `d y[${i}] / d p[${j}]: ${s} vs ${fd}`);
    }
  }
  // at t0 the sensitivities are zero
  for (let i = 0; i < 9; i++) assert.equal(dydp[0]!.data[i], 0);
});

test('exponential decay: dy/dk = -t y and dy/dy0 = exp(-k t) exactly', () => {
  const k = 0.6;
  const decay: OdeFunc = (_t, y, [kk]) => neg(mul(kk!, y));
  const ts = [0, 0.5, 2];
  const { dydp, dydy0 } = odeintSensitivities(decay, tensor([2, -1]), ts, [tensor([k])], { rtol: 1e-11, atol: 1e-12, wrtY0: true });
  ts.forEach((t, i) => {
    [2, -1].forEach((y0, r) => {
      assert.ok(Math.abs(dydp[0]!.get(i, r, 0) - -t * y0 * Math.exp(-k * t)) < 1e-9);
      for (let c = 0; c < 2; c++) assert.ok(Math.abs(dydy0!.get(i, r, c) - (r === c ? Math.exp(-k * t) : 0)) < 1e-9);
    });
  });
});

test('Jacobian-row and double-backward products give the same sensitivities on a batched neural field', () => {
  const rng = new Rng(5);
  const params = [mul(randn([3, 4], rng), 0.5), mul(randn([4], rng), 0.1), mul(randn([4, 3], rng), 0.5), mul(randn([3], rng), 0.1)];
  const y0 = randn([2, 3], rng);
  const a = odeintSensitivities(smallMlp, y0, [0, 0.7], params, { rtol: 1e-7, atol: 1e-7, products: 'jacobian' });
  const b = odeintSensitivities(smallMlp, y0, [0, 0.7], params, { rtol: 1e-7, atol: 1e-7, products: 'double-backward' });
  assert.equal(a.stats.products, 'jacobian');
  assert.equal(b.stats.products, 'double-backward');
  assert.equal(a.stats.reversePasses / a.stats.nfe, 6); // one per state element
  a.dydp.forEach((d, k) => {
    for (let i = 0; i < d.size; i++) assert.ok(Math.abs(d.data[i]! - b.dydp[k]!.data[i]!) < 1e-11, `param ${k} entry ${i}`);
  });
});

test('y from odeintSensitivities joins the tape: its gradients equal the adjoint and backprop ones', () => {
  const grads = (mode: 'sens' | 'adjoint' | 'backprop'): number[] => {
    const p = tensor(SEED).requireGrad();
    const y0 = tensor([1, 1, 1]).requireGrad();
    const opts = { rtol: 1e-10, atol: 1e-10 };
    const y =
      mode === 'sens' ? odeintSensitivities(lorenz, y0, [0, 0.3], [p], opts).y : odeint(lorenz, y0, [0, 0.3], [p], { ...opts, adjoint: mode === 'adjoint' }).y;
    backward(sum(mul(y, tensor([0, 0, 0, 1, -1, 0.5], [2, 3]))));
    return [...p.grad!.data, ...y0.grad!.data];
  };
  const s = grads('sens');
  const bp = grads('backprop');
  const adj = grads('adjoint');
  s.forEach((v, i) => {
    assert.ok(Math.abs(v - bp[i]!) < 1e-7 * Math.max(1, Math.abs(bp[i]!)), `entry ${i}: ${v} vs backprop ${bp[i]}`);
    assert.ok(Math.abs(v - adj[i]!) < 1e-7 * Math.max(1, Math.abs(adj[i]!)), `entry ${i}: ${v} vs adjoint ${adj[i]}`);
  });
});

test('odeintSensitivities names bad input like odeint', () => {
  assert.throws(
    () => odeintSensitivities(() => tensor([1, 2, 3]), tensor([1, 1]), [0, 1]),
    /odeintSensitivities: f\(t, y, params\) returned shape \[3\]; the state y0 has shape \[2\]/,
  );
  assert.throws(
    () => odeintSensitivities(lorenz, tensor([1, 1, 1]), [1, 0, 2], [tensor(SEED)]),
    /odeintSensitivities: ts must be strictly increasing or strictly decreasing/,
  );
});
