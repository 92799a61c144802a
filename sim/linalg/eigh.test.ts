// Tests of eigh (sim/linalg): known spectra, reconstruction and orthonormality, batching,
// the sign convention, gradients, and the repeated-eigenvalue and non-finite errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LinalgError,
  Rng,
  Tensor,
  add,
  eye,
  gradcheck,
  gradients,
  matmul,
  matrixTranspose,
  mul,
  randn,
  reshape,
  slice,
  stack,
  sum,
  tensor,
} from '../core/index.ts';
import { eigh } from './eigh.ts';
import { randomSpd, symmetricWithEigenvalues } from './fixtures.ts';
import { assertClose } from './test-util.ts';

test('eigh of a diagonal matrix sorts the values ascending with unit vectors', () => {
  const { values, vectors } = eigh(
    tensor([
      [2, 0],
      [0, 1],
    ]),
  );
  assertClose(values, [1, 2]);
  assertClose(vectors, [0, 1, 1, 0]);
});

test('eigh of the 3x3 second-difference matrix gives 2 - sqrt2, 2, 2 + sqrt2', () => {
  const A = tensor([
    [2, -1, 0],
    [-1, 2, -1],
    [0, -1, 2],
  ]);
  const { values, vectors } = eigh(A);
  assertClose(values, [2 - Math.SQRT2, 2, 2 + Math.SQRT2], 1e-14);
  // the middle vector is [1, 0, -1] / sqrt2 up to sign; the convention makes its first (largest) entry positive
  assertClose(slice(vectors, [0, 1], [3, 1]), [Math.SQRT1_2, 0, -Math.SQRT1_2], 1e-14);
});

test('batched eigh reconstructs A = V diag(l) V^T with orthonormal V, each item as when alone', () => {
  const A = randomSpd([4], 5, new Rng(1));
  const { values, vectors } = eigh(A);
  assert.deepEqual(values.shape, [4, 5]);
  assert.deepEqual(vectors.shape, [4, 5, 5]);
  const VL = mul(vectors, reshape(values, [4, 1, 5]));
  assertClose(matmul(VL, matrixTranspose(vectors)), A, 1e-12, 'V L V^T');
  assertClose(matmul(matrixTranspose(vectors), vectors), stack([eye(5), eye(5), eye(5), eye(5)]), 1e-13, 'V^T V');
  for (let t = 0; t < 4; t++) {
    const one = eigh(reshape(slice(A, [t, 0, 0], [1, 5, 5]), [5, 5]));
    assertClose(slice(values, [t, 0], [1, 5]).data, one.values.data, 0, `values ${t}`);
    assertClose(slice(vectors, [t, 0, 0], [1, 5, 5]).data, one.vectors.data, 0, `vectors ${t}`);
  }
});

test('every eigenvector has its largest-magnitude entry positive', () => {
  const { vectors } = eigh(randomSpd([3], 6, new Rng(2)));
  for (let t = 0; t < 3; t++) {
    for (let j = 0; j < 6; j++) {
      let best = 0;
      for (let i = 0; i < 6; i++) if (Math.abs(vectors.get(t, i, j)) > Math.abs(best)) best = vectors.get(t, i, j);
      assert.ok(best > 0, `item ${t} vector ${j}`);
    }
  }
});

test('eigh reads A as its symmetric part', () => {
  const rng = new Rng(3);
  const S = randomSpd([], 4, rng);
  const K = randn([4, 4], rng);
  const A = add(S, add(K, mul(-1, matrixTranspose(K))));
  assertClose(eigh(A).values, eigh(S).values, 1e-13);
});

test('eigenvalue gradient is V diag(g) V^T; for l_k alone it is v_k v_k^T', () => {
  const rng = new Rng(4);
  const A = symmetricWithEigenvalues([-1, 0.5, 3], rng).requireGrad();
  const { values, vectors } = eigh(A);
  const [g] = gradients(slice(values, [2], [1]), [A]);
  const v = slice(vectors.detach(), [0, 2], [3, 1]);
  assertClose(g!, matmul(v, matrixTranspose(v)), 1e-13);
});

test('repeated eigenvalues: the vector gradient raises LinalgError naming the item, values alone are fine', () => {
  const A = stack([
    tensor([
      [3, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ]),
    tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ]),
  ]).requireGrad();
  const w = randn([2, 3, 3], new Rng(5));
  assert.throws(
    () => gradients(sum(mul(eigh(A).vectors, w)), [A]),
    (e: Error) =>
      e instanceof LinalgError && /^eigh: matrix 1 of the batch has repeated eigenvalues \(values 0 and 1 are 1 and 1\)/.test(e.message) && e.batchIndex === 1,
  );
  const [gl] = gradients(
    sum(
      mul(
        eigh(A).values,
        tensor([
          [1, 2, 3],
          [1, 2, 3],
        ]),
      ),
    ),
    [A],
  );
  assertClose(gl!, [3, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 2, 0, 0, 0, 3], 1e-14);
});

test('repeated eigenvalues: a loss blind to rotations within the eigenspace still gets its gradient', () => {
  // P = v0 v0^T + v1 v1^T, the projector on the repeated pair, does not depend on the basis chosen
  const A = tensor([
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 2],
  ]).requireGrad();
  const W = tensor([
    [1, 2, 0],
    [2, -1, 3],
    [0, 3, 1],
  ]);
  const { vectors } = eigh(A);
  const V2 = slice(vectors, [0, 0], [3, 2]);
  const [g] = gradients(sum(mul(matmul(V2, matrixTranspose(V2)), W)), [A]);
  // first-order perturbation: dP = -(E dA e2 e2^T + e2 e2^T dA E) / (2 - 1), E the projector on e0, e1,
  // so with W symmetric gA_i2 = gA_2i = -W_i2 for i in the pair, zero elsewhere
  assertClose(g!, [0, 0, 0, 0, 0, -3, 0, -3, 0], 1e-13);
  const projected = (a: Tensor): Tensor => {
    const V = slice(eigh(a).vectors, [0, 0], [3, 2]);
    return sum(mul(matmul(V, matrixTranspose(V)), W));
  };
  const r = gradcheck(projected, [A.detach()]);
  assert.ok(r.passed, `max rel err ${r.maxRelErr}`);
});

test('a NaN in A raises LinalgError naming the batch item', () => {
  assert.throws(
    () =>
      eigh(
        stack([
          eye(2),
          tensor([
            [NaN, 0],
            [0, 1],
          ]),
        ]),
      ),
    /eigh: matrix 1 of the batch has a non-finite entry/,
  );
});
