// Raw float64 dense kernels (sim/linalg): LU with partial pivoting and Cholesky on
// Float64Arrays at an offset, in place, no allocation. The differentiable tape ops in this
// folder and the hot loops of solvers (QP, MPC) call these directly. The factorisations
// (and solves with many right-hand sides) run in the WebAssembly SIMD kernels (wasm/) from
// a size where that pays off; the pure-JS versions (*Js) are the fallback and the reference.
import { wasmKernels } from './wasm/loader.ts';

/** Smallest n for which luFactor / cholFactor run in wasm (below it the copy and call cost more than they save). */
export const WASM_FACTOR_MIN_N = 12;
/** Smallest n * k (with n >= 8) for which luSolve / cholSolve run in wasm (they copy the n x n factor in). */
export const WASM_SOLVE_MIN_NK = 512;

/**
 * LU factorisation with partial pivoting of the row-major n x n matrix at `a[off..]`, in
 * place (L unit-lower below the diagonal, U on and above). `piv[poff + k]` records the
 * row swapped with row k (one pivot array can serve a whole batch). Returns the sign of the permutation, or 0 if a pivot is exactly zero
 * (singular); `tol` flags pivots with |p| <= tol * max|A| as singular too.
 */
export function luFactor(a: Float64Array, off: number, n: number, piv: Int32Array, tol = 0, poff = 0): number {
  const w = n >= WASM_FACTOR_MIN_N ? wasmKernels() : null;
  if (!w) return luFactorJs(a, off, n, piv, tol, poff);
  const mark = w.mark();
  const pa = w.alloc(n * n);
  const pp = w.alloc(n);
  w.put(pa, a, off, n * n);
  const sign = w.x.luFactor(pa, n, pp, tol);
  w.get(pa, a, off, n * n);
  const i32 = w.i32;
  // a failed factorisation stops at pivot k: piv[0..k] is set, as by the JS kernel
  piv.set(i32.subarray(pp >> 2, (pp >> 2) + n), poff);
  w.release(mark);
  return sign;
}

/** The pure-JS `luFactor` (the fallback, and the reference the wasm kernel is tested against). */
export function luFactorJs(a: Float64Array, off: number, n: number, piv: Int32Array, tol = 0, poff = 0): number {
  let sign = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[off + i]!));
  const thresh = tol * scale;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[off + k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[off + i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[poff + k] = p;
    if (!(best > thresh) || best === 0) return 0;
    if (p !== k) {
      sign = -sign;
      const rk = off + k * n;
      const rp = off + p * n;
      for (let j = 0; j < n; j++) {
        const t = a[rk + j]!;
        a[rk + j] = a[rp + j]!;
        a[rp + j] = t;
      }
    }
    const d = a[off + k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const ri = off + i * n;
      const l = (a[ri + k]! /= d);
      if (l === 0) continue;
      const rk = off + k * n;
      for (let j = k + 1; j < n; j++) a[ri + j]! -= l * a[rk + j]!;
    }
  }
  return sign;
}

/**
 * Solves A X = B (or A^T X = B with `transpose`) in place in `b[boff..]` (n x k, row-major)
 * from the factors of `luFactor` (pivots at `piv[poff..]`).
 */
export function luSolve(
  lu: Float64Array,
  off: number,
  n: number,
  piv: Int32Array,
  b: Float64Array,
  boff: number,
  k: number,
  transpose = false,
  poff = 0,
): void {
  const w = n >= 8 && n * k >= WASM_SOLVE_MIN_NK ? wasmKernels() : null;
  if (!w) return luSolveJs(lu, off, n, piv, b, boff, k, transpose, poff);
  const mark = w.mark();
  const pa = w.alloc(n * n);
  const pb = w.alloc(n * k);
  const pp = w.alloc(n);
  w.put(pa, lu, off, n * n);
  w.put(pb, b, boff, n * k);
  w.i32.set(piv.subarray(poff, poff + n), pp >> 2);
  w.x.luSolve(pa, n, pp, pb, k, transpose ? 1 : 0);
  w.get(pb, b, boff, n * k);
  w.release(mark);
}

/** The pure-JS `luSolve`. */
export function luSolveJs(
  lu: Float64Array,
  off: number,
  n: number,
  piv: Int32Array,
  b: Float64Array,
  boff: number,
  k: number,
  transpose = false,
  poff = 0,
): void {
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      const p = piv[poff + i]!;
      if (p !== i) for (let c = 0; c < k; c++) swap(b, boff + i * k + c, boff + p * k + c);
    }
    substituteForward(lu, off, n, n, 1, b, boff, k, true); // L y = Pb (unit lower)
    substituteBackward(lu, off, n, n, 1, b, boff, k, false); // U x = y
    return;
  }
  // A^T = U^T L^T P: solve U^T z = b, L^T w = z, x = P^T w
  substituteForward(lu, off, n, 1, n, b, boff, k, false);
  substituteBackward(lu, off, n, 1, n, b, boff, k, true);
  for (let i = n - 1; i >= 0; i--) {
    const p = piv[poff + i]!;
    if (p !== i) for (let c = 0; c < k; c++) swap(b, boff + i * k + c, boff + p * k + c);
  }
}

function swap(b: Float64Array, i: number, j: number): void {
  const t = b[i]!;
  b[i] = b[j]!;
  b[j] = t;
}

/**
 * Cholesky factorisation A = L L^T of the symmetric n x n matrix at `a[off..]`, in place:
 * L in the lower triangle (the strict upper triangle is zeroed). Reads only the lower
 * triangle. Returns -1 on success, or the index of the first non-positive pivot.
 */
export function cholFactor(a: Float64Array, off: number, n: number): number {
  const w = n >= WASM_FACTOR_MIN_N ? wasmKernels() : null;
  if (!w) return cholFactorJs(a, off, n);
  const mark = w.mark();
  const pa = w.alloc(n * n);
  w.put(pa, a, off, n * n);
  const r = w.x.cholFactor(pa, n);
  w.get(pa, a, off, n * n);
  w.release(mark);
  return r;
}

/** The pure-JS `cholFactor`. */
export function cholFactorJs(a: Float64Array, off: number, n: number): number {
  for (let j = 0; j < n; j++) {
    const rj = off + j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= a[rj + k]! * a[rj + k]!;
    if (!(d > 0)) return j;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = off + i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return -1;
}

/** Solves (L L^T) X = B in place in `b[boff..]` (n x k) from the factor of `cholFactor`. */
export function cholSolve(l: Float64Array, off: number, n: number, b: Float64Array, boff: number, k: number): void {
  const w = n >= 8 && n * k >= WASM_SOLVE_MIN_NK ? wasmKernels() : null;
  if (!w) return cholSolveJs(l, off, n, b, boff, k);
  const mark = w.mark();
  const pl = w.alloc(n * n);
  const pb = w.alloc(n * k);
  w.put(pl, l, off, n * n);
  w.put(pb, b, boff, n * k);
  w.x.cholSolve(pl, n, pb, k);
  w.get(pb, b, boff, n * k);
  w.release(mark);
}

/** The pure-JS `cholSolve`. */
export function cholSolveJs(l: Float64Array, off: number, n: number, b: Float64Array, boff: number, k: number): void {
  substituteForward(l, off, n, n, 1, b, boff, k, false); // L y = b
  substituteBackward(l, off, n, 1, n, b, boff, k, false); // L^T x = y
}

/**
 * Solves op(T) X = B in place in `b[boff..]` (n x k, row-major) for the triangular n x n
 * matrix T at `t[off..]`: op(T) = T, or T^T with `transpose`. Reads only the lower
 * (`lower`) or upper triangle; with `unitDiagonal` the diagonal is taken as ones and not
 * read. Returns -1 on success, or the index of the first zero or non-finite diagonal entry
 * (then `b` is left untouched).
 */
export function triSolve(
  t: Float64Array,
  off: number,
  n: number,
  b: Float64Array,
  boff: number,
  k: number,
  lower: boolean,
  transpose = false,
  unitDiagonal = false,
): number {
  if (!unitDiagonal) {
    for (let i = 0; i < n; i++) {
      const d = t[off + i * n + i]!;
      if (d === 0 || !Number.isFinite(d)) return i;
    }
  }
  // T^T of a lower T is upper, and the other way round; element (i, j) of op(T) sits at rs * i + cs * j
  const rs = transpose ? 1 : n;
  const cs = transpose ? n : 1;
  if (lower !== transpose) substituteForward(t, off, n, rs, cs, b, boff, k, unitDiagonal);
  else substituteBackward(t, off, n, rs, cs, b, boff, k, unitDiagonal);
  return -1;
}

/**
 * Forward substitution in place in `b[boff..]` (n x k) with the lower-triangular op(T) whose
 * entry (i, j) sits at t[off + rs i + cs j] (rs = n, cs = 1 for T; rs = 1, cs = n for T^T),
 * dividing by the diagonal unless `unit`. No checks: the diagonal must be usable.
 */
function substituteForward(t: Float64Array, off: number, n: number, rs: number, cs: number, b: Float64Array, boff: number, k: number, unit: boolean): void {
  if (k === 1) {
    // one right-hand side: a dot product per row, the same operations in the same order
    for (let i = 0; i < n; i++) {
      const ti = off + rs * i;
      let acc = b[boff + i]!;
      for (let j = 0; j < i; j++) {
        const v = t[ti + cs * j]!;
        if (v !== 0) acc -= v * b[boff + j]!;
      }
      b[boff + i] = unit ? acc : acc / t[off + i * n + i]!;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const bi = boff + i * k;
    const ti = off + rs * i;
    for (let j = 0; j < i; j++) {
      const v = t[ti + cs * j]!;
      if (v === 0) continue;
      const bj = boff + j * k;
      for (let c = 0; c < k; c++) b[bi + c]! -= v * b[bj + c]!;
    }
    if (!unit) {
      const d = t[off + i * n + i]!;
      for (let c = 0; c < k; c++) b[bi + c]! /= d;
    }
  }
}

/**
 * Back substitution, as `substituteForward` for an upper-triangular op(T). Kept apart from
 * it on purpose: one loop serving both directions measured 10-20% slower on small solves.
 */
function substituteBackward(t: Float64Array, off: number, n: number, rs: number, cs: number, b: Float64Array, boff: number, k: number, unit: boolean): void {
  if (k === 1) {
    for (let i = n - 1; i >= 0; i--) {
      const ti = off + rs * i;
      let acc = b[boff + i]!;
      for (let j = i + 1; j < n; j++) {
        const v = t[ti + cs * j]!;
        if (v !== 0) acc -= v * b[boff + j]!;
      }
      b[boff + i] = unit ? acc : acc / t[off + i * n + i]!;
    }
    return;
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = boff + i * k;
    const ti = off + rs * i;
    for (let j = i + 1; j < n; j++) {
      const v = t[ti + cs * j]!;
      if (v === 0) continue;
      const bj = boff + j * k;
      for (let c = 0; c < k; c++) b[bi + c]! -= v * b[bj + c]!;
    }
    if (!unit) {
      const d = t[off + i * n + i]!;
      for (let c = 0; c < k; c++) b[bi + c]! /= d;
    }
  }
}

/**
 * Householder QR of the row-major m x n matrix (m >= n) at `a[off..]`, in place, as LAPACK's
 * dgeqrf: R on and above the diagonal, the Householder vectors v_k (with v_k[k] = 1 implied)
 * below it, and their scalars in `tau[toff..toff+n)`, so that A = H_0 H_1 ... H_{n-1} R with
 * H_k = I - tau_k v_k v_k^T. R's diagonal may be negative (see `qrFormQ`).
 */
export function qrFactor(a: Float64Array, off: number, m: number, n: number, tau: Float64Array, toff: number): void {
  for (let k = 0; k < n; k++) {
    const kk = off + k * n + k;
    let scale = 0;
    for (let i = k; i < m; i++) scale = Math.max(scale, Math.abs(a[off + i * n + k]!));
    if (scale === 0 || !Number.isFinite(scale)) {
      tau[toff + k] = 0;
      if (!Number.isFinite(scale)) a[kk] = NaN;
      continue;
    }
    let ss = 0;
    for (let i = k; i < m; i++) {
      const v = a[off + i * n + k]! / scale;
      ss += v * v;
    }
    const norm = scale * Math.sqrt(ss);
    const alpha = a[kk]!;
    const beta = alpha >= 0 ? -norm : norm;
    tau[toff + k] = (beta - alpha) / beta;
    const inv = 1 / (alpha - beta);
    for (let i = k + 1; i < m; i++) a[off + i * n + k]! *= inv;
    a[kk] = beta;
    const tk = tau[toff + k]!;
    for (let j = k + 1; j < n; j++) {
      let s = a[off + k * n + j]!;
      for (let i = k + 1; i < m; i++) s += a[off + i * n + k]! * a[off + i * n + j]!;
      s *= tk;
      a[off + k * n + j]! -= s;
      for (let i = k + 1; i < m; i++) a[off + i * n + j]! -= s * a[off + i * n + k]!;
    }
  }
}

/**
 * From the output of `qrFactor` (m x n at `qr[off..]`, scalars at `tau[toff..]`), writes the
 * reduced Q (m x n, orthonormal columns) to `q[qoff..]` and R (n x n, upper triangular) to
 * `r[roff..]`, with the signs chosen so that R's diagonal is non-negative: the unique QR of
 * a full-column-rank matrix, continuous in A (what its gradient assumes).
 */
export function qrFormQ(
  qr: Float64Array,
  off: number,
  m: number,
  n: number,
  tau: Float64Array,
  toff: number,
  q: Float64Array,
  qoff: number,
  r: Float64Array,
  roff: number,
): void {
  for (let i = 0; i < m * n; i++) q[qoff + i] = 0;
  for (let i = 0; i < n; i++) q[qoff + i * n + i] = 1;
  // Q = H_0 ... H_{n-1} I[:, :n], applied right to left; H_k touches rows k.. and columns k..
  for (let k = n - 1; k >= 0; k--) {
    const tk = tau[toff + k]!;
    if (tk === 0) continue;
    for (let j = k; j < n; j++) {
      let s = q[qoff + k * n + j]!;
      for (let i = k + 1; i < m; i++) s += qr[off + i * n + k]! * q[qoff + i * n + j]!;
      s *= tk;
      q[qoff + k * n + j]! -= s;
      for (let i = k + 1; i < m; i++) q[qoff + i * n + j]! -= s * qr[off + i * n + k]!;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) r[roff + i * n + j] = j >= i ? qr[off + i * n + j]! : 0;
  }
  for (let k = 0; k < n; k++) {
    if (!(r[roff + k * n + k]! < 0)) continue;
    for (let j = k; j < n; j++) r[roff + k * n + j] = -r[roff + k * n + j]!;
    for (let i = 0; i < m; i++) q[qoff + i * n + k] = -q[qoff + i * n + k]!;
  }
}

/**
 * Symmetric eigendecomposition by cyclic Jacobi rotations of the n x n matrix at `a[off..]`
 * (read in full and overwritten; pass a symmetric matrix). Writes the eigenvalues in
 * ascending order to `w[woff..]` and the matching unit eigenvectors as the columns of the
 * row-major n x n `v[voff..]`, each signed so that its largest-magnitude entry (the first of
 * equal ones) is positive. Returns the number of sweeps, or -1 if the off-diagonal part did
 * not fall below 1e-15 of the Frobenius norm within `maxSweeps` (or A is not finite).
 */
export function jacobiEigh(a: Float64Array, off: number, n: number, w: Float64Array, woff: number, v: Float64Array, voff: number, maxSweeps = 100): number {
  for (let i = 0; i < n * n; i++) v[voff + i] = 0;
  for (let i = 0; i < n; i++) v[voff + i * n + i] = 1;
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += a[off + i]! * a[off + i]!;
  if (!Number.isFinite(frob)) return -1;
  const target = (1e-15 * Math.sqrt(frob)) ** 2;
  let sweeps = 0;
  for (;;) {
    let offNorm = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) offNorm += a[off + p * n + q]! ** 2;
    if (offNorm <= target || offNorm === 0) break;
    if (sweeps === maxSweeps) return -1;
    sweeps++;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[off + p * n + q]!;
        if (apq === 0) continue;
        const app = a[off + p * n + p]!;
        const aqq = a[off + q * n + q]!;
        const g = 100 * Math.abs(apq);
        if (sweeps > 4 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          // below rounding of both diagonal entries (Numerical Recipes' jacobi)
          a[off + p * n + q] = 0;
          a[off + q * n + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        // t = tan of the rotation angle, the smaller root of t^2 + 2 theta t - 1 = 0
        let t = Math.abs(theta) > 1e150 ? 1 / (2 * Math.abs(theta)) : 1 / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta < 0) t = -t;
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          if (r === p || r === q) continue;
          const arp = a[off + r * n + p]!;
          const arq = a[off + r * n + q]!;
          const np = c * arp - s * arq;
          const nq = s * arp + c * arq;
          a[off + r * n + p] = np;
          a[off + p * n + r] = np;
          a[off + r * n + q] = nq;
          a[off + q * n + r] = nq;
        }
        a[off + p * n + p] = app - t * apq;
        a[off + q * n + q] = aqq + t * apq;
        a[off + p * n + q] = 0;
        a[off + q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          const vrp = v[voff + r * n + p]!;
          const vrq = v[voff + r * n + q]!;
          v[voff + r * n + p] = c * vrp - s * vrq;
          v[voff + r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  // sort ascending (selection sort on columns; n is small) and fix signs
  for (let i = 0; i < n; i++) w[woff + i] = a[off + i * n + i]!;
  for (let i = 0; i < n - 1; i++) {
    let m = i;
    for (let j = i + 1; j < n; j++) if (w[woff + j]! < w[woff + m]!) m = j;
    if (m === i) continue;
    const tw = w[woff + i]!;
    w[woff + i] = w[woff + m]!;
    w[woff + m] = tw;
    for (let r = 0; r < n; r++) {
      const tv = v[voff + r * n + i]!;
      v[voff + r * n + i] = v[voff + r * n + m]!;
      v[voff + r * n + m] = tv;
    }
  }
  for (let j = 0; j < n; j++) {
    let best = 0;
    let at = 0;
    for (let r = 0; r < n; r++) {
      const x = Math.abs(v[voff + r * n + j]!);
      if (x > best) {
        best = x;
        at = r;
      }
    }
    if (v[voff + at * n + j]! < 0) for (let r = 0; r < n; r++) v[voff + r * n + j] = -v[voff + r * n + j]!;
  }
  return sweeps;
}
