// The data-efficiency plot of a run report (app/report/plots): FDE at the longest horizon against
// the fraction of training windows used, one line per model, mean ± standard deviation over seeds.

import type { TopLevelSpec } from 'vega-lite';
import { PLOT_CONFIG } from '../render.ts';
import { modelColorScale } from './colors.ts';

/** One point of the curve (mean and spread over seeds). */
export interface EfficiencyPoint {
  model: string;
  fraction: number;
  mean: number;
  std: number;
  seeds: number;
}

/** The Vega-Lite spec of the data-efficiency curve; `metric` names the y value (e.g. 'FDE@1.5 s'). */
export function dataEfficiencySpec(points: EfficiencyPoint[], models: readonly string[], metric: string): TopLevelSpec {
  const color = modelColorScale(models, [...new Set(points.map((p) => p.model))]);
  // each model's points moved by a few per cent along the log axis so that error bars do not overlap
  const shown = [...new Set(points.map((p) => p.model))];
  const shift = (m: string): number => 1 + 0.025 * (shown.indexOf(m) - (shown.length - 1) / 2);
  const rows = points.map((p) => ({ ...p, percent: 100 * p.fraction * shift(p.model), lo: p.mean - p.std, hi: p.mean + p.std }));
  const ticks = [...new Set(points.map((p) => 100 * p.fraction))].sort((a, b) => a - b);
  const x = {
    field: 'percent',
    type: 'quantitative' as const,
    title: 'training windows used (%, log scale)',
    scale: { type: 'log' as const, domain: [ticks[0]! * 0.8, ticks[ticks.length - 1]! * 1.25], nice: false },
    axis: { values: ticks, grid: true },
  };
  const c = { field: 'model', type: 'nominal' as const, title: 'model', scale: color };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    title: { text: 'Data efficiency', subtitle: `${metric} on the test split; bars: ± standard deviation over seeds` },
    width: 520,
    height: 320,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: `${metric} (m)` }, color: c } },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: c } },
    ],
  } as TopLevelSpec;
}
