// Tests of the Cholesky tape ops of sim/linalg: cholesky and choleskySolve (values, batching,
// symmetric gradients, second order, and the not-positive-definite error naming the item).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinalgError, Rng, eye, gradcheck, gradgradcheck, gradients, matmul, matrixTranspose, mul, randn, stack, sum, tensor } from '../core/index.ts';
import { cholesky, choleskySolve } from './cholesky.ts';
import { solve } from './lu.ts';
import { randomSpd } from './fixtures.ts';
import { assertClose, weightedGradients } from './test-util.ts';

test('cholesky of a known SPD matrix gives the known lower factor', () => {
  const A = tensor([
    [4, 12, -16],
    [12, 37, -43],
    [-16, -43, 98],
  ]);
  assertClose(cholesky(A), [2, 0, 0, 6, 1, 0, -8, 5, 3]);
});

test('batched cholesky reproduces A = L L^T for every item', () => {
  const A = randomSpd([5], 4, new Rng(1));
  const L = cholesky(A);
  assertClose(matmul(L, matrixTranspose(L)), A, 1e-13);
  for (let t = 0; t < 5; t++) for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) assert.equal(L.get(t, i, j), 0);
});

test('a matrix that is not positive definite raises LinalgError naming the batch item and pivot', () => {
  const A = stack([
    eye(3),
    eye(3),
    eye(3),
    tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, -0.5],
    ]),
  ]);
  assert.throws(
    () => cholesky(A),
    (e: Error) => e instanceof LinalgError && e.message === 'cholesky: matrix 3 of the batch is not positive definite (pivot 2 is -0.5)' && e.batchIndex === 3,
  );
  // the pivot is the Schur complement, not the raw diagonal entry: [[1, 2], [2, 1]] -> 1 - 4 = -3
  assert.throws(
    () =>
      choleskySolve(
        tensor([
          [1, 2],
          [2, 1],
        ]),
        tensor([1, 1]),
      ),
    /choleskySolve: matrix 0 of the batch is not positive definite \(pivot 1 is -3\)/,
  );
});

test('cholesky reads A as its symmetric part, and its gradient w.r.t. A is symmetric', () => {
  const rng = new Rng(2);
  const S = randomSpd([], 4, rng);
  const skew = randn([4, 4], rng);
  const Askew = tensor(
    S.data.map((v, i) => v + skew.data[i]! - skew.data[(i % 4) * 4 + Math.floor(i / 4)]!),
    [4, 4],
  );
  assertClose(cholesky(Askew), cholesky(S), 1e-14);
  const A = S.clone().requireGrad();
  const [g] = gradients(sum(mul(cholesky(A), randn([4, 4], rng))), [A]);
  assertClose(g!, matrixTranspose(g!), 1e-14, 'gA vs gA^T');
  // and it is the true gradient of the function of the full A (gradcheck on a raw matrix)
  const r = gradcheck(cholesky, [S]);
  assert.ok(r.passed, `max rel err ${r.maxRelErr}`);
});

test('choleskySolve agrees with solve, batched and with matrix right-hand sides', () => {
  const rng = new Rng(3);
  const A = randomSpd([3], 4, rng);
  const b = randn([3, 4], rng);
  assertClose(choleskySolve(A, b), solve(A, b), 1e-13);
  const B = randn([3, 4, 2], rng);
  assertClose(choleskySolve(A, B), solve(A, B), 1e-13);
  const one = randomSpd([], 4, rng);
  assertClose(choleskySolve(one, B), solve(one, B), 1e-13);
});

test('choleskySolve gradient w.r.t. A is the symmetrised LU gradient; w.r.t. b equal to it', () => {
  const rng = new Rng(4);
  const S = randomSpd([2], 3, rng);
  const b = randn([2, 3], rng);
  const w = randn([2, 3], rng);
  const [gA1, gb1] = weightedGradients(choleskySolve, [S, b], w);
  const [gA2, gb2] = weightedGradients(solve, [S, b], w);
  assertClose(gb1!, gb2!, 1e-13);
  assertClose(
    gA1!,
    mul(
      0.5,
      tensor(
        gA2!.data.map((v, i) => v + gA2!.data[transposeIndex(i, 3)]!),
        gA2!.shape,
      ),
    ),
    1e-13,
  );
});

/** Flat index of the transposed entry in a batch of n x n matrices. */
function transposeIndex(i: number, n: number): number {
  const base = i - (i % (n * n));
  const r = Math.floor((i % (n * n)) / n);
  const c = i % n;
  return base + c * n + r;
}

test('cholesky and choleskySolve differentiate twice (gradgradcheck via createGraph)', () => {
  const rng = new Rng(5);
  const S = randomSpd([2], 3, rng);
  const r1 = gradgradcheck(cholesky, [S]);
  assert.ok(r1.passed, `cholesky: ${r1.maxRelErr}`);
  const r2 = gradgradcheck(choleskySolve, [S, randn([2, 3], rng)]);
  assert.ok(r2.passed, `choleskySolve: ${r2.maxRelErr}`);
});

test('a NaN in A is reported as a non-finite entry naming it', () => {
  assert.throws(
    () =>
      cholesky(
        stack([
          eye(2),
          tensor([
            [1, NaN],
            [NaN, 1],
          ]),
        ]),
      ),
    (e: Error) => e instanceof LinalgError && e.message === 'cholesky: matrix 1 of the batch has a non-finite entry (A[0, 1] is NaN)',
  );
});
