// KITTI odometry pose format (data/, bottom layer): 12 numbers a line, the row-major 3x4 [R|t]; no
// time column (an optional times file holds one timestamp a line).

import { ParseError, TimestampOrderError } from '../errors.ts';
import { dataLines, expectColumns, parseField } from '../text.ts';
import { Trajectory } from '../trajectory.ts';

/** Parses KITTI poses; `times` (content of a times file) adds timestamps and must have one line per pose. */
export function parseKitti(content: string, file?: string, times?: { content: string; file?: string }): Trajectory {
  const lines = dataLines(content, 'ws');
  if (lines.length === 0) throw new ParseError('no poses in KITTI file', { file });
  const n = lines.length;
  const poses = new Float64Array(12 * n);
  for (let i = 0; i < n; i++) {
    const dl = lines[i]!;
    expectColumns(dl, 12, file, 'KITTI');
    for (let c = 0; c < 12; c++) poses[12 * i + c] = parseField(dl.fields[c]!, { file, line: dl.line, column: c + 1, field: `T${Math.floor(c / 4)}${c % 4}` });
  }
  let timestamps: Float64Array | null = null;
  if (times) timestamps = parseTimes(times.content, n, times.file);
  return new Trajectory({ poses, timestamps, source: file });
}

/** Parses a times file (one timestamp in seconds a line) that must hold exactly `n` entries when n is given. */
export function parseTimes(content: string, n: number | undefined, file?: string): Float64Array {
  const lines = dataLines(content, 'ws');
  if (n !== undefined && lines.length !== n) {
    const last = lines[lines.length - 1];
    throw new ParseError(`times file has ${lines.length} timestamps for ${n} poses`, { file, line: last ? last.line : undefined });
  }
  const ts = new Float64Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const dl = lines[i]!;
    expectColumns(dl, 1, file, 'times');
    ts[i] = parseField(dl.fields[0]!, { file, line: dl.line, column: 1, field: 'timestamp' });
    if (i > 0 && ts[i]! < ts[i - 1]!) throw new TimestampOrderError(`timestamp ${ts[i]} goes backwards (previous ${ts[i - 1]})`, { file, line: dl.line });
  }
  return ts;
}

/** Formats a trajectory as KITTI poses (the timestamps, if any, are not part of the format). */
export function formatKitti(traj: Trajectory): string {
  const out: string[] = [];
  for (let i = 0; i < traj.length; i++) out.push(Array.from(traj.poses.subarray(12 * i, 12 * i + 12), (x) => String(x)).join(' '));
  return out.join('\n') + '\n';
}

/** Formats timestamps as a KITTI times file. */
export function formatTimes(ts: Float64Array): string {
  return Array.from(ts, (t) => String(t)).join('\n') + '\n';
}
