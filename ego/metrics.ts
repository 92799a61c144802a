// Metrics of the ego-motion task (ego/) through the data layer's prediction metrics: ADE over the
// horizon (1.5 s), FDE at 0.5 / 1.0 / 1.5 s and the miss rate (FDE@1.5 > 2 m). Windows are indexed
// by frames, so step k of a window sits at the nominal offset k * period (0.1 s at 10 Hz).
import { predictionMetrics, type PredictionSample } from '../data/index.ts';
import { HORIZON } from './windows.ts';

/** Metric row of one model (the `models[]` entry of metrics.json without name/kind). */
export interface EgoMetrics {
  ade: number;
  fde: { '0.5': number; '1.0': number; '1.5': number };
  missRate: number;
  samples: number;
}

/** Nominal time offsets of the HORIZON steps (s). */
export function nominalTimes(period = 0.1): Float64Array {
  return Float64Array.from({ length: HORIZON }, (_, k) => (k + 1) * period);
}

/** Planar positions (2 per step) to the 3D points of the data layer (z = 0). */
export function to3d(xy: Float64Array): Float64Array {
  const n = xy.length / 2;
  const out = new Float64Array(3 * n);
  for (let k = 0; k < n; k++) {
    out[3 * k] = xy[2 * k]!;
    out[3 * k + 1] = xy[2 * k + 1]!;
  }
  return out;
}

/**
 * ADE@1.5, FDE@0.5/1.0/1.5 and miss rate of predictions against ground truth (both planar,
 * 2 x HORIZON numbers per window), with `predictionMetrics` of the data layer.
 */
export function egoMetrics(pred: readonly Float64Array[], gt: readonly Float64Array[], period = 0.1): EgoMetrics {
  const times = nominalTimes(period);
  const samples: PredictionSample[] = gt.map((g, k) => ({ t0: k, times, gt: to3d(g), predictions: [to3d(pred[k]!)] }));
  const h = [5, 10, 15].map((k) => k * period);
  const [m05, m10, m15] = predictionMetrics(samples, { horizons: h, missThreshold: 2 });
  return { ade: m15!.minAde, fde: { '0.5': m05!.minFde, '1.0': m10!.minFde, '1.5': m15!.minFde }, missRate: m15!.missRate, samples: m15!.samples };
}
