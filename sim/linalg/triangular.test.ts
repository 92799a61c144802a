// Tests of triangularSolve (sim/linalg): the four lower/upper x transpose cases, unit
// diagonal, batching, gradients confined to the triangle read, and the zero-diagonal error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinalgError, Rng, gradients, matmul, matrixTranspose, mul, randn, stack, sum, tensor } from '../core/index.ts';
import { triangularSolve } from './triangular.ts';
import { solve } from './lu.ts';
import { wellConditioned } from './fixtures.ts';
import { assertClose } from './test-util.ts';

const L = tensor([
  [2, 0, 0],
  [1, 3, 0],
  [-1, 2, 4],
]);

test('lower triangular solve by forward substitution gives the known solution', () => {
  // L [1, 1, 1] = [2, 4, 5]
  assertClose(triangularSolve(L, tensor([2, 4, 5])), [1, 1, 1]);
});

test('the four lower/upper x transpose cases agree with a dense solve of the triangle read', () => {
  const rng = new Rng(1);
  const M = wellConditioned([2], 4, rng);
  const b = randn([2, 4, 2], rng);
  const lowerMask = tensor([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1], [4, 4]);
  const Lm = mul(M, lowerMask);
  const Um = mul(M, matrixTranspose(lowerMask));
  assertClose(triangularSolve(M, b), solve(Lm, b), 1e-13, 'lower');
  assertClose(triangularSolve(M, b, { transpose: true }), solve(matrixTranspose(Lm), b), 1e-13, 'lower^T');
  assertClose(triangularSolve(M, b, { lower: false }), solve(Um, b), 1e-13, 'upper');
  assertClose(triangularSolve(M, b, { lower: false, transpose: true }), solve(matrixTranspose(Um), b), 1e-13, 'upper^T');
});

test('unitDiagonal ignores the stored diagonal', () => {
  const T = tensor([
    [7, 0],
    [2, -9],
  ]);
  // [[1, 0], [2, 1]] x = [1, 4] -> x = [1, 2]
  assertClose(triangularSolve(T, tensor([1, 4]), { unitDiagonal: true }), [1, 2]);
});

test('one unbatched T broadcasts over a batch of right-hand sides', () => {
  const rng = new Rng(2);
  const B = randn([3, 3, 2], rng);
  const X = triangularSolve(L, B);
  assert.deepEqual(X.shape, [3, 3, 2]);
  assertClose(matmul(L, X), B, 1e-13);
});

test('the gradient w.r.t. T is zero outside the triangle read (and on the diagonal when unit)', () => {
  const rng = new Rng(3);
  const T = wellConditioned([], 4, rng).requireGrad();
  const b = randn([4], rng);
  const [g] = gradients(sum(mul(triangularSolve(T, b, { lower: false }), randn([4], rng))), [T]);
  for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) assert.equal(Math.abs(g!.get(i, j)), 0);
  const [gu] = gradients(sum(mul(triangularSolve(T, b, { unitDiagonal: true }), randn([4], rng))), [T]);
  for (let i = 0; i < 4; i++) for (let j = i; j < 4; j++) assert.equal(Math.abs(gu!.get(i, j)), 0);
  assert.notEqual(gu!.get(3, 0), 0);
});

test('a zero on the diagonal raises LinalgError naming the batch item and entry', () => {
  const T = stack([
    L,
    tensor([
      [1, 0, 0],
      [1, 0, 0],
      [1, 1, 1],
    ]),
  ]);
  assert.throws(
    () => triangularSolve(T, tensor([1, 1, 1])),
    (e: Error) => e instanceof LinalgError && e.message === 'triangularSolve: matrix 1 of the batch is singular (diagonal entry 1 is 0)' && e.batchIndex === 1,
  );
});
