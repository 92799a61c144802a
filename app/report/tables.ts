// The tables of a run report (app/report): the metrics of every model (grouped over seeds as
// mean ± standard deviation), the same computed from predictions.json when metrics.json is missing,
// the data-efficiency table, and the config and split summaries. Cells are rounded strings.

import type { PredictionsJson } from '../../data/index.ts';
import { fmtHorizon, fmtMeanStd, fmtSig, meanStd } from './format.ts';
import { metricsByLabel } from './prediction-metrics.ts';
import type { DataEfficiencyPoint, ModelMetrics, RunMetrics } from './run-files.ts';

/** A table of rounded cells, with a note under it. */
export interface Table {
  headers: string[];
  rows: string[][];
  note?: string;
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
  const seeds = metrics.seeds?.length ? ` Seeds: ${metrics.seeds.join(', ')}.` : '';
  return {
    headers,
    rows,
    note: multi ? `Mean ± sample standard deviation over the seeds of each model.${seeds}` : seeds.trim() || undefined,
  };
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

/** The data-efficiency table: per model and training fraction, FDE at the longest horizon and ADE. */
export function dataEfficiencyTable(points: DataEfficiencyPoint[]): Table {
  const fractions = [...new Set(points.map((p) => p.fraction))].sort((a, b) => a - b);
  const hs = fdeHorizons(points);
  const H = hs[hs.length - 1];
  const metric = H !== undefined ? `FDE@${fmtHorizon(H)} s` : 'ADE';
  const value = (p: DataEfficiencyPoint): number | null => (H !== undefined ? fdeAt(p, H) : p.ade);
  const rows = modelNames(points).map((name) => [
    name,
    ...fractions.map((f) => {
      const ps = points.filter((p) => p.name === name && p.fraction === f);
      if (ps.length === 0) return '–';
      const s = meanStd(ps.map(value));
      return ps.length > 1 ? `${fmtMeanStd(s)} (${ps.length} seeds)` : fmtMeanStd(s);
    }),
  ]);
  const windows = fractions.map((f) => {
    const w = points.find((p) => p.fraction === f && p.windows !== undefined)?.windows;
    return `${fmtSig(100 * f, 2)} %${w !== undefined ? ` (${w} windows)` : ''}`;
  });
  return {
    headers: ['model', ...windows],
    rows,
    note: `${metric} (m) on the test split by the share of training windows used; mean ± standard deviation over seeds.`,
  };
}

/** One series point of the data-efficiency curve per model and fraction. */
export function dataEfficiencyPoints(points: DataEfficiencyPoint[]): { model: string; fraction: number; mean: number; std: number; seeds: number }[] {
  const hs = fdeHorizons(points);
  const H = hs[hs.length - 1];
  const out = [];
  for (const name of modelNames(points))
    for (const f of [...new Set(points.filter((p) => p.name === name).map((p) => p.fraction))].sort((a, b) => a - b)) {
      const s = meanStd(points.filter((p) => p.name === name && p.fraction === f).map((p) => (H !== undefined ? fdeAt(p, H) : p.ade)));
      if (s) out.push({ model: name, fraction: f, mean: s.mean, std: s.std, seeds: s.n });
    }
  return out;
}

/** The name of the data-efficiency metric ('FDE@1.5 s'). */
export function dataEfficiencyMetric(points: DataEfficiencyPoint[]): string {
  const hs = fdeHorizons(points);
  return hs.length ? `FDE@${fmtHorizon(hs[hs.length - 1]!)} s` : 'ADE';
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
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmtSig(v, 4);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '–';
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x));
  return s.length > 240 ? `${s.slice(0, 237)}...` : s;
}

/** Key / value rows of a JSON object (nested values as compact JSON). */
export function keyValueTable(o: Record<string, unknown>, headers: [string, string] = ['key', 'value']): Table {
  return { headers, rows: Object.entries(o).map(([k, v]) => [k, cell(v)]) };
}
