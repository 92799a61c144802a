// Tests of qr and lstsq (sim/linalg): factor properties, a known factorisation, batching,
// least squares against the normal equations, gradients, and the rank/shape errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinalgError, Rng, ShapeError, Tensor, eye, gradients, matmul, matrixTranspose, randn, reshape, slice, sum, tensor } from '../core/index.ts';
import { lstsq, qr } from './qr.ts';
import { solve } from './lu.ts';
import { assertClose, weightedGradients } from './test-util.ts';

test('qr of a known 3x2 matrix gives the known factors with a non-negative diagonal', () => {
  const A = tensor([
    [3, 1],
    [4, 2],
    [0, 2],
  ]);
  const { Q, R } = qr(A);
  // q1 = a1 / |a1| = [0.6, 0.8, 0]; R_01 = q1 . a2 = 2.2; R_11 = sqrt(|a2|^2 - 2.2^2)
  assertClose(R, [5, 2.2, 0, Math.sqrt(9 - 2.2 * 2.2)], 1e-14);
  assertClose(slice(Q, [0, 0], [3, 1]), [0.6, 0.8, 0], 1e-14);
  assertClose(matmul(Q, R), A, 1e-14);
});

test('batched qr: Q has orthonormal columns, R is upper triangular with R_kk >= 0, QR = A', () => {
  const A = randn([4, 6, 3], new Rng(1));
  const { Q, R } = qr(A);
  assert.deepEqual(Q.shape, [4, 6, 3]);
  assert.deepEqual(R.shape, [4, 3, 3]);
  assertClose(matmul(Q, R), A, 1e-13, 'QR');
  assertClose(matmul(matrixTranspose(Q), Q), reshape(tensor([...Array(4)].flatMap(() => [...eye(3).data])), [4, 3, 3]), 1e-13, 'QtQ');
  for (let t = 0; t < 4; t++) {
    for (let k = 0; k < 3; k++) assert.ok(R.get(t, k, k) > 0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < i; j++) assert.equal(Math.abs(R.get(t, i, j)), 0);
  }
});

test('qr of a square matrix makes an orthogonal Q', () => {
  const A = randn([5, 5], new Rng(2));
  const { Q } = qr(A);
  assertClose(matmul(Q, matrixTranspose(Q)), eye(5), 1e-13);
});

test('qr rejects a wide matrix, naming its shape', () => {
  assert.throws(
    () => qr(randn([2, 3], new Rng(3))),
    (e: Error) => e instanceof ShapeError && /qr: .*m >= n.*\[2, 3\]/.test(e.message),
  );
});

test('lstsq matches the normal equations (A^T A) x = A^T b, batched and with several right-hand sides', () => {
  const rng = new Rng(4);
  const A = randn([3, 7, 4], rng);
  const b = randn([3, 7], rng);
  const At = matrixTranspose(A);
  const x = lstsq(A, b);
  assert.deepEqual(x.shape, [3, 4]);
  assertClose(x, solve(matmul(At, A), reshape(matmul(At, reshape(b, [3, 7, 1])), [3, 4])), 1e-12);
  const B = randn([3, 7, 2], rng);
  assertClose(lstsq(A, B), solve(matmul(At, A), matmul(At, B)), 1e-12);
});

test('lstsq of a square system is the exact solution', () => {
  const A = tensor([
    [2, -2],
    [-2, 0],
  ]);
  assertClose(lstsq(A, tensor([1, 0])), [0, -0.5], 1e-14);
});

test('lstsq gradients agree with those of the normal-equation solution', () => {
  const rng = new Rng(5);
  const A0 = randn([6, 3], rng);
  const b0 = randn([6], rng);
  const w = randn([3], rng);
  const normal = (A: Tensor, b: Tensor): Tensor => solve(matmul(matrixTranspose(A), A), matmul(matrixTranspose(A), b));
  const [gA1, gb1] = weightedGradients(lstsq, [A0, b0], w);
  const [gA2, gb2] = weightedGradients(normal, [A0, b0], w);
  assertClose(gA1!, gA2!, 1e-11, 'gA');
  assertClose(gb1!, gb2!, 1e-11, 'gb');
});

test('a rank-deficient A raises LinalgError in lstsq naming the batch item; qr raises in its backward', () => {
  const good = randn([4, 2], new Rng(6));
  const bad = tensor([
    [1, 2],
    [2, 4],
    [3, 6],
    [4, 8],
  ]);
  const A = reshape(tensor([...good.data, ...bad.data]), [2, 4, 2]);
  assert.throws(
    () =>
      lstsq(
        A,
        tensor([
          [1, 0, 0, 0],
          [1, 0, 0, 0],
        ]),
      ),
    (e: Error) => e instanceof LinalgError && /^lstsq: matrix 1 of the batch is rank deficient \(R\[1, 1\] is .*\)/.test(e.message) && e.batchIndex === 1,
  );
  const Ag = A.clone().requireGrad();
  const { R } = qr(Ag);
  assert.throws(() => gradients(sum(R), [Ag]), /qr: matrix 1 of the batch is rank deficient/);
});
