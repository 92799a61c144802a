// Network inputs and targets of the ego-motion task (ego/): every window is expressed in its
// heading-aligned frame (origin at the current position, x along the current heading), so the
// networks see the history shape, speed and yaw rate, never the absolute pose.
import { HISTORY, HORIZON, futureSteps, historySpeed, historyYawRate, wrapAngle, type PlanarTrack } from './windows.ts';

/** Features per window: 5 past positions (10), 5 past relative headings, speed, yaw rate, last-step speed. */
export const FEATURES = 2 * HISTORY + HISTORY + 3;

/** A batch of windows as flat float64 arrays (row-major). */
export interface WindowSet {
  /** Current frame of each window. */
  frames: number[];
  /** Features [N, FEATURES] (not normalised). */
  x: Float64Array;
  /** History speed |p_i - p_{i-5}| / (t_i - t_{i-5}) [N]. */
  speed: Float64Array;
  /** History yaw rate [N]. */
  yawRate: Float64Array;
  /** Future time steps [N, HORIZON]. */
  dt: Float64Array;
  /** Future positions in the heading-aligned frame [N, HORIZON, 2]. */
  target: Float64Array;
  /** Origin (x, y) and heading of each window's frame [N, 3]. */
  pose: Float64Array;
}

/** Rotates world displacement (dx, dy) into the frame with heading psi. */
function toLocal(dx: number, dy: number, psi: number): [number, number] {
  const c = Math.cos(psi),
    s = Math.sin(psi);
  return [c * dx + s * dy, -s * dx + c * dy];
}

/** Builds the features and targets of the windows at `frames`. */
export function buildWindows(track: PlanarTrack, frames: readonly number[]): WindowSet {
  const N = frames.length;
  const set: WindowSet = {
    frames: [...frames],
    x: new Float64Array(N * FEATURES),
    speed: new Float64Array(N),
    yawRate: new Float64Array(N),
    dt: new Float64Array(N * HORIZON),
    target: new Float64Array(N * HORIZON * 2),
    pose: new Float64Array(N * 3),
  };
  const { xy, heading, t } = track;
  frames.forEach((i, n) => {
    const px = xy[2 * i]!,
      py = xy[2 * i + 1]!,
      psi = heading[i]!;
    set.pose.set([px, py, psi], 3 * n);
    const f = set.x.subarray(n * FEATURES, (n + 1) * FEATURES);
    for (let k = 1; k <= HISTORY; k++) {
      const j = i - k;
      const [lx, ly] = toLocal(xy[2 * j]! - px, xy[2 * j + 1]! - py, psi);
      f[2 * (k - 1)] = lx;
      f[2 * (k - 1) + 1] = ly;
      f[2 * HISTORY + k - 1] = wrapAngle(heading[j]! - psi);
    }
    const v = historySpeed(track, i);
    const w = historyYawRate(track, i);
    set.speed[n] = v;
    set.yawRate[n] = w;
    f[3 * HISTORY] = v;
    f[3 * HISTORY + 1] = w;
    f[3 * HISTORY + 2] = Math.hypot(xy[2 * i]! - xy[2 * i - 2]!, xy[2 * i + 1]! - xy[2 * i - 1]!) / (t[i]! - t[i - 1]!);
    set.dt.set(futureSteps(track, i), n * HORIZON);
    for (let k = 1; k <= HORIZON; k++) {
      const [lx, ly] = toLocal(xy[2 * (i + k)]! - px, xy[2 * (i + k) + 1]! - py, psi);
      set.target[(n * HORIZON + k - 1) * 2] = lx;
      set.target[(n * HORIZON + k - 1) * 2 + 1] = ly;
    }
  });
  return set;
}

/** Keeps the windows at positions `idx` of a set. */
export function subsetWindows(s: WindowSet, idx: readonly number[]): WindowSet {
  const pick = (a: Float64Array, w: number): Float64Array => {
    const o = new Float64Array(idx.length * w);
    idx.forEach((k, n) => o.set(a.subarray(k * w, (k + 1) * w), n * w));
    return o;
  };
  return {
    frames: idx.map((k) => s.frames[k]!),
    x: pick(s.x, FEATURES),
    speed: pick(s.speed, 1),
    yawRate: pick(s.yawRate, 1),
    dt: pick(s.dt, HORIZON),
    target: pick(s.target, 2 * HORIZON),
    pose: pick(s.pose, 3),
  };
}

/** Per-feature mean and standard deviation (std floored at 1e-6), from the training windows only. */
export interface Normaliser {
  mean: number[];
  std: number[];
}

/** Fits the normaliser on a window set. */
export function fitNormaliser(s: WindowSet): Normaliser {
  const N = s.frames.length;
  const mean = new Array<number>(FEATURES).fill(0);
  const std = new Array<number>(FEATURES).fill(0);
  for (let n = 0; n < N; n++) for (let j = 0; j < FEATURES; j++) mean[j]! += s.x[n * FEATURES + j]! / N;
  for (let n = 0; n < N; n++) for (let j = 0; j < FEATURES; j++) std[j]! += (s.x[n * FEATURES + j]! - mean[j]!) ** 2 / N;
  return { mean, std: std.map((v) => Math.max(Math.sqrt(v), 1e-6)) };
}

/** Normalised features [N, FEATURES] as float32 (network input). */
export function normalise(s: WindowSet, nrm: Normaliser): Float32Array {
  const out = new Float32Array(s.x.length);
  for (let i = 0; i < s.x.length; i++) out[i] = (s.x[i]! - nrm.mean[i % FEATURES]!) / nrm.std[i % FEATURES]!;
  return out;
}

/** Local (heading-aligned) predictions [N, HORIZON, 2] back to the world plane, one Float64Array per window. */
export function toWorld(s: WindowSet, local: ArrayLike<number>): Float64Array[] {
  return s.frames.map((_, n) => {
    const px = s.pose[3 * n]!,
      py = s.pose[3 * n + 1]!,
      psi = s.pose[3 * n + 2]!;
    const c = Math.cos(psi),
      sn = Math.sin(psi);
    const out = new Float64Array(2 * HORIZON);
    for (let k = 0; k < HORIZON; k++) {
      const lx = local[(n * HORIZON + k) * 2]!,
        ly = local[(n * HORIZON + k) * 2 + 1]!;
      out[2 * k] = px + c * lx - sn * ly;
      out[2 * k + 1] = py + sn * lx + c * ly;
    }
    return out;
  });
}

/** Ground truth of the windows in the world plane. */
export function worldTargets(s: WindowSet): Float64Array[] {
  return toWorld(s, s.target);
}
