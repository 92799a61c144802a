// Prediction files and their metrics per model label (app/report), for `impulse eval pred` and the
// run reports: reads an impulse.predictions JSON file or the impulse.PredictionSet topic of an MCAP
// log, and computes ADE / FDE / miss rate per label with the data layer's predictionMetrics, the
// error at every step of the horizon, and each set's final error (to pick sets to draw).

import { readFileSync, statSync } from 'node:fs';
import {
  DataError,
  DecoderCache,
  FormatError,
  McapLog,
  MetricError,
  normalizeSchemaName,
  parsePredictionsJson,
  predictionLabels,
  predictionMetrics,
  predictionsJsonSchema,
  readPredictionSamples,
  type PredictionSample,
  type PredictionsJson,
} from '../../data/index.ts';
import { jsonPath } from './errors.ts';

/** Options of {@link loadPredictionFile}. */
export interface LoadPredictionOptions {
  /** MCAP topic of impulse.PredictionSet messages (default: the only such topic). */
  topic?: string;
}

const MCAP_MAGIC = [0x89, 0x4d, 0x43, 0x41, 0x50];

function isMcap(path: string): boolean {
  if (path.toLowerCase().endsWith('.mcap')) return true;
  try {
    const head = readFileSync(path).subarray(0, 5);
    return MCAP_MAGIC.every((b, i) => head[i] === b);
  } catch {
    return false;
  }
}

async function predictionTopic(log: McapLog, topic: string | undefined): Promise<string> {
  const channels = (await log.summary()).channels;
  const sets = channels.filter((c) => normalizeSchemaName(c.schemaName) === 'impulse.PredictionSet').map((c) => c.topic);
  if (topic !== undefined) {
    const ch = channels.find((c) => c.topic === topic);
    if (!ch) throw new FormatError(`no topic '${topic}' (prediction topics: ${sets.join(', ') || 'none'})`, { file: log.path });
    return topic;
  }
  if (sets.length === 1) return sets[0]!;
  if (sets.length === 0) throw new FormatError('no impulse.PredictionSet topic in this log', { file: log.path });
  throw new FormatError(`several prediction topics, choose one with --topic: ${sets.join(', ')}`, { file: log.path });
}

async function readMcapPredictions(path: string, topic: string | undefined): Promise<PredictionsJson> {
  const log = await McapLog.open(path);
  try {
    const t = await predictionTopic(log, topic);
    // positions through the data layer's reader (it checks every field); labels in a second pass
    const samples = await readPredictionSamples(log, t);
    const dec = new DecoderCache(log);
    const labels: string[][] = [];
    let frameId: string | undefined;
    for await (const m of log.messages({ topics: [t] })) {
      const msg = dec.decode(m) as { frame_id?: unknown; predictions?: { label?: unknown }[] };
      if (frameId === undefined && typeof msg.frame_id === 'string') frameId = msg.frame_id;
      labels.push((msg.predictions ?? []).map((p, k) => (typeof p.label === 'string' && p.label !== '' ? p.label : `prediction ${k}`)));
    }
    if (samples.length === 0) throw new FormatError(`topic '${t}' has no messages`, { file: path });
    const p: PredictionsJson = {
      format: 'impulse.predictions',
      version: 1,
      name: `topic ${t}`,
      ...(frameId !== undefined ? { frame_id: frameId } : {}),
      sets: samples.map((s, i) => ({
        t0: s.t0,
        times: Array.from(s.times),
        gt: chunk3(s.gt),
        predictions: s.predictions.map((q, k) => ({ label: labels[i]?.[k] ?? `prediction ${k}`, positions: chunk3(q) })),
      })),
    };
    const r = predictionsJsonSchema.safeParse(p);
    if (!r.success) throw new FormatError(r.error.issues[0]!.message, { file: path, field: `${t} ${jsonPath(r.error.issues[0]!.path)}` });
    return p;
  } finally {
    await log.close();
  }
}

function chunk3(a: Float64Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += 3) out.push([a[i]!, a[i + 1]!, a[i + 2]!]);
  return out;
}

/**
 * Reads a prediction file: impulse.predictions JSON (data/formats/predictions.ts) or an MCAP log
 * with impulse.PredictionSet messages (unlabelled predictions are called `prediction K`).
 */
export async function loadPredictionFile(path: string, opts: LoadPredictionOptions = {}): Promise<PredictionsJson> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new FormatError('file not found', { file: path });
  }
  if (st.isDirectory()) throw new FormatError('is a directory, not a prediction file', { file: path });
  if (isMcap(path)) return readMcapPredictions(path, opts.topic);
  if (opts.topic !== undefined) throw new FormatError('--topic applies to MCAP input only; this is a JSON prediction file', { file: path });
  return parsePredictionsJson(readFileSync(path, 'utf8'), path);
}

/** The samples of one model label: every prediction of that label in a set (K > 1 is best-of-K). */
export function labelSamples(p: PredictionsJson, label: string): PredictionSample[] {
  const out: PredictionSample[] = [];
  for (const s of p.sets) {
    const qs = s.predictions.filter((q) => q.label === label);
    if (qs.length === 0) continue;
    out.push({
      t0: s.t0,
      times: Float64Array.from(s.times),
      gt: Float64Array.from(s.gt.flat()),
      predictions: qs.map((q) => Float64Array.from(q.positions.flat())),
    });
  }
  return out;
}

/** The longest horizon every set reaches (s). */
export function commonHorizon(p: PredictionsJson): number {
  if (p.sets.length === 0) throw new MetricError('the prediction file has no sets');
  return Math.min(...p.sets.map((s) => s.times[s.times.length - 1]!));
}

/**
 * Default horizons: a third, two thirds and all of the common horizon, each moved to the nearest
 * time step of the first set (0.5, 1.0, 1.5 s for a 1.5 s horizon at 10 Hz).
 */
export function defaultHorizons(p: PredictionsJson): number[] {
  const H = commonHorizon(p);
  const times = p.sets[0]!.times.filter((t) => t <= H + 1e-9);
  const snap = (h: number): number => times.reduce((b, t) => (Math.abs(t - h) < Math.abs(b - h) ? t : b), times[0]!);
  return [...new Set([snap(H / 3), snap((2 * H) / 3), H])].sort((a, b) => a - b);
}

/** Metrics of one label at one horizon. */
export interface LabelHorizonMetrics {
  horizon: number;
  samples: number;
  /** Best-of-K ADE over 0 < t <= horizon (the ADE when K = 1). */
  ade: number;
  /** Best-of-K FDE at the horizon. */
  fde: number;
  /** Mean over the K predictions (equal to ade / fde when K = 1). */
  meanAde: number;
  meanFde: number;
  /** Fraction of sets whose best final error at this horizon exceeds the miss threshold. */
  missRate: number;
}

/** Metrics of one model label. */
export interface LabelMetrics {
  label: string;
  /** Largest number of predictions with this label in one set (1: a deterministic predictor). */
  k: number;
  horizons: LabelHorizonMetrics[];
}

/** Options of {@link metricsByLabel}. */
export interface LabelMetricOptions {
  /** Horizons in seconds (default {@link defaultHorizons}). */
  horizons?: number[];
  /** Miss threshold on the final error (m, default 2). */
  missThreshold?: number;
}

/** ADE / FDE / miss rate per model label at each horizon. Errors name the label. */
export function metricsByLabel(p: PredictionsJson, opts: LabelMetricOptions = {}): LabelMetrics[] {
  if (p.sets.length === 0) throw new MetricError('the prediction file has no sets');
  const horizons = opts.horizons ?? defaultHorizons(p);
  return predictionLabels(p).map((label) => {
    const samples = labelSamples(p, label);
    let rows;
    try {
      rows = predictionMetrics(samples, { horizons, missThreshold: opts.missThreshold ?? 2 });
    } catch (e) {
      if (e instanceof DataError) throw new MetricError(`model '${label}': ${e.detail}`, { index: e.index });
      throw e;
    }
    return {
      label,
      k: Math.max(...samples.map((s) => s.predictions.length)),
      horizons: rows.map((r) => ({
        horizon: r.horizon,
        samples: r.samples,
        ade: r.minAde,
        fde: r.minFde,
        meanAde: r.meanAde,
        meanFde: r.meanFde,
        missRate: r.missRate,
      })),
    };
  });
}

/** Mean displacement error at every time step of the horizon, per label (for the error-vs-horizon plot). */
export function errorByStep(p: PredictionsJson): { model: string; t: number; error: number; samples: number }[] {
  if (p.sets.length === 0) return [];
  const H = commonHorizon(p);
  const steps = p.sets[0]!.times.filter((t) => t <= H + 1e-9);
  const out: { model: string; t: number; error: number; samples: number }[] = [];
  for (const label of predictionLabels(p)) {
    const rows = predictionMetrics(labelSamples(p, label), { horizons: steps });
    for (const r of rows) out.push({ model: label, t: r.horizon, error: r.minFde, samples: r.samples });
  }
  return out;
}

/** Final displacement error of every set for one label (NaN where the set has no such prediction). */
export function finalErrors(p: PredictionsJson, label: string): number[] {
  return p.sets.map((s) => {
    const qs = s.predictions.filter((q) => q.label === label);
    if (qs.length === 0) return NaN;
    const g = s.gt[s.gt.length - 1]!;
    return Math.min(...qs.map((q) => Math.hypot(...q.positions[q.positions.length - 1]!.map((v, i) => v - g[i]!))));
  });
}
