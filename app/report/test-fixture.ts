// Test fixture of the run reports (app/report, used by the tests only): a run folder in the layout
// of docs/RUNS.md built from the bundled KITTI 00 ground truth. Its predictions are the two
// baselines of the ego-motion task computed here (constant velocity, constant turn rate and
// velocity, on the x/z ground plane, integrated over the real timestamps of frames i+1..i+15 and
// stored at the nominal offsets 0.1..1.5 s; test windows from frame floor(0.7 n) to n - 16); its
// metrics.json is computed from them, plus a made-up learned model (three seeds), a made-up
// training history and data-efficiency study (plausible shapes, not results).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPredictionsJson, readTrajectory, type PredictionsJson, type PredictionSetJson } from '../../data/index.ts';
import { meanStd } from './format.ts';
import { metricsByLabel } from './prediction-metrics.ts';
import type { RunHistory, RunMetrics } from './run-files.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The bundled KITTI 00 ground truth and its times file. */
export const KITTI_GT = join(root, 'examples', 'data', 'KITTI_00_gt.txt');
export const KITTI_TIMES = join(root, 'examples', 'data', 'KITTI_00_gt_times.txt');

const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));

/** The CV and CTRV predictions on the KITTI 00 test windows, every `every`-th window. */
export async function kittiBaselinePredictions(every = 1): Promise<PredictionsJson> {
  const traj = await readTrajectory(KITTI_GT, { timesFile: KITTI_TIMES });
  const n = traj.length;
  const t = traj.timestamps!;
  // ground-plane coordinates (x, z) of the camera frame, stored as [x, z, 0] as impulse train does
  const pos = (i: number): [number, number, number] => {
    const q = traj.position(i);
    return [q[0], q[2], 0];
  };
  // heading on the x/z plane from the camera z axis (third column of R)
  const heading = (i: number): number => {
    const P = traj.pose(i);
    return Math.atan2(P[2]!, P[10]!);
  };
  const sets: PredictionSetJson[] = [];
  for (let i = Math.floor(0.7 * n); i <= n - 16; i += every) {
    const p0 = pos(i),
      p5 = pos(i - 5);
    const dt5 = t[i]! - t[i - 5]!;
    const v = Math.hypot(p0[0] - p5[0], p0[1] - p5[1]) / dt5;
    const th = heading(i);
    const w = wrap(th - heading(i - 5)) / dt5;
    const times: number[] = [],
      gt: number[][] = [],
      cv: number[][] = [],
      ctrv: number[][] = [];
    let x = p0[0],
      z = p0[1],
      a = th;
    for (let k = 1; k <= 15; k++) {
      times.push(Number((0.1 * k).toFixed(1)));
      gt.push(pos(i + k));
      const tk = t[i + k]! - t[i]!;
      cv.push([p0[0] + v * tk * Math.sin(th), p0[1] + v * tk * Math.cos(th), 0]);
      const dt = t[i + k]! - t[i + k - 1]!;
      const mid = a + (w * dt) / 2;
      x += v * dt * Math.sin(mid);
      z += v * dt * Math.cos(mid);
      a += w * dt;
      ctrv.push([x, z, 0]);
    }
    sets.push({
      t0: t[i]!,
      frame: i,
      times,
      gt,
      predictions: [
        { label: 'CV', positions: cv },
        { label: 'CTRV', positions: ctrv },
      ],
    });
  }
  const stride = 2;
  const gtTimes: number[] = [],
    gtPos: number[][] = [];
  for (let i = 0; i < n; i += stride) {
    gtTimes.push(t[i]!);
    gtPos.push(pos(i));
  }
  return {
    format: 'impulse.predictions',
    version: 1,
    name: 'KITTI 00 test split (fixture)',
    frame_id: 'camera_ground_xz',
    ground_truth: { times: gtTimes, positions: gtPos },
    sets,
  };
}

/** What to put in the fixture run folder. */
export interface FixtureRunOptions {
  config?: boolean;
  metrics?: boolean;
  history?: boolean;
  predictions?: boolean;
  /** Use every k-th test window (default 1: all 1,348). */
  every?: number;
}

/** Writes the fixture run folder into `dir` (created); returns the predictions and metrics written. */
export async function writeFixtureRun(
  dir: string,
  o: FixtureRunOptions = {},
): Promise<{ predictions: PredictionsJson; metrics: RunMetrics; history: RunHistory }> {
  mkdirSync(dir, { recursive: true });
  const predictions = await kittiBaselinePredictions(o.every ?? 1);
  const byLabel = metricsByLabel(predictions, { horizons: [0.5, 1, 1.5] });
  const models: RunMetrics['models'] = byLabel.map((l) => ({
    name: l.label,
    kind: 'baseline',
    ade: l.horizons[2]!.ade,
    fde: { '0.5': l.horizons[0]!.fde, '1.0': l.horizons[1]!.fde, '1.5': l.horizons[2]!.fde },
    missRate: l.horizons[2]!.missRate,
    samples: l.horizons[2]!.samples,
  }));
  const ctrv = models.find((m) => m.name === 'CTRV')!;
  const seeds = [0, 1, 2];
  const stat = (values: number[]) => ({ ...meanStd(values)!, values });
  // a made-up learned model, 12-18 % better than CTRV depending on the seed; the run's own seed is 0
  const learned = 'physics-informed (fixture)';
  const scale = seeds.map((seed) => 0.82 + 0.03 * seed);
  models.push({
    name: learned,
    kind: 'learned',
    seed: 0,
    ade: ctrv.ade! * scale[0]!,
    fde: { '0.5': ctrv.fde['0.5']! * scale[0]!, '1.0': ctrv.fde['1.0']! * scale[0]!, '1.5': ctrv.fde['1.5']! * scale[0]! },
    missRate: ctrv.missRate! * scale[0]!,
    samples: ctrv.samples,
  });
  const dataEfficiency: NonNullable<RunMetrics['dataEfficiency']> = [];
  for (const fraction of [0.1, 0.3, 1])
    for (const [name, base] of [
      ['pure NN (fixture)', 2.4],
      [learned, 1.5],
    ] as const) {
      const fde15 = seeds.map((seed) => base * (1 + 0.35 * Math.log10(1 / fraction)) * (0.8 + 0.02 * seed));
      dataEfficiency.push({
        name,
        fraction,
        trainWindows: Math.round(2830 * fraction),
        epochs: Math.round(12 / fraction),
        seeds,
        ade: stat(fde15.map((f) => 0.45 * f)),
        fde15: stat(fde15),
      });
    }
  const metrics: RunMetrics = {
    task: 'ego-kitti',
    split: { frames: 4541, testStart: 3178, valStart: 2860, trainWindows: 2830, valWindows: 300, testWindows: predictions.sets.length, period: 0.1 },
    models,
    selection: { [learned]: { bestEpoch: 11, valAde: 0.71 } },
    seeds: [
      {
        name: learned,
        seeds,
        ade: stat(scale.map((f) => ctrv.ade! * f)),
        fde15: stat(scale.map((f) => ctrv.fde['1.5']! * f)),
        missRate: stat(scale.map((f) => ctrv.missRate! * f)),
      },
    ],
    dataEfficiency,
  };
  const history: RunHistory = { epochs: [] };
  for (const model of ['pure NN (fixture)', 'physics-informed (fixture)'])
    for (const seed of seeds)
      for (let epoch = 1; epoch <= 12; epoch++) {
        const k = model.startsWith('pure') ? 1.4 : 1;
        history.epochs.push({
          model,
          seed,
          epoch,
          trainLoss: k * (0.9 * Math.exp(-epoch / 4) + 0.35 + 0.01 * seed),
          valAde: k * (1.1 * Math.exp(-epoch / 5) + 0.6 + 0.02 * seed),
          valFde: k * (2.0 * Math.exp(-epoch / 5) + 1.2 + 0.03 * seed),
          seconds: 9.5 + seed,
        });
      }
  if (o.config !== false)
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify(
        {
          task: 'ego-kitti',
          seed: 0,
          input: { path: 'examples/data/KITTI_00_gt.txt', timesFile: 'examples/data/KITTI_00_gt_times.txt', plane: 'xz' },
          impulseVersion: '0.1.0',
          config: { epochs: 12, seed: 0, hidden: [64, 64], learningRate: 0.003 },
        },
        null,
        2,
      ),
    );
  if (o.metrics !== false) writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  if (o.history !== false) writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
  if (o.predictions !== false) writeFileSync(join(dir, 'predictions.json'), formatPredictionsJson(predictions));
  return { predictions, metrics, history };
}
