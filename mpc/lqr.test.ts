// Tests of the LQR step and the box-QP (mpc/lqr.ts, mpc/boxqp.ts): the Riccati solution equals
// the dense KKT solution of the same QP, and the projected-Newton box-QP meets its KKT conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, randn } from '../sim/core/index.ts';
import { luFactor, luSolve } from '../sim/linalg/dense.ts';
import { boxQP, boxQPWork } from './boxqp.ts';
import { quadCost } from './cost.ts';
import { affineDynamics } from './dynamics.ts';
import { mpc } from './mpc.ts';

function spd(n: number, rng: Rng, shift: number): Float64Array {
  const L = rng.normals(n * n);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? shift : 0;
      for (let k = 0; k < n; k++) s += L[i * n + k]! * L[j * n + k]!;
      A[i * n + j] = s;
    }
  return A;
}

test('an unconstrained LQR solved by mpc equals the dense KKT solution of the same QP', () => {
  const rng = new Rng(11);
  const n = 3;
  const m = 2;
  const nt = n + m;
  const T = 4;
  const F = randn([T - 1, n, nt], rng);
  const f = randn([T - 1, n], rng);
  const C = new Tensor(spd(nt, rng, 0.5), [nt, nt]);
  const c = randn([T, nt], rng);
  const x0 = randn([1, n], rng);
  const r = mpc({ dynamics: affineDynamics(F, f), cost: quadCost(C, c), x_init: x0, T }, { tol: 1e-12 });
  assert.equal(r.converged[0], true);
  // dense KKT: z = [tau_0..tau_{T-1}], constraints x_0 = x_init, x_{t+1} = F_t tau_t + f_t
  const nz = T * nt;
  const ne = T * n;
  const N = nz + ne;
  const K = new Float64Array(N * N);
  const rhs = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < nt; i++) {
      for (let j = 0; j < nt; j++) K[(t * nt + i) * N + t * nt + j] = C.data[i * nt + j]!;
      rhs[t * nt + i] = -c.data[t * nt + i]!;
    }
  }
  const put = (row: number, col: number, v: number): void => {
    K[row * N + col] = v;
    K[col * N + row] = v;
  };
  for (let i = 0; i < n; i++) {
    put(nz + i, i, 1);
    rhs[nz + i] = x0.data[i]!;
  }
  for (let t = 0; t < T - 1; t++) {
    for (let i = 0; i < n; i++) {
      const row = nz + (t + 1) * n + i;
      put(row, (t + 1) * nt + i, 1);
      for (let j = 0; j < nt; j++) put(row, t * nt + j, -F.data[(t * n + i) * nt + j]!);
      rhs[row] = f.data[t * n + i]!;
    }
  }
  const piv = new Int32Array(N);
  assert.notEqual(luFactor(K, 0, N, piv), 0);
  luSolve(K, 0, N, piv, rhs, 0, 1);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) assert.ok(Math.abs(r.x.data[t * n + i]! - rhs[t * nt + i]!) < 1e-9, `x[${t}][${i}]`);
    for (let i = 0; i < m; i++) assert.ok(Math.abs(r.u.data[t * m + i]! - rhs[t * nt + n + i]!) < 1e-9, `u[${t}][${i}]`);
  }
});

test('the box-QP solution satisfies the KKT conditions of min 1/2 kHk + qk on a box', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const m = 1 + (trial % 4);
    const H = spd(m, rng, 0.1);
    const q = Float64Array.from(rng.normals(m), (v) => 3 * v);
    const lo = Float64Array.from(rng.uniforms(m, -2, 0));
    const hi = Float64Array.from(rng.uniforms(m, 0, 2));
    const k = new Float64Array(m);
    const free = new Uint8Array(m);
    const it = boxQP(H, 0, q, 0, lo, hi, 0, k, 0, free, 0, boxQPWork(m));
    assert.ok(it >= 0);
    for (let i = 0; i < m; i++) {
      let g = q[i]!;
      for (let j = 0; j < m; j++) g += H[i * m + j]! * k[j]!;
      assert.ok(k[i]! >= lo[i]! - 1e-12 && k[i]! <= hi[i]! + 1e-12, 'feasible');
      if (free[i]) assert.ok(Math.abs(g) < 1e-8, `trial ${trial}: free component ${i} has gradient ${g}`);
      else if (k[i] === lo[i]) assert.ok(g >= -1e-8);
      else assert.ok(k[i] === hi[i] && g <= 1e-8);
    }
  }
});

test('the box-QP reports a non-positive-definite free block', () => {
  const H = Float64Array.from([-1, 0, 0, 1]);
  const it = boxQP(
    H,
    0,
    Float64Array.from([0.1, 0.1]),
    0,
    Float64Array.from([-1, -1]),
    Float64Array.from([1, 1]),
    0,
    new Float64Array(2),
    0,
    new Uint8Array(2),
    0,
    boxQPWork(2),
  );
  assert.equal(it, -1);
});
