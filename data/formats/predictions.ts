// Impulse prediction-set JSON (data/, bottom layer): predicted future trajectories against their
// ground truth, the JSON twin of the MCAP schema impulse.PredictionSet (mcap/schemas.ts). One file
// holds the ground-truth path of a whole sequence (for context) and one set per prediction time t0:
// the ground truth over the horizon and K labelled predictions on the same time offsets. Written by
// `impulse predict` and `impulse train` (a run folder's predictions.json), read by `impulse eval`,
// the reports and the app. Validated with zod; errors name the file and the JSON path.

import { z } from 'zod';
import { ParseError, jsonPath } from '../errors.ts';
import type { PredictionSample } from '../metrics/prediction.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const point = z.array(finite).length(3);

/** One prediction time: offsets after t0, the ground truth and K predictions on them (positions, metres). */
export const predictionSetJsonSchema = z.object({
  /** Time the prediction was made (s, the sequence's clock). */
  t0: finite,
  /** Index of the frame at t0 in the sequence (optional). */
  frame: z.number().int().nonnegative().optional(),
  /** Time offsets after t0 (s), increasing, > 0. */
  times: z.array(finite).min(1),
  /** Ground-truth positions [x, y, z] at t0 + times. */
  gt: z.array(point),
  /** Predicted positions per model label, each on `times`. */
  predictions: z.array(z.object({ label: z.string().min(1), positions: z.array(point) })).min(1),
});

/** The zod schema of a prediction file (`format: "impulse.predictions"`, `version: 1`). */
export const predictionsJsonSchema = z.object({
  format: z.literal('impulse.predictions'),
  version: z.literal(1),
  /** What was predicted (e.g. 'KITTI 00 test split'). */
  name: z.string().optional(),
  frame_id: z.string().optional(),
  /** The whole ground-truth path the sets come from (optional context for viewers). */
  ground_truth: z.object({ times: z.array(finite), positions: z.array(point) }).optional(),
  sets: z.array(predictionSetJsonSchema),
});

/** The JSON object type described by {@link predictionsJsonSchema}. */
export type PredictionsJson = z.infer<typeof predictionsJsonSchema>;
/** One set of {@link PredictionsJson}. */
export type PredictionSetJson = z.infer<typeof predictionSetJsonSchema>;

/**
 * Parses and validates a prediction file; also checks that every set's ground truth and predictions
 * have one position per time and that times increase.
 */
export function parsePredictionsJson(content: string, file?: string): PredictionsJson {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    throw new ParseError(`invalid JSON: ${(e as Error).message}`, { file });
  }
  const r = predictionsJsonSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ParseError(issue.message, { file, field: jsonPath(issue.path) });
  }
  r.data.sets.forEach((s, i) => {
    const T = s.times.length;
    if (s.gt.length !== T) throw new ParseError(`ground truth has ${s.gt.length} positions for ${T} times`, { file, field: `sets[${i}].gt` });
    s.predictions.forEach((p, k) => {
      if (p.positions.length !== T)
        throw new ParseError(`prediction '${p.label}' has ${p.positions.length} positions for ${T} times`, {
          file,
          field: `sets[${i}].predictions[${k}].positions`,
        });
    });
    for (let j = 0; j < T; j++)
      if (!(s.times[j]! > (j === 0 ? 0 : s.times[j - 1]!)))
        throw new ParseError('times must be positive and increasing', { file, field: `sets[${i}].times[${j}]` });
  });
  return r.data;
}

/** Serialises a prediction file (validated first, so what is written can be read back). */
export function formatPredictionsJson(p: PredictionsJson): string {
  const r = predictionsJsonSchema.safeParse(p);
  if (!r.success) throw new ParseError(r.error.issues[0]!.message, { file: '<predictions>', field: jsonPath(r.error.issues[0]!.path) });
  return JSON.stringify(p) + '\n';
}

/** The labels of the predictions in a file (union over sets, in first-seen order). */
export function predictionLabels(p: PredictionsJson): string[] {
  const seen = new Set<string>();
  for (const s of p.sets) for (const q of s.predictions) seen.add(q.label);
  return [...seen];
}

/**
 * The sets as samples for `predictionMetrics`, with one prediction per sample: the one labelled
 * `label` (sets without it are skipped).
 */
export function predictionSamples(p: PredictionsJson, label: string): PredictionSample[] {
  const out: PredictionSample[] = [];
  for (const s of p.sets) {
    const q = s.predictions.find((x) => x.label === label);
    if (!q) continue;
    out.push({ t0: s.t0, times: Float64Array.from(s.times), gt: Float64Array.from(s.gt.flat()), predictions: [Float64Array.from(q.positions.flat())] });
  }
  return out;
}
