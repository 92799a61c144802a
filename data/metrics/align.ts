// Umeyama alignment as evo computes it (data/, bottom layer): least-squares SE(3) or Sim(3) (or scale
// only) mapping of estimated positions onto reference positions (Umeyama 1991), on all poses or the
// first n, and origin alignment.

import { AlignmentError } from '../errors.ts';
import { det3, invertPose, composePoses, svd3 } from '../se3.ts';
import type { Trajectory } from '../trajectory.ts';

/** R (row-major 3x3), t and s with y ~ s R x + t. */
export interface Similarity {
  R: Float64Array;
  t: Float64Array;
  s: number;
}

/**
 * Umeyama's closed form for y_i ~ s R x_i + t over points stored 3 per point (`x`, `y` same length).
 * `withScale` false fixes s = 1. A covariance of rank < 2 is an {@link AlignmentError} (as evo).
 */
export function umeyama(x: ArrayLike<number>, y: ArrayLike<number>, withScale: boolean): Similarity {
  if (x.length !== y.length) throw new AlignmentError(`point sets differ in size (${x.length / 3} vs ${y.length / 3})`);
  const n = x.length / 3;
  if (n < 1) throw new AlignmentError('no points to align');
  const mx = [0, 0, 0],
    my = [0, 0, 0];
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 3; k++) {
      mx[k]! += x[3 * i + k]!;
      my[k]! += y[3 * i + k]!;
    }
  for (let k = 0; k < 3; k++) {
    mx[k]! /= n;
    my[k]! /= n;
  }
  let sigmaX = 0;
  const C = new Float64Array(9); // cov_xy = 1/n sum (y - my)(x - mx)^T
  for (let i = 0; i < n; i++) {
    const dx0 = x[3 * i]! - mx[0]!,
      dx1 = x[3 * i + 1]! - mx[1]!,
      dx2 = x[3 * i + 2]! - mx[2]!;
    const dy0 = y[3 * i]! - my[0]!,
      dy1 = y[3 * i + 1]! - my[1]!,
      dy2 = y[3 * i + 2]! - my[2]!;
    sigmaX += dx0 * dx0 + dx1 * dx1 + dx2 * dx2;
    C[0]! += dy0 * dx0;
    C[1]! += dy0 * dx1;
    C[2]! += dy0 * dx2;
    C[3]! += dy1 * dx0;
    C[4]! += dy1 * dx1;
    C[5]! += dy1 * dx2;
    C[6]! += dy2 * dx0;
    C[7]! += dy2 * dx1;
    C[8]! += dy2 * dx2;
  }
  sigmaX /= n;
  for (let k = 0; k < 9; k++) C[k]! /= n;
  const { U, S, V } = svd3(C);
  let rank = 0;
  for (const d of S) if (d > Number.EPSILON) rank++;
  if (rank < 2) throw new AlignmentError(`degenerate covariance rank ${rank}, Umeyama alignment is not possible (${n} point(s), collinear or coincident?)`);
  const d = det3(U) * det3(V) < 0 ? -1 : 1;
  const R = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) R[3 * i + j] = U[3 * i]! * V[3 * j]! + U[3 * i + 1]! * V[3 * j + 1]! + d * U[3 * i + 2]! * V[3 * j + 2]!;
  const s = withScale ? (S[0]! + S[1]! + d * S[2]!) / sigmaX : 1;
  const t = new Float64Array(3);
  for (let i = 0; i < 3; i++) t[i] = my[i]! - s * (R[3 * i]! * mx[0]! + R[3 * i + 1]! * mx[1]! + R[3 * i + 2]! * mx[2]!);
  return { R, t, s };
}

/** Alignment modes: evo's -a (se3), -as (sim3), -s (scale), or none. */
export type AlignMode = 'se3' | 'sim3' | 'scale' | 'none';

/** Options of {@link alignTrajectory}. */
export interface AlignOptions {
  mode?: AlignMode;
  /** Use only the first n poses to estimate the alignment (-1 or undefined: all), evo's --n_to_align. */
  nAlign?: number;
  /** Afterwards, move the estimate so its first pose equals the reference's first pose (evo's --align_origin). */
  alignOrigin?: boolean;
}

/** The aligned estimate and the transform applied (y = s R x + t; then the origin transform, when asked). */
export interface AlignResult {
  est: Trajectory;
  mode: AlignMode;
  R: Float64Array | null;
  t: Float64Array | null;
  s: number;
  /** The origin transform ref0 * inv(est0) applied after the Umeyama step, when alignOrigin. */
  origin: Float64Array | null;
}

/** Aligns `est` to `ref` (same length, associated) exactly as evo's PosePath3D.align / align_origin. */
export function alignTrajectory(est: Trajectory, ref: Trajectory, opts: AlignOptions = {}): AlignResult {
  const mode = opts.mode ?? 'none';
  if (est.length !== ref.length) throw new AlignmentError(`trajectories differ in length (${est.length} vs ${ref.length}); associate them first`);
  let out = est;
  let R: Float64Array | null = null,
    t: Float64Array | null = null,
    s = 1;
  if (mode !== 'none') {
    let n = opts.nAlign === undefined || opts.nAlign === -1 ? est.length : opts.nAlign;
    if (!Number.isInteger(n) || n < 1) throw new AlignmentError(`n-align must be a positive integer or -1, got ${opts.nAlign}`);
    n = Math.min(n, est.length);
    const sim = umeyama(est.positions().subarray(0, 3 * n), ref.positions().subarray(0, 3 * n), mode !== 'se3');
    R = sim.R;
    t = sim.t;
    s = sim.s;
    if (mode === 'scale') {
      out = out.scaled(s);
      R = null;
      t = null;
    } else {
      if (mode === 'sim3') out = out.scaled(s);
      const T = Float64Array.of(R[0]!, R[1]!, R[2]!, t[0]!, R[3]!, R[4]!, R[5]!, t[1]!, R[6]!, R[7]!, R[8]!, t[2]!);
      out = out.transformed(T);
    }
  }
  let origin: Float64Array | null = null;
  if (opts.alignOrigin) {
    const inv = new Float64Array(12);
    invertPose(out.poses, 0, inv, 0);
    origin = new Float64Array(12);
    composePoses(ref.poses, 0, inv, 0, origin, 0);
    out = out.transformed(origin);
  }
  return { est: out, mode, R, t, s, origin };
}
