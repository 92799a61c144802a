// Reading a run folder (app/report): the files `impulse train` writes (docs/RUNS.md) validated with
// zod. config.json, metrics.json, history.json and predictions.json are each optional (a run killed
// early has no metrics, a baseline-only run has no history); a file that is there but malformed is a
// RunFileError naming the file and the JSON field.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DataError, parsePredictionsJson, type PredictionsJson } from '../../data/index.ts';
import { RunFileError, jsonPath } from './errors.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
/** A metric value; `null` when it could not be computed (shown as "n/a"). */
const metric = finite.nullable();
const horizonKey = z.string().regex(/^\d+(\.\d+)?$/, 'horizon keys are seconds, e.g. "1.5"');

/** config.json: the validated training config; only `task` is required here, the rest is shown as is. */
export const runConfigSchema = z.looseObject({
  task: z.string().min(1),
  seed: z.number().int().optional(),
  impulseVersion: z.string().optional(),
  /** The trajectory the run was trained on and its ground plane ('xz' for KITTI's camera frame). */
  input: z.looseObject({ path: z.string().optional(), plane: z.string().optional() }).optional(),
});

/** One model (one seed) in metrics.json. */
export const modelMetricsSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['baseline', 'learned']),
  seed: z.number().int().optional(),
  /** ADE over the whole horizon (m). */
  ade: metric,
  /** FDE per horizon in seconds (keys such as "0.5", "1.0", "1.5"). */
  fde: z.record(horizonKey, metric),
  /** Fraction of test windows with FDE at the longest horizon over the miss threshold (2 m). */
  missRate: metric.refine((v) => v === null || (v >= 0 && v <= 1), 'must be between 0 and 1'),
  samples: z.number().int().nonnegative(),
});

/** A statistic over seeds: mean, sample standard deviation and the values per seed. */
export const seedStatSchema = z.object({
  mean: finite,
  std: finite.refine((v) => v >= 0, 'must be >= 0'),
  values: z.array(finite).optional(),
});

/** One entry of metrics.json `seeds`: a learned model's metrics over several seeds. */
export const seedSummarySchema = z.object({
  name: z.string().min(1),
  seeds: z.array(z.number().int()).min(1),
  ade: seedStatSchema,
  /** FDE at 1.5 s. */
  fde15: seedStatSchema,
  missRate: seedStatSchema,
});

/** One point of the data-efficiency study: a model trained on `fraction` of the training windows, over seeds. */
export const dataEfficiencySchema = z.object({
  name: z.string().min(1),
  /** Fraction of the training windows used, in (0, 1]. */
  fraction: finite.refine((v) => v > 0 && v <= 1, 'must be in (0, 1]'),
  /** Number of training windows used. */
  trainWindows: z.number().int().nonnegative().optional(),
  epochs: z.number().int().nonnegative().optional(),
  seeds: z.array(z.number().int()).min(1),
  ade: seedStatSchema,
  /** FDE at 1.5 s. */
  fde15: seedStatSchema,
});

/** metrics.json (see docs/RUNS.md). */
export const runMetricsSchema = z.object({
  task: z.string().min(1),
  split: z.record(z.string(), z.unknown()).optional(),
  models: z.array(modelMetricsSchema),
  /** Best epoch and its validation ADE per learned model (model selection on the validation split). */
  selection: z.record(z.string(), z.object({ bestEpoch: z.number().int().nonnegative(), valAde: metric })).optional(),
  seeds: z.array(seedSummarySchema).optional(),
  dataEfficiency: z.array(dataEfficiencySchema).optional(),
  /** The same models on an out-of-distribution set (terrain runs: terrains with obstacle kinds not seen in training). */
  ood: z.object({ samples: z.number().int().nonnegative(), models: z.array(modelMetricsSchema) }).optional(),
});

/** One epoch of one model in history.json. */
export const historyEpochSchema = z.object({
  model: z.string().min(1),
  epoch: z.number().int().nonnegative(),
  seed: z.number().int().optional(),
  trainLoss: finite,
  valAde: metric.optional(),
  valFde: metric.optional(),
  seconds: finite.optional(),
});

/** history.json (see docs/RUNS.md). */
export const runHistorySchema = z.object({ epochs: z.array(historyEpochSchema) });

export type RunConfig = z.infer<typeof runConfigSchema>;
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;
export type DataEfficiencyPoint = z.infer<typeof dataEfficiencySchema>;
export type SeedSummary = z.infer<typeof seedSummarySchema>;
export type SeedStat = z.infer<typeof seedStatSchema>;
export type RunMetrics = z.infer<typeof runMetricsSchema>;
export type HistoryEpoch = z.infer<typeof historyEpochSchema>;
export type RunHistory = z.infer<typeof runHistorySchema>;

/** The files of a run folder `RUN_FILES` names; what is absent is listed in {@link RunData.missing}. */
export const RUN_FILES = ['config.json', 'metrics.json', 'history.json', 'predictions.json'] as const;
export type RunFileName = (typeof RUN_FILES)[number];

/** What a run folder holds. */
export interface RunData {
  dir: string;
  config?: RunConfig;
  metrics?: RunMetrics;
  history?: RunHistory;
  predictions?: PredictionsJson;
  /** The files of {@link RUN_FILES} that are not in the folder. */
  missing: RunFileName[];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunFileError(code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? (e as Error).message})`, { file: path });
  }
}

/** Parses `content` as JSON and validates it with `schema`; errors name `file` and the field. */
export function parseRunFile<T extends z.ZodType>(schema: T, content: string, file: string): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    throw new RunFileError(`invalid JSON: ${(e as Error).message}`, { file });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new RunFileError(issue.message, { file, field: jsonPath(issue.path) });
  }
  return r.data;
}

/**
 * Reads and validates the files of a run folder. Throws a RunFileError when the folder does not
 * exist, holds none of {@link RUN_FILES}, or a file is malformed.
 */
export function loadRun(dir: string): RunData {
  if (!existsSync(dir)) throw new RunFileError('run folder not found', { file: dir });
  if (!statSync(dir).isDirectory()) throw new RunFileError('is not a run folder (a file, not a directory)', { file: dir });
  const run: RunData = { dir, missing: [] };
  const present = (name: RunFileName): string | undefined => {
    const p = join(dir, name);
    if (existsSync(p)) return readText(p);
    run.missing.push(name);
    return undefined;
  };
  const config = present('config.json');
  if (config !== undefined) run.config = parseRunFile(runConfigSchema, config, join(dir, 'config.json'));
  const metrics = present('metrics.json');
  if (metrics !== undefined) run.metrics = parseRunFile(runMetricsSchema, metrics, join(dir, 'metrics.json'));
  const history = present('history.json');
  if (history !== undefined) run.history = parseRunFile(runHistorySchema, history, join(dir, 'history.json'));
  const preds = present('predictions.json');
  if (preds !== undefined) {
    try {
      run.predictions = parsePredictionsJson(preds, join(dir, 'predictions.json'));
    } catch (e) {
      if (e instanceof DataError) throw new RunFileError(e.detail, { file: e.file, field: e.field });
      throw e;
    }
  }
  if (run.missing.length === RUN_FILES.length) throw new RunFileError(`not a run folder: it holds none of ${RUN_FILES.join(', ')}`, { file: dir });
  return run;
}
