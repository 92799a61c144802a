// Human-readable output helpers of the CLI (app layer): numbers rounded to meaningful digits
// and camelCase keys turned into words. `--json` output never goes through these.

/** `x` rounded to `digits` significant digits, as a short string (exponent form only when very large or small). */
export function round(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) return x.toExponential(digits - 1);
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/** A value (number, array, nested array, other) with its numbers rounded. */
export function roundValue(v: unknown, digits = 4): string {
  if (typeof v === 'number') return round(v, digits);
  if (Array.isArray(v)) return `[${v.map((e) => roundValue(e, digits)).join(', ')}]`;
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** camelCase -> words: `muMeanAbsErrOnPath` -> `mu mean abs err on path`; keeps acronyms and digits together. */
export function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .split(' ')
    .map((w) => (/^[A-Z][a-z]/.test(w) ? w.toLowerCase() : w))
    .join(' ');
}

/** Aligned `label  value` lines. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
