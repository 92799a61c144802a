// Box-constrained QP by projected Newton (Tassa, Mansard, Todorov, ICRA 2014), the control
// step of the box-constrained iLQR backward pass (mpc/lqr.ts): min 1/2 k'Hk + q'k, lo <= k <= hi.
// Raw float64 on small m x m blocks; Cholesky from sim/linalg/dense.ts.
import { cholFactor, cholSolve } from '../sim/linalg/dense.ts';

/** Work space of `boxQP` for controls of dimension m. */
export interface BoxQPWork {
  m: number;
  g: Float64Array;
  dx: Float64Array;
  xn: Float64Array;
  Hff: Float64Array;
  idx: Int32Array;
  rhs: Float64Array;
}

/** Allocates work space for `boxQP` with control dimension m. */
export function boxQPWork(m: number): BoxQPWork {
  return {
    m,
    g: new Float64Array(m),
    dx: new Float64Array(m),
    xn: new Float64Array(m),
    Hff: new Float64Array(m * m),
    idx: new Int32Array(m),
    rhs: new Float64Array(m),
  };
}

function objective(H: Float64Array, hOff: number, q: Float64Array, qOff: number, x: Float64Array, xOff: number, m: number): number {
  let v = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += H[hOff + i * m + j]! * x[xOff + j]!;
    v += x[xOff + i]! * (0.5 * s + q[qOff + i]!);
  }
  return v;
}

/**
 * Solves min 1/2 k'Hk + q'k subject to lo <= k <= hi by projected Newton. H is the m x m
 * block at `H[hOff..]` (symmetric), q, lo, hi and the solution k (which holds the warm start on
 * entry) are m-vectors at their offsets. On return `free[fOff + i]` is 1 for components not
 * clamped at a bound (clamped: at a bound with the gradient pushing outward). Returns the
 * number of iterations, or -1 when the free block of H is not positive definite.
 */
export function boxQP(
  H: Float64Array,
  hOff: number,
  q: Float64Array,
  qOff: number,
  lo: Float64Array,
  hi: Float64Array,
  bOff: number,
  k: Float64Array,
  kOff: number,
  free: Uint8Array,
  fOff: number,
  w: BoxQPWork,
  maxIter = 100,
): number {
  const m = w.m;
  const { g, dx, xn, Hff, idx } = w;
  for (let i = 0; i < m; i++) k[kOff + i] = Math.min(hi[bOff + i]!, Math.max(lo[bOff + i]!, k[kOff + i]!));
  let val = objective(H, hOff, q, qOff, k, kOff, m);
  let iter = 0;
  for (; iter < maxIter; iter++) {
    // gradient and clamped set
    let nf = 0;
    for (let i = 0; i < m; i++) {
      let s = q[qOff + i]!;
      for (let j = 0; j < m; j++) s += H[hOff + i * m + j]! * k[kOff + j]!;
      g[i] = s;
      const xi = k[kOff + i]!;
      const clamped = (xi <= lo[bOff + i]! && s > 0) || (xi >= hi[bOff + i]! && s < 0);
      free[fOff + i] = clamped ? 0 : 1;
      if (!clamped) idx[nf++] = i;
    }
    if (nf === 0) return iter;
    let gnorm = 0;
    for (let a = 0; a < nf; a++) gnorm = Math.max(gnorm, Math.abs(g[idx[a]!]!));
    if (gnorm <= 1e-14 * (1 + Math.abs(val))) return iter;
    // Newton direction on the free set: dx_f = -H_ff^{-1} g_f
    for (let a = 0; a < nf; a++) for (let c = 0; c < nf; c++) Hff[a * nf + c] = H[hOff + idx[a]! * m + idx[c]!]!;
    if (cholFactor(Hff, 0, nf) >= 0) return -1;
    dx.fill(0);
    for (let a = 0; a < nf; a++) w.rhs[a] = -g[idx[a]!]!;
    cholSolve(Hff, 0, nf, w.rhs, 0, 1);
    for (let a = 0; a < nf; a++) dx[idx[a]!] = w.rhs[a]!;
    // projected Armijo line search
    let alpha = 1;
    let accepted = false;
    let vn = val;
    let moved = 0;
    while (alpha > 1e-20) {
      let gd = 0;
      moved = 0;
      for (let i = 0; i < m; i++) {
        xn[i] = Math.min(hi[bOff + i]!, Math.max(lo[bOff + i]!, k[kOff + i]! + alpha * dx[i]!));
        const d = xn[i]! - k[kOff + i]!;
        gd += g[i]! * d;
        moved = Math.max(moved, Math.abs(d));
      }
      vn = objective(H, hOff, q, qOff, xn, 0, m);
      if (moved === 0 || val - vn >= -0.1 * gd) {
        accepted = true;
        break;
      }
      alpha *= 0.5;
    }
    if (!accepted || moved === 0) break;
    for (let i = 0; i < m; i++) k[kOff + i] = xn[i]!;
    val = vn;
    if (moved <= 1e-15 * (1 + Math.abs(k[kOff]!))) {
      iter++;
      break;
    }
  }
  // free set at the returned point
  for (let i = 0; i < m; i++) {
    let s = q[qOff + i]!;
    for (let j = 0; j < m; j++) s += H[hOff + i * m + j]! * k[kOff + j]!;
    const xi = k[kOff + i]!;
    free[fOff + i] = (xi <= lo[bOff + i]! && s > 0) || (xi >= hi[bOff + i]! && s < 0) ? 0 : 1;
  }
  return iter;
}
