// APE and RPE with evo's definitions (data/, bottom layer). APE_i uses E_i = inv(P_est,i) P_ref,i
// (translation: |p_est - p_ref|); RPE uses E_ij = inv(inv(Q_i) Q_j) inv(P_i) P_j over index pairs
// chosen by a delta in frames, metres of path (relative tolerance) or degrees/radians of rotation.

import { MetricError } from '../errors.ts';
import { relativePose, rotationAngle } from '../se3.ts';
import type { Trajectory } from '../trajectory.ts';

/**
 * Pose relation of a metric: translation part (m), rotation angle (deg or rad), rotation part
 * |R_E - I|_F, full transformation |E - I|_F (evo's trans_part, angle_deg, angle_rad, rot_part, full).
 */
export type PoseRelation = 'trans' | 'rot-deg' | 'rot-rad' | 'rot' | 'full';

/** Unit of the errors of a relation. */
export function relationUnit(rel: PoseRelation): string {
  return rel === 'trans' ? 'm' : rel === 'rot-deg' ? 'deg' : rel === 'rot-rad' ? 'rad' : 'unit-less';
}

/** Human name of a relation, as evo titles it. */
export function relationTitle(rel: PoseRelation): string {
  return {
    trans: 'translation part',
    'rot-deg': 'rotation angle in degrees',
    'rot-rad': 'rotation angle in radians',
    rot: 'rotation part',
    full: 'full transformation',
  }[rel];
}

/** sqrt(x^2 + y^2 + z^2), as numpy's norm of a 3-vector. */
function norm3(x: number, y: number, z: number): number {
  return Math.sqrt(x * x + y * y + z * z);
}

function errorOfE(E: Float64Array, rel: PoseRelation): number {
  switch (rel) {
    case 'trans':
      return norm3(E[3]!, E[7]!, E[11]!);
    case 'rot-rad':
      return Math.abs(rotationAngle(E, 0, 4));
    case 'rot-deg':
      return (Math.abs(rotationAngle(E, 0, 4)) * 180) / Math.PI;
    case 'rot': {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += (E[4 * i + j]! - (i === j ? 1 : 0)) ** 2;
      return Math.sqrt(s);
    }
    case 'full': {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) s += (E[4 * i + j]! - (i === j ? 1 : 0)) ** 2;
      return Math.sqrt(s);
    }
  }
}

/** APE errors per pose pair (ref and est associated, same length). */
export function apeErrors(ref: Trajectory, est: Trajectory, rel: PoseRelation = 'trans'): Float64Array {
  if (ref.length !== est.length) throw new MetricError(`trajectories must have the same number of poses (${ref.length} vs ${est.length})`);
  const n = ref.length;
  const out = new Float64Array(n);
  const E = new Float64Array(12);
  for (let i = 0; i < n; i++) {
    const o = 12 * i;
    if (rel === 'trans') {
      out[i] = norm3(est.poses[o + 3]! - ref.poses[o + 3]!, est.poses[o + 7]! - ref.poses[o + 7]!, est.poses[o + 11]! - ref.poses[o + 11]!);
    } else {
      relativePose(est.poses, o, ref.poses, o, E, 0);
      out[i] = errorOfE(E, rel);
    }
  }
  return out;
}

/** Units of an RPE delta: frames, metres of travelled path, degrees or radians of accumulated rotation. */
export type DeltaUnit = 'f' | 'm' | 'deg' | 'rad';

/** Options of {@link rpePairs} and {@link rpeErrors} (evo's --delta, --delta_unit, --delta_tol, --all_pairs). */
export interface RpeOptions {
  delta?: number;
  deltaUnit?: DeltaUnit;
  /** Relative tolerance of the delta in all-pairs mode (default 0.1). */
  relDeltaTol?: number;
  allPairs?: boolean;
  /** Choose the pairs on the reference instead of the estimate (evo's default is the estimate). */
  pairsFromReference?: boolean;
}

/** Index pairs (i, j) for RPE, chosen as evo's filters do on the given poses. */
export function rpePairs(traj: Trajectory, opts: RpeOptions = {}): [number, number][] {
  const delta = opts.delta ?? 1;
  const unit = opts.deltaUnit ?? 'f';
  const tol = delta * (opts.relDeltaTol ?? 0.1);
  const n = traj.length;
  const P = traj.poses;
  const pairs: [number, number][] = [];
  if (!(delta >= 0)) throw new MetricError(`delta must be a non-negative number, got ${delta}`);
  if (unit === 'f') {
    if (!Number.isInteger(delta) || delta < 1) throw new MetricError(`delta must be a positive integer for delta unit frames, got ${delta}`);
    if (opts.allPairs) for (let i = 0; i + delta < n; i++) pairs.push([i, i + delta]);
    else for (let i = 0; i + delta < n; i += delta) pairs.push([i, i + delta]);
  } else if (unit === 'm') {
    const dist = (a: number, b: number): number => norm3(P[12 * b + 3]! - P[12 * a + 3]!, P[12 * b + 7]! - P[12 * a + 7]!, P[12 * b + 11]! - P[12 * a + 11]!);
    if (opts.allPairs) {
      const acc = new Float64Array(n);
      for (let i = 1; i < n; i++) acc[i] = acc[i - 1]! + dist(i - 1, i);
      for (let i = 0; i < n - 1; i++) {
        // argmin_j>i |acc[j] - acc[i] - delta| (first on ties); acc is non-decreasing
        let lo = i + 1,
          hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (acc[mid]! - acc[i]! < delta) lo = mid + 1;
          else hi = mid;
        }
        let best = -1,
          bestD = Infinity;
        for (const j of [lo - 1, lo]) {
          if (j <= i || j >= n) continue;
          let k = j;
          while (k - 1 > i && acc[k - 1]! - acc[i]! === acc[k]! - acc[i]!) k--;
          const d = Math.abs(acc[k]! - acc[i]! - delta);
          if (d < bestD || (d === bestD && k < best)) {
            best = k;
            bestD = d;
          }
        }
        if (best >= 0 && bestD <= tol) pairs.push([i, best]);
      }
    } else {
      const ids: number[] = [];
      let path = 0;
      for (let i = 0; i < n; i++) {
        if (i > 0) path += dist(i - 1, i);
        if (path >= delta) {
          ids.push(i);
          path = 0;
        }
      }
      for (let k = 0; k + 1 < ids.length; k++) pairs.push([ids[k]!, ids[k + 1]!]);
    }
  } else {
    const deg = unit === 'deg';
    const bound = deg ? 180 : Math.PI;
    if (delta > bound) throw new MetricError(`delta angle must be within [0, ${bound}] ${unit}, got ${delta}`);
    const d = deg ? (delta * Math.PI) / 180 : delta;
    const t = deg ? (tol * Math.PI) / 180 : tol;
    const E = new Float64Array(12);
    const angle = (a: number, b: number): number => {
      relativePose(P, 12 * a, P, 12 * b, E, 0);
      return rotationAngle(E, 0, 4);
    };
    if (opts.allPairs) {
      for (let i = 0; i < n - 1; i++)
        for (let j = i + 1; j < n; j++) {
          const a = angle(i, j);
          if (a >= d - t && a <= d + t) pairs.push([i, j]);
        }
    } else {
      let acc = 0,
        start = 0;
      for (let i = 0; i + 1 < n; i++) {
        acc += angle(i, i + 1);
        if (acc >= d) {
          pairs.push([start, i + 1]);
          acc = 0;
          start = i + 1;
        }
      }
    }
  }
  if (pairs.length === 0) throw new MetricError(`delta = ${delta} (${unit}) produced an empty index list - try lower values or a less strict tolerance`);
  return pairs;
}

/** RPE errors and the pairs used (ref and est associated, same length). */
export function rpeErrors(
  ref: Trajectory,
  est: Trajectory,
  rel: PoseRelation = 'trans',
  opts: RpeOptions = {},
): { errors: Float64Array; pairs: [number, number][] } {
  if (ref.length !== est.length) throw new MetricError(`trajectories must have the same number of poses (${ref.length} vs ${est.length})`);
  const pairs = rpePairs(opts.pairsFromReference ? ref : est, opts);
  const errors = new Float64Array(pairs.length);
  const Q = new Float64Array(12),
    Pr = new Float64Array(12),
    E = new Float64Array(12);
  pairs.forEach(([i, j], k) => {
    relativePose(ref.poses, 12 * i, ref.poses, 12 * j, Q, 0);
    relativePose(est.poses, 12 * i, est.poses, 12 * j, Pr, 0);
    relativePose(Q, 0, Pr, 0, E, 0);
    errors[k] = errorOfE(E, rel);
  });
  return { errors, pairs };
}
