// Tests of the LU tape ops of sim/linalg: solve, det, slogdet, inv (values, batching,
// broadcasting, gradients including the seed example and second order, error messages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LinalgError,
  Rng,
  ShapeError,
  Tensor,
  backward,
  eye,
  gradgradcheck,
  gradients,
  hvp,
  jacobian,
  matmul,
  mul,
  randn,
  reshape,
  slice,
  stack,
  sum,
  tensor,
} from '../core/index.ts';
import { det, inv, slogdet, solve } from './lu.ts';
import { wellConditioned } from './fixtures.ts';
import { assertClose } from './test-util.ts';

test('solve gives x* = A^-1 b for the seed system A = [[2,-2],[-2,0]], b = [1,0]', () => {
  const x = solve(
    tensor([
      [2, -2],
      [-2, 0],
    ]),
    tensor([1, 0]),
  );
  assert.deepEqual(x.shape, [2]);
  assertClose(x, [0, -0.5]);
});

test('seed example: dx*/dA = -[[0,0,0,0.25],[0,0.25,0,0.25]] with A flattened row-major', () => {
  const A = tensor([
    [2, -2],
    [-2, 0],
  ]);
  const b = tensor([1, 0]);
  const J = jacobian((a) => solve(a, b), A);
  assert.deepEqual(J.shape, [2, 2, 2]); // [x index, A row, A column]
  // reshape(J, [2, 4]) puts A row-major along each row, as the seed's torch .reshape(4)
  assertClose(reshape(J, [2, 4]), [0, 0, 0, -0.25, 0, -0.25, 0, -0.25]);
  // the IFT form of the seed: -A^{-1} [[x1, x2, 0, 0], [0, 0, x1, x2]]
  const x = solve(A, b).data;
  const dfdA = tensor([
    [x[0]!, x[1]!, 0, 0],
    [0, 0, x[0]!, x[1]!],
  ]);
  assertClose(
    reshape(J, [2, 4]),
    matmul(inv(A), dfdA).data.map((v) => -v),
  );
});

test('solve handles k right-hand sides and matches A x = b', () => {
  const rng = new Rng(1);
  const A = wellConditioned([], 5, rng);
  const B = randn([5, 3], rng);
  const X = solve(A, B);
  assert.deepEqual(X.shape, [5, 3]);
  assertClose(matmul(A, X), B, 1e-12);
});

test('batched solve agrees with solving each matrix alone', () => {
  const rng = new Rng(2);
  const A = wellConditioned([4], 3, rng);
  const b = randn([4, 3], rng);
  const X = solve(A, b);
  assert.deepEqual(X.shape, [4, 3]);
  for (let t = 0; t < 4; t++) {
    const At = reshape(slice(A, [t, 0, 0], [1, 3, 3]), [3, 3]);
    const bt = reshape(slice(b, [t, 0], [1, 3]), [3]);
    assertClose(slice(X, [t, 0], [1, 3]).data, solve(At, bt).data, 1e-14, `item ${t}`);
  }
});

test('batched solve gradients agree with the unbatched ones item by item', () => {
  const rng = new Rng(3);
  const A = wellConditioned([3], 4, rng).requireGrad();
  const b = randn([3, 4], rng).requireGrad();
  const w = randn([3, 4], rng);
  const [gA, gb] = gradients(sum(mul(solve(A, b), w)), [A, b]);
  for (let t = 0; t < 3; t++) {
    const At = reshape(slice(A.detach(), [t, 0, 0], [1, 4, 4]), [4, 4]).requireGrad();
    const bt = reshape(slice(b.detach(), [t, 0], [1, 4]), [4]).requireGrad();
    const wt = reshape(slice(w, [t, 0], [1, 4]), [4]);
    const [g1, g2] = gradients(sum(mul(solve(At, bt), wt)), [At, bt]);
    assertClose(slice(gA!, [t, 0, 0], [1, 4, 4]).data, g1!.data, 1e-13, `gA item ${t}`);
    assertClose(slice(gb!, [t, 0], [1, 4]).data, g2!.data, 1e-13, `gb item ${t}`);
  }
});

test('one unbatched A solves a batch of matrix right-hand sides, and gA sums over the batch', () => {
  const rng = new Rng(4);
  const A = wellConditioned([], 3, rng).requireGrad();
  const B = randn([2, 3, 2], rng).requireGrad();
  const X = solve(A, B);
  assert.deepEqual(X.shape, [2, 3, 2]);
  const Ab = stack([A.detach(), A.detach()]).requireGrad();
  const Xb = solve(Ab, B.detach());
  assertClose(X, Xb, 1e-14);
  const [gA] = gradients(sum(X), [A]);
  const [gAb] = gradients(sum(Xb), [Ab]);
  assertClose(gA!, sum(gAb!, 0), 1e-13);
});

test('solve reads b of shape [batch, n] with one [n, n] A as an n x k matrix (torch rule) and says how to pass vectors', () => {
  const rng = new Rng(5);
  const A = wellConditioned([], 3, rng);
  assert.throws(
    () => solve(A, randn([5, 3], rng)),
    (e: Error) => e instanceof ShapeError && /solve: b of shape \[5, 3\] does not fit A of shape \[3, 3\]/.test(e.message) && /\[batch, 3, 1\]/.test(e.message),
  );
  const X = solve(A, randn([5, 3, 1], rng));
  assert.deepEqual(X.shape, [5, 3, 1]);
});

test('solve rejects a non-square A naming its shape', () => {
  assert.throws(() => solve(tensor([[1, 2, 3]]), tensor([1])), /solve: A must be square \[\.\.\., n, n\], got shape \[1, 3\]/);
});

test('a singular matrix raises LinalgError naming the batch item and the pivot', () => {
  assert.throws(
    () =>
      solve(
        tensor([
          [1, 1],
          [1, 1],
        ]),
        tensor([1, 0]),
      ),
    (e: Error) => e instanceof LinalgError && e.message === 'solve: matrix 0 of the batch is singular (pivot 1 is 0)' && e.batchIndex === 0,
  );
  const A = stack([
    eye(2),
    eye(2),
    tensor([
      [0, 0],
      [0, 1],
    ]),
  ]);
  assert.throws(
    () =>
      solve(
        A,
        tensor([
          [1, 0],
          [1, 0],
          [1, 0],
        ]),
      ),
    (e: Error) => e instanceof LinalgError && e.message === 'solve: matrix 2 of the batch is singular (pivot 0 is 0)' && e.batchIndex === 2,
  );
});

test('a multi-axis batch names the flat item and its index', () => {
  const A = reshape(
    stack([
      eye(2),
      eye(2),
      eye(2),
      tensor([
        [1, 2],
        [2, 4],
      ]),
    ]),
    [2, 2, 2, 2],
  );
  assert.throws(
    () => inv(A),
    (e: Error) => e instanceof LinalgError && e.message === 'inv: matrix 3 (index [1, 1]) of the batch is singular (pivot 1 is 0)',
  );
});

test('a NaN in A is reported as a non-finite entry, not as singularity (det too)', () => {
  assert.throws(
    () =>
      solve(
        tensor([
          [NaN, 1],
          [1, 1],
        ]),
        tensor([1, 0]),
      ),
    /solve: matrix 0 of the batch has a non-finite entry \(A\[0, 0\] is NaN\)/,
  );
  assert.throws(
    () =>
      det(
        stack([
          eye(2),
          tensor([
            [1, 1],
            [1, NaN],
          ]),
        ]),
      ),
    /det: matrix 1 of the batch has a non-finite entry \(A\[1, 1\] is NaN\)/,
  );
});

test('solve is differentiable twice: gradgradcheck passes and an HVP matches finite differences', () => {
  const rng = new Rng(6);
  const A = wellConditioned([2], 3, rng);
  const b = randn([2, 3], rng);
  const r = gradgradcheck(solve, [A, b]);
  assert.ok(r.passed, `gradgradcheck: max rel err ${r.maxRelErr}`);
  // f(A) = sum(solve(A, b)^2): H v by reverse-over-reverse vs central differences of the gradient
  const f = (a: Tensor): Tensor => {
    const x = solve(a, b);
    return sum(mul(x, x));
  };
  const v = randn([2, 3, 3], rng);
  const Hv = hvp(f, A, v);
  const g = (a: Tensor): Float64Array => {
    const leaf = a.clone().requireGrad();
    return gradients(f(leaf), [leaf])[0]!.data;
  };
  const h = 1e-6;
  const gp = g(
    tensor(
      A.data.map((x, i) => x + h * v.data[i]!),
      A.shape,
    ),
  );
  const gm = g(
    tensor(
      A.data.map((x, i) => x - h * v.data[i]!),
      A.shape,
    ),
  );
  assertClose(
    Hv,
    gp.map((p, i) => (p - gm[i]!) / (2 * h)),
    1e-6,
    'Hv',
  );
});

test('det and slogdet give known values, including a negative determinant', () => {
  const A = tensor([
    [
      [2, -2],
      [-2, 0],
    ],
    [
      [4, 1],
      [2, 3],
    ],
  ]);
  assertClose(det(A), [-4, 10]);
  const { sign, logabsdet } = slogdet(A);
  assertClose(sign, [-1, 1]);
  assertClose(logabsdet, [Math.log(4), Math.log(10)], 1e-14);
  const P = tensor([
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 0],
  ]); // cyclic permutation, det +1
  assertClose(det(P), [1]);
});

test('det of a singular matrix is 0, its gradient raises LinalgError naming the batch item', () => {
  const A = stack([
    eye(2),
    tensor([
      [1, 2],
      [2, 4],
    ]),
  ]).requireGrad();
  const d = det(A);
  assertClose(d, [1, 0]);
  assert.throws(
    () => backward(sum(d)),
    (e: Error) => e instanceof LinalgError && /det: matrix 1 of the batch is singular/.test(e.message),
  );
  const { sign, logabsdet } = slogdet(A);
  assert.deepEqual([...sign.data], [1, 0]);
  assert.equal(logabsdet.data[1], -Infinity);
});

test('det gradient is det(A) A^-T', () => {
  const rng = new Rng(7);
  const A = wellConditioned([], 4, rng).requireGrad();
  const [g] = gradients(det(A), [A]);
  const d = det(A.detach()).item();
  const expected = inv(A.detach()).data;
  const invT = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) invT[i * 4 + j] = d * expected[j * 4 + i]!;
  assertClose(g!, invT, 1e-12);
});

test('inv(A) A = I for a batch, and inv of a singular matrix raises', () => {
  const rng = new Rng(8);
  const A = wellConditioned([3], 4, rng);
  const I = matmul(inv(A), A);
  assertClose(I, stack([eye(4), eye(4), eye(4)]), 1e-13);
  assert.throws(
    () =>
      inv(
        tensor([
          [1, 2],
          [2, 4],
        ]),
      ),
    /inv: matrix 0 of the batch is singular \(pivot 1 is 0\)/,
  );
});
