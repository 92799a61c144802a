// Line-oriented text parsing shared by the trajectory readers (data/, bottom layer): comment and blank
// line skipping, strict float parsing that names file, line and column of a bad field.

import { NonFiniteValueError, ParseError } from './errors.ts';

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NONFINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/** One data line of a text file: its 1-based number and its fields. */
export interface DataLine {
  line: number;
  fields: string[];
}

/**
 * Splits `content` into data lines: blank lines and lines starting with `#` (after leading spaces)
 * are skipped; fields are separated by whitespace, or by commas (with optional spaces) when
 * `delimiter` is ',', or by either when it is 'ws-or-comma' (TUM files written with commas).
 */
export function dataLines(content: string, delimiter: 'ws' | ',' | 'ws-or-comma' = 'ws'): DataLine[] {
  const out: DataLine[] = [];
  let start = 0;
  let lineNo = 0;
  const n = content.length;
  while (start <= n) {
    let end = content.indexOf('\n', start);
    if (end < 0) end = n;
    lineNo++;
    let text = content.slice(start, end);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    start = end + 1;
    const t = text.trim();
    if (t === '' || t.startsWith('#')) {
      if (end === n) break;
      continue;
    }
    const fields = delimiter === ',' ? t.split(',').map((s) => s.trim()) : delimiter === 'ws-or-comma' ? t.split(/\s*,\s*|\s+/) : t.split(/\s+/);
    out.push({ line: lineNo, fields });
    if (end === n) break;
  }
  return out;
}

/**
 * Parses one numeric field. Throws {@link NonFiniteValueError} for nan/inf and {@link ParseError}
 * for anything that is not a decimal number, naming file, line, column and field.
 */
export function parseField(tok: string, loc: { file?: string; line: number; column: number; field?: string }): number {
  if (FLOAT_RE.test(tok)) return Number(tok);
  if (NONFINITE_RE.test(tok)) throw new NonFiniteValueError(`value '${tok}' is not finite`, loc);
  throw new ParseError(tok === '' ? 'empty field' : `'${tok}' is not a number`, loc);
}

/** Throws a {@link ParseError} naming the line when it has the wrong number of fields. */
export function expectColumns(dl: DataLine, expected: number | [number, number], file: string | undefined, what: string): void {
  const [lo, hi] = typeof expected === 'number' ? [expected, expected] : expected;
  const k = dl.fields.length;
  if (k >= lo && k <= hi) return;
  const want = lo === hi ? `${lo}` : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`;
  const hint = k < lo ? ' (truncated line?)' : '';
  throw new ParseError(`${what} line has ${k} fields, expected ${want}${hint}`, { file, line: dl.line });
}
