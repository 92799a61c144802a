// The training loop of the ego-motion predictors (ego/): Adam on the ADE loss, seeded shuffling
// (RNG state in every checkpoint), one checkpoint per epoch, validation on the held-out last tenth of
// the training part (model selection: the epoch of lowest validation ADE; test windows are never
// seen), resume after a kill, and a NaN/Inf in training stops the run with the model, epoch, batch
// and place it came from while the last good checkpoint stays.
import { join } from 'node:path';
import type { LayersModel, Optimizer, Scalar, Tensor as TfTensor, Tensor2D, Variable } from '@tensorflow/tfjs';
import { bridgedVariableGrads, getTf } from '../models/tf/index.ts';
import type { EgoConfig } from './config.ts';
import type { EgoDataset } from './dataset.ts';
import { FEATURES, normalise, toWorld, worldTargets, type WindowSet } from './features.ts';
import { egoMetrics } from './metrics.ts';
import { buildMlp, loadModel, saveModel } from './net.ts';
import { EgoPredictor, MODEL_KINDS, adeLoss, modelLabel, outputCount, type ModelKind, type PredictorSpec } from './predictors.ts';
import { ShuffleRng } from './rng.ts';
import { optimizerState, optimizerWeights, type CheckpointState, type HistoryRow, type NamedTensor, type RunFolder } from './run-folder.ts';
import { EgoError, HORIZON } from './windows.ts';

/** Training stopped on a NaN or infinite value; names where it appeared. */
export class TrainingNaNError extends EgoError {
  constructor(
    message: string,
    readonly model: string,
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(message);
    this.name = 'TrainingNaNError';
  }
}

/** Training was interrupted (signal); the last complete epoch is checkpointed. */
export class TrainingInterruptedError extends EgoError {
  constructor(
    message: string,
    readonly lastEpoch: number,
  ) {
    super(message);
    this.name = 'TrainingInterruptedError';
  }
}

/** A trained model: its predictor (best validation weights loaded) and selection record. */
export interface TrainedModel {
  label: string;
  kind: ModelKind;
  predictor: EgoPredictor;
  bestEpoch: number;
  bestValAde: number;
}

/** Progress of one batch. */
export interface BatchProgress {
  model: string;
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  /** Last epoch of the run, first epoch of this call (after a resume), model position and count. */
  epochs: number;
  firstEpoch: number;
  modelIndex: number;
  models: number;
}

/** Options of {@link trainEgo}. */
export interface TrainOptions {
  /** Run folder for checkpoints and history (none: train in memory). */
  run?: RunFolder;
  /** Continue from the run folder's latest checkpoint. */
  resume?: boolean;
  /** Aborting stops after the batch in flight; the last complete epoch stays checkpointed. */
  signal?: AbortSignal;
  onEpoch?: (rows: HistoryRow[], epoch: number, epochs: number) => void;
  onBatch?: (p: BatchProgress) => void;
  /** Validate (and select) every k-th epoch and at the last one (default 1); long low-data runs use more. */
  validateEvery?: number;
  /**
   * Train the physics and mpc models through the asynchronous join of the tf bridge
   * (`bridgedVariableGrads`: host reads with `await data()`, same gradients) instead of the
   * synchronous one. Default: when the tfjs backend is webgpu, which cannot read synchronously.
   */
  asyncJoin?: boolean;
}

/** Result of {@link trainEgo}. */
export interface TrainResult {
  models: TrainedModel[];
  history: HistoryRow[];
  /** Epoch the run resumed after (0 for a fresh run). */
  resumedAfter: number;
}

/** The predictor spec of a model kind for a dataset and config. */
export function predictorSpec(kind: ModelKind, config: EgoConfig, meta: CheckpointState['meta']): PredictorSpec {
  return {
    kind,
    vehicle: config.vehicle,
    limits: meta.limits,
    hidden: config.hidden,
    speedScale: meta.speedScale,
    horizonTime: HORIZON * meta.period,
    mpc: config.mpc,
  };
}

/** Learning rate of an epoch (0-based) under the config's schedule. */
export function learningRate(config: EgoConfig, epoch: number): number {
  if (config.schedule === 'constant') return config.learningRate;
  return config.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * epoch) / config.epochs)));
}

/** Tensors of a batch of windows. */
function batchTensors(set: WindowSet, x: Float32Array, idx: readonly number[]): { x: Tensor2D; v: TfTensor; dt: Tensor2D; y: TfTensor } {
  const tf = getTf();
  const B = idx.length;
  const xb = new Float32Array(B * FEATURES),
    vb = new Float32Array(B),
    db = new Float32Array(B * HORIZON),
    yb = new Float32Array(B * HORIZON * 2);
  idx.forEach((k, n) => {
    xb.set(x.subarray(k * FEATURES, (k + 1) * FEATURES), n * FEATURES);
    vb[n] = set.speed[k]!;
    db.set(set.dt.subarray(k * HORIZON, (k + 1) * HORIZON), n * HORIZON);
    yb.set(set.target.subarray(k * HORIZON * 2, (k + 1) * HORIZON * 2), n * HORIZON * 2);
  });
  return { x: tf.tensor2d(xb, [B, FEATURES]), v: tf.tensor1d(vb), dt: tf.tensor2d(db, [B, HORIZON]), y: tf.tensor3d(yb, [B, HORIZON, 2]) };
}

/** Flat index of the first non-finite entry of a tensor, or -1 (an async read: webgpu cannot read synchronously). */
async function firstNonFinite(t: TfTensor): Promise<number> {
  const d = await t.data();
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

interface Slot {
  kind: ModelKind;
  label: string;
  predictor: EgoPredictor;
  optimizer: Optimizer & { learningRate: number };
  vars: Variable[];
  best: { epoch: number; valAde: number };
  bestWeights: TfTensor[] | null;
}

/** Validation ADE / FDE@end of a predictor. */
async function validate(p: EgoPredictor, data: EgoDataset): Promise<{ ade: number; fde: number }> {
  const m = egoMetrics(toWorld(data.val, await p.predictLocalAsync(data.val, data.normaliser)), worldTargets(data.val), data.period);
  return { ade: m.ade, fde: m.fde['1.5'] };
}

/**
 * Trains every model of the config on the dataset: per epoch, each model sees the training windows
 * in one seeded random order, in mini-batches; then it is validated, the history row written and the
 * epoch checkpointed (when a run folder is given). Returns the models with their best-validation
 * weights.
 */
export async function trainEgo(data: EgoDataset, config: EgoConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const tf = getTf();
  const asyncJoin = opts.asyncJoin ?? tf.getBackend() === 'webgpu';
  const meta: CheckpointState['meta'] = { normaliser: data.normaliser, limits: data.limits, speedScale: data.speedScale, period: data.period };
  let rng = new ShuffleRng(config.seed);
  let history: HistoryRow[] = [];
  let start = 0;
  let resumeState: CheckpointState | null = null;
  if (opts.resume) {
    if (!opts.run) throw new EgoError('resume needs a run folder');
    const latest = opts.run.latest();
    if (latest) {
      resumeState = opts.run.readState(latest.epoch);
      start = resumeState.epoch;
      rng = ShuffleRng.fromState(resumeState.rng);
      history = resumeState.history;
      Object.assign(meta, resumeState.meta);
    }
  }
  const slots: Slot[] = [];
  for (const kind of config.models) {
    const spec = predictorSpec(kind, config, meta);
    const label = modelLabel(spec);
    let net: LayersModel;
    if (resumeState && opts.run) net = await loadModel(join(opts.run.epochDir(start), label));
    else net = buildMlp(FEATURES, config.hidden, outputCount(kind), config.seed * 1000 + MODEL_KINDS.indexOf(kind), kind !== 'nn');
    const optimizer = tf.train.adam(config.learningRate) as unknown as Slot['optimizer'];
    const slot: Slot = {
      kind,
      label,
      predictor: new EgoPredictor(spec, net),
      optimizer,
      vars: net.trainableWeights.map((w) => w.read() as Variable),
      best: resumeState?.best[label] ?? { epoch: 0, valAde: Infinity },
      bestWeights: null,
    };
    if (resumeState && opts.run) {
      const st = opts.run.readJson<Record<string, Parameters<typeof optimizerWeights>[0]>>(
        join('checkpoints', `epoch-${String(start).padStart(4, '0')}`, 'optimizer.json'),
      );
      if (!st[label]) throw new EgoError(`${opts.run.epochDir(start)}/optimizer.json: no optimizer state for model '${label}'`);
      if (st[label]!.length > 1) await optimizer.setWeights(optimizerWeights(st[label]!));
      if (slot.best.epoch > 0 && slot.best.epoch !== start) {
        const b = await loadModel(join(opts.run.epochDir(slot.best.epoch), label));
        slot.bestWeights = b.getWeights().map((w) => w.clone());
        b.dispose();
      } else if (slot.best.epoch === start) slot.bestWeights = net.getWeights().map((w) => w.clone());
    }
    slots.push(slot);
  }
  const X = normalise(data.train, data.normaliser);
  const N = data.train.frames.length;
  const bs = Math.min(config.batchSize, N);
  for (let epoch = start + 1; epoch <= config.epochs; epoch++) {
    const order = rng.permutation(N);
    const batches = Math.max(1, Math.floor(N / bs));
    const rows: HistoryRow[] = [];
    for (const s of slots) {
      const t0 = performance.now();
      s.optimizer.learningRate = learningRate(config, epoch - 1);
      let total = 0;
      for (let b = 0; b < batches; b++) {
        if (opts.signal?.aborted)
          throw new TrainingInterruptedError(
            `training interrupted during epoch ${epoch} (model ${s.label}); the last complete epoch ${epoch - 1} is checkpointed: resume with --resume`,
            epoch - 1,
          );
        const where = `model ${s.label}, epoch ${epoch}, batch ${b + 1}/${batches}`;
        const t = batchTensors(data.train, X, order.slice(b * bs, (b + 1) * bs));
        let loss: number;
        try {
          const lossFn = (): Scalar => adeLoss(s.predictor.forward(t.x, t.v, t.dt), t.y) as Scalar;
          const { value, grads } = s.kind !== 'nn' && asyncJoin ? await bridgedVariableGrads(lossFn, s.vars) : tf.variableGrads(lossFn, s.vars);
          loss = (await value.data())[0]!;
          if (!Number.isFinite(loss)) {
            const out = tf.tidy(() => s.predictor.net.apply(t.x) as TfTensor);
            const bad = await firstNonFinite(out);
            out.dispose();
            let bw: Variable | undefined;
            for (const v of s.vars) if ((await firstNonFinite(v)) >= 0 && !bw) bw = v;
            const src = bw
              ? `weight '${bw.name}' is already non-finite`
              : bad >= 0
                ? `network output is non-finite at flat index ${bad}`
                : 'the predicted positions are non-finite (dynamics / MPC)';
            throw new TrainingNaNError(`training loss is ${loss} at ${where}: ${src}`, s.label, epoch, b + 1);
          }
          for (const [name, g] of Object.entries(grads)) {
            const k = await firstNonFinite(g);
            if (k >= 0)
              throw new TrainingNaNError(`gradient of weight '${name}' is non-finite at flat index ${k} at ${where} (loss ${loss})`, s.label, epoch, b + 1);
          }
          s.optimizer.applyGradients(grads);
          tf.dispose([value, ...Object.values(grads)]);
        } catch (e) {
          if (e instanceof EgoError) throw e;
          if ((e as Error).name === 'NonFiniteError') throw new TrainingNaNError(`${(e as Error).message} at ${where}`, s.label, epoch, b + 1);
          throw e;
        } finally {
          tf.dispose([t.x, t.v, t.dt, t.y]);
        }
        total += loss;
        opts.onBatch?.({
          model: s.label,
          epoch,
          batch: b + 1,
          batches,
          loss,
          epochs: config.epochs,
          firstEpoch: start + 1,
          modelIndex: slots.indexOf(s),
          models: slots.length,
        });
      }
      const every = opts.validateEvery ?? 1;
      if (epoch % every !== 0 && epoch !== config.epochs) {
        rows.push({ model: s.label, epoch, trainLoss: total / batches, valAde: NaN, valFde: NaN, seconds: (performance.now() - t0) / 1000 });
        continue;
      }
      const v = await validate(s.predictor, data);
      if (!Number.isFinite(v.ade)) throw new TrainingNaNError(`validation ADE is ${v.ade} after ${s.label} epoch ${epoch}`, s.label, epoch, batches);
      if (v.ade < s.best.valAde) {
        s.best = { epoch, valAde: v.ade };
        s.bestWeights?.forEach((w) => w.dispose());
        s.bestWeights = s.predictor.net.getWeights().map((w) => w.clone());
      }
      rows.push({ model: s.label, epoch, trainLoss: total / batches, valAde: v.ade, valFde: v.fde, seconds: (performance.now() - t0) / 1000 });
    }
    history = [...history, ...rows];
    if (opts.run) {
      const run = opts.run;
      const state: CheckpointState = { epoch, rng: rng.state, best: Object.fromEntries(slots.map((s) => [s.label, s.best])), history, meta };
      await run.writeCheckpoint(epoch, state, async (dir) => {
        const optState: Record<string, unknown> = {};
        for (const s of slots) {
          await saveModel(s.predictor.net, join(dir, s.label));
          optState[s.label] = await optimizerState((await s.optimizer.getWeights()) as NamedTensor[]);
        }
        run.writeJsonAbs(join(dir, 'optimizer.json'), optState);
      });
      run.writeJson('history.json', { epochs: history });
    }
    opts.onEpoch?.(rows, epoch, config.epochs);
  }
  for (const s of slots) {
    if (s.bestWeights) s.predictor.net.setWeights(s.bestWeights);
    s.optimizer.dispose();
  }
  return {
    models: slots.map((s) => ({ label: s.label, kind: s.kind, predictor: s.predictor, bestEpoch: s.best.epoch, bestValAde: s.best.valAde })),
    history,
    resumedAfter: start,
  };
}

/** Loads the best-validation models of a finished (or interrupted) run. */
export async function loadTrainedModels(run: RunFolder, config: EgoConfig): Promise<{ models: TrainedModel[]; state: CheckpointState }> {
  const latest = run.latest();
  if (!latest) throw new EgoError(`${run.dir}: no checkpoint (checkpoints/latest.json is missing); train first`);
  const state = run.readState(latest.epoch);
  const models: TrainedModel[] = [];
  for (const kind of config.models) {
    const spec = predictorSpec(kind, config, state.meta);
    const label = modelLabel(spec);
    const best = state.best[label];
    if (!best) throw new EgoError(`${run.dir}: checkpoint state has no record of model '${label}'`);
    const net = await loadModel(join(run.epochDir(best.epoch), label));
    models.push({ label, kind, predictor: new EgoPredictor(spec, net), bestEpoch: best.epoch, bestValAde: best.valAde });
  }
  return { models, state };
}
