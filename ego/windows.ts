// Ego-motion prediction windows (ego/): a trajectory projected onto its ground plane (2D positions,
// heading and timestamps), the time split (first 70% of frames train, last tenth of those held out
// for validation, last 30% test) and the windows: frame i with history i-5..i and future i+1..i+15.
import { readTrajectory, DataError, type Trajectory } from '../data/index.ts';

/** Frames of history before the current frame (0.5 s at 10 Hz). */
export const HISTORY = 5;
/** Future frames predicted (1.5 s at 10 Hz). */
export const HORIZON = 15;

/** A ground-plane track: positions (2 per frame), heading (rad) and time (s) per frame. */
export interface PlanarTrack {
  /** x_k, y_k in the plane (metres), 2 per frame. */
  xy: Float64Array;
  /** Heading per frame (rad), unwrapped-free (each in [-pi, pi]). */
  heading: Float64Array;
  /** Timestamps (s), non-decreasing. */
  t: Float64Array;
  /** Which plane of the source frame: 'xz' (camera frame, KITTI) or 'xy' (odometry frames). */
  plane: Plane;
  /** Where the track came from (for messages and config). */
  source: string;
  /** Frame id of the source trajectory. */
  frameId: string;
}

/** The ground plane of a trajectory: 'xz' = camera frame (x right, z forward: KITTI), 'xy' = ROS odometry. */
export type Plane = 'xy' | 'xz';

/** An error of the ego-motion task (bad input, split too short, model folder of another task). */
export class EgoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgoError';
  }
}

/** Wraps an angle to [-pi, pi]. */
export function wrapAngle(a: number): number {
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}

/**
 * Projects a trajectory onto a ground plane. 'xz': position (x, z), heading = direction of the
 * camera z axis (R[0][2], R[2][2]) in that plane. 'xy': position (x, y), heading = direction of the
 * body x axis (R[0][0], R[1][0]). Needs timestamps.
 */
export function planarTrack(traj: Trajectory, plane: Plane): PlanarTrack {
  const n = traj.length;
  if (!traj.timestamps) throw new EgoError(`${traj.source || 'trajectory'}: has no timestamps (a KITTI pose file needs its times file)`);
  const xy = new Float64Array(2 * n);
  const heading = new Float64Array(n);
  const P = traj.poses;
  for (let i = 0; i < n; i++) {
    const o = 12 * i;
    if (plane === 'xz') {
      xy[2 * i] = P[o + 3]!;
      xy[2 * i + 1] = P[o + 11]!;
      heading[i] = Math.atan2(P[o + 10]!, P[o + 2]!);
    } else {
      xy[2 * i] = P[o + 3]!;
      xy[2 * i + 1] = P[o + 7]!;
      heading[i] = Math.atan2(P[o + 4]!, P[o]!);
    }
  }
  return { xy, heading, t: Float64Array.from(traj.timestamps), plane, source: traj.source, frameId: traj.frameId };
}

/** Options of {@link loadTrack}. */
export interface LoadTrackOptions {
  /** KITTI times file. */
  timesFile?: string;
  /** MCAP topic. */
  topic?: string;
  plane: Plane;
}

/**
 * Reads a trajectory file (any format of the data layer) and projects it. Missing and corrupt files
 * surface as the data layer's named errors (file, line); an MCAP log without the topic as an EgoError.
 */
export async function loadTrack(path: string, opts: LoadTrackOptions): Promise<PlanarTrack> {
  let traj: Trajectory;
  try {
    traj = await readTrajectory(path, { timesFile: opts.timesFile, topic: opts.topic });
  } catch (e) {
    if (e instanceof DataError) throw e;
    const msg = (e as Error).message;
    if (opts.timesFile && /ENOENT/.test(msg)) throw new EgoError(`${opts.timesFile}: cannot read the times file (${msg})`);
    throw new EgoError(`${path}: ${msg}`);
  }
  if (traj.length === 0) throw new EgoError(`${path}: ${opts.topic ? `topic '${opts.topic}' has no poses` : 'no poses'}`);
  return planarTrack(traj, opts.plane);
}

/** The time split of a track: frame ranges [start, end) and the windows' current frames. */
export interface Split {
  /** Number of frames n. */
  frames: number;
  /** First test frame floor(0.7 n). */
  testStart: number;
  /** First validation frame: start of the last tenth of the training part. */
  valStart: number;
  /** Current frames of the training windows (history and future inside [0, valStart)). */
  train: number[];
  /** Current frames of the validation windows (inside [valStart, testStart)). */
  val: number[];
  /** Current frames of the test windows: every frame from testStart to n - 16. */
  test: number[];
}

/**
 * The split rule of the task: first 70% of frames (floor(0.7 n)) for training, of which the last
 * tenth is validation; test windows are every frame i from floor(0.7 n) to n - 1 - HORIZON (their
 * history may reach back into the training part, which only holds inputs, never a target).
 * Training and validation windows keep history and future inside their own part.
 */
export function splitTrack(n: number, trainFraction = 0.7): Split {
  const testStart = Math.floor(trainFraction * n);
  const valStart = Math.floor(0.9 * testStart);
  const range = (a: number, b: number): number[] => (b < a ? [] : Array.from({ length: b - a + 1 }, (_, k) => a + k));
  const split: Split = {
    frames: n,
    testStart,
    valStart,
    train: range(HISTORY, valStart - 1 - HORIZON),
    val: range(valStart + HISTORY, testStart - 1 - HORIZON),
    test: range(testStart, n - 1 - HORIZON),
  };
  if (split.train.length === 0 || split.val.length === 0 || split.test.length === 0)
    throw new EgoError(
      `trajectory of ${n} frames is too short for the split (train ${split.train.length}, validation ${split.val.length}, test ${split.test.length} windows; needs ${HISTORY} history and ${HORIZON} future frames per window)`,
    );
  return split;
}

/** Checks that the track's sampling is usable: strictly increasing time over every window. */
export function checkTimes(track: PlanarTrack): void {
  for (let i = 1; i < track.t.length; i++)
    if (!(track.t[i]! > track.t[i - 1]!))
      throw new EgoError(`${track.source}: timestamp at frame ${i} (${track.t[i]}) does not increase; resample the trajectory first`);
}

/** Speed over the last HISTORY frames: |p_i - p_{i-5}| / (t_i - t_{i-5}). */
export function historySpeed(track: PlanarTrack, i: number): number {
  const j = i - HISTORY;
  const dx = track.xy[2 * i]! - track.xy[2 * j]!;
  const dy = track.xy[2 * i + 1]! - track.xy[2 * j + 1]!;
  return Math.hypot(dx, dy) / (track.t[i]! - track.t[j]!);
}

/** Yaw rate over the last HISTORY frames: wrap(psi_i - psi_{i-5}) / (t_i - t_{i-5}). */
export function historyYawRate(track: PlanarTrack, i: number): number {
  const j = i - HISTORY;
  return wrapAngle(track.heading[i]! - track.heading[j]!) / (track.t[i]! - track.t[j]!);
}

/** Future time steps dt_k = t_{i+k} - t_{i+k-1}, k = 1..HORIZON. */
export function futureSteps(track: PlanarTrack, i: number): Float64Array {
  const dt = new Float64Array(HORIZON);
  for (let k = 1; k <= HORIZON; k++) dt[k - 1] = track.t[i + k]! - track.t[i + k - 1]!;
  return dt;
}

/** Ground-truth future positions (world plane), 2 per step, frames i+1..i+15. */
export function futurePositions(track: PlanarTrack, i: number): Float64Array {
  return track.xy.slice(2 * (i + 1), 2 * (i + 1 + HORIZON));
}
