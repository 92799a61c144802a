// LU-based tape ops of sim/linalg (float64, batched, differentiable to second order):
// solve, det, slogdet, inv. They factor once with the raw kernels of dense.ts and share one
// internal op that solves with saved factors (A or A^T), which is what their backwards use.
import { LinalgError, Tensor, matmul, matrixTranspose, mul, neg, record1, reshape, sumTo, needsGrad } from '../core/index.ts';
import { eyeConst, fmtNum, itemLabel, matrixDims, rhsBlocks, solveInRhsForm } from './batch.ts';
import { luFactor, luSolve } from './dense.ts';

/** LU factors of a batch of n x n matrices, as saved for solves and backward passes. */
export interface LUFactors {
  /** Packed factors (L unit-lower, U upper) of every matrix, row-major, one after another. */
  readonly lu: Float64Array;
  /** Row-swap records of `luFactor`, n per matrix, one after another (matrix t's at t * n). */
  readonly piv: Int32Array;
  /** Sign of each permutation; 0 marks a singular matrix (only with `allowSingular`). */
  readonly sign: Int8Array;
  readonly n: number;
  readonly batch: number[];
  /** Name of the op that factored, for error messages. */
  readonly op: string;
}

/**
 * Factors every matrix of A ([..., n, n]) with partial pivoting. A singular matrix (an exact
 * zero pivot) raises a LinalgError naming its batch item and pivot, unless `allowSingular`,
 * which records sign 0 for it instead; a non-finite entry in A always raises, naming it.
 */
export function factorLU(A: Tensor, op: string, allowSingular = false): LUFactors {
  const { batch, n, count } = matrixDims(A, op, 'A', true);
  const lu = new Float64Array(A.data);
  const piv = new Int32Array(count * n).fill(-1);
  const sign = new Int8Array(count);
  for (let t = 0; t < count; t++) {
    const s = luFactor(lu, t * n * n, n, piv, 0, t * n);
    sign[t] = s;
    if (s === 0) {
      for (let i = 0; i < n * n; i++) {
        const a = A.data[t * n * n + i]!;
        if (!Number.isFinite(a)) {
          throw new LinalgError(`${op}: ${itemLabel(t, batch)} has a non-finite entry (A[${Math.floor(i / n)}, ${i % n}] is ${a})`, t);
        }
      }
      if (allowSingular) continue;
      let k = n - 1;
      while (k > 0 && piv[t * n + k] === -1) k--;
      const v = lu[t * n * n + piv[t * n + k]! * n + k]!;
      throw new LinalgError(`${op}: ${itemLabel(t, batch)} is singular (pivot ${k} is ${fmtNum(v)})`, t);
    }
  }
  return { lu, piv, sign, n, batch, op };
}

/**
 * The internal solve with saved factors: X = A^{-1} B, or A^{-T} B with `transpose`, for A
 * the tensor that `f` factors and B [..., n, k] (batch dims broadcast). Recorded on [A, B];
 * its backward calls this op again with the other transpose flag, so it differentiates to any
 * order: gB = A^{-T} G (or A^{-1} G), gA = -gB X^T (or -X gB^T).
 */
export function luSolveWith(f: LUFactors, A: Tensor, B: Tensor, transpose: boolean): Tensor {
  const n = f.n;
  const { batch, count, im: ia, k, x } = rhsBlocks(A, B, f.op);
  const nk = n * k;
  for (let t = 0; t < count; t++) {
    const a = ia ? ia[t]! : t;
    if (f.sign[a] === 0) throw new LinalgError(`${f.op}: ${itemLabel(a, f.batch)} is singular`, a);
    luSolve(f.lu, a * n * n, n, f.piv, x, t * nk, k, transpose, a * n);
  }
  const X = new Tensor(x, [...batch, n, k]);
  if (!needsGrad(A, B)) return X;
  return record1(transpose ? 'luSolveT' : 'luSolve', [A, B], X, (g) => {
    const gB = luSolveWith(f, A, g, !transpose);
    const gA = A.requiresGrad ? sumTo(neg(transpose ? matmul(X, matrixTranspose(gB)) : matmul(gB, matrixTranspose(X))), A.shape) : null;
    return [gA, B.requiresGrad ? sumTo(gB, B.shape) : null];
  });
}

/**
 * Solves A x = b by LU with partial pivoting, batched and differentiable (to second order).
 *
 * A is [..., n, n]. b is a vector when it is 1-D or has shape [..., n] with exactly A's batch
 * dims; otherwise b is [..., n, k] (k right-hand sides), its batch dims broadcasting against
 * A's (equal, or A unbatched with a batched b). The result has b's form. This is
 * torch.linalg.solve's rule: for a batch of vectors against one unbatched A, pass b as
 * [batch, n, 1] (b of shape [batch, n] with one [n, n] A is read as an n x k matrix).
 *
 * Backward: gb = solve(A^T, g) with the saved factors, gA = -gb x^T.
 * Throws LinalgError naming the batch item for a singular A, e.g.
 * "solve: matrix 0 of the batch is singular (pivot 1 is 0)" (pivots counted from 0).
 *
 * @example
 * const x = solve(tensor([[2, -2], [-2, 0]]), tensor([1, 0])); // [0, -0.5]
 */
export function solve(A: Tensor, b: Tensor): Tensor {
  return solveInRhsForm('solve', A, 'A', true, b, (B) => luSolveWith(factorLU(A, 'solve'), A, B, false));
}

/**
 * Inverse of every matrix of A ([..., n, n]), differentiable (gA = -A^{-T} g A^{-T}).
 * Prefer `solve` for systems. Throws LinalgError naming the batch item for a singular A.
 */
export function inv(A: Tensor): Tensor {
  const { n } = matrixDims(A, 'inv', 'A', true);
  const f = factorLU(A, 'inv');
  return luSolveWith(f, A, eyeConst(n), false);
}

/** A^{-T} as a tape op (for the backwards of det and slogdet); throws if an item is singular. */
function invTransposeForGrad(f: LUFactors, A: Tensor, op: string): Tensor {
  for (let t = 0; t < f.sign.length; t++) {
    if (f.sign[t] === 0) {
      throw new LinalgError(`${op}: ${itemLabel(t, f.batch)} is singular; the gradient of ${op} there is not implemented (it needs the adjugate)`, t);
    }
  }
  return luSolveWith(f, A, eyeConst(f.n), true);
}

/**
 * Determinant of every matrix of A ([..., n, n]) -> [...], by LU. A singular matrix gives 0;
 * the gradient g det(A) A^{-T} is differentiable again, but is not implemented at a singular
 * matrix (the backward raises LinalgError naming the batch item).
 */
export function det(A: Tensor): Tensor {
  const { batch, n, count } = matrixDims(A, 'det', 'A', true);
  const f = factorLU(A, 'det', true);
  const d = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    let p: number = f.sign[t]!;
    if (p !== 0) for (let i = 0; i < n; i++) p *= f.lu[t * n * n + i * n + i]!;
    d[t] = p;
  }
  const out = new Tensor(d, batch);
  if (!needsGrad(A)) return out;
  return record1('det', [A], out, (g) => [mul(reshape(mul(g, out), [...batch, 1, 1]), invTransposeForGrad(f, A, 'det'))]);
}

/** Sign and log |det| of a batch of matrices. */
export interface SlogdetResult {
  /** +1, -1, or 0 for a singular matrix (a constant: no gradient). */
  sign: Tensor;
  /** log |det A| (-Infinity for a singular matrix); differentiable: gA = g A^{-T}. */
  logabsdet: Tensor;
}

/**
 * Sign and log-absolute-determinant of every matrix of A ([..., n, n]), by LU: stable where
 * det over- or underflows. The backward raises LinalgError at a singular matrix.
 */
export function slogdet(A: Tensor): SlogdetResult {
  const { batch, n, count } = matrixDims(A, 'slogdet', 'A', true);
  const f = factorLU(A, 'slogdet', true);
  const s = new Float64Array(count);
  const l = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    let sg: number = f.sign[t]!;
    let acc = 0;
    if (sg === 0) acc = -Infinity;
    else {
      for (let i = 0; i < n; i++) {
        const u = f.lu[t * n * n + i * n + i]!;
        if (u < 0) sg = -sg;
        acc += Math.log(Math.abs(u));
      }
    }
    s[t] = sg;
    l[t] = acc;
  }
  const sign = new Tensor(s, batch);
  const logabsdet = record1('slogdet', [A], new Tensor(l, batch), (g) => [mul(reshape(g, [...batch, 1, 1]), invTransposeForGrad(f, A, 'slogdet'))]);
  return { sign, logabsdet };
}
