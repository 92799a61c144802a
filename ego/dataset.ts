// The data of one ego-motion run (ego/): the track resampled to the window rate when needed, its
// time split, the window sets (train subset, validation, test), the feature normaliser and the
// vehicle limits, all derived from the training part only.
import { buildWindows, fitNormaliser, subsetWindows, type Normaliser, type WindowSet } from './features.ts';
import { ShuffleRng } from './rng.ts';
import type { VehicleLimits } from './vehicle.ts';
import { EgoError, HISTORY, checkTimes, historySpeed, historyYawRate, splitTrack, wrapAngle, type PlanarTrack, type Split } from './windows.ts';

/** Median time step of a track (s). */
export function medianStep(track: PlanarTrack): number {
  const d = Array.from({ length: track.t.length - 1 }, (_, i) => track.t[i + 1]! - track.t[i]!).sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? NaN;
}

/**
 * Resamples a track at `rateHz` from its first to its last time: positions linearly, heading along
 * the shortest arc. Returns the track itself when its median rate is within 10% of `rateHz`.
 */
export function resampleTrack(track: PlanarTrack, rateHz: number): PlanarTrack {
  const n = track.t.length;
  if (n < 2) throw new EgoError(`${track.source}: ${n} pose(s); a trajectory needs many poses to be predicted`);
  const step = medianStep(track);
  if (Math.abs(1 / step / rateHz - 1) <= 0.1) return track;
  const t0 = track.t[0]!,
    t1 = track.t[n - 1]!;
  const m = Math.floor((t1 - t0) * rateHz + 1e-9) + 1;
  const xy = new Float64Array(2 * m),
    heading = new Float64Array(m),
    t = new Float64Array(m);
  let j = 0;
  for (let k = 0; k < m; k++) {
    const tk = t0 + k / rateHz;
    while (j < n - 2 && track.t[j + 1]! <= tk) j++;
    const ta = track.t[j]!,
      tb = track.t[j + 1]!;
    const a = tb > ta ? Math.min(1, Math.max(0, (tk - ta) / (tb - ta))) : 0;
    t[k] = tk;
    xy[2 * k] = track.xy[2 * j]! + a * (track.xy[2 * j + 2]! - track.xy[2 * j]!);
    xy[2 * k + 1] = track.xy[2 * j + 1]! + a * (track.xy[2 * j + 3]! - track.xy[2 * j + 1]!);
    heading[k] = wrapAngle(track.heading[j]! + a * wrapAngle(track.heading[j + 1]! - track.heading[j]!));
  }
  return { ...track, xy, heading, t };
}

/** Everything a run trains and evaluates on. */
export interface EgoDataset {
  track: PlanarTrack;
  split: Split;
  /** Training windows actually used (a `trainFraction` subset). */
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
  normaliser: Normaliser;
  limits: VehicleLimits;
  /** Mean speed of the training windows (m/s). */
  speedScale: number;
  /** Nominal step of the windows (s), 1 / rate. */
  period: number;
}

/** Options of {@link prepareDataset}. */
export interface DatasetOptions {
  rateHz: number;
  trainFraction: number;
  seed: number;
  limits: 'auto' | VehicleLimits;
  wheelbase: number;
}

/** Vehicle limits from the training part: 1.2 x the largest |accel|, |yaw rate| and steering seen. */
export function autoLimits(track: PlanarTrack, frames: readonly number[], wheelbase: number): VehicleLimits {
  let a = 0,
    w = 0,
    steer = 0;
  for (const i of frames) {
    if (i - 2 * HISTORY < 0) continue;
    const v1 = historySpeed(track, i),
      v0 = historySpeed(track, i - HISTORY);
    a = Math.max(a, Math.abs(v1 - v0) / (track.t[i]! - track.t[i - HISTORY]!));
    const yr = historyYawRate(track, i);
    w = Math.max(w, Math.abs(yr));
    if (v1 > 0.5) steer = Math.max(steer, Math.atan((wheelbase * Math.abs(yr)) / v1));
  }
  return { accel: Math.max(1.2 * a, 0.05), yawRate: Math.max(1.2 * w, 0.05), steer: Math.min(Math.max(1.2 * steer, 0.05), 1.2), wheelbase };
}

/** Resamples, splits and builds the windows of a track; the normaliser and limits see training windows only. */
export function prepareDataset(raw: PlanarTrack, opts: DatasetOptions): EgoDataset {
  const track = resampleTrack(raw, opts.rateHz);
  checkTimes(track);
  const split = splitTrack(track.t.length);
  let trainFrames = split.train;
  if (opts.trainFraction < 1) {
    const k = Math.max(1, Math.round(opts.trainFraction * trainFrames.length));
    const perm = new ShuffleRng(opts.seed * 7919 + 17).permutation(trainFrames.length).slice(0, k);
    trainFrames = perm.sort((x, y) => x - y).map((p) => split.train[p]!);
  }
  const all = buildWindows(track, trainFrames);
  const train = subsetWindows(
    all,
    all.frames.map((_, k) => k),
  );
  const speedScale = Math.max(1e-3, train.speed.reduce((s, v) => s + v, 0) / train.speed.length);
  return {
    track,
    split,
    train,
    val: buildWindows(track, split.val),
    test: buildWindows(track, split.test),
    normaliser: fitNormaliser(train),
    limits: opts.limits === 'auto' ? autoLimits(track, split.train, opts.wheelbase) : opts.limits,
    speedScale,
    period: 1 / opts.rateHz,
  };
}
