// Shape arithmetic of the float64 core: sizes, strides, broadcasting, axis normalisation.
// Pure functions on number arrays; no tensors here.
import { ShapeError, fmtShape } from './errors.ts';

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming the op and both shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides of `shape` read as if broadcast to `outShape`: broadcast (size-1 or missing)
 * dimensions get stride 0.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const n = outShape.length;
  const own = stridesOf(shape);
  const s = new Array<number>(n).fill(0);
  const off = n - shape.length;
  for (let i = 0; i < shape.length; i++) s[i + off] = shape[i] === 1 ? 0 : own[i]!;
  return s;
}

/**
 * Offsets into a broadcast operand for every element of `outShape`, in row-major order.
 * Used by the general (non fast-path) broadcasting kernels.
 */
export function broadcastOffsets(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = sizeOf(outShape);
  const offs = new Int32Array(n);
  const strides = broadcastStrides(shape, outShape);
  const nd = outShape.length;
  if (nd === 0) return offs;
  const idx = new Array<number>(nd).fill(0);
  const last = outShape[nd - 1]!;
  const ls = strides[nd - 1]!;
  let base = 0;
  for (let i = 0; i < n; i += last) {
    for (let j = 0; j < last; j++) offs[i + j] = base + j * ls;
    // advance the odometer over all but the last axis
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < outShape[d]!) break;
      base -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return offs;
}

/** Normalises a possibly negative axis against `ndim`; throws naming the op. */
export function normAxis(axis: number, ndim: number, op: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return a;
}

/** Normalises an axis list (undefined = all axes), sorted and deduplicated. */
export function normAxes(axes: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axes === 'number') return [normAxis(axes, ndim, op)];
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(a, ndim, op)))].sort((x, y) => x - y);
}
