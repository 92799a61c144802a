// Test support of the tf bridge's tests and of the models built on it (not part of the package).

/** Relative error of `a` against `b`: max |a - b| / max(|b|, 1e-30) over all elements. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-30;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
