// Kinematic baselines of the ego-motion task (ego/), defined exactly as in the task so that others
// can reproduce them. CV: speed = |p_i - p_{i-5}| / (t_i - t_{i-5}) along the heading at frame i.
// CTRV: the same speed, yaw rate = wrap(psi_i - psi_{i-5}) over the same time. Both integrated
// over the real timestamps of frames i+1..i+15 with the heading at the middle of each step.
import { HORIZON, futureSteps, historySpeed, historyYawRate, type PlanarTrack } from './windows.ts';

/**
 * Integrates a constant speed v and yaw rate w from (x0, y0, psi0) over the steps dt with the
 * midpoint heading psi_{k-1} + w dt_k / 2; returns HORIZON positions (2 each).
 */
export function integrateCtrv(x0: number, y0: number, psi0: number, v: number, w: number, dt: Float64Array): Float64Array {
  const out = new Float64Array(2 * dt.length);
  let x = x0,
    y = y0,
    psi = psi0;
  for (let k = 0; k < dt.length; k++) {
    const h = dt[k]!;
    const mid = psi + 0.5 * w * h;
    x += v * h * Math.cos(mid);
    y += v * h * Math.sin(mid);
    psi += w * h;
    out[2 * k] = x;
    out[2 * k + 1] = y;
  }
  return out;
}

/** Constant-velocity prediction for the window at frame i (world plane, HORIZON positions). */
export function predictCv(track: PlanarTrack, i: number): Float64Array {
  return integrateCtrv(track.xy[2 * i]!, track.xy[2 * i + 1]!, track.heading[i]!, historySpeed(track, i), 0, futureSteps(track, i));
}

/** Constant turn rate and velocity prediction for the window at frame i. */
export function predictCtrv(track: PlanarTrack, i: number): Float64Array {
  return integrateCtrv(track.xy[2 * i]!, track.xy[2 * i + 1]!, track.heading[i]!, historySpeed(track, i), historyYawRate(track, i), futureSteps(track, i));
}

/** The baselines by label. */
export const BASELINES = { cv: predictCv, ctrv: predictCtrv } as const;
/** Number of predicted steps (re-exported for callers of the baselines). */
export const BASELINE_HORIZON = HORIZON;
