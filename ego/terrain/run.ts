// One terrain-predictor run end to end (ego/terrain): `impulse train ego-terrain` and
// `impulse eval ego` on a terrain run folder. The dataset's samples are split by index (the
// last testFraction are the held-out in-distribution test terrains, the valFraction before
// them select the epoch), an optional out-of-distribution dataset (`impulse dataset terrain
// --ood`) is evaluated as a whole; every baseline and learned model gets ADE and FDE at 1, 3
// and 5 s on both. The run folder is ego's (docs/RUNS.md) plus `terrain/`: the trained CNN's
// maps of the first test terrains with the true maps and the gradient of the trajectory loss
// with respect to each map, as Foxglove Grid JSON (and all of them in one MCAP file).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { McapLogWriter, formatPredictionsJson, packageVersion, writeFileAtomicSync, writeGridJson, type PredictionsJson } from '../../data/index.ts';
import type { TfModule } from '../../models/index.ts';
import { RunFolder, type HistoryRow } from '../run-folder.ts';
import { EgoError } from '../windows.ts';
import { baselinePaths, pathMetrics, truthPath, type BaselineName } from './baseline.ts';
import { parseTerrainConfig, type TerrainTrainConfig } from './config.ts';
import { openTerrainDataset, checkGrid, type StoredSample } from './format.ts';
import type { TerrainSpec } from './generate.ts';
import { RolloutPool } from './parallel.ts';
import { pureNnPaths, pureNnSizes } from './pure-nn.ts';
import { TerrainShapeError } from './errors.ts';
import { cnnLossAndGrads, cnnPaths, loadTerrainModels, predictMaps, trainTerrain, type TerrainSplit, type TrainedTerrainModel } from './train.ts';

/** Horizons of the terrain metrics (s). */
export const TERRAIN_HORIZONS = [1, 3, 5] as const;

/** One model (one seed) on one set: ADE and FDE at each horizon. */
export interface TerrainMetricsRow {
  name: string;
  kind: 'baseline' | 'learned';
  seed?: number;
  /** ADE over the whole 5 s (m). */
  ade: number;
  /** ADE up to each horizon (keys "1", "3", "5"). */
  adeAt: Record<string, number>;
  /** FDE at each horizon. */
  fde: Record<string, number>;
  /** Fraction of samples with FDE at 5 s over 2 m. */
  missRate: number;
  samples: number;
}

/** config.json of a terrain run. */
export interface TerrainRunConfig {
  task: 'ego-terrain';
  seed: number;
  input: { path: string; ood?: string };
  impulseVersion: string;
  config: TerrainTrainConfig;
}

/** metrics.json of a terrain run: `models` on the held-out in-distribution terrains, `ood` on the out-of-distribution set. */
export interface TerrainRunMetrics {
  task: 'ego-terrain';
  split: { samples: number; train: number; val: number; test: number; ood: number; trainIds: [string, string]; testIds: [string, string] };
  models: TerrainMetricsRow[];
  ood?: { samples: number; models: TerrainMetricsRow[] };
  selection: Record<string, { bestEpoch: number; valAde: number }>;
  /** Seeds of the learned rows (not `seeds`: in ego-motion runs that key holds per-seed summaries). */
  trainedSeeds: number[];
}

/** Options of {@link runTerrain}. */
export interface TerrainRunOptions {
  tf: TfModule;
  data: string;
  ood?: string;
  config?: unknown;
  seed?: number;
  epochs?: number;
  seeds?: number;
  out: string;
  resume?: boolean;
  signal?: AbortSignal;
  onBatch?: Parameters<typeof trainTerrain>[4] extends infer O ? (O extends { onBatch?: infer B } ? B : never) : never;
  onEpoch?: (rows: HistoryRow[], epoch: number, epochs: number) => void;
  onStage?: (stage: string) => void;
}

/** Loads the dataset(s) of a run and splits them by index. */
export function loadTerrainSplit(data: string, ood: string | undefined, config: TerrainTrainConfig): TerrainSplit {
  const ds = openTerrainDataset(data);
  const items = Array.from({ length: ds.size }, (_, i) => ds.load(i));
  const nT = Math.max(1, Math.round(config.testFraction * items.length));
  const nV = Math.max(1, Math.round(config.valFraction * items.length));
  if (items.length - nT - nV < 1)
    throw new EgoError(`${data}: ${items.length} samples leave no training terrain after ${nT} test and ${nV} validation terrains; generate more (--n)`);
  let oodItems: StoredSample[] = [];
  if (ood) {
    const o = openTerrainDataset(ood);
    checkGrid(ds.spec.grid, o.spec.grid, `${ood}: out-of-distribution terrains`);
    if (o.spec.duration !== ds.spec.duration || o.spec.recordDt !== ds.spec.recordDt)
      throw new EgoError(
        `${ood}: timing (${o.spec.duration} s at ${o.spec.recordDt} s) differs from the training dataset's (${ds.spec.duration} s at ${ds.spec.recordDt} s)`,
      );
    oodItems = Array.from({ length: o.size }, (_, i) => o.load(i));
  }
  return {
    spec: ds.spec,
    train: items.slice(0, items.length - nT - nV),
    val: items.slice(items.length - nT - nV, items.length - nT),
    test: items.slice(items.length - nT),
    ood: oodItems,
  };
}

/** Metric row of predicted paths. */
export function terrainRow(
  spec: TerrainSpec,
  items: readonly StoredSample[],
  paths: readonly Float64Array[],
  name: string,
  kind: 'baseline' | 'learned',
  seed?: number,
): TerrainMetricsRow {
  const hs = TERRAIN_HORIZONS.filter((h) => h <= spec.duration + 1e-9);
  const m = pathMetrics(spec, items, paths, [...hs]);
  const last = m[m.length - 1]!;
  return {
    name,
    kind,
    ...(seed === undefined ? {} : { seed }),
    ade: last.minAde,
    adeAt: Object.fromEntries(m.map((r) => [String(r.horizon), r.minAde])),
    fde: Object.fromEntries(m.map((r) => [String(r.horizon), r.minFde])),
    missRate: last.missRate,
    samples: last.samples,
  };
}

/** Baselines evaluated on a run: the default-parameter physics (no learning) and the unicycle; the oracle variants need the true maps, so they are references, not baselines. */
export const RUN_BASELINES: readonly BaselineName[] = ['physics-default', 'unicycle', 'physics-oracle'];

/** Paths of a trained model on a set. */
export async function modelPaths(
  tf: TfModule,
  pool: RolloutPool,
  spec: TerrainSpec,
  m: TrainedTerrainModel,
  items: readonly StoredSample[],
): Promise<Float64Array[]> {
  return m.label === 'terrain-cnn' ? cnnPaths(tf, m.net, pool, spec, items) : pureNnPaths(tf, m.net, spec, items);
}

async function evaluateModels(
  tf: TfModule,
  pool: RolloutPool,
  split: TerrainSplit,
  models: readonly TrainedTerrainModel[],
  seed: number,
): Promise<{ test: TerrainMetricsRow[]; ood: TerrainMetricsRow[]; testPaths: Map<string, Float64Array[]> }> {
  const test: TerrainMetricsRow[] = [];
  const ood: TerrainMetricsRow[] = [];
  const testPaths = new Map<string, Float64Array[]>();
  for (const m of models) {
    const p = await modelPaths(tf, pool, split.spec, m, split.test);
    testPaths.set(m.label, p);
    test.push(terrainRow(split.spec, split.test, p, m.label, 'learned', seed));
    if (split.ood.length) ood.push(terrainRow(split.spec, split.ood, await modelPaths(tf, pool, split.spec, m, split.ood), m.label, 'learned', seed));
  }
  return { test, ood, testPaths };
}

function baselineRows(split: TerrainSplit): { test: TerrainMetricsRow[]; ood: TerrainMetricsRow[]; testPaths: Map<string, Float64Array[]> } {
  const testPaths = new Map<string, Float64Array[]>();
  const test = RUN_BASELINES.map((b) => {
    const p = baselinePaths(split.spec, b, split.test);
    testPaths.set(b, p);
    return terrainRow(split.spec, split.test, p, b, 'baseline');
  });
  const ood = split.ood.length ? RUN_BASELINES.map((b) => terrainRow(split.spec, split.ood, baselinePaths(split.spec, b, split.ood), b, 'baseline')) : [];
  return { test, ood, testPaths };
}

function splitSummary(split: TerrainSplit): TerrainRunMetrics['split'] {
  const ids = (s: StoredSample[]): [string, string] => [s[0]?.record.id ?? '', s[s.length - 1]?.record.id ?? ''];
  return {
    samples: split.train.length + split.val.length + split.test.length,
    train: split.train.length,
    val: split.val.length,
    test: split.test.length,
    ood: split.ood.length,
    trainIds: ids(split.train),
    testIds: ids(split.test),
  };
}

/**
 * Writes `terrain/`: for the first `count` test terrains, the CNN's height, friction and
 * stiffness maps, the true ones, and the gradient of the trajectory loss with respect to each
 * predicted map, as Foxglove Grid JSON `terrain/<id>.json`, and all of them in `terrain/maps.mcap`
 * (topic /terrain/<id>, foxglove.Grid).
 */
export async function writeTerrainMaps(
  tf: TfModule,
  pool: RolloutPool,
  dir: string,
  split: TerrainSplit,
  cnn: TrainedTerrainModel,
  count = 4,
): Promise<string[]> {
  const items = split.test.slice(0, count);
  const { spec } = split;
  const maps = await predictMaps(tf, cnn.net, spec, items);
  const g = await cnnLossAndGrads(tf, cnn.net, pool, spec, items, 0);
  tf.dispose(Object.values(g.grads));
  const out = join(dir, 'terrain');
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const mcap = await McapLogWriter.create(join(out, 'maps.mcap'));
  try {
    for (const [i, s] of items.entries()) {
      const grid = {
        columns: spec.grid.nx,
        rows: spec.grid.ny,
        cellSize: [spec.grid.cellSize, spec.grid.cellSize] as [number, number],
        origin: [spec.grid.origin[0], spec.grid.origin[1], 0, 0, 0, 0, 1],
        layers: [
          { name: 'height', values: Float64Array.from(maps[i]!.heights) },
          { name: 'friction', values: Float64Array.from(maps[i]!.friction) },
          { name: 'stiffness', values: Float64Array.from(maps[i]!.stiffness) },
          { name: 'true_height', values: s.sample.heights },
          { name: 'true_friction', values: s.sample.friction },
          { name: 'true_stiffness', values: s.sample.stiffness },
          { name: 'sensor_height', values: s.sample.sensorHeights },
          { name: 'grad_height', values: g.mapGrads[i]!.heights },
          { name: 'grad_friction', values: g.mapGrads[i]!.friction },
          { name: 'grad_stiffness', values: g.mapGrads[i]!.stiffness },
        ],
      };
      const f = join(out, `${s.record.id}.json`);
      writeGridJson(f, grid, 'terrain');
      await mcap.addGrid(`/terrain/${s.record.id}`, BigInt(i), 'terrain', grid);
      files.push(f);
    }
  } finally {
    await mcap.close();
  }
  return files;
}

/** predictions.json of the test terrains: one set per terrain (t0 = its index), every baseline and model. */
export function terrainPredictions(split: TerrainSplit, paths: Map<string, Float64Array[]>): PredictionsJson {
  const { spec } = split;
  const T = Math.round(spec.duration / spec.recordDt);
  const times = Array.from({ length: T }, (_, k) => (k + 1) * spec.recordDt);
  const pt = (p: ArrayLike<number>, k: number): [number, number, number] => [p[3 * k]!, p[3 * k + 1]!, p[3 * k + 2]!];
  return {
    format: 'impulse.predictions',
    version: 1,
    name: 'ego-terrain test terrains (each set its own terrain, positions in the terrain frame)',
    frame_id: 'terrain',
    sets: split.test.map((s, n) => {
      const gt = truthPath(s);
      return {
        t0: s.record.index,
        frame: s.record.index,
        times,
        gt: times.map((_, k) => pt(gt, k + 1)),
        predictions: [...paths.entries()].map(([label, p]) => ({ label, positions: times.map((_, k) => pt(p[n]!, k + 1)) })),
      };
    }),
  };
}

/** Reads config.json of a terrain run (null when it is another task). */
export function readTerrainRunConfig(run: RunFolder): TerrainRunConfig | null {
  const c = run.readJson<TerrainRunConfig>('config.json');
  if (c?.task !== 'ego-terrain') return null;
  if (typeof c.input?.path !== 'string')
    throw new EgoError(`${run.file('config.json')}: field 'input.path' (the terrain dataset folder) is missing: not a run folder of impulse train ego-terrain`);
  if (c.input.ood !== undefined && typeof c.input.ood !== 'string') throw new EgoError(`${run.file('config.json')}: field 'input.ood' must be a folder path`);
  return { ...c, config: parseTerrainConfig(c.config, run.file('config.json')) };
}

/** Trains (or resumes) a terrain run, evaluates it, and writes metrics.json, predictions.json and terrain/. */
export async function runTerrain(o: TerrainRunOptions): Promise<{ run: RunFolder; metrics: TerrainRunMetrics; history: HistoryRow[] }> {
  const run = new RunFolder(o.out);
  let rc: TerrainRunConfig;
  if (o.resume) {
    const c = readTerrainRunConfig(run);
    if (!c) throw new EgoError(`${run.file('config.json')}: not an ego-terrain run; resume it with the command of its task`);
    rc = c;
    if (o.epochs !== undefined) rc.config.epochs = o.epochs;
  } else {
    if (existsSync(run.file('config.json')) || run.latest())
      throw new EgoError(`${o.out}: a run folder already exists here; pass --resume to continue it or choose another --out (nothing was overwritten)`);
    const config = parseTerrainConfig(o.config ?? {}, 'config');
    if (o.seed !== undefined) config.seed = o.seed;
    if (o.epochs !== undefined) config.epochs = o.epochs;
    rc = { task: 'ego-terrain', seed: config.seed, input: { path: o.data, ...(o.ood ? { ood: o.ood } : {}) }, impulseVersion: packageVersion(), config };
  }
  const split = loadTerrainSplit(rc.input.path, rc.input.ood, rc.config);
  run.writeJson('config.json', rc);
  const pool = new RolloutPool(rc.config.threads);
  try {
    const { tf } = o;
    const trained = await trainTerrain(tf, pool, split, rc.config, { run, resume: o.resume, signal: o.signal, onBatch: o.onBatch, onEpoch: o.onEpoch });
    const base = baselineRows(split);
    const learned = await evaluateModels(tf, pool, split, trained.models, rc.config.seed);
    const metrics: TerrainRunMetrics = {
      task: 'ego-terrain',
      split: splitSummary(split),
      models: [...base.test, ...learned.test],
      ...(split.ood.length ? { ood: { samples: split.ood.length, models: [...base.ood, ...learned.ood] } } : {}),
      selection: Object.fromEntries(trained.models.map((m) => [m.label, { bestEpoch: m.bestEpoch, valAde: m.bestValAde }])),
      trainedSeeds: [rc.config.seed],
    };
    writeFileAtomicSync(run.file('predictions.json'), formatPredictionsJson(terrainPredictions(split, new Map([...base.testPaths, ...learned.testPaths]))));
    const cnn = trained.models.find((m) => m.label === 'terrain-cnn');
    if (cnn) await writeTerrainMaps(tf, pool, run.dir, split, cnn);
    run.writeJson('metrics.json', metrics);
    for (let k = 1; k < (o.seeds ?? 1); k++) {
      const seed = rc.config.seed + k;
      o.onStage?.(`seed ${seed}`);
      const t = await trainTerrain(tf, pool, split, { ...rc.config, seed }, { signal: o.signal, onBatch: o.onBatch, onEpoch: o.onEpoch });
      const r = await evaluateModels(tf, pool, split, t.models, seed);
      metrics.models.push(...r.test);
      metrics.ood?.models.push(...r.ood);
      metrics.trainedSeeds.push(seed);
      t.models.forEach((m) => m.net.dispose());
      run.writeJson('metrics.json', metrics);
    }
    return { run, metrics, history: trained.history };
  } finally {
    await pool.close();
  }
}

/** Throws TerrainShapeError when the dataset's grid or timing does not match what the trained models take. */
export function checkModelsFit(models: readonly TrainedTerrainModel[], spec: TerrainSpec, what: string): void {
  for (const m of models) {
    const shape = m.net.inputs[0]!.shape;
    if (m.label === 'terrain-cnn') checkGrid({ ...spec.grid, ny: shape[1] as number, nx: shape[2] as number }, spec.grid, `${what} (terrain-cnn)`);
    else if (shape[1] !== pureNnSizes(spec).inputs)
      throw new TerrainShapeError(`${what} (pure-nn): the model takes ${shape[1]} inputs, the dataset's grid and timing give ${pureNnSizes(spec).inputs}`);
  }
}

/** Re-evaluates a terrain run folder's best models (all baselines, ID and OOD); keeps the extra seeds' rows of metrics.json. */
export async function evaluateTerrainRun(tf: TfModule, dir: string): Promise<TerrainRunMetrics> {
  const run = new RunFolder(dir);
  const rc = readTerrainRunConfig(run);
  if (!rc) throw new EgoError(`${run.file('config.json')}: not an ego-terrain run`);
  const split = loadTerrainSplit(rc.input.path, rc.input.ood, rc.config);
  const models = await loadTerrainModels(run, rc.config);
  checkModelsFit(models, split.spec, `${rc.input.path}: terrains for the models of ${dir}`);
  const pool = new RolloutPool(rc.config.threads);
  try {
    const base = baselineRows(split);
    const learned = await evaluateModels(tf, pool, split, models, rc.config.seed);
    const old = existsSync(run.file('metrics.json')) ? run.readJson<TerrainRunMetrics>('metrics.json') : null;
    const others = (rows: TerrainMetricsRow[] | undefined): TerrainMetricsRow[] =>
      (rows ?? []).filter((r) => r.kind === 'learned' && r.seed !== rc.config.seed);
    const metrics: TerrainRunMetrics = {
      task: 'ego-terrain',
      split: splitSummary(split),
      models: [...base.test, ...learned.test, ...others(old?.models)],
      ...(split.ood.length ? { ood: { samples: split.ood.length, models: [...base.ood, ...learned.ood, ...others(old?.ood?.models)] } } : {}),
      selection: Object.fromEntries(models.map((m) => [m.label, { bestEpoch: m.bestEpoch, valAde: m.bestValAde }])),
      trainedSeeds: [...new Set([rc.config.seed, ...others(old?.models).map((r) => r.seed!)])],
    };
    run.writeJson('metrics.json', metrics);
    return metrics;
  } finally {
    models.forEach((m) => m.net.dispose());
    await pool.close();
  }
}

/** Mean ± sample standard deviation per model name, as a text table with ADE and FDE at each horizon. */
export function terrainMetricsTable(rows: readonly TerrainMetricsRow[]): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const hs = Object.keys(rows[0]?.fde ?? {});
  const head = ['model', 'kind', 'seeds', ...hs.flatMap((h) => [`ADE@${h}`, `FDE@${h}`]), 'n'];
  const ms = (v: number[]): string => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    if (v.length < 2) return m.toFixed(3);
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    return `${m.toFixed(3)}±${sd.toFixed(3)}`;
  };
  const body = names.map((n) => {
    const rs = rows.filter((r) => r.name === n);
    return [n, rs[0]!.kind, String(rs.length), ...hs.flatMap((h) => [ms(rs.map((r) => r.adeAt[h]!)), ms(rs.map((r) => r.fde[h]!))]), String(rs[0]!.samples)];
  });
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j]!.length)));
  return [head, ...body].map((r) => r.map((c, j) => (j < 2 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  ')).join('\n');
}
