// Reductions of the float64 core: sum, mean, max and min along axes.
import { record1 } from '../autograd.ts';
import { normAxes, broadcastOffsets, sizeOf } from '../shape.ts';
import { Tensor, asTensor, type TensorLike } from '../tensor.ts';
import { div, mul } from './elementwise.ts';
import { broadcastTo, reshape, sumTo } from './shape.ts';

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` (all by default). */
export function sum(x: TensorLike, axes?: number | readonly number[], keepDims = false): Tensor {
  const X = asTensor(x);
  if (axes === undefined && !keepDims) {
    // full reduction: one node, the common case of a loss
    const d = X.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    const out = new Tensor(new Float64Array(1).fill(s), []);
    return record1('sum', [X], out, (g) => [broadcastTo(g, X.shape)]);
  }
  const ax = normAxes(axes, X.ndim, 'sum');
  return reshape(sumTo(X, keptShape(X.shape, ax)), outShape(X.shape, ax, keepDims));
}

/** Mean over `axes` (all by default). */
export function mean(x: TensorLike, axes?: number | readonly number[], keepDims = false): Tensor {
  const X = asTensor(x);
  const ax = normAxes(axes, X.ndim, 'mean');
  const n = ax.reduce((p, a) => p * X.shape[a]!, 1);
  return div(sum(X, ax, keepDims), n);
}

function extremum(X: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean, op: 'max' | 'min'): Tensor {
  const ax = normAxes(axes, X.ndim, op);
  const kept = keptShape(X.shape, ax);
  const m = sizeOf(kept);
  const best = new Float64Array(m).fill(op === 'max' ? -Infinity : Infinity);
  const arg = new Int32Array(m).fill(-1);
  const offs = broadcastOffsets(kept, X.shape);
  const d = X.data;
  for (let i = 0; i < d.length; i++) {
    const k = offs[i]!;
    const v = d[i]!;
    const b = best[k]!;
    if (arg[k] === -1 || (Number.isNaN(v) && !Number.isNaN(b)) || (op === 'max' ? v > b : v < b)) {
      best[k] = v;
      arg[k] = i;
    }
  }
  const out = new Tensor(best, outShape(X.shape, ax, keepDims));
  return record1(op, [X], out, (g) => {
    const mask = new Float64Array(X.size);
    for (let k = 0; k < m; k++) mask[arg[k]!] = 1;
    return [mul(new Tensor(mask, X.shape), broadcastTo(reshape(g, kept), X.shape))];
  });
}

/** Maximum over `axes`; the gradient goes to the first maximal element. NaN propagates. */
export function max(x: TensorLike, axes?: number | readonly number[], keepDims = false): Tensor {
  return extremum(asTensor(x), axes, keepDims, 'max');
}

/** Minimum over `axes`; the gradient goes to the first minimal element. NaN propagates. */
export function min(x: TensorLike, axes?: number | readonly number[], keepDims = false): Tensor {
  return extremum(asTensor(x), axes, keepDims, 'min');
}
