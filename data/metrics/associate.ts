// Time association of two trajectories exactly as evo's sync.associate_trajectories (data/, bottom
// layer): each stamp of the trajectory with fewer poses is matched to the nearest stamp (first on
// ties) of the other, shifted by the offset, and kept when the difference is <= max_diff.

import { AssociationError } from '../errors.ts';
import type { Trajectory } from '../trajectory.ts';

/** Options of {@link associateTrajectories} (evo's --t_max_diff, --t_offset). */
export interface AssociationOptions {
  /** Largest accepted time difference, seconds (default 0.01). */
  maxDiff?: number;
  /** Offset added to the second (estimate) trajectory's stamps, seconds (default 0). */
  offset?: number;
}

/** Associated trajectories and the indices that were kept. */
export interface Association {
  ref: Trajectory;
  est: Trajectory;
  refIndices: number[];
  estIndices: number[];
  /** Number of pairs found, and the most there could have been (poses of the shorter trajectory). */
  matches: number;
  maxPairs: number;
}

/**
 * For each stamp in `a`, the index of the nearest stamp in `b + offset` (smallest index on ties,
 * as numpy's argmin), kept when |diff| <= maxDiff. Both stamp arrays must be non-decreasing.
 */
export function matchingTimeIndices(a: Float64Array, b: Float64Array, maxDiff: number, offset: number): [number[], number[]] {
  const bo = offset === 0 ? b : b.map((t) => t + offset);
  const ia: number[] = [],
    ib: number[] = [];
  const m = bo.length;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]!;
    let lo = 0,
      hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bo[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    // candidates: first index of the run equal to bo[lo-1], and lo
    let best = -1;
    let bestD = Infinity;
    if (lo > 0) {
      let k = lo - 1;
      while (k > 0 && bo[k - 1] === bo[k]) k--;
      best = k;
      bestD = Math.abs(bo[k]! - t);
    }
    if (lo < m) {
      const d = Math.abs(bo[lo]! - t);
      if (d < bestD) {
        best = lo;
        bestD = d;
      }
    }
    if (best >= 0 && bestD <= maxDiff) {
      ia.push(i);
      ib.push(best);
    }
  }
  return [ia, ib];
}

/** Associates `ref` and `est` by time as evo does; no match at all is an {@link AssociationError}. */
export function associateTrajectories(ref: Trajectory, est: Trajectory, opts: AssociationOptions = {}): Association {
  const maxDiff = opts.maxDiff ?? 0.01;
  const offset = opts.offset ?? 0;
  if (!ref.timestamps || !est.timestamps) {
    const which = !ref.timestamps ? ref : est;
    throw new AssociationError(`cannot associate by time: ${which.source || which.name || 'a trajectory'} has no timestamps`, {
      file: which.source || undefined,
    });
  }
  const estLonger = est.length > ref.length;
  const long = estLonger ? est : ref;
  const short = estLonger ? ref : est;
  const [iShort, iLong] = matchingTimeIndices(short.timestamps!, long.timestamps!, maxDiff, estLonger ? offset : -offset);
  if (iShort.length === 0) {
    throw new AssociationError(
      `found no matching timestamps between ${ref.source || 'reference'} and ${est.source || 'estimate'} with max. time diff ${maxDiff} (s) and time offset ${offset} (s)`,
      { file: est.source || undefined },
    );
  }
  const refIndices = estLonger ? iShort : iLong;
  const estIndices = estLonger ? iLong : iShort;
  return { ref: ref.select(refIndices), est: est.select(estIndices), refIndices, estIndices, matches: iShort.length, maxPairs: short.length };
}
