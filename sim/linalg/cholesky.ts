// Cholesky tape ops of sim/linalg (float64, batched, differentiable to second order):
// cholesky (the factor L) and choleskySolve (SPD systems). A is read as its symmetric part,
// so the gradients w.r.t. A are symmetric; a matrix that is not positive definite raises a
// LinalgError naming the batch item and the failing pivot.
import { LinalgError, Tensor, add, matmul, matrixTranspose, mul, needsGrad, neg, record1, sumTo } from '../core/index.ts';
import { fmtNum, itemLabel, matrixDims, rhsBlocks, solveInRhsForm, symmetricPart, triMask } from './batch.ts';
import { cholFactor, cholSolve } from './dense.ts';
import { triangularSolve } from './triangular.ts';

/** Cholesky factors L of a batch (lower triangle, zeros above), as saved for solves. */
interface CholFactors {
  readonly l: Float64Array;
  readonly n: number;
  readonly batch: number[];
  readonly op: string;
}

function factorChol(A: Tensor, op: string): CholFactors {
  const { batch, n, count } = matrixDims(A, op, 'A', true);
  const l = symmetricPart(A.data, count, n);
  for (let t = 0; t < count; t++) {
    const off = t * n * n;
    const j = cholFactor(l, off, n);
    if (j >= 0) {
      for (let i = 0; i < n * n; i++) {
        const a = A.data[off + i]!;
        if (!Number.isFinite(a)) {
          throw new LinalgError(`${op}: ${itemLabel(t, batch)} has a non-finite entry (A[${Math.floor(i / n)}, ${i % n}] is ${a})`, t);
        }
      }
      // the failed pivot: A_jj - sum_k L_jk^2, with row j's L_jk already in place
      let d = l[off + j * n + j]!;
      for (let k = 0; k < j; k++) d -= l[off + j * n + k]! ** 2;
      throw new LinalgError(`${op}: ${itemLabel(t, batch)} is not positive definite (pivot ${j} is ${fmtNum(d)})`, t);
    }
  }
  return { l, n, batch, op };
}

/** sym(X) = (X + X^T) / 2 over the last two axes, with the tape. */
function sym(X: Tensor): Tensor {
  return mul(0.5, add(X, matrixTranspose(X)));
}

/**
 * The gradient w.r.t. symmetric A = L L^T from the gradient of L (Murray 2016; as torch):
 * gA = L^{-T} P L^{-1} with P = (T + tril(T, -1)^T) / 2 and T = tril(L^T gL). P, hence gA,
 * is symmetric. Written with tape ops, so it is differentiable again.
 */
function choleskyBackward(L: Tensor, gL: Tensor): Tensor {
  const n = L.shape[L.ndim - 1]!;
  const T = mul(matmul(matrixTranspose(L), gL), triMask(n, true, false));
  const P = mul(0.5, add(T, matrixTranspose(mul(T, triMask(n, true, true)))));
  const Y = triangularSolve(L, P, { lower: true, transpose: true }); // L^{-T} P
  return matrixTranspose(triangularSolve(L, matrixTranspose(Y), { lower: true, transpose: true })); // Y L^{-1}
}

/**
 * Cholesky factor L (lower triangular, A = L L^T) of every matrix of A ([..., n, n]),
 * differentiable to second order. A is read as its symmetric part (A + A^T) / 2, so for a
 * symmetric A this is the usual factor and the gradient w.r.t. A is symmetric. A matrix that
 * is not positive definite raises LinalgError naming it, e.g.
 * "cholesky: matrix 3 of the batch is not positive definite (pivot 2 is -0.5)"
 * (pivots counted from 0; the value is what would have been L_jj^2).
 */
export function cholesky(A: Tensor): Tensor {
  const f = factorChol(A, 'cholesky');
  const L = new Tensor(f.l, A.shape);
  if (!needsGrad(A)) return L;
  return record1('cholesky', [A], L, (g) => [choleskyBackward(L, g)]);
}

function cholSolveWith(f: CholFactors, A: Tensor, B: Tensor): Tensor {
  const n = f.n;
  const { batch, count, im: ia, k, x } = rhsBlocks(A, B, f.op);
  const nk = n * k;
  for (let t = 0; t < count; t++) cholSolve(f.l, (ia ? ia[t]! : t) * n * n, n, x, t * nk, k);
  const X = new Tensor(x, [...batch, n, k]);
  if (!needsGrad(A, B)) return X;
  return record1('choleskySolve', [A, B], X, (g) => {
    const gB = cholSolveWith(f, A, g);
    const gA = A.requiresGrad ? sumTo(neg(sym(matmul(gB, matrixTranspose(X)))), A.shape) : null;
    return [gA, B.requiresGrad ? sumTo(gB, B.shape) : null];
  });
}

/**
 * Solves A x = b for symmetric positive definite A ([..., n, n]) by Cholesky, batched and
 * differentiable to second order. A is read as its symmetric part, so the gradient w.r.t. A
 * is symmetrised: gA = -sym(gb x^T) with gb = A^{-1} g (reusing the factor). b follows
 * `solve`'s rule ([..., n] vector or [..., n, k] matrix; batch dims broadcast). A matrix that
 * is not positive definite raises LinalgError naming the batch item.
 */
export function choleskySolve(A: Tensor, b: Tensor): Tensor {
  return solveInRhsForm('choleskySolve', A, 'A', true, b, (B) => cholSolveWith(factorChol(A, 'choleskySolve'), A, B));
}
