// Impulse JSON trajectory format (data/, bottom layer): one object holding timestamps (s) or null,
// exact ns stamps as decimal strings (optional), poses as 12-number row-major [R|t] rows (exact for
// every source), optional velocities. Validated with zod; errors name the JSON path and line.

import { z } from 'zod';
import { ParseError, jsonPath } from '../errors.ts';
import { Trajectory } from '../trajectory.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** The zod schema of an Impulse JSON trajectory (`format: "impulse.trajectory"`, `version: 1`). */
export const trajectoryJsonSchema = z.object({
  format: z.literal('impulse.trajectory'),
  version: z.literal(1),
  name: z.string().optional(),
  frame_id: z.string().optional(),
  child_frame_id: z.string().optional(),
  timestamps: z.array(finite).nullable(),
  stamps_ns: z.array(z.string().regex(/^-?\d+$/, 'must be an integer string')).optional(),
  poses: z.array(z.array(finite).length(12)),
  velocities: z.array(z.array(finite).length(3)).optional(),
  angular_velocities: z.array(z.array(finite).length(3)).optional(),
});

/** The JSON object type described by {@link trajectoryJsonSchema}. */
export type TrajectoryJson = z.infer<typeof trajectoryJsonSchema>;

function lineOfPosition(content: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < content.length; i++) if (content.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses an Impulse JSON trajectory. */
export function parseTrajectoryJson(content: string, file?: string): Trajectory {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    let line = m ? lineOfPosition(content, Number(m[1])) : undefined;
    if (line === undefined) {
      // V8 without a position quotes the text around the error: locate that snippet instead
      const q = /"(?:\.\.\.)?([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(msg);
      const at = q && q[1] ? content.indexOf(q[1]) : -1;
      if (at >= 0) line = lineOfPosition(content, at + q![1]!.length - 1);
    }
    throw new ParseError(`invalid JSON: ${msg}`, { file, line });
  }
  const r = trajectoryJsonSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ParseError(issue.message, { file, field: jsonPath(issue.path) });
  }
  const j = r.data;
  const n = j.poses.length;
  if (j.timestamps && j.timestamps.length !== n) throw new ParseError(`${j.timestamps.length} timestamps for ${n} poses`, { file, field: 'timestamps' });
  if (j.stamps_ns && j.stamps_ns.length !== n) throw new ParseError(`${j.stamps_ns.length} stamps_ns for ${n} poses`, { file, field: 'stamps_ns' });
  const poses = new Float64Array(12 * n);
  j.poses.forEach((p, i) => poses.set(p, 12 * i));
  const flat3 = (a: number[][] | undefined, field: string): Float64Array | null => {
    if (!a) return null;
    if (a.length !== n) throw new ParseError(`${a.length} ${field} for ${n} poses`, { file, field });
    return Float64Array.from(a.flat());
  };
  return new Trajectory({
    poses,
    timestamps: j.timestamps ? Float64Array.from(j.timestamps) : null,
    stampsNs: j.stamps_ns ? BigInt64Array.from(j.stamps_ns, (s) => BigInt(s)) : null,
    velocities: flat3(j.velocities, 'velocities'),
    angularVelocities: flat3(j.angular_velocities, 'angular_velocities'),
    name: j.name,
    frameId: j.frame_id,
    childFrameId: j.child_frame_id,
    source: file,
  });
}

/** The JSON object of a trajectory. */
export function trajectoryToJson(traj: Trajectory): TrajectoryJson {
  const n = traj.length;
  const rows = (a: Float64Array, w: number): number[][] => Array.from({ length: n }, (_, i) => Array.from(a.subarray(w * i, w * i + w)));
  const o: TrajectoryJson = {
    format: 'impulse.trajectory',
    version: 1,
    timestamps: traj.timestamps ? Array.from(traj.timestamps) : null,
    poses: rows(traj.poses, 12),
  };
  if (traj.name) o.name = traj.name;
  if (traj.frameId) o.frame_id = traj.frameId;
  if (traj.childFrameId) o.child_frame_id = traj.childFrameId;
  if (traj.stampsNs) o.stamps_ns = Array.from(traj.stampsNs, (s) => s.toString());
  if (traj.velocities) o.velocities = rows(traj.velocities, 3);
  if (traj.angularVelocities) o.angular_velocities = rows(traj.angularVelocities, 3);
  return o;
}

/** Formats a trajectory as Impulse JSON text. */
export function formatTrajectoryJson(traj: Trajectory): string {
  return JSON.stringify(trajectoryToJson(traj)) + '\n';
}
