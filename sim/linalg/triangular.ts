// Triangular solves as a tape op of sim/linalg (float64, batched, differentiable to second
// order). Cholesky's and QR's backwards are built from it.
import { LinalgError, Tensor, matmul, matrixTranspose, mul, neg, needsGrad, record1, sumTo } from '../core/index.ts';
import { fmtNum, itemLabel, rhsBlocks, solveInRhsForm, triMask } from './batch.ts';
import { triSolve } from './dense.ts';

/** Options of `triangularSolve`. */
export interface TriangularSolveOptions {
  /** T is lower triangular (default true); otherwise upper. Only that triangle is read. */
  lower?: boolean;
  /** Solve T^T x = b instead of T x = b (default false). */
  transpose?: boolean;
  /** Take T's diagonal as ones without reading it (default false). */
  unitDiagonal?: boolean;
}

function triSolveOp(T: Tensor, B: Tensor, lower: boolean, transpose: boolean, unit: boolean, op: string): Tensor {
  const n = T.shape[T.ndim - 1]!;
  const tBatch = T.shape.slice(0, -2);
  const { batch, count, im: it, k, x } = rhsBlocks(T, B, op);
  const nk = n * k;
  for (let t = 0; t < count; t++) {
    const a = it ? it[t]! : t;
    const bad = triSolve(T.data, a * n * n, n, x, t * nk, k, lower, transpose, unit);
    if (bad >= 0) {
      const v = T.data[a * n * n + bad * n + bad]!;
      const what = v === 0 ? 'is singular' : 'has a non-finite entry';
      throw new LinalgError(`${op}: ${itemLabel(a, tBatch)} ${what} (diagonal entry ${bad} is ${fmtNum(v)})`, a);
    }
  }
  const X = new Tensor(x, [...batch, n, k]);
  if (!needsGrad(T, B)) return X;
  return record1('triangularSolve', [T, B], X, (g) => {
    const gB = triSolveOp(T, g, lower, !transpose, unit, op);
    let gT: Tensor | null = null;
    if (T.requiresGrad) {
      const full = neg(transpose ? matmul(X, matrixTranspose(gB)) : matmul(gB, matrixTranspose(X)));
      gT = sumTo(mul(full, triMask(n, lower, unit)), T.shape);
    }
    return [gT, B.requiresGrad ? sumTo(gB, B.shape) : null];
  });
}

/**
 * Solves T x = b (or T^T x = b) for triangular T ([..., n, n]) by substitution, batched and
 * differentiable to second order in T and b. Only T's lower (default) or upper triangle is
 * read, so the gradient w.r.t. T is zero outside it (and on the diagonal with
 * `unitDiagonal`). b follows `solve`'s rule: [..., n] with T's batch dims (or [n]) is a
 * vector, otherwise [..., n, k]; batch dims broadcast. A zero diagonal entry raises
 * LinalgError naming the batch item.
 *
 * @example
 * const x = triangularSolve(L, b, { lower: true, transpose: true }); // L^T x = b
 */
export function triangularSolve(T: Tensor, b: Tensor, opts: TriangularSolveOptions = {}): Tensor {
  return solveInRhsForm('triangularSolve', T, 'T', true, b, (B) =>
    triSolveOp(T, B, opts.lower ?? true, opts.transpose ?? false, opts.unitDiagonal ?? false, 'triangularSolve'),
  );
}
