// The run folder of an ego-motion training (ego/), laid out as docs/RUNS.md says: config.json,
// checkpoints/epoch-NNNN/<model>/{model.json,weights.bin} + optimizer.json + state.json,
// checkpoints/latest.json, history.json, metrics.json, predictions.json. Every file is written
// atomically; a checkpoint folder is filled under a temporary name and renamed when complete, and
// latest.json moves only after that, so a killed run always resumes from a complete checkpoint.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';

/** A named tensor of an optimizer's weights. */
export interface NamedTensor {
  name: string;
  tensor: TfTensor;
}
import { writeFileAtomicSync } from '../data/index.ts';
import { getTf } from '../models/tf/index.ts';
import type { EgoConfig } from './config.ts';
import type { Normaliser } from './features.ts';
import type { VehicleLimits } from './vehicle.ts';
import { EgoError } from './windows.ts';

/** Tasks whose run folders this module reads. */
export const EGO_TASKS = ['ego-kitti', 'ego'] as const;
/** An ego-motion task name. */
export type EgoTask = (typeof EGO_TASKS)[number];

/** config.json of a run. */
export interface RunConfig {
  task: EgoTask;
  seed: number;
  input: { path: string; timesFile?: string; topic?: string; plane: 'xy' | 'xz' };
  impulseVersion: string;
  config: EgoConfig;
}

/** One row of history.json. */
export interface HistoryRow {
  model: string;
  epoch: number;
  trainLoss: number;
  valAde: number;
  valFde: number;
  seconds: number;
}

/** state.json of a checkpoint. */
export interface CheckpointState {
  epoch: number;
  /** State of the shuffling RNG after this epoch. */
  rng: number;
  /** Per model label: epoch and validation ADE of its best checkpoint so far. */
  best: Record<string, { epoch: number; valAde: number }>;
  history: HistoryRow[];
  /** Data-derived parts of the predictors (from the training part only). */
  meta: { normaliser: Normaliser; limits: VehicleLimits; speedScale: number; period: number };
}

const pad = (e: number): string => `epoch-${String(e).padStart(4, '0')}`;

/** A run folder on disk. */
export class RunFolder {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get checkpoints(): string {
    return join(this.dir, 'checkpoints');
  }
  /** Path of a file in the run folder. */
  file(name: string): string {
    return join(this.dir, name);
  }
  /** Writes a JSON file of the run atomically. */
  writeJson(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomicSync(this.file(name), JSON.stringify(value, null, 1) + '\n');
  }
  /** Writes a JSON file at an absolute path atomically (checkpoint contents). */
  writeJsonAbs(path: string, value: unknown): void {
    writeFileAtomicSync(path, JSON.stringify(value) + '\n');
  }
  /** Reads a JSON file of the run; errors name it. */
  readJson<T>(name: string): T {
    const p = this.file(name);
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new EgoError(
        `${p}: cannot read (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file: is this a run folder of impulse train?' : (e as Error).message})`,
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new EgoError(`${p}: invalid JSON (${(e as Error).message})`);
    }
  }
  /** config.json, checked to be an ego-motion run. */
  readConfig(): RunConfig {
    const c = this.readJson<RunConfig>('config.json');
    if (!EGO_TASKS.includes(c?.task as EgoTask))
      throw new EgoError(
        `${this.file('config.json')}: task '${String(c?.task)}' is not an ego-motion run (expected ${EGO_TASKS.join(' or ')}); use the command of that task`,
      );
    return c;
  }
  /** latest.json, or null when the run has no checkpoint yet. */
  latest(): { epoch: number; path: string } | null {
    const p = join(this.checkpoints, 'latest.json');
    if (!existsSync(p)) return null;
    return this.readJson<{ epoch: number; path: string }>('checkpoints/latest.json');
  }
  /** Folder of an epoch's checkpoint. */
  epochDir(epoch: number): string {
    return join(this.checkpoints, pad(epoch));
  }
  /**
   * Writes the checkpoint of `epoch`: `save(dir)` fills a temporary folder (models, optimizer.json),
   * state.json is added, the folder is renamed to epoch-NNNN, then latest.json is moved to it. Older
   * checkpoints that no model's best refers to are removed.
   */
  async writeCheckpoint(epoch: number, state: { best: Record<string, { epoch: number }> }, save: (dir: string) => Promise<void>): Promise<void> {
    mkdirSync(this.checkpoints, { recursive: true });
    // a checkpoint folder left half-written by a killed run
    for (const d of readdirSync(this.checkpoints)) if (/^\.epoch-\d{4}\.\d+\.tmp$/.test(d)) rmSync(join(this.checkpoints, d), { recursive: true, force: true });
    const final = this.epochDir(epoch);
    const tmp = join(this.checkpoints, `.${pad(epoch)}.${process.pid}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      await save(tmp);
      writeFileAtomicSync(join(tmp, 'state.json'), JSON.stringify(state) + '\n');
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    writeFileAtomicSync(join(this.checkpoints, 'latest.json'), JSON.stringify({ epoch, path: pad(epoch) }) + '\n');
    const keep = new Set([pad(epoch), ...Object.values(state.best).map((b) => pad(b.epoch))]);
    for (const d of readdirSync(this.checkpoints))
      if (/^epoch-\d{4}$/.test(d) && !keep.has(d)) rmSync(join(this.checkpoints, d), { recursive: true, force: true });
  }
  /** state.json of an epoch's checkpoint. */
  readState(epoch: number): CheckpointState {
    return this.readJson<CheckpointState>(join('checkpoints', pad(epoch), 'state.json'));
  }
}

/** Serialises an optimizer's weights (Adam moments, iteration count) as JSON-able data. */
export async function optimizerState(weights: NamedTensor[]): Promise<{ name: string; shape: number[]; dtype: string; data: string }[]> {
  return Promise.all(
    weights.map(async (w) => ({
      name: w.name,
      shape: [...w.tensor.shape],
      dtype: w.tensor.dtype,
      data: Buffer.from(new Uint8Array(((await w.tensor.data()) as Float32Array | Int32Array).slice().buffer)).toString('base64'),
    })),
  );
}

/** The inverse of {@link optimizerState}. */
export function optimizerWeights(state: { name: string; shape: number[]; dtype: string; data: string }[]): NamedTensor[] {
  const tf = getTf();
  return state.map((w) => {
    const buf = Buffer.from(w.data, 'base64');
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const values = w.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
    return { name: w.name, tensor: tf.tensor(values, w.shape, w.dtype as 'float32' | 'int32') };
  });
}
