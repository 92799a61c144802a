// Model colours shared by every plot of a report (app/report/plots), so one model has one colour
// in the paths, error, loss and data-efficiency plots; the ground truth is always black.

/** Tableau 10, the categorical palette of Vega-Lite. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** Label of the ground-truth series. */
export const GROUND_TRUTH = 'ground truth';

/**
 * A Vega-Lite colour scale for the models `shown` (default all), coloured by their place in `models`
 * (the report's order, the same in every plot), with the ground truth in black when asked.
 */
export function modelColorScale(models: readonly string[], shown?: readonly string[], withGroundTruth = false): { domain: string[]; range: string[] } {
  const domain = models.filter((m) => !shown || shown.includes(m));
  const range = domain.map((m) => PALETTE[models.indexOf(m) % PALETTE.length]!);
  if (withGroundTruth) {
    domain.push(GROUND_TRUTH);
    range.push('#000000');
  }
  return { domain, range };
}
