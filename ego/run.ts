// One ego-motion training run end to end (ego/): the run folder (config.json at start, a checkpoint
// and history.json per epoch, metrics.json and predictions.json at the end), resume, and the
// experiments of the task: the learned models over several seeds (mean and spread) and the
// data-efficiency curve (10%, 30%, 100% of the training windows, same number of gradient steps).
import { existsSync } from 'node:fs';
import { formatPredictionsJson, packageVersion, writeFileAtomicSync } from '../data/index.ts';
import { parseEgoConfig, type EgoConfig } from './config.ts';
import { prepareDataset, type EgoDataset } from './dataset.ts';
import { metricRows, predictAll, predictionsFile, type ModelMetricsRow } from './evaluate.ts';
import { loadTrack, EgoError, type Plane } from './windows.ts';
import { RunFolder, type EgoTask, type HistoryRow, type RunConfig } from './run-folder.ts';
import { trainEgo, loadTrainedModels, type BatchProgress, type TrainedModel } from './train.ts';
import { KITTI_00 } from './kitti.ts';

/** Where a run's trajectory comes from. */
export interface RunInput {
  path: string;
  timesFile?: string;
  topic?: string;
  plane: Plane;
}

/** The bundled KITTI 00 input. */
export const KITTI_INPUT: RunInput = { path: KITTI_00.poses, timesFile: KITTI_00.times, plane: 'xz' };

/** A summary statistic over seeds. */
export interface SeedStat {
  mean: number;
  std: number;
  values: number[];
}

/** metrics.json `seeds` entry of one model. */
export interface SeedSummary {
  name: string;
  seeds: number[];
  ade: SeedStat;
  fde15: SeedStat;
  missRate: SeedStat;
}

/** metrics.json `dataEfficiency` entry. */
export interface DataEfficiencyRow {
  fraction: number;
  trainWindows: number;
  epochs: number;
  name: string;
  seeds: number[];
  ade: SeedStat;
  fde15: SeedStat;
}

/** metrics.json of a run. */
export interface RunMetrics {
  task: EgoTask;
  split: {
    frames: number;
    testStart: number;
    valStart: number;
    trainWindows: number;
    trainWindowsUsed: number;
    valWindows: number;
    testWindows: number;
    period: number;
  };
  models: ModelMetricsRow[];
  selection: Record<string, { bestEpoch: number; valAde: number }>;
  seeds?: SeedSummary[];
  dataEfficiency?: DataEfficiencyRow[];
}

/** Options of {@link runEgo}. */
export interface RunOptions {
  task: EgoTask;
  input: RunInput;
  /** Config object (validated here) or a validated config. */
  config?: unknown;
  /** Overrides applied after the config. */
  seed?: number;
  epochs?: number;
  out: string;
  resume?: boolean;
  /** Extra seeds (total count, including the run's own) and the data-efficiency curve. */
  seeds?: number;
  dataEfficiency?: boolean;
  signal?: AbortSignal;
  onEpoch?: (rows: HistoryRow[], epoch: number, epochs: number) => void;
  onBatch?: (p: BatchProgress) => void;
  /** Called when an experiment part starts (e.g. 'seed 2', 'data 10% seed 1'). */
  onStage?: (stage: string) => void;
}

/** Result of {@link runEgo}. */
export interface RunResult {
  run: RunFolder;
  metrics: RunMetrics;
  models: TrainedModel[];
}

function stat(values: number[]): SeedStat {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std, values };
}

/** The split figures metrics.json records for a dataset. */
function splitSummary(data: EgoDataset): RunMetrics['split'] {
  return {
    frames: data.split.frames,
    testStart: data.split.testStart,
    valStart: data.split.valStart,
    trainWindows: data.split.train.length,
    trainWindowsUsed: data.train.frames.length,
    valWindows: data.split.val.length,
    testWindows: data.split.test.length,
    period: data.period,
  };
}

/** The dataset of a run input and config. */
export async function loadDataset(input: RunInput, config: EgoConfig, trainFraction = config.trainFraction, seed = config.seed): Promise<EgoDataset> {
  const track = await loadTrack(input.path, { timesFile: input.timesFile, topic: input.topic, plane: input.plane });
  return prepareDataset(track, { rateHz: config.rateHz, trainFraction, seed, limits: config.limits, wheelbase: config.wheelbase });
}

/** Trains (or resumes) a run, evaluates it on the test split and writes metrics.json and predictions.json. */
export async function runEgo(o: RunOptions): Promise<RunResult> {
  const run = new RunFolder(o.out);
  let rc: RunConfig;
  if (o.resume) {
    rc = run.readConfig();
    if (rc.task !== o.task) throw new EgoError(`${run.file('config.json')}: this is a '${rc.task}' run; resume it with 'impulse train ${rc.task}'`);
    if (o.epochs !== undefined) rc.config.epochs = o.epochs;
    rc.config = parseEgoConfig(rc.config, run.file('config.json'));
  } else {
    if (existsSync(run.file('config.json')) || run.latest())
      throw new EgoError(`${o.out}: a run folder already exists here; pass --resume to continue it or choose another --out (nothing was overwritten)`);
    const config = parseEgoConfig(o.config ?? {}, 'config');
    if (o.seed !== undefined) config.seed = o.seed;
    if (o.epochs !== undefined) config.epochs = o.epochs;
    rc = { task: o.task, seed: config.seed, input: o.input, impulseVersion: packageVersion(), config };
  }
  const config = rc.config;
  const data = await loadDataset(rc.input, config);
  run.writeJson('config.json', rc);
  const trained = await trainEgo(data, config, { run, resume: o.resume, signal: o.signal, onEpoch: o.onEpoch, onBatch: o.onBatch });
  const preds = await predictAll(data.track, data.test, trained.models, data.normaliser);
  const metrics: RunMetrics = {
    task: rc.task,
    split: splitSummary(data),
    models: metricRows(data.test, preds, data.period, config.seed),
    selection: Object.fromEntries(trained.models.map((m) => [m.label, { bestEpoch: m.bestEpoch, valAde: m.bestValAde }])),
  };
  writeFileAtomicSync(run.file('predictions.json'), formatPredictionsJson(predictionsFile(`${rc.task} test split`, data.track, data.test, preds, data.period)));
  run.writeJson('metrics.json', metrics);
  if ((o.seeds ?? 1) > 1 || o.dataEfficiency) {
    await runExperiments(rc, data, metrics, o);
    run.writeJson('metrics.json', metrics);
  }
  return { run, metrics, models: trained.models };
}

/** One part of the experiments: its learned models' test metrics and the training it took. */
export interface ExperimentPart {
  seed: number;
  fraction: number;
  trainWindows: number;
  epochs: number;
  rows: ModelMetricsRow[];
}

/**
 * One experiment training (in memory, no run folder): the learned models of `base` with `seed` on
 * a seeded `fraction` of the training windows, for round(epochs / fraction) epochs (the same number
 * of gradient steps as on all windows; validated base.epochs times), evaluated on the test split.
 */
export async function experimentPart(input: RunInput, base: EgoConfig, seed: number, fraction: number, signal?: AbortSignal): Promise<ExperimentPart> {
  const epochs = fraction === 1 ? base.epochs : Math.round(base.epochs / fraction);
  const d = await loadDataset(input, base, fraction === 1 ? base.trainFraction : fraction, seed);
  const cfg = { ...base, seed, trainFraction: fraction === 1 ? base.trainFraction : fraction, epochs };
  const t = await trainEgo(d, cfg, { signal, validateEvery: Math.ceil(epochs / base.epochs) });
  const rows = metricRows(d.test, await predictAll(d.track, d.test, t.models, d.normaliser), d.period, seed).filter((r) => r.kind === 'learned');
  return { seed, fraction, trainWindows: d.train.frames.length, epochs, rows };
}

/** Mean and spread over seeds (`seeds`) and the data-efficiency curve (fractions < 1 present) from experiment parts. */
export function summarizeExperiments(parts: readonly ExperimentPart[]): { seeds: SeedSummary[]; dataEfficiency?: DataEfficiencyRow[] } {
  const full = parts.filter((p) => p.fraction === 1).sort((a, b) => a.seed - b.seed);
  const names = full[0]?.rows.map((r) => r.name) ?? [];
  const seedsOf = (ps: readonly ExperimentPart[]): number[] => ps.map((p) => p.seed);
  const pick = (p: ExperimentPart, name: string): ModelMetricsRow => {
    const r = p.rows.find((x) => x.name === name);
    if (!r) throw new EgoError(`experiment part (seed ${p.seed}, fraction ${p.fraction}) has no model '${name}'`);
    return r;
  };
  const seeds = names.map((name) => {
    const rows = full.map((p) => pick(p, name));
    return {
      name,
      seeds: seedsOf(full),
      ade: stat(rows.map((r) => r.ade)),
      fde15: stat(rows.map((r) => r.fde['1.5'])),
      missRate: stat(rows.map((r) => r.missRate)),
    };
  });
  const fractions = [...new Set(parts.map((p) => p.fraction))].sort((a, b) => a - b);
  if (fractions.length < 2) return { seeds };
  const dataEfficiency: DataEfficiencyRow[] = [];
  for (const fraction of fractions) {
    const ps = parts.filter((p) => p.fraction === fraction).sort((a, b) => a.seed - b.seed);
    for (const name of names) {
      const rows = ps.map((p) => pick(p, name));
      dataEfficiency.push({
        fraction,
        trainWindows: ps[0]!.trainWindows,
        epochs: ps[0]!.epochs,
        name,
        seeds: seedsOf(ps),
        ade: stat(rows.map((r) => r.ade)),
        fde15: stat(rows.map((r) => r.fde['1.5'])),
      });
    }
  }
  return { seeds, dataEfficiency };
}

/** The seeds and data-efficiency experiments (trained in memory; results into `metrics`). */
async function runExperiments(rc: RunConfig, data: EgoDataset, metrics: RunMetrics, o: RunOptions): Promise<void> {
  const base = rc.config;
  const seeds = Array.from({ length: Math.max(1, o.seeds ?? 1) }, (_, k) => base.seed + k);
  const parts: ExperimentPart[] = [
    { seed: base.seed, fraction: 1, trainWindows: data.train.frames.length, epochs: base.epochs, rows: metrics.models.filter((r) => r.kind === 'learned') },
  ];
  for (const fraction of o.dataEfficiency ? [1, 0.3, 0.1] : [1])
    for (const s of seeds) {
      if (fraction === 1 && s === base.seed) continue;
      o.onStage?.(fraction === 1 ? `seed ${s}` : `data ${Math.round(fraction * 100)}% seed ${s}`);
      parts.push(await experimentPart(rc.input, base, s, fraction, o.signal));
    }
  Object.assign(metrics, summarizeExperiments(parts));
}

/** Re-evaluates a run folder's best models on its test split (and refreshes metrics.json, keeping the experiments). */
export async function evaluateRun(dir: string): Promise<RunMetrics> {
  const run = new RunFolder(dir);
  const rc = run.readConfig();
  const data = await loadDataset(rc.input, rc.config);
  const { models } = await loadTrainedModels(run, rc.config);
  const preds = await predictAll(data.track, data.test, models, data.normaliser);
  const old = existsSync(run.file('metrics.json')) ? run.readJson<RunMetrics>('metrics.json') : null;
  const metrics: RunMetrics = {
    ...(old ?? {}),
    task: rc.task,
    split: splitSummary(data),
    models: metricRows(data.test, preds, data.period, rc.config.seed),
    selection: Object.fromEntries(models.map((m) => [m.label, { bestEpoch: m.bestEpoch, valAde: m.bestValAde }])),
  };
  run.writeJson('metrics.json', metrics);
  return metrics;
}
