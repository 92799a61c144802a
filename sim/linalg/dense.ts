// Raw float64 dense kernels (sim/linalg): LU with partial pivoting and Cholesky on
// Float64Arrays at an offset, in place, no allocation. The differentiable tape ops in this
// folder and the hot loops of solvers (QP, MPC) call these directly.

/**
 * LU factorisation with partial pivoting of the row-major n x n matrix at `a[off..]`, in
 * place (L unit-lower below the diagonal, U on and above). `piv[k]` records the row
 * swapped with row k. Returns the sign of the permutation, or 0 if a pivot is exactly zero
 * (singular); `tol` flags pivots with |p| <= tol * max|A| as singular too.
 */
export function luFactor(a: Float64Array, off: number, n: number, piv: Int32Array, tol = 0): number {
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
    piv[k] = p;
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
 * from the factors of `luFactor`.
 */
export function luSolve(lu: Float64Array, off: number, n: number, piv: Int32Array, b: Float64Array, boff: number, k: number, transpose = false): void {
  if (!transpose) {
    for (let i = 0; i < n; i++) {
      const p = piv[i]!;
      if (p !== i) for (let c = 0; c < k; c++) swap(b, boff + i * k + c, boff + p * k + c);
    }
    // L y = Pb (unit lower)
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const l = lu[off + i * n + j]!;
        if (l === 0) continue;
        for (let c = 0; c < k; c++) b[boff + i * k + c]! -= l * b[boff + j * k + c]!;
      }
    }
    // U x = y
    for (let i = n - 1; i >= 0; i--) {
      for (let j = i + 1; j < n; j++) {
        const u = lu[off + i * n + j]!;
        if (u === 0) continue;
        for (let c = 0; c < k; c++) b[boff + i * k + c]! -= u * b[boff + j * k + c]!;
      }
      const d = lu[off + i * n + i]!;
      for (let c = 0; c < k; c++) b[boff + i * k + c]! /= d;
    }
    return;
  }
  // A^T = U^T L^T P: solve U^T z = b, L^T w = z, x = P^T w
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const u = lu[off + j * n + i]!;
      if (u === 0) continue;
      for (let c = 0; c < k; c++) b[boff + i * k + c]! -= u * b[boff + j * k + c]!;
    }
    const d = lu[off + i * n + i]!;
    for (let c = 0; c < k; c++) b[boff + i * k + c]! /= d;
  }
  for (let i = n - 2; i >= 0; i--) {
    for (let j = i + 1; j < n; j++) {
      const l = lu[off + j * n + i]!;
      if (l === 0) continue;
      for (let c = 0; c < k; c++) b[boff + i * k + c]! -= l * b[boff + j * k + c]!;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = piv[i]!;
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
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = l[off + i * n + j]!;
      if (v === 0) continue;
      for (let c = 0; c < k; c++) b[boff + i * k + c]! -= v * b[boff + j * k + c]!;
    }
    const d = l[off + i * n + i]!;
    for (let c = 0; c < k; c++) b[boff + i * k + c]! /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = i + 1; j < n; j++) {
      const v = l[off + j * n + i]!;
      if (v === 0) continue;
      for (let c = 0; c < k; c++) b[boff + i * k + c]! -= v * b[boff + j * k + c]!;
    }
    const d = l[off + i * n + i]!;
    for (let c = 0; c < k; c++) b[boff + i * k + c]! /= d;
  }
}
