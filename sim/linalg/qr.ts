// QR tape ops of sim/linalg (float64, batched, differentiable to second order): the reduced
// Householder QR and least squares through it.
import { LinalgError, ShapeError, Tensor, add, fmtShape, matmul, matrixTranspose, mul, recordN, sub, zeros } from '../core/index.ts';
import { fmtNum, itemLabel, matrixDims, solveInRhsForm, triMask } from './batch.ts';
import { qrFactor, qrFormQ } from './dense.ts';
import { triangularSolve } from './triangular.ts';

/** Reduced QR of a batch: A = Q R. */
export interface QRResult {
  /** [..., m, n], orthonormal columns. */
  Q: Tensor;
  /** [..., n, n], upper triangular with a non-negative diagonal. */
  R: Tensor;
}

/**
 * First matrix of the batch whose R has a diagonal entry |R_kk| <= max(m, n) * eps * max_i |R_ii|
 * (numerically rank deficient), or null.
 */
function rankDeficient(r: Float64Array, count: number, m: number, n: number): { t: number; k: number; v: number } | null {
  const tol = Math.max(m, n) * Number.EPSILON;
  for (let t = 0; t < count; t++) {
    let big = 0;
    for (let k = 0; k < n; k++) big = Math.max(big, Math.abs(r[t * n * n + k * n + k]!));
    for (let k = 0; k < n; k++) {
      const v = r[t * n * n + k * n + k]!;
      if (!(Math.abs(v) > tol * big) || big === 0) return { t, k, v };
    }
  }
  return null;
}

/**
 * Gradient of A = QR from those of Q and R, for m >= n and full column rank (Walter et al.;
 * Liao et al. 2019): M = R gR^T - gQ^T Q, gA = (gQ + Q copyltu(M)) R^{-T}, where copyltu
 * mirrors M's lower triangle onto the upper one. Tape ops only, so differentiable again.
 */
function qrBackward(Q: Tensor, R: Tensor, gQ: Tensor | null, gR: Tensor | null, op: string, batch: number[]): Tensor {
  const m = Q.shape[Q.ndim - 2]!;
  const n = R.shape[R.ndim - 1]!;
  const bad = rankDeficient(R.data, R.size / (n * n), m, n);
  if (bad) {
    throw new LinalgError(
      `${op}: ${itemLabel(bad.t, batch)} is rank deficient (R[${bad.k}, ${bad.k}] is ${fmtNum(bad.v)}); the QR gradient needs full column rank`,
      bad.t,
    );
  }
  let M: Tensor | null = gR ? matmul(R, matrixTranspose(gR)) : null;
  if (gQ) {
    const qq = matmul(matrixTranspose(gQ), Q);
    M = M ? sub(M, qq) : mul(-1, qq);
  }
  let inner: Tensor | null = gQ;
  if (M) {
    const C = add(mul(M, triMask(n, true, false)), matrixTranspose(mul(M, triMask(n, true, true))));
    const QC = matmul(Q, C);
    inner = inner ? add(inner, QC) : QC;
  }
  if (!inner) return zeros([...batch, m, n]);
  // inner R^{-T} = (R^{-1} inner^T)^T
  return matrixTranspose(triangularSolve(R, matrixTranspose(inner), { lower: false }));
}

function qrImpl(A: Tensor, op: string): QRResult & { batch: number[]; m: number; n: number; count: number } {
  const { batch, m, n, count } = matrixDims(A, op, 'A', false);
  if (m < n) throw new ShapeError(`${op}: A must have at least as many rows as columns (m >= n), got shape ${fmtShape(A.shape)}`);
  const work = new Float64Array(A.data);
  const tau = new Float64Array(count * n);
  const q = new Float64Array(count * m * n);
  const r = new Float64Array(count * n * n);
  for (let t = 0; t < count; t++) {
    qrFactor(work, t * m * n, m, n, tau, t * n);
    qrFormQ(work, t * m * n, m, n, tau, t * n, q, t * m * n, r, t * n * n);
  }
  const Q = new Tensor(q, [...batch, m, n]);
  const R = new Tensor(r, [...batch, n, n]);
  recordN('qr', [A], [Q, R], (gs) => [qrBackward(Q, R, gs[0] ?? null, gs[1] ?? null, op, batch)]);
  return { Q, R, batch, m, n, count };
}

/**
 * Reduced QR by Householder reflections of every matrix of A ([..., m, n], m >= n):
 * Q [..., m, n] with orthonormal columns, R [..., n, n] upper triangular with R_kk >= 0 (the
 * unique QR of a full-rank A). Differentiable to second order for full column rank; the
 * backward raises LinalgError naming the batch item when A is rank deficient.
 *
 * @example
 * const { Q, R } = qr(A); // matmul(Q, R) reproduces A
 */
export function qr(A: Tensor): QRResult {
  const { Q, R } = qrImpl(A, 'qr');
  return { Q, R };
}

/**
 * Least-squares solution x = argmin ||A x - b||_2 via QR (x = R^{-1} Q^T b) for A
 * [..., m, n] with m >= n and full column rank, batched and differentiable in A and b (to
 * second order). b follows `solve`'s rule: [..., m] (A's batch dims, or [m]) is a vector,
 * otherwise [..., m, k]. A numerically rank-deficient A (|R_kk| <= max(m, n) eps max|R_ii|)
 * raises LinalgError naming the batch item.
 */
export function lstsq(A: Tensor, b: Tensor): Tensor {
  return solveInRhsForm('lstsq', A, 'A', false, b, (B) => {
    const { Q, R, batch, m, n, count } = qrImpl(A, 'lstsq');
    const bad = rankDeficient(R.data, count, m, n);
    if (bad) {
      throw new LinalgError(
        `lstsq: ${itemLabel(bad.t, batch)} is rank deficient (R[${bad.k}, ${bad.k}] is ${fmtNum(bad.v)}); least squares needs full column rank`,
        bad.t,
      );
    }
    return triangularSolve(R, matmul(matrixTranspose(Q), B), { lower: false });
  });
}
