// The tables of a run report (app/report): the metrics of every model (grouped over seeds as
// mean ± standard deviation), the same computed from predictions.json when metrics.json is missing,
// the data-efficiency table, and the config and split summaries. Cells are rounded strings.

import type { PredictionsJson } from '../../data/index.ts';
import { fmtHorizon, fmtMeanStd, fmtSig, meanStd } from './format.ts';
import { metricsByLabel } from './prediction-metrics.ts';
import type { DataEfficiencyPoint, ModelMetrics, RunMetrics, SeedStat, SeedSummary } from './run-files.ts';

/** A table of rounded cells, with a note under it. */
export interface Table {
  headers: string[];
  rows: string[][];
  note?: string;
  /** Left-align every cell (key / value tables); otherwise numbers are right-aligned. */
  leftAligned?: boolean;
}

/** The horizons (s) of the FDE values in `models`, increasing. */
export function fdeHorizons(models: { fde: Record<string, number | null> }[]): number[] {
  return [...new Set(models.flatMap((m) => Object.keys(m.fde).map(Number)))].sort((a, b) => a - b);
}

function fdeAt(m: { fde: Record<string, number | null> }, h: number): number | null {
  for (const [k, v] of Object.entries(m.fde)) if (Math.abs(Number(k) - h) < 1e-9) return v;
  return null;
}

/** Model names in first-seen order. */
export function modelNames(models: { name: string }[]): string[] {
  return [...new Set(models.map((m) => m.name))];
}

/** The metrics table: one row per model, mean ± standard deviation where it has several seeds. */
export function metricsTable(metrics: RunMetrics, missThreshold = 2): Table {
  const hs = fdeHorizons(metrics.models);
  const H = hs[hs.length - 1];
  const multi = metrics.models.length > modelNames(metrics.models).length;
  const headers = ['model', 'kind', ...(multi ? ['seeds'] : []), H !== undefined ? `ADE@${fmtHorizon(H)} s (m)` : 'ADE (m)'];
  for (const h of hs) headers.push(`FDE@${fmtHorizon(h)} s (m)`);
  headers.push(H !== undefined ? `miss rate (FDE@${fmtHorizon(H)} s > ${missThreshold} m)` : 'miss rate', 'test windows');
  const rows = modelNames(metrics.models).map((name) => {
    const ms = metrics.models.filter((m) => m.name === name);
    const row = [name, ms[0]!.kind];
    if (multi) row.push(String(new Set(ms.map((m) => m.seed ?? 'none')).size));
    row.push(fmtMeanStd(meanStd(ms.map((m) => m.ade))));
    for (const h of hs) row.push(fmtMeanStd(meanStd(ms.map((m) => fdeAt(m, h)))));
    row.push(fmtMeanStd(meanStd(ms.map((m) => m.missRate)), true));
    row.push([...new Set(ms.map((m) => String(m.samples)))].join(' / '));
    return row;
  });
  const seeds = [...new Set(metrics.models.map((m) => m.seed).filter((x) => x !== undefined))];
  return {
    headers,
    rows,
    note: multi
      ? 'Mean ± sample standard deviation over the seeds of each model.'
      : seeds.length
        ? `Learned models: the run's seed ${seeds.join(', ')}${metrics.seeds?.length ? ' (all seeds in the next table)' : ''}.`
        : undefined,
  };
}

/**
 * One sentence comparing the best learned model with the best baseline by FDE at the longest
 * horizon (means over seeds); undefined without both kinds.
 */
export function bestModelSummary(metrics: RunMetrics): string | undefined {
  const hs = fdeHorizons(metrics.models);
  const H = hs[hs.length - 1];
  if (H === undefined) return undefined;
  const best = (kind: string): { name: string; fde: number } | undefined => {
    let out: { name: string; fde: number } | undefined;
    for (const name of modelNames(metrics.models.filter((m) => m.kind === kind))) {
      const s = meanStd(metrics.models.filter((m) => m.name === name).map((m) => fdeAt(m, H)));
      if (s && (!out || s.mean < out.fde)) out = { name, fde: s.mean };
    }
    return out;
  };
  const l = best('learned'),
    b = best('baseline');
  if (!l || !b || !(b.fde > 0)) return undefined;
  return `Lowest FDE@${fmtHorizon(H)} s of a learned model: ${l.name}, ${fmtSig(l.fde)} m, ${fmtSig(l.fde / b.fde, 2)} × the best baseline (${b.name}, ${fmtSig(b.fde)} m).`;
}

/** The metrics table computed from the predictions (when the run has no metrics.json). */
export function predictionMetricsTable(p: PredictionsJson, missThreshold = 2): Table {
  const labels = metricsByLabel(p, { missThreshold });
  const hs = labels[0]?.horizons.map((h) => h.horizon) ?? [];
  const H = hs[hs.length - 1]!;
  const headers = [
    'model',
    `ADE@${fmtHorizon(H)} s (m)`,
    ...hs.map((h) => `FDE@${fmtHorizon(h)} s (m)`),
    `miss rate (FDE@${fmtHorizon(H)} s > ${missThreshold} m)`,
    'sets',
  ];
  const rows = labels.map((l) => {
    const last = l.horizons[l.horizons.length - 1]!;
    return [l.label, fmtSig(last.ade), ...l.horizons.map((h) => fmtSig(h.fde)), fmtMeanStd({ mean: last.missRate, std: 0, n: 1 }, true), String(last.samples)];
  });
  return { headers, rows, note: 'Computed from predictions.json (the run has no metrics.json).' };
}

/** The data-efficiency table: per model and training fraction, FDE@1.5 s mean ± sd over seeds. */
export function dataEfficiencyTable(points: DataEfficiencyPoint[]): Table {
  const fractions = [...new Set(points.map((p) => p.fraction))].sort((a, b) => a - b);
  const rows = modelNames(points).map((name) => [
    name,
    ...fractions.map((f) => {
      const p = points.find((q) => q.name === name && q.fraction === f);
      return p ? fmtMeanStd({ mean: p.fde15.mean, std: p.fde15.std, n: p.seeds.length }) : '–';
    }),
  ]);
  const headers = fractions.map((f) => {
    const w = points.find((p) => p.fraction === f && p.trainWindows !== undefined)?.trainWindows;
    return `${fmtSig(100 * f, 2)} %${w !== undefined ? ` (${w} windows)` : ''}`;
  });
  const seeds = [...new Set(points.flatMap((p) => p.seeds))];
  return {
    headers: ['model', ...headers],
    rows,
    note: `FDE@1.5 s (m) on the test split by the share of training windows used; mean ± sample standard deviation over seeds ${seeds.join(', ')}.`,
  };
}

/** One series point of the data-efficiency curve per model and fraction. */
export function dataEfficiencyPoints(points: DataEfficiencyPoint[]): { model: string; fraction: number; mean: number; std: number; seeds: number }[] {
  return points.map((p) => ({ model: p.name, fraction: p.fraction, mean: p.fde15.mean, std: p.fde15.std, seeds: p.seeds.length }));
}

/** The over-seeds table: ADE, FDE@1.5 s and miss rate of each learned model, mean ± sample sd. */
export function seedsTable(seeds: SeedSummary[]): Table {
  const ms = (s: SeedStat, percent = false): string => fmtMeanStd({ mean: s.mean, std: s.std, n: s.values?.length ?? 2 }, percent);
  return {
    headers: ['model', 'seeds', 'ADE@1.5 s (m)', 'FDE@1.5 s (m)', 'miss rate (FDE@1.5 s > 2 m)'],
    rows: seeds.map((s) => [s.name, s.seeds.join(', '), ms(s.ade), ms(s.fde15), ms(s.missRate, true)]),
    note: 'Each learned model trained with every seed listed and evaluated on the test split: mean ± sample standard deviation.',
  };
}

/** The model-selection table: best epoch and its validation ADE per learned model. */
export function selectionTable(selection: Record<string, { bestEpoch: number; valAde: number | null }>): Table {
  return {
    headers: ['model', 'best epoch', 'validation ADE (m)'],
    rows: Object.entries(selection).map(([name, s]) => [name, String(s.bestEpoch), fmtSig(s.valAde)]),
    note: 'Each learned model is evaluated with its checkpoint of lowest validation ADE (validation split, no test data).',
  };
}

/** FDE per horizon from metrics.json, mean and spread over seeds (the error-vs-horizon fallback). */
export function horizonPointsFromMetrics(models: ModelMetrics[]): { model: string; t: number; error: number; std: number }[] {
  const out = [];
  for (const name of modelNames(models))
    for (const h of fdeHorizons(models)) {
      const s = meanStd(models.filter((m) => m.name === name).map((m) => fdeAt(m, h)));
      if (s) out.push({ model: name, t: h, error: s.mean, std: s.std });
    }
  return out;
}

function cell(v: unknown): string {
  if (typeof v === 'number') return String(Number(v.toPrecision(4)));
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '–';
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x));
  return s.length > 240 ? `${s.slice(0, 237)}...` : s;
}

/** Key / value rows of a JSON object; nested objects become dotted keys (input.path), arrays compact JSON. */
export function keyValueTable(o: Record<string, unknown>, headers: [string, string] = ['key', 'value']): Table {
  const rows: string[][] = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 4 && Object.keys(v).length > 0)
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x, depth + 1);
    else rows.push([prefix, cell(v)]);
  };
  walk('', o, 0);
  return { headers, rows, leftAligned: true };
}
