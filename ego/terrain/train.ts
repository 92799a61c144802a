// Training of the terrain predictor (ego/terrain): the CNN terrain model through the engine and
// the pure-NN baseline, on ego's training loop conventions (run folder, one checkpoint per
// epoch with every model, optimizer state and RNG state, history.json, resume, validation and
// model selection on held-out training terrains, NaN stops the run naming where it happened).
// A training step of the CNN: the network predicts the maps of a batch of terrains (tfjs), the
// engine rolls every robot out on them over worker threads and returns the trajectory loss and
// its gradient with respect to each map (float64 adjoints), and the network's weights get
// d loss / d weights through the surrogate sum(maps * d loss / d maps) (the chain rule at the
// tfjs <-> engine boundary; the same gradient as the tfOp bridge of model.ts, on two cores).
import { join } from 'node:path';
import type { LayersModel, Optimizer, Tensor as TfTensor, Variable } from '@tensorflow/tfjs';
import type { TfModule } from '../../models/index.ts';
import { loadModel, saveModel } from '../net.ts';
import { ShuffleRng } from '../rng.ts';
import { optimizerState, optimizerWeights, type HistoryRow, type NamedTensor, type RunFolder } from '../run-folder.ts';
import { TrainingInterruptedError, TrainingNaNError } from '../train.ts';
import { EgoError } from '../windows.ts';
import { pathMetrics, truthPath } from './baseline.ts';
import type { TerrainTrainConfig, TerrainModelName } from './config.ts';
import type { RobotRun, TerrainMaps } from './engine.ts';
import type { StoredSample } from './format.ts';
import type { TerrainSpec } from './generate.ts';
import { createTerrainNet, mapsFromOutput, networkInput } from './model.ts';
import type { RolloutPool } from './parallel.ts';
import { createPureNn, pureNnLoss, pureNnPaths, pureNnTensors } from './pure-nn.ts';

/** The parts of a terrain run's data: training, validation (model selection) and test terrains, and the out-of-distribution set. */
export interface TerrainSplit {
  spec: TerrainSpec;
  train: StoredSample[];
  val: StoredSample[];
  test: StoredSample[];
  ood: StoredSample[];
}

/** state.json of a terrain checkpoint. */
export interface TerrainCheckpointState {
  epoch: number;
  rng: number;
  best: Record<string, { epoch: number; valAde: number }>;
  history: HistoryRow[];
}

/** A trained model of a terrain run (best-validation weights). */
export interface TrainedTerrainModel {
  label: TerrainModelName;
  net: LayersModel;
  bestEpoch: number;
  bestValAde: number;
}

/** Options of {@link trainTerrain}. */
export interface TerrainTrainOptions {
  run?: RunFolder;
  resume?: boolean;
  signal?: AbortSignal;
  onBatch?: (p: { model: string; epoch: number; epochs: number; firstEpoch: number; batch: number; batches: number; loss: number }) => void;
  onEpoch?: (rows: HistoryRow[], epoch: number, epochs: number) => void;
}

/** Robots of a set of samples: one per terrain, from the ground-truth start, with the sample's commands. */
export function robotsOf(items: readonly StoredSample[]): RobotRun[] {
  return items.map((s, i) => ({ tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: s.sample.commands, label: s.record.id }));
}

/**
 * The terrain maps the CNN predicts for each sample (float64 copies of its float32 output), in
 * batches of `batch`. Reads with `await data()`, so it runs on every tfjs backend (webgpu included).
 */
export async function predictMaps(tf: TfModule, net: LayersModel, spec: TerrainSpec, items: readonly StoredSample[], batch = 8): Promise<TerrainMaps[]> {
  const N = spec.grid.nx * spec.grid.ny;
  const out: TerrainMaps[] = [];
  for (let b0 = 0; b0 < items.length; b0 += batch) {
    const part = items.slice(b0, b0 + batch);
    const { input, base } = networkInput(tf, spec, part);
    const raw = net.predict(input) as TfTensor;
    const m = mapsFromOutput(tf, raw, base);
    const [h, f, k] = await Promise.all([m.heights.data(), m.friction.data(), m.stiffness.data()]);
    tf.dispose([input, base, raw, m.heights, m.friction, m.stiffness]);
    part.forEach((_, i) =>
      out.push({
        heights: Float64Array.from(h.subarray(i * N, (i + 1) * N)),
        friction: Float64Array.from(f.subarray(i * N, (i + 1) * N)),
        stiffness: Float64Array.from(k.subarray(i * N, (i + 1) * N)),
      }),
    );
  }
  return out;
}

/** Engine paths of the samples on the CNN's predicted maps (forward, over the pool's threads). */
export async function cnnPaths(tf: TfModule, net: LayersModel, pool: RolloutPool, spec: TerrainSpec, items: readonly StoredSample[]): Promise<Float64Array[]> {
  if (items.length === 0) return [];
  const r = await pool.run({ spec, terrains: await predictMaps(tf, net, spec, items), robots: robotsOf(items), mode: 'forward' });
  return r.paths;
}

/** Mean ADE over the whole trajectory and FDE at its end of paths against the samples' ground truth. */
export function adeFde(spec: TerrainSpec, items: readonly StoredSample[], paths: readonly Float64Array[]): { ade: number; fde: number } {
  const m = pathMetrics(spec, items, paths, [spec.duration])[0]!;
  return { ade: m.minAde, fde: m.minFde };
}

/**
 * Mean squared error of predicted heights [B, ny, nx] against the dataset's true heights (the
 * heightmap term): on every cell (`cells` 'all': the simulated ground truth is known everywhere,
 * so the network also learns to fill what the sensor did not see) or only on the seen ones.
 */
export function heightTerm(tf: TfModule, spec: TerrainSpec, heights: TfTensor, items: readonly StoredSample[], cells: 'all' | 'seen' = 'all'): TfTensor {
  const N = spec.grid.nx * spec.grid.ny;
  const t = new Float32Array(items.length * N);
  const m = new Float32Array(items.length * N);
  items.forEach((s, b) => {
    t.set(s.sample.heights, b * N);
    if (cells === 'all') m.fill(1, b * N, (b + 1) * N);
    else m.set(s.sample.sensorMask, b * N);
  });
  return tf.tidy(() => {
    const mask = tf.tensor3d(m, heights.shape as [number, number, number]);
    const d = tf.mul(tf.sub(heights, tf.tensor3d(t, heights.shape as [number, number, number])), mask);
    return tf.div(tf.sum(tf.square(d)), tf.maximum(tf.sum(mask), 1));
  });
}

/**
 * The loss of the CNN on a batch and its gradient with respect to the network's weights: the
 * engine's time-weighted trajectory loss on the predicted maps (over the pool's threads) plus
 * `heightWeight` times the heightmap term. Returns the loss parts and the gradients (by variable name).
 */
export async function cnnLossAndGrads(
  tf: TfModule,
  net: LayersModel,
  pool: RolloutPool,
  spec: TerrainSpec,
  batch: readonly StoredSample[],
  heightWeight: number,
  heightCells: 'all' | 'seen' = 'all',
): Promise<{
  loss: number;
  trajectory: number;
  height: number;
  grads: Record<string, TfTensor>;
  mapGrads: { heights: Float64Array; friction: Float64Array; stiffness: Float64Array }[];
}> {
  const maps = await predictMaps(tf, net, spec, batch, batch.length);
  const r = await pool.run({ spec, terrains: maps, robots: robotsOf(batch), mode: 'grad', truth: batch.map(truthPath) });
  const G = r.grads!;
  const { ny, nx } = spec.grid;
  const N = nx * ny;
  const stackG = (k: 'heights' | 'friction' | 'stiffness'): TfTensor => {
    const a = new Float32Array(batch.length * N);
    G.forEach((g, i) => a.set(g[k], i * N));
    return tf.tensor3d(a, [batch.length, ny, nx]);
  };
  const gH = stackG('heights');
  const gF = stackG('friction');
  const gK = stackG('stiffness');
  const { input, base } = networkInput(tf, spec, batch);
  let hKept: TfTensor | null = null;
  const vars = net.trainableWeights.map((w) => w.read() as Variable);
  const { value, grads } = tf.variableGrads(() => {
    const m = mapsFromOutput(tf, net.apply(input) as TfTensor, base);
    const hT = heightTerm(tf, spec, m.heights, batch, heightCells);
    hKept = tf.keep(hT);
    const surrogate = tf.addN([tf.sum(tf.mul(m.heights, gH)), tf.sum(tf.mul(m.friction, gF)), tf.sum(tf.mul(m.stiffness, gK))]);
    return tf.add(surrogate, tf.mul(heightWeight, hT)) as never;
  }, vars);
  const height = (await (hKept as unknown as TfTensor).data())[0]!;
  tf.dispose([value, input, base, gH, gF, gK, hKept as unknown as TfTensor]);
  const trajectory = r.loss!;
  return { loss: trajectory + heightWeight * height, trajectory, height, grads, mapGrads: G };
}

/** Learning rate of an epoch (0-based): cosine decay from `lr` to 5% of it over `epochs`. */
export function cosineRate(lr: number, epoch: number, epochs: number): number {
  return lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs)));
}

interface Slot {
  label: TerrainModelName;
  net: LayersModel;
  optimizer: Optimizer & { learningRate: number };
  best: { epoch: number; valAde: number };
  bestWeights: TfTensor[] | null;
}

async function firstNonFinite(t: TfTensor): Promise<number> {
  const d = await t.data();
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

const pad = (e: number): string => `epoch-${String(e).padStart(4, '0')}`;

/**
 * Trains the config's models on `data.train`: each epoch the CNN sees every training terrain
 * once (seeded order, mini-batches of `batchSize`) and the pure NN runs nnEpochs / epochs of its
 * own (cheap) epochs; both are validated on `data.val` (ADE over 5 s), the best-validation
 * weights are kept, and the epoch is checkpointed when a run folder is given.
 */
export async function trainTerrain(
  tf: TfModule,
  pool: RolloutPool,
  data: TerrainSplit,
  config: TerrainTrainConfig,
  opts: TerrainTrainOptions = {},
): Promise<{ models: TrainedTerrainModel[]; history: HistoryRow[]; resumedAfter: number }> {
  const { spec } = data;
  if (data.train.length === 0) throw new EgoError('terrain training: no training terrains (the dataset is too small for its test and validation fractions)');
  let rng = new ShuffleRng(config.seed);
  let history: HistoryRow[] = [];
  let start = 0;
  let state: TerrainCheckpointState | null = null;
  if (opts.resume) {
    if (!opts.run) throw new EgoError('resume needs a run folder');
    const latest = opts.run.latest();
    if (latest) {
      state = opts.run.readJson<TerrainCheckpointState>(join('checkpoints', pad(latest.epoch), 'state.json'));
      start = state.epoch;
      rng = ShuffleRng.fromState(state.rng);
      history = state.history;
    }
  }
  const slots: Slot[] = [];
  for (const label of config.models) {
    const fresh = (): LayersModel =>
      label === 'terrain-cnn'
        ? createTerrainNet(tf, spec, { channels: config.channels, seed: config.seed * 1000, materials: config.materials, heightFilter: config.heightFilter })
        : createPureNn(tf, spec, config.nnHidden, config.seed * 1000 + 1);
    const net = state && opts.run ? await loadModel(join(opts.run.epochDir(start), label)) : fresh();
    const lr = label === 'terrain-cnn' ? config.learningRate : config.nnLearningRate;
    const slot: Slot = {
      label,
      net,
      optimizer: tf.train.adam(lr) as unknown as Slot['optimizer'],
      best: state?.best[label] ?? { epoch: 0, valAde: Infinity },
      bestWeights: null,
    };
    if (state && opts.run) {
      const st = opts.run.readJson<Record<string, Parameters<typeof optimizerWeights>[0]>>(join('checkpoints', pad(start), 'optimizer.json'));
      if (!st[label]) throw new EgoError(`${opts.run.epochDir(start)}/optimizer.json: no optimizer state for model '${label}'`);
      if (st[label]!.length > 1) await slot.optimizer.setWeights(optimizerWeights(st[label]!));
      if (slot.best.epoch > 0) {
        const b = slot.best.epoch === start ? net : await loadModel(join(opts.run.epochDir(slot.best.epoch), label));
        slot.bestWeights = b.getWeights().map((w) => w.clone());
        if (b !== net) b.dispose();
      }
    }
    slots.push(slot);
  }
  // validation baseline: the untrained CNN is the physics-default baseline (epoch 0)
  const nnTrain = pureNnTensors(tf, spec, data.train);
  const nnPer = Math.max(1, Math.round(config.nnEpochs / config.epochs));
  try {
    for (let epoch = start + 1; epoch <= config.epochs; epoch++) {
      const order = rng.permutation(data.train.length);
      const rows: HistoryRow[] = [];
      for (const s of slots) {
        const t0 = performance.now();
        s.optimizer.learningRate = cosineRate(s.label === 'terrain-cnn' ? config.learningRate : config.nnLearningRate, epoch - 1, config.epochs);
        let total = 0;
        let batches = 0;
        const check = async (loss: number, grads: Record<string, TfTensor>, where: string, b: number): Promise<void> => {
          if (!Number.isFinite(loss)) {
            let bw: (typeof s.net.trainableWeights)[number] | undefined;
            for (const w of s.net.trainableWeights) if (!bw && (await firstNonFinite(w.read())) >= 0) bw = w;
            throw new TrainingNaNError(`training loss is ${loss} at ${where}${bw ? `: weight '${bw.name}' is already non-finite` : ''}`, s.label, epoch, b);
          }
          for (const [name, g] of Object.entries(grads)) {
            const k = await firstNonFinite(g);
            if (k >= 0)
              throw new TrainingNaNError(`gradient of weight '${name}' is non-finite at flat index ${k} at ${where} (loss ${loss})`, s.label, epoch, b);
          }
        };
        const interrupted = (): void => {
          if (opts.signal?.aborted)
            throw new TrainingInterruptedError(
              `training interrupted during epoch ${epoch} (model ${s.label}); the last complete epoch ${epoch - 1} is checkpointed: resume with --resume`,
              epoch - 1,
            );
        };
        if (s.label === 'terrain-cnn') {
          const bs = Math.min(config.batchSize, data.train.length);
          const nb = Math.ceil(data.train.length / bs);
          for (let b = 0; b < nb; b++) {
            interrupted();
            const batch = order.slice(b * bs, (b + 1) * bs).map((i) => data.train[i]!);
            const where = `model ${s.label}, epoch ${epoch}, batch ${b + 1}/${nb} (terrains ${batch.map((x) => x.record.id).join(', ')})`;
            let r: Awaited<ReturnType<typeof cnnLossAndGrads>>;
            try {
              r = await cnnLossAndGrads(tf, s.net, pool, spec, batch, config.heightWeight, config.heightCells);
            } catch (e) {
              if ((e as Error).name === 'RolloutNonFiniteError') throw new TrainingNaNError(`${(e as Error).message} at ${where}`, s.label, epoch, b + 1);
              throw e;
            }
            await check(r.loss, r.grads, where, b + 1);
            s.optimizer.applyGradients(r.grads as never);
            tf.dispose(Object.values(r.grads));
            total += r.loss;
            batches++;
            opts.onBatch?.({ model: s.label, epoch, epochs: config.epochs, firstEpoch: start + 1, batch: b + 1, batches: nb, loss: r.loss });
          }
        } else {
          const n = data.train.length;
          const bs = Math.min(config.nnBatchSize, n);
          const nb = Math.ceil(n / bs);
          for (let e = 0; e < nnPer; e++) {
            interrupted();
            const perm = rng.permutation(n);
            for (let b = 0; b < nb; b++) {
              const idx = tf.tensor1d(Int32Array.from(perm.slice(b * bs, (b + 1) * bs)), 'int32');
              const x = tf.gather(nnTrain.x, idx);
              const y = tf.gather(nnTrain.y, idx);
              const { value, grads } = tf.variableGrads(() => pureNnLoss(tf, spec, s.net.apply(x) as TfTensor, y) as never);
              const loss = (await value.data())[0]!;
              await check(loss, grads, `model ${s.label}, epoch ${epoch}, batch ${b + 1}/${nb}`, b + 1);
              s.optimizer.applyGradients(grads as never);
              tf.dispose([idx, x, y, value, ...Object.values(grads)]);
              if (e === nnPer - 1) {
                total += loss;
                batches++;
              }
            }
            opts.onBatch?.({
              model: s.label,
              epoch,
              epochs: config.epochs,
              firstEpoch: start + 1,
              batch: e + 1,
              batches: nnPer,
              loss: total / Math.max(1, batches),
            });
          }
        }
        const paths = s.label === 'terrain-cnn' ? await cnnPaths(tf, s.net, pool, spec, data.val) : await pureNnPaths(tf, s.net, spec, data.val);
        const v = data.val.length ? adeFde(spec, data.val, paths) : { ade: total / Math.max(1, batches), fde: NaN };
        if (!Number.isFinite(v.ade)) throw new TrainingNaNError(`validation ADE is ${v.ade} after ${s.label} epoch ${epoch}`, s.label, epoch, batches);
        if (v.ade < s.best.valAde) {
          s.best = { epoch, valAde: v.ade };
          s.bestWeights?.forEach((w) => w.dispose());
          s.bestWeights = s.net.getWeights().map((w) => w.clone());
        }
        rows.push({ model: s.label, epoch, trainLoss: total / Math.max(1, batches), valAde: v.ade, valFde: v.fde, seconds: (performance.now() - t0) / 1000 });
      }
      history = [...history, ...rows];
      if (opts.run) {
        const run = opts.run;
        const st: TerrainCheckpointState = { epoch, rng: rng.state, best: Object.fromEntries(slots.map((s) => [s.label, s.best])), history };
        await run.writeCheckpoint(epoch, st, async (dir) => {
          const opt: Record<string, unknown> = {};
          for (const s of slots) {
            await saveModel(s.net, join(dir, s.label));
            opt[s.label] = await optimizerState((await s.optimizer.getWeights()) as NamedTensor[]);
          }
          run.writeJsonAbs(join(dir, 'optimizer.json'), opt);
        });
        run.writeJson('history.json', { epochs: history });
      }
      opts.onEpoch?.(rows, epoch, config.epochs);
    }
  } finally {
    tf.dispose([nnTrain.x, nnTrain.y]);
  }
  for (const s of slots) {
    if (s.bestWeights) s.net.setWeights(s.bestWeights);
    s.optimizer.dispose();
  }
  return { models: slots.map((s) => ({ label: s.label, net: s.net, bestEpoch: s.best.epoch, bestValAde: s.best.valAde })), history, resumedAfter: start };
}

/** Loads the best-validation models of a terrain run folder. */
export async function loadTerrainModels(run: RunFolder, config: TerrainTrainConfig): Promise<TrainedTerrainModel[]> {
  const latest = run.latest();
  if (!latest) throw new EgoError(`${run.dir}: no checkpoint (checkpoints/latest.json is missing); train first`);
  const state = run.readJson<TerrainCheckpointState>(join('checkpoints', pad(latest.epoch), 'state.json'));
  const out: TrainedTerrainModel[] = [];
  for (const label of config.models) {
    const best = state.best[label];
    if (!best) throw new EgoError(`${run.dir}: checkpoint state has no record of model '${label}'`);
    out.push({ label, net: await loadModel(join(run.epochDir(best.epoch), label)), bestEpoch: best.epoch, bestValAde: best.valAde });
  }
  return out;
}
