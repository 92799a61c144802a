// Well-conditioned random inputs for the tests and gradient checks of sim/linalg (fixed-seed
// generators in, tensors out). Internal: not exported by sim/linalg/index.ts.
import { Rng, Tensor, add, eye, matmul, matrixTranspose, mul, randn, tensor } from '../core/index.ts';
import { qr } from './qr.ts';

/** Random [...batch, n, n] + n I: diagonally dominant enough to be well conditioned. */
export function wellConditioned(batch: number[], n: number, rng: Rng): Tensor {
  return add(randn([...batch, n, n], rng), mul(n, eye(n)));
}

/** Random SPD [...batch, n, n] = M M^T + n I. */
export function randomSpd(batch: number[], n: number, rng: Rng): Tensor {
  const M = randn([...batch, n, n], rng);
  return add(matmul(M, matrixTranspose(M)), mul(n, eye(n)));
}

/** Random symmetric [n, n] = Q diag(values) Q^T with the given (distinct) eigenvalues. */
export function symmetricWithEigenvalues(values: readonly number[], rng: Rng): Tensor {
  const n = values.length;
  const { Q } = qr(randn([n, n], rng));
  return matmul(mul(Q, tensor([...values])), matrixTranspose(Q));
}
