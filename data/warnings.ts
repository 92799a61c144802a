// Warnings about trajectories that are valid but probably not what the user meant (data layer):
// repeated timestamps carrying different poses. The readers accept them (evo does too); the CLI
// prints these warnings on stderr and in its JSON output.
import type { Trajectory } from './trajectory.ts';

/** A repeated timestamp with different poses. */
export interface DuplicateStamp {
  /** Index of the second pose with the timestamp. */
  index: number;
  /** The timestamp (s). */
  timestamp: number;
}

/**
 * Consecutive poses that share a timestamp but differ (positions or rotations further apart
 * than `tol`). Identical repeated poses are not reported.
 */
export function duplicateStamps(traj: Trajectory, tol = 1e-12): DuplicateStamp[] {
  const t = traj.timestamps;
  const out: DuplicateStamp[] = [];
  if (!t) return out;
  const P = traj.poses;
  for (let i = 1; i < traj.length; i++) {
    if (t[i] !== t[i - 1]) continue;
    let differ = false;
    for (let k = 0; k < 12 && !differ; k++) differ = Math.abs(P[12 * i + k]! - P[12 * (i - 1) + k]!) > tol;
    if (differ) out.push({ index: i, timestamp: t[i]! });
  }
  return out;
}

/** Human-readable warnings about `traj` (read from `file`), empty when there is nothing to say. */
export function trajectoryWarnings(traj: Trajectory, file: string): string[] {
  const d = duplicateStamps(traj);
  if (d.length === 0) return [];
  const first = d
    .slice(0, 3)
    .map((x) => `pose ${x.index} at t = ${x.timestamp}`)
    .join(', ');
  return [`${file}: ${d.length} repeated timestamp(s) with a different pose (${first}${d.length > 3 ? ', ...' : ''}); time association will pick one of them`];
}
