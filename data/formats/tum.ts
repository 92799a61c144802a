// TUM RGB-D trajectory text format (data/, bottom layer): `timestamp tx ty tz qx qy qz qw` per line
// (separated by spaces or by commas), `#` comments; quaternions w last. Reader normalises quaternions as evo does; writer prints shortest
// round-trip decimals.

import { TimestampOrderError, FormatError } from '../errors.ts';
import { dataLines, expectColumns, parseField } from '../text.ts';
import { Trajectory, checkQuaternion } from '../trajectory.ts';
import { quatToRotation } from '../se3.ts';
import { ParseError } from '../errors.ts';

const TUM_FIELDS = ['timestamp', 'tx', 'ty', 'tz', 'qx', 'qy', 'qz', 'qw'];

/** Parses TUM text. Every bad line is a named error with file and line. */
export function parseTum(content: string, file?: string): Trajectory {
  const lines = dataLines(content, 'ws-or-comma');
  if (lines.length === 0) throw new ParseError('no poses in TUM file', { file });
  const n = lines.length;
  const timestamps = new Float64Array(n);
  const poses = new Float64Array(12 * n);
  const v = new Float64Array(8);
  for (let i = 0; i < n; i++) {
    const dl = lines[i]!;
    expectColumns(dl, 8, file, 'TUM');
    for (let c = 0; c < 8; c++) v[c] = parseField(dl.fields[c]!, { file, line: dl.line, column: c + 1, field: TUM_FIELDS[c] });
    if (i > 0 && v[0]! < timestamps[i - 1]!)
      throw new TimestampOrderError(`timestamp ${v[0]} goes backwards (previous ${timestamps[i - 1]})`, { file, line: dl.line });
    checkQuaternion(v[4]!, v[5]!, v[6]!, v[7]!, { file, line: dl.line });
    timestamps[i] = v[0]!;
    quatToRotation(v[4]!, v[5]!, v[6]!, v[7]!, poses, 12 * i, 4);
    poses[12 * i + 3] = v[1]!;
    poses[12 * i + 7] = v[2]!;
    poses[12 * i + 11] = v[3]!;
  }
  return new Trajectory({ poses, timestamps, source: file });
}

/** Formats a trajectory as TUM text (needs timestamps). */
export function formatTum(traj: Trajectory): string {
  if (!traj.timestamps)
    throw new FormatError('TUM output needs timestamps, and this trajectory has none (give a times file or a rate)', { file: traj.source || undefined });
  const out: string[] = ['# timestamp tx ty tz qx qy qz qw'];
  for (let i = 0; i < traj.length; i++) {
    const [x, y, z] = traj.position(i);
    const q = traj.quaternion(i);
    out.push(`${traj.timestamps[i]} ${x} ${y} ${z} ${q[0]} ${q[1]} ${q[2]} ${q[3]}`);
  }
  return out.join('\n') + '\n';
}
