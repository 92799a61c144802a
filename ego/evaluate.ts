// Evaluation of the ego-motion predictors (ego/): the CV and CTRV baselines and every learned model
// on a window set (the test split), as metric rows (metrics.json) and as an impulse.predictions file
// (predictions.json, `impulse predict`). Positions on the ground plane are written as [x, y, 0]
// (KITTI: camera x and z).
import type { PredictionsJson } from '../data/index.ts';
import { BASELINES } from './baselines.ts';
import { toWorld, worldTargets, type WindowSet } from './features.ts';
import { egoMetrics, nominalTimes, type EgoMetrics } from './metrics.ts';
import type { TrainedModel } from './train.ts';
import type { PlanarTrack } from './windows.ts';

/** A row of metrics.json `models`. */
export interface ModelMetricsRow extends EgoMetrics {
  name: string;
  kind: 'baseline' | 'learned';
  seed?: number;
}

/** Predictions of every baseline and model on a window set, world plane, by label (read asynchronously: any tfjs backend). */
export async function predictAll(
  track: PlanarTrack,
  set: WindowSet,
  models: readonly TrainedModel[],
  normaliser: Parameters<TrainedModel['predictor']['predictLocal']>[1],
): Promise<Map<string, Float64Array[]>> {
  const out = new Map<string, Float64Array[]>();
  for (const [name, f] of Object.entries(BASELINES))
    out.set(
      name,
      set.frames.map((i) => f(track, i)),
    );
  for (const m of models) out.set(m.label, toWorld(set, await m.predictor.predictLocalAsync(set, normaliser)));
  return out;
}

/** Metric rows (baselines first) of predictions against the set's ground truth. */
export function metricRows(set: WindowSet, preds: Map<string, Float64Array[]>, period: number, seed?: number): ModelMetricsRow[] {
  const gt = worldTargets(set);
  return [...preds.entries()].map(([name, p]) => ({
    name,
    kind: name in BASELINES ? 'baseline' : 'learned',
    ...(name in BASELINES || seed === undefined ? {} : { seed }),
    ...egoMetrics(p, gt, period),
  }));
}

const p3 = (xy: ArrayLike<number>, k: number): [number, number, number] => [xy[2 * k]!, xy[2 * k + 1]!, 0];

/** The predictions of a window set as an impulse.predictions file. */
export function predictionsFile(name: string, track: PlanarTrack, set: WindowSet, preds: Map<string, Float64Array[]>, period: number): PredictionsJson {
  const times = Array.from(nominalTimes(period));
  const gt = worldTargets(set);
  return {
    format: 'impulse.predictions',
    version: 1,
    name,
    frame_id: track.frameId || (track.plane === 'xz' ? 'camera_ground_xz' : 'odom'),
    ground_truth: { times: Array.from(track.t), positions: Array.from({ length: track.t.length }, (_, k) => p3(track.xy, k)) },
    sets: set.frames.map((i, n) => ({
      t0: track.t[i]!,
      frame: i,
      times,
      gt: times.map((_, k) => p3(gt[n]!, k)),
      predictions: [...preds.entries()].map(([label, p]) => ({ label, positions: times.map((_, k) => p3(p[n]!, k)) })),
    })),
  };
}

/** Formats metric rows as a text table. */
export function metricsTable(rows: readonly ModelMetricsRow[]): string {
  const head = ['model', 'kind', 'ADE@1.5', 'FDE@0.5', 'FDE@1.0', 'FDE@1.5', 'miss', 'windows'];
  const body = rows.map((r) => [
    r.name,
    r.kind,
    r.ade.toFixed(3),
    r.fde['0.5'].toFixed(3),
    r.fde['1.0'].toFixed(3),
    r.fde['1.5'].toFixed(3),
    (100 * r.missRate).toFixed(1) + '%',
    String(r.samples),
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j]!.length)));
  return [head, ...body].map((r) => r.map((c, j) => (j < 2 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  ')).join('\n');
}
