// The loss-curve plot of a run report (app/report/plots): training loss and the validation ADE
// (and FDE when recorded) per epoch, one line per model and seed, from history.json.

import type { TopLevelSpec } from 'vega-lite';
import type { HistoryEpoch } from '../run-files.ts';
import { PLOT_CONFIG } from '../render.ts';
import { modelColorScale } from './colors.ts';

/** The Vega-Lite spec of the loss curves (log scale for a positive training loss). */
export function lossSpec(epochs: HistoryEpoch[], models: readonly string[]): TopLevelSpec {
  const color = modelColorScale(models, [...new Set(epochs.map((e) => e.model))]);
  const rows = epochs.map((e) => ({
    model: e.model,
    run: `${e.model} seed ${e.seed ?? '-'}`,
    epoch: e.epoch,
    trainLoss: e.trainLoss,
    valAde: e.valAde ?? null,
    valFde: e.valFde ?? null,
  }));
  const logLoss = rows.length > 0 && rows.every((r) => r.trainLoss > 0);
  const panel = (field: string, title: string, log: boolean): object => ({
    width: 300,
    height: 240,
    transform: [{ filter: `isValid(datum.${field})` }],
    mark: { type: 'line', point: { size: 16 }, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field, type: 'quantitative', title, scale: log ? { type: 'log' } : { zero: false } },
      color: { field: 'model', type: 'nominal', title: 'model', scale: color },
      detail: { field: 'run', type: 'nominal' },
      order: { field: 'epoch', type: 'quantitative' },
    },
  });
  const panels = [panel('trainLoss', logLoss ? 'training loss (log scale)' : 'training loss', logLoss)];
  if (rows.some((r) => r.valAde !== null)) panels.push(panel('valAde', 'validation ADE (m)', false));
  if (rows.some((r) => r.valFde !== null)) panels.push(panel('valFde', 'validation FDE (m)', false));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    title: {
      text: 'Loss curves',
      subtitle: epochs.some((e) => e.seed !== undefined) ? 'per epoch, one line per model and seed' : 'per epoch, one line per model',
    },
    data: { values: rows },
    hconcat: panels,
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}
