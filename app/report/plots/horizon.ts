// The "error vs horizon" plot of a run report (app/report/plots): mean displacement error at each
// time step after the prediction time, one line per model (from predictions.json), or the FDE
// points of metrics.json (mean ± standard deviation over seeds) when the run has no predictions.

import type { TopLevelSpec } from 'vega-lite';
import { PLOT_CONFIG } from '../render.ts';
import { modelColorScale } from './colors.ts';

/** One point: mean displacement error of `model` at `t` seconds after the prediction time. */
export interface HorizonPoint {
  model: string;
  t: number;
  error: number;
  /** Spread over seeds (standard deviation), when the point is a mean over seeds. */
  std?: number;
}

/** The Vega-Lite spec of the error-vs-horizon plot. */
export function horizonSpec(points: HorizonPoint[], models: readonly string[], source: string): TopLevelSpec {
  const color = modelColorScale(models, [...new Set(points.map((p) => p.model))]);
  const rows = points.map((p) => ({ ...p, lo: p.error - (p.std ?? 0), hi: p.error + (p.std ?? 0) }));
  const enc = {
    x: { field: 't', type: 'quantitative' as const, title: 'time after the prediction (s)', scale: { zero: true } },
    color: { field: 'model', type: 'nominal' as const, title: 'model', scale: color },
  };
  const layer: object[] = [
    {
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: { ...enc, y: { field: 'error', type: 'quantitative', title: 'mean displacement error (m)' } },
    },
  ];
  if (points.some((p) => (p.std ?? 0) > 0))
    layer.push({ mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    title: { text: 'Error vs horizon', subtitle: source },
    width: 520,
    height: 320,
    data: { values: rows },
    layer,
  } as TopLevelSpec;
}
