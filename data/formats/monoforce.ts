// MonoForce-style pose CSV (data/, bottom layer): `stamp, T00, T01, ..., T23` — a timestamp (s) and
// the row-major 3x4 [R|t]; an optional 4th row T30..T33 must be 0 0 0 1. Header line optional.

import { ParseError, TimestampOrderError, FormatError } from '../errors.ts';
import { dataLines, expectColumns, parseField } from '../text.ts';
import { Trajectory } from '../trajectory.ts';

const HEADER = ['stamp', 'T00', 'T01', 'T02', 'T03', 'T10', 'T11', 'T12', 'T13', 'T20', 'T21', 'T22', 'T23'];

/** Parses a MonoForce pose CSV (comma or whitespace separated, 13 or 17 columns). */
export function parseMonoforce(content: string, file?: string): Trajectory {
  const firstData = content.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  let lines = dataLines(content, firstData.includes(',') ? ',' : 'ws');
  if (lines.length > 0 && /^[A-Za-z]/.test(lines[0]!.fields[0]!)) lines = lines.slice(1);
  if (lines.length === 0) throw new ParseError('no poses in MonoForce CSV file', { file });
  const n = lines.length;
  const timestamps = new Float64Array(n);
  const poses = new Float64Array(12 * n);
  for (let i = 0; i < n; i++) {
    const dl = lines[i]!;
    expectColumns(dl, [13, 17], file, 'MonoForce CSV');
    if (dl.fields.length !== 13 && dl.fields.length !== 17)
      throw new ParseError(`MonoForce CSV line has ${dl.fields.length} fields, expected 13 or 17`, { file, line: dl.line });
    const t = parseField(dl.fields[0]!, { file, line: dl.line, column: 1, field: 'stamp' });
    if (i > 0 && t < timestamps[i - 1]!)
      throw new TimestampOrderError(`timestamp ${t} goes backwards (previous ${timestamps[i - 1]})`, { file, line: dl.line });
    timestamps[i] = t;
    for (let c = 0; c < 12; c++) poses[12 * i + c] = parseField(dl.fields[c + 1]!, { file, line: dl.line, column: c + 2, field: HEADER[c + 1] });
    if (dl.fields.length === 17) {
      const last = [13, 14, 15, 16].map((c) => parseField(dl.fields[c]!, { file, line: dl.line, column: c + 1, field: `T3${c - 13}` }));
      if (last[0] !== 0 || last[1] !== 0 || last[2] !== 0 || last[3] !== 1)
        throw new ParseError(`bottom row T30..T33 is ${last.join(' ')}, expected 0 0 0 1`, { file, line: dl.line });
    }
  }
  return new Trajectory({ poses, timestamps, source: file });
}

/** Formats a trajectory as MonoForce pose CSV with a `stamp,T00,...,T23` header. */
export function formatMonoforce(traj: Trajectory): string {
  if (!traj.timestamps)
    throw new FormatError('MonoForce CSV output needs timestamps, and this trajectory has none (give a times file or a rate)', {
      file: traj.source || undefined,
    });
  const out = [HEADER.join(',')];
  for (let i = 0; i < traj.length; i++) out.push([traj.timestamps[i]!, ...traj.poses.subarray(12 * i, 12 * i + 12)].map(String).join(','));
  return out.join('\n') + '\n';
}
