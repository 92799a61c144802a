// Number formatting and seed statistics for the run reports and `impulse eval pred` (app/report):
// errors in metres to three significant digits (1.70, 0.123, 12.3), rates as percentages, and
// mean ± sample standard deviation over seeds with the spread rounded to the mean's decimals.

/** Decimals that give `sig` significant digits for |x| (at least 0, at most 6). */
export function decimalsFor(x: number, sig = 3): number {
  if (!Number.isFinite(x) || x === 0) return Math.max(0, sig - 1);
  const mag = Math.floor(Math.log10(Math.abs(x)));
  return Math.min(6, Math.max(0, sig - 1 - mag));
}

/** `x` to `sig` significant digits in fixed notation (no exponent below 1e9); "n/a" for null/NaN. */
export function fmtSig(x: number | null | undefined, sig = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Math.abs(x) >= 1e9) return x.toExponential(sig - 1);
  return x.toFixed(decimalsFor(x, sig));
}

/** A fraction as a percentage with one decimal ("12.5 %"); "n/a" for null. */
export function fmtPercent(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return `${(100 * x).toFixed(1)} %`;
}

/** Mean and sample standard deviation (0 for a single value) of the finite values; null when none. */
export function meanStd(values: (number | null | undefined)[]): { mean: number; std: number; n: number } | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

/** "1.70 ± 0.05" (the spread with the mean's decimals); the mean alone for one value. */
export function fmtMeanStd(s: { mean: number; std: number; n: number } | null, percent = false): string {
  if (!s) return 'n/a';
  if (percent) return s.n > 1 ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)} %` : fmtPercent(s.mean);
  if (s.n === 1) return fmtSig(s.mean);
  const d = Math.max(decimalsFor(s.mean), decimalsFor(s.std, 1));
  return `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)}`;
}

/** A horizon in seconds as written in labels: 0.5, 1, 1.5. */
export function fmtHorizon(h: number): string {
  return String(Number(h.toFixed(3)));
}
