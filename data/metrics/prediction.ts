// Prediction metrics (data/, bottom layer) for predicted future trajectories against ground truth:
// ADE, FDE (best of K and mean over K), miss rate at chosen horizons, and MonoForce's time-weighted
// position error (weights 1 / (1 + gamma t)).

import { MetricError } from '../errors.ts';

/**
 * One prediction time: ground-truth positions and K predicted positions (3 per step) on the same
 * time offsets `times` (seconds after t0, increasing).
 */
export interface PredictionSample {
  t0: number;
  times: Float64Array;
  gt: Float64Array;
  predictions: Float64Array[];
}

/** Options of {@link predictionMetrics}. */
export interface PredictionMetricOptions {
  /** Horizons in seconds after t0 (default: the longest horizon every sample reaches). */
  horizons?: number[];
  /** A sample misses when its best final error exceeds this (metres, default 2). */
  missThreshold?: number;
}

/** Metrics at one horizon, averaged over the samples that reach it. */
export interface HorizonMetrics {
  horizon: number;
  /** Samples that reach the horizon (others are left out of this row). */
  samples: number;
  /** Mean over samples of the best-of-K average displacement error over steps 0 < t <= horizon. */
  minAde: number;
  /** Mean over samples of the best-of-K displacement at the horizon step. */
  minFde: number;
  /** Mean over samples and predictions of the average displacement error. */
  meanAde: number;
  /** Mean over samples and predictions of the final displacement error. */
  meanFde: number;
  /** Fraction of samples whose best final error exceeds the miss threshold. */
  missRate: number;
}

const EPS_T = 1e-9;

function dist(a: Float64Array, b: Float64Array, k: number): number {
  const dx = a[3 * k]! - b[3 * k]!,
    dy = a[3 * k + 1]! - b[3 * k + 1]!,
    dz = a[3 * k + 2]! - b[3 * k + 2]!;
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

function checkSample(s: PredictionSample, idx: number): void {
  const T = s.times.length;
  if (s.gt.length !== 3 * T) throw new MetricError(`sample ${idx}: ground truth has ${s.gt.length / 3} positions for ${T} times`, { index: idx });
  if (s.predictions.length === 0) throw new MetricError(`sample ${idx}: no predictions`, { index: idx });
  s.predictions.forEach((p, k) => {
    if (p.length !== 3 * T) throw new MetricError(`sample ${idx}: prediction ${k} has ${p.length / 3} positions for ${T} times`, { index: idx });
    for (let i = 0; i < p.length; i++)
      if (!Number.isFinite(p[i]!)) throw new MetricError(`sample ${idx}: prediction ${k} has a non-finite value at step ${Math.floor(i / 3)}`, { index: idx });
  });
  for (let i = 0; i < s.gt.length; i++)
    if (!Number.isFinite(s.gt[i]!)) throw new MetricError(`sample ${idx}: ground truth has a non-finite value at step ${Math.floor(i / 3)}`, { index: idx });
  for (let i = 1; i < T; i++) if (!(s.times[i]! > s.times[i - 1]!)) throw new MetricError(`sample ${idx}: times must increase (step ${i})`, { index: idx });
}

/** ADE / FDE / miss rate per horizon over a set of prediction samples. */
export function predictionMetrics(samples: PredictionSample[], opts: PredictionMetricOptions = {}): HorizonMetrics[] {
  if (samples.length === 0) throw new MetricError('no prediction samples');
  samples.forEach(checkSample);
  const miss = opts.missThreshold ?? 2;
  const horizons = opts.horizons ?? [Math.min(...samples.map((s) => s.times[s.times.length - 1] ?? 0))];
  return horizons.map((h) => {
    let n = 0,
      minAde = 0,
      minFde = 0,
      meanAde = 0,
      meanFde = 0,
      misses = 0;
    for (const s of samples) {
      const T = s.times.length;
      if (T === 0 || s.times[T - 1]! < h - EPS_T) continue;
      let last = -1;
      const steps: number[] = [];
      for (let i = 0; i < T; i++) {
        if (s.times[i]! > h + EPS_T) break;
        last = i;
        if (s.times[i]! > EPS_T) steps.push(i);
      }
      if (last < 0 || steps.length === 0) continue;
      n++;
      let bestAde = Infinity,
        bestFde = Infinity,
        sumAde = 0,
        sumFde = 0;
      for (const p of s.predictions) {
        let a = 0;
        for (const i of steps) a += dist(p, s.gt, i);
        a /= steps.length;
        const f = dist(p, s.gt, last);
        bestAde = Math.min(bestAde, a);
        bestFde = Math.min(bestFde, f);
        sumAde += a;
        sumFde += f;
      }
      minAde += bestAde;
      minFde += bestFde;
      meanAde += sumAde / s.predictions.length;
      meanFde += sumFde / s.predictions.length;
      if (bestFde > miss) misses++;
    }
    if (n === 0) throw new MetricError(`no sample reaches the horizon ${h} s`);
    return { horizon: h, samples: n, minAde: minAde / n, minFde: minFde / n, meanAde: meanAde / n, meanFde: meanFde / n, missRate: misses / n };
  });
}

/**
 * MonoForce's time-weighted trajectory error: each ground-truth time t_j takes the predicted
 * position at the nearest predicted time (first on ties), both are scaled by w_j = 1 / (1 + gamma t_j),
 * and the result is the mean over steps and x, y, z of the squared difference.
 */
export function timeWeightedPositionError(predTimes: Float64Array, predPos: Float64Array, gtTimes: Float64Array, gtPos: Float64Array, gamma = 1): number {
  if (predPos.length !== 3 * predTimes.length)
    throw new MetricError(`predicted positions (${predPos.length / 3}) do not match predicted times (${predTimes.length})`);
  if (gtPos.length !== 3 * gtTimes.length)
    throw new MetricError(`ground-truth positions (${gtPos.length / 3}) do not match ground-truth times (${gtTimes.length})`);
  if (predTimes.length === 0 || gtTimes.length === 0) throw new MetricError('empty trajectory');
  let sum = 0;
  for (let j = 0; j < gtTimes.length; j++) {
    const t = gtTimes[j]!;
    let best = 0,
      bestD = Infinity;
    for (let i = 0; i < predTimes.length; i++) {
      const d = Math.abs(predTimes[i]! - t);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    const w = 1 / (1 + gamma * t);
    for (let k = 0; k < 3; k++) {
      const e = predPos[3 * best + k]! * w - gtPos[3 * j + k]! * w;
      if (!Number.isFinite(e)) throw new MetricError(`non-finite position at ground-truth step ${j}`, { index: j });
      sum += e * e;
    }
  }
  return sum / (3 * gtTimes.length);
}
