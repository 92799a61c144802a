// A differentiable batched solve with small symmetric positive definite matrices (mpc/), used
// by the unrolled backward's Riccati pass on the tape: X = M^{-1} R for M [B, m, m], R [B, m, k].
// Raw Cholesky from sim/linalg/dense.ts; the backward is written with this op and core ops,
// so it can be differentiated again.
import { LinalgError, ShapeError, Tensor, customOp, fmtShape, matmul, matrixTranspose, neg } from '../sim/core/index.ts';
import { cholFactor, cholSolve } from '../sim/linalg/dense.ts';

/**
 * Solves M X = R for a batch of SPD matrices M [B, m, m] and right-hand sides R [B, m, k].
 * Gradients: dR = M^{-1} dX, dM = -dR X' (M is taken as symmetric).
 * @example const X = spdSolve(M, R);
 */
export function spdSolve(M: Tensor, R: Tensor): Tensor {
  if (M.ndim !== 3 || M.shape[1] !== M.shape[2] || R.ndim !== 3 || R.shape[0] !== M.shape[0] || R.shape[1] !== M.shape[1]) {
    throw new ShapeError(`spdSolve: expected M [B, m, m] and R [B, m, k], got ${fmtShape(M.shape)} and ${fmtShape(R.shape)}`);
  }
  const [B, m] = M.shape as [number, number];
  const k = R.shape[2]!;
  const [X] = customOp(
    'mpc.spdSolve',
    [M, R],
    ([Mi, Ri]) => {
      const L = new Float64Array(Mi!.data);
      const out = new Float64Array(Ri!.data);
      for (let b = 0; b < B; b++) {
        const bad = cholFactor(L, b * m * m, m);
        if (bad >= 0) throw new LinalgError(`spdSolve: matrix ${b} is not positive definite (pivot ${bad})`, b);
        cholSolve(L, b * m * m, m, out, b * m * k, k);
      }
      return [new Tensor(out, [B, m, k])];
    },
    ([gX], [Mi], [Xo]) => {
      if (!gX) return [null, null];
      const gR = spdSolve(Mi!, gX);
      return [neg(matmul(gR, matrixTranspose(Xo!))), gR];
    },
  );
  return X!;
}
