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
  const rows = points.map((p) => ({ ...p, percent: 100 * p.fraction, lo: p.mean - p.std, hi: p.mean + p.std }));
  const x = { field: 'percent', type: 'quantitative' as const, title: 'training windows used (%, log scale)', scale: { type: 'log' as const } };
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
