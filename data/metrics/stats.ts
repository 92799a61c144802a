// Error statistics as evo computes them (data/, bottom layer): rmse, mean, median, std (population,
// ddof 0), min, max, sse over an error array.

import { MetricError } from '../errors.ts';

/** evo's statistics of an error array. */
export interface ErrorStatistics {
  rmse: number;
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  sse: number;
}

/** Names of the statistics in evo's order. */
export const STATISTIC_NAMES = ['max', 'mean', 'median', 'min', 'rmse', 'sse', 'std'] as const;

/** Computes {@link ErrorStatistics}; the median of an even count is the mean of the two middle values (numpy). */
export function errorStatistics(errors: ArrayLike<number>): ErrorStatistics {
  const n = errors.length;
  if (n === 0) throw new MetricError('no errors to summarise (empty error array)');
  let sum = 0,
    sse = 0,
    min = Infinity,
    max = -Infinity;
  for (let i = 0; i < n; i++) {
    const e = errors[i]!;
    if (Number.isNaN(e)) throw new MetricError(`error value at index ${i} is NaN`, { index: i });
    sum += e;
    sse += e * e;
    if (e < min) min = e;
    if (e > max) max = e;
  }
  const mean = sum / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (errors[i]! - mean) ** 2;
  const sorted = Float64Array.from(errors).sort();
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { rmse: Math.sqrt(sse / n), mean, median, std: Math.sqrt(v / n), min, max, sse };
}
