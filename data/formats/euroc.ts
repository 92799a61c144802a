// EuRoC MAV CSV format (data/, bottom layer): integer-nanosecond timestamp, position, quaternion w
// FIRST (w x y z), then optionally velocity and IMU biases; comma separated, `#` header. Timestamps
// are kept exactly (BigInt ns) and converted to seconds as evo does (ns / 1e9 in float64).

import { ParseError, TimestampOrderError, FormatError } from '../errors.ts';
import { dataLines, expectColumns, parseField } from '../text.ts';
import { Trajectory, checkQuaternion } from '../trajectory.ts';
import { quatToRotation } from '../se3.ts';

const EUROC_FIELDS = ['timestamp', 'p_x', 'p_y', 'p_z', 'q_w', 'q_x', 'q_y', 'q_z', 'v_x', 'v_y', 'v_z'];
const INT_RE = /^\d+$/;

/** Parses EuRoC CSV. A header line without `#` is accepted only as the first line. */
export function parseEuroc(content: string, file?: string): Trajectory {
  let lines = dataLines(content, ',');
  if (lines.length > 0 && /^[A-Za-z]/.test(lines[0]!.fields[0]!)) lines = lines.slice(1);
  if (lines.length === 0) throw new ParseError('no poses in EuRoC file', { file });
  const n = lines.length;
  const timestamps = new Float64Array(n);
  let stampsNs: BigInt64Array | null = new BigInt64Array(n);
  const poses = new Float64Array(12 * n);
  const withVel = lines[0]!.fields.length >= 11;
  const velocities = withVel ? new Float64Array(3 * n) : null;
  const v = new Float64Array(11);
  for (let i = 0; i < n; i++) {
    const dl = lines[i]!;
    expectColumns(dl, withVel ? [11, Infinity] : [8, Infinity], file, 'EuRoC');
    const k = withVel ? 11 : 8;
    for (let c = 0; c < k; c++) v[c] = parseField(dl.fields[c]!, { file, line: dl.line, column: c + 1, field: EUROC_FIELDS[c] });
    const t = v[0]! / 1e9;
    if (i > 0 && t < timestamps[i - 1]!) throw new TimestampOrderError(`timestamp ${dl.fields[0]} ns goes backwards`, { file, line: dl.line });
    timestamps[i] = t;
    if (stampsNs) {
      if (INT_RE.test(dl.fields[0]!)) stampsNs[i] = BigInt(dl.fields[0]!);
      else stampsNs = null;
    }
    checkQuaternion(v[5]!, v[6]!, v[7]!, v[4]!, { file, line: dl.line });
    quatToRotation(v[5]!, v[6]!, v[7]!, v[4]!, poses, 12 * i, 4);
    poses[12 * i + 3] = v[1]!;
    poses[12 * i + 7] = v[2]!;
    poses[12 * i + 11] = v[3]!;
    if (velocities) velocities.set([v[8]!, v[9]!, v[10]!], 3 * i);
  }
  return new Trajectory({ poses, timestamps, stampsNs, velocities, source: file });
}

/** Nanosecond timestamp of pose i: exact when known, else round(t * 1e9). */
export function stampNs(traj: Trajectory, i: number): bigint {
  if (traj.stampsNs) return traj.stampsNs[i]!;
  if (!traj.timestamps) throw new FormatError('trajectory has no timestamps', { file: traj.source || undefined });
  const t = traj.timestamps[i]!;
  const sec = Math.floor(t);
  return BigInt(sec) * 1000000000n + BigInt(Math.round((t - sec) * 1e9));
}

/** Formats a trajectory as EuRoC CSV (velocities included when present). */
export function formatEuroc(traj: Trajectory): string {
  if (!traj.timestamps)
    throw new FormatError('EuRoC output needs timestamps, and this trajectory has none (give a times file or a rate)', { file: traj.source || undefined });
  const vel = traj.velocities;
  const head = ['#timestamp [ns]', 'p_RS_R_x [m]', 'p_RS_R_y [m]', 'p_RS_R_z [m]', 'q_RS_w []', 'q_RS_x []', 'q_RS_y []', 'q_RS_z []'];
  if (vel) head.push('v_RS_R_x [m s^-1]', 'v_RS_R_y [m s^-1]', 'v_RS_R_z [m s^-1]');
  const out = [head.join(',')];
  for (let i = 0; i < traj.length; i++) {
    const [x, y, z] = traj.position(i);
    const q = traj.quaternion(i);
    const row = [stampNs(traj, i).toString(), x, y, z, q[3], q[0], q[1], q[2]].map(String);
    if (vel) row.push(String(vel[3 * i]), String(vel[3 * i + 1]), String(vel[3 * i + 2]));
    out.push(row.join(','));
  }
  return out.join('\n') + '\n';
}
