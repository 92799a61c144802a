// Symmetric eigendecomposition as a tape op of sim/linalg (float64, batched, differentiable
// to second order): cyclic Jacobi in the forward pass (dense.ts), the standard eigenvector
// formula in the backward, with repeated eigenvalues detected and reported.
import { LinalgError, Tensor, add, div, expandDims, matmul, matrixTranspose, mul, recordN, sub, zeros } from '../core/index.ts';
import { eyeConst, fmtNum, itemLabel, matrixDims, symmetricPart } from './batch.ts';
import { jacobiEigh } from './dense.ts';

/** Eigenvalues and eigenvectors of a batch of symmetric matrices: A = V diag(values) V^T. */
export interface EighResult {
  /** [..., n], ascending. */
  values: Tensor;
  /** [..., n, n], column j is the unit eigenvector of values[j], its largest-magnitude entry positive. */
  vectors: Tensor;
}

/** Relative gap below which two eigenvalues count as repeated in the backward pass. */
export const EIGH_DEGENERATE_RTOL = 1e-12;

/**
 * 0/1 mask of the pairs (i, j), i != j, that enter the eigenvector gradient. A pair of
 * repeated eigenvalues is left out when the gradient does not see the rotation between the
 * two vectors (skew part of V^T gV zero there); otherwise the gradient is undefined: raise.
 */
function pairMask(l: Float64Array, vtgv: Float64Array, count: number, n: number, batch: number[]): Tensor {
  const keep = new Float64Array(count * n * n);
  for (let t = 0; t < count; t++) {
    let scale = 0;
    let big = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(l[t * n + i]!));
    for (let i = 0; i < n * n; i++) big = Math.max(big, Math.abs(vtgv[t * n * n + i]!));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const li = l[t * n + i]!;
        const lj = l[t * n + j]!;
        if (Math.abs(lj - li) > EIGH_DEGENERATE_RTOL * scale) {
          keep[t * n * n + i * n + j] = 1;
          continue;
        }
        const skew = vtgv[t * n * n + i * n + j]! - vtgv[t * n * n + j * n + i]!;
        if (Math.abs(skew) > 1e-8 * big) {
          throw new LinalgError(
            `eigh: ${itemLabel(t, batch)} has repeated eigenvalues (values ${Math.min(i, j)} and ${Math.max(i, j)} are ${fmtNum(li)} and ${fmtNum(lj)}); ` +
              'the gradient through the eigenvectors is undefined there (gradients through the values alone are fine)',
            t,
          );
        }
      }
    }
  }
  return new Tensor(keep, [...batch, n, n]);
}

/**
 * Backward of A = V diag(l) V^T (Giles 2008): gA = sym(V (diag(gl) + F o (V^T gV)) V^T) with
 * F_ij = 1 / (l_j - l_i) off the diagonal, 0 on it. Tape ops only, so differentiable again.
 */
function eighBackward(l: Tensor, V: Tensor, gl: Tensor | null, gV: Tensor | null, batch: number[]): Tensor {
  const n = l.shape[l.ndim - 1]!;
  let inner: Tensor | null = gl ? mul(expandDims(gl, -1), eyeConst(n)) : null;
  if (gV) {
    const vtgv = matmul(matrixTranspose(V), gV);
    const keep = pairMask(l.data, vtgv.data, l.size / n, n, batch);
    const D = sub(expandDims(l, -2), expandDims(l, -1)); // D_ij = l_j - l_i
    const F = div(keep, add(D, sub(1, keep)));
    const term = mul(F, vtgv);
    inner = inner ? add(inner, term) : term;
  }
  if (!inner) return zeros([...batch, n, n]);
  const G = matmul(matmul(V, inner), matrixTranspose(V));
  return mul(0.5, add(G, matrixTranspose(G)));
}

/**
 * Eigendecomposition of every symmetric matrix of A ([..., n, n]) by cyclic Jacobi
 * rotations: values ascending, vectors as columns (each signed so its largest-magnitude
 * entry is positive). A is read as its symmetric part (A + A^T) / 2, so the gradient w.r.t. A
 * is symmetric. Differentiable to second order while the eigenvalues are distinct: where two
 * eigenvalues coincide (gap <= EIGH_DEGENERATE_RTOL * max|l|) the eigenvectors are not unique
 * and the gradient through them is undefined, so the backward raises LinalgError naming the
 * batch item, unless the loss is blind to rotations within that eigenspace (then the pair
 * is skipped). Gradients through the values alone are always returned. Near-repeated
 * eigenvalues give large (1 / gap) vector gradients.
 *
 * @example
 * const { values, vectors } = eigh(tensor([[2, 1], [1, 2]])); // values [1, 3]
 */
export function eigh(A: Tensor): EighResult {
  const { batch, n, count } = matrixDims(A, 'eigh', 'A', true);
  const work = symmetricPart(A.data, count, n);
  const w = new Float64Array(count * n);
  const v = new Float64Array(count * n * n);
  for (let t = 0; t < count; t++) {
    const sweeps = jacobiEigh(work, t * n * n, n, w, t * n, v, t * n * n);
    if (sweeps < 0) {
      let finite = true;
      for (let i = 0; i < n * n; i++) if (!Number.isFinite(A.data[t * n * n + i]!)) finite = false;
      const why = finite ? 'did not converge in 100 Jacobi sweeps' : 'has a non-finite entry';
      throw new LinalgError(`eigh: ${itemLabel(t, batch)} ${why}`, t);
    }
  }
  const values = new Tensor(w, [...batch, n]);
  const vectors = new Tensor(v, [...batch, n, n]);
  recordN('eigh', [A], [values, vectors], (gs) => [eighBackward(values, vectors, gs[0] ?? null, gs[1] ?? null, batch)]);
  return { values, vectors };
}
