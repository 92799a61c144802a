// Tests of the raw in-place kernels of sim/linalg/dense.ts at offsets: LU (plain and
// transposed solves), Cholesky, triangular solves, Householder QR and Jacobi eigen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cholFactor, cholSolve, jacobiEigh, luFactor, luSolve, qrFactor, qrFormQ, triSolve } from './dense.ts';
import { assertClose } from './test-util.ts';
import { Rng } from '../core/index.ts';

/** Row-major product of an n x n matrix and an n-vector. */
function matVec(a: ArrayLike<number>, x: ArrayLike<number>, n: number, transpose = false): number[] {
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (transpose ? a[j * n + i]! : a[i * n + j]!) * x[j]!;
    y.push(s);
  }
  return y;
}

const A3 = [4, -2, 1, 3, 6, -4, 2, 1, 8];

test('luFactor/luSolve at an offset solve A x = b and A^T x = b', () => {
  const buf = new Float64Array([99, 99, ...A3]);
  const piv = new Int32Array(3);
  const sign = luFactor(buf, 2, 3, piv);
  assert.notEqual(sign, 0);
  const b = new Float64Array([7, 7, 1, 2, 3]);
  luSolve(buf, 2, 3, piv, b, 2, 1);
  assertClose(matVec(A3, b.subarray(2), 3), [1, 2, 3], 1e-14);
  const bt = new Float64Array([1, 2, 3]);
  luSolve(buf, 2, 3, piv, bt, 0, 1, true);
  assertClose(matVec(A3, bt, 3, true), [1, 2, 3], 1e-14);
  assert.equal(buf[0], 99);
});

test('cholFactor returns the failing pivot index; cholSolve solves SPD systems', () => {
  assert.equal(cholFactor(new Float64Array([1, 2, 2, 1]), 0, 2), 1);
  const S = [4, 2, 2, 3];
  const l = new Float64Array(S);
  assert.equal(cholFactor(l, 0, 2), -1);
  const b = new Float64Array([1, 1]);
  cholSolve(l, 0, 2, b, 0, 1);
  assertClose(matVec(S, b, 2), [1, 1], 1e-14);
});

test('triSolve covers lower/upper x transpose and reports a zero diagonal without touching b', () => {
  const T = new Float64Array([2, 5, 7, 1, 3, 11, -1, 2, 4]); // lower triangle: [[2],[1,3],[-1,2,4]]
  const L = [2, 0, 0, 1, 3, 0, -1, 2, 4];
  const U = [2, 5, 7, 0, 3, 11, 0, 0, 4];
  for (const [lower, transpose, M] of [
    [true, false, L],
    [true, true, L],
    [false, false, U],
    [false, true, U],
  ] as const) {
    const x = new Float64Array([1, -2, 3]);
    assert.equal(triSolve(T, 0, 3, x, 0, 1, lower, transpose), -1);
    assertClose(matVec(M, x, 3, transpose), [1, -2, 3], 1e-14, `lower=${lower} transpose=${transpose}`);
  }
  const Z = new Float64Array([1, 0, 0, 1, 0, 0, 1, 1, 1]);
  const b = new Float64Array([1, 2, 3]);
  assert.equal(triSolve(Z, 0, 3, b, 0, 1, true), 1);
  assert.deepEqual([...b], [1, 2, 3]);
});

test('qrFactor + qrFormQ reproduce A with orthonormal Q and R_kk >= 0', () => {
  const m = 4;
  const n = 3;
  const A = [1, 2, 0, -3, 1, 4, 2, 2, 1, 0, -1, 5];
  const work = new Float64Array(A);
  const tau = new Float64Array(n);
  const q = new Float64Array(m * n);
  const r = new Float64Array(n * n);
  qrFactor(work, 0, m, n, tau, 0);
  qrFormQ(work, 0, m, n, tau, 0, q, 0, r, 0);
  const QR: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) QR.push([0, 1, 2].reduce((s, k) => s + q[i * n + k]! * r[k * n + j]!, 0));
  assertClose(QR, A, 1e-14, 'QR');
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += q[i * n + a]! * q[i * n + b]!;
      assert.ok(Math.abs(s - (a === b ? 1 : 0)) < 1e-14, `Q^T Q [${a}, ${b}] = ${s}`);
    }
    assert.ok(r[a * n + a]! >= 0);
  }
});

test('jacobiEigh diagonalises, sorts ascending and fails (-1) on non-finite input', () => {
  const n = 3;
  const A = [4, 1, -2, 1, 2, 0, -2, 0, 3];
  const w = new Float64Array(n);
  const v = new Float64Array(n * n);
  const sweeps = jacobiEigh(new Float64Array(A), 0, n, w, 0, v, 0);
  assert.ok(sweeps > 0 && sweeps < 20, `sweeps ${sweeps}`);
  assert.ok(w[0]! <= w[1]! && w[1]! <= w[2]!);
  for (let j = 0; j < n; j++) {
    const col = [0, 1, 2].map((i) => v[i * n + j]!);
    assertClose(
      matVec(A, col, n),
      col.map((c) => c * w[j]!),
      1e-13,
      `A v${j}`,
    );
  }
  // the trace is preserved
  assert.ok(Math.abs(w[0]! + w[1]! + w[2]! - 9) < 1e-13);
  assert.equal(jacobiEigh(new Float64Array([1, NaN, NaN, 1]), 0, 2, w, 0, v, 0), -1);
});

test('luFactor/luSolve with a pivot offset: one pivot array serves a batch, same result as separate arrays', () => {
  const rng = new Rng(3);
  const n = 4;
  const B = 3;
  const A = Float64Array.from(rng.normals(B * n * n), (v, i) => v + (Math.floor((i % (n * n)) / n) === i % n ? 3 : 0));
  const b = rng.normals(B * n);
  const lu1 = A.slice();
  const x1 = b.slice();
  const piv = new Int32Array(B * n);
  const lu2 = A.slice();
  const x2 = b.slice();
  for (let t = 0; t < B; t++) {
    assert.notEqual(luFactor(lu1, t * n * n, n, piv, 0, t * n), 0);
    luSolve(lu1, t * n * n, n, piv, x1, t * n, 1, false, t * n);
    const p = new Int32Array(n);
    luFactor(lu2, t * n * n, n, p);
    luSolve(lu2, t * n * n, n, p, x2, t * n, 1);
  }
  assert.deepEqual(Array.from(x1), Array.from(x2));
});
