// Shape ops of the float64 core: reshape, broadcastTo/sumTo, transpose, slice, concat,
// stack, gather and scatter-add. Each records a backward written with these same ops.
import { record1, needsGrad, anyNeedsGrad } from '../autograd.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastOffsets, broadcastShapes, normAxis, sameShape, sizeOf, stridesOf } from '../shape.ts';
import { Tensor, asTensor, type TensorLike } from '../tensor.ts';

/** Same data, new shape (no copy). One entry may be -1 (inferred). */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const X = asTensor(x);
  const s = [...shape];
  const inf = s.indexOf(-1);
  if (inf >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== inf));
    s[inf] = rest === 0 ? 0 : X.size / rest;
  }
  if (sizeOf(s) !== X.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(X.shape)} (${X.size} elements) to ${fmtShape(shape)}`);
  }
  if (sameShape(s, X.shape)) return X;
  const out = new Tensor(X.data, s);
  if (!needsGrad(X)) return out;
  return record1('reshape', [X], out, (g) => [reshape(g, X.shape)]);
}

/** Inserts a size-1 axis. */
export function expandDims(x: TensorLike, axis: number): Tensor {
  const X = asTensor(x);
  const a = normAxis(axis, X.ndim + 1, 'expandDims');
  const s = [...X.shape];
  s.splice(a, 0, 1);
  return reshape(X, s);
}

/** Removes size-1 axes (all, or the one given). */
export function squeeze(x: TensorLike, axis?: number): Tensor {
  const X = asTensor(x);
  if (axis === undefined)
    return reshape(
      X,
      X.shape.filter((d) => d !== 1),
    );
  const a = normAxis(axis, X.ndim, 'squeeze');
  if (X.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} of shape ${fmtShape(X.shape)} is not 1`);
  return reshape(
    X,
    X.shape.filter((_, i) => i !== a),
  );
}

/** Materialises x broadcast to `shape`. */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const X = asTensor(x);
  if (sameShape(X.shape, shape)) return X;
  const full = broadcastShapes(X.shape, shape, 'broadcastTo');
  if (!sameShape(full, shape)) throw new ShapeError(`broadcastTo: ${fmtShape(X.shape)} does not broadcast to ${fmtShape(shape)}`);
  const n = sizeOf(shape);
  const o = new Float64Array(n);
  const d = X.data;
  if (X.size === 1) o.fill(d[0]!);
  else {
    const offs = broadcastOffsets(X.shape, shape);
    for (let i = 0; i < n; i++) o[i] = d[offs[i]!]!;
  }
  return record1('broadcastTo', [X], new Tensor(o, [...shape]), (g) => [sumTo(g, X.shape)]);
}

/** Sums x down to `shape` (the reverse of broadcasting): the gradient of a broadcast. */
export function sumTo(x: TensorLike, shape: readonly number[]): Tensor {
  const X = asTensor(x);
  if (sameShape(X.shape, shape)) return X;
  const full = broadcastShapes(shape, X.shape, 'sumTo');
  if (!sameShape(full, X.shape)) throw new ShapeError(`sumTo: ${fmtShape(X.shape)} cannot be summed to ${fmtShape(shape)}`);
  const o = new Float64Array(sizeOf(shape));
  const d = X.data;
  if (o.length === 1) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    o[0] = s;
  } else {
    const offs = broadcastOffsets(shape, X.shape);
    for (let i = 0; i < d.length; i++) o[offs[i]!]! += d[i]!;
  }
  return record1('sumTo', [X], new Tensor(o, [...shape]), (g) => [broadcastTo(g, X.shape)]);
}

/** Permutes axes; the default reverses them (as tf.transpose). */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const X = asTensor(x);
  const nd = X.ndim;
  const p = perm ? perm.map((a) => normAxis(a, nd, 'transpose')) : Array.from({ length: nd }, (_, i) => nd - 1 - i);
  if (p.length !== nd || new Set(p).size !== nd) throw new ShapeError(`transpose: permutation [${perm?.join(', ')}] does not fit shape ${fmtShape(X.shape)}`);
  if (p.every((a, i) => a === i)) return X;
  const outShape = p.map((a) => X.shape[a]!);
  const inStr = stridesOf(X.shape);
  const str = p.map((a) => inStr[a]!);
  const n = X.size;
  const o = new Float64Array(n);
  const d = X.data;
  if (nd === 2) {
    const [r, c] = outShape as [number, number];
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[i * c + j] = d[j * r + i]!;
  } else {
    const idx = new Array<number>(nd).fill(0);
    let off = 0;
    for (let i = 0; i < n; i++) {
      o[i] = d[off]!;
      for (let k = nd - 1; k >= 0; k--) {
        idx[k]!++;
        off += str[k]!;
        if (idx[k]! < outShape[k]!) break;
        off -= str[k]! * outShape[k]!;
        idx[k] = 0;
      }
    }
  }
  const inv = new Array<number>(nd);
  p.forEach((a, i) => (inv[a] = i));
  return record1('transpose', [X], new Tensor(o, outShape), (g) => [transpose(g, inv)]);
}

/** Swaps the last two axes (a batch of matrices transposed). */
export function matrixTranspose(x: TensorLike): Tensor {
  const X = asTensor(x);
  if (X.ndim < 2) throw new ShapeError(`matrixTranspose: needs rank >= 2, got ${fmtShape(X.shape)}`);
  const p = Array.from({ length: X.ndim }, (_, i) => i);
  p[X.ndim - 1] = X.ndim - 2;
  p[X.ndim - 2] = X.ndim - 1;
  return transpose(X, p);
}

/** Copies the box [begin, begin+size) of `src` into `dst` at `dstBegin` (or the reverse). */
function copyBox(
  src: Tensor,
  srcBegin: readonly number[],
  dst: Float64Array,
  dstShape: readonly number[],
  dstBegin: readonly number[],
  size: readonly number[],
  addInto: boolean,
): void {
  const nd = size.length;
  const ss = stridesOf(src.shape);
  const ds = stridesOf(dstShape);
  const n = sizeOf(size);
  if (n === 0) return;
  let so = 0;
  let dof = 0;
  for (let k = 0; k < nd; k++) {
    so += srcBegin[k]! * ss[k]!;
    dof += dstBegin[k]! * ds[k]!;
  }
  const s = src.data;
  const last = nd ? size[nd - 1]! : 1;
  const sl = nd ? ss[nd - 1]! : 1;
  const dl = nd ? ds[nd - 1]! : 1;
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i += last) {
    if (addInto) for (let j = 0; j < last; j++) dst[dof + j * dl]! += s[so + j * sl]!;
    else for (let j = 0; j < last; j++) dst[dof + j * dl] = s[so + j * sl]!;
    for (let k = nd - 2; k >= 0; k--) {
      idx[k]!++;
      so += ss[k]!;
      dof += ds[k]!;
      if (idx[k]! < size[k]!) break;
      so -= ss[k]! * size[k]!;
      dof -= ds[k]! * size[k]!;
      idx[k] = 0;
    }
  }
}

/** tf.slice: the box starting at `begin` of extent `size` (-1 = to the end). */
export function slice(x: TensorLike, begin: readonly number[], size?: readonly number[]): Tensor {
  const X = asTensor(x);
  const nd = X.ndim;
  if (begin.length > nd) throw new ShapeError(`slice: begin of rank ${begin.length} for shape ${fmtShape(X.shape)}`);
  const b = X.shape.map((_, i) => begin[i] ?? 0);
  const sz = X.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - b[i]! : s;
  });
  for (let i = 0; i < nd; i++) {
    if (b[i]! < 0 || sz[i]! < 0 || b[i]! + sz[i]! > X.shape[i]!) {
      throw new ShapeError(`slice: box begin [${b.join(', ')}] size [${sz.join(', ')}] is outside shape ${fmtShape(X.shape)} on axis ${i}`);
    }
  }
  if (sameShape(sz, X.shape)) return X;
  const o = new Float64Array(sizeOf(sz));
  copyBox(X, b, o, sz, new Array<number>(nd).fill(0), sz, false);
  return record1('slice', [X], new Tensor(o, sz), (g) => [padInto(g, X.shape, b)]);
}

/** Zeros of `shape` with x placed at `begin`: the gradient of slice. */
export function padInto(x: TensorLike, shape: readonly number[], begin: readonly number[]): Tensor {
  const X = asTensor(x);
  const o = new Float64Array(sizeOf(shape));
  copyBox(X, new Array<number>(X.ndim).fill(0), o, shape, begin, X.shape, false);
  return record1('padInto', [X], new Tensor(o, [...shape]), (g) => [slice(g, begin, X.shape)]);
}

/** Joins tensors along an existing axis. */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  const X = xs.map(asTensor);
  if (X.length === 0) throw new ShapeError('concat: no tensors given');
  const nd = X[0]!.ndim;
  const ax = normAxis(axis, nd, 'concat');
  const shape = [...X[0]!.shape];
  let total = 0;
  X.forEach((t, k) => {
    if (t.ndim !== nd || t.shape.some((d, i) => i !== ax && d !== shape[i])) {
      throw new ShapeError(`concat: tensor ${k} has shape ${fmtShape(t.shape)}, tensor 0 has ${fmtShape(X[0]!.shape)} (axis ${ax})`);
    }
    total += t.shape[ax]!;
  });
  shape[ax] = total;
  const o = new Float64Array(sizeOf(shape));
  const begins: number[] = [];
  let at = 0;
  for (const t of X) {
    const b = new Array<number>(nd).fill(0);
    b[ax] = at;
    begins.push(at);
    copyBox(t, new Array<number>(nd).fill(0), o, shape, b, t.shape, false);
    at += t.shape[ax]!;
  }
  const out = new Tensor(o, shape);
  if (!anyNeedsGrad(X)) return out;
  return record1('concat', X, out, (g) =>
    X.map((t, k) => {
      if (!t.requiresGrad) return null;
      const b = new Array<number>(nd).fill(0);
      b[ax] = begins[k]!;
      return slice(g, b, t.shape);
    }),
  );
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  const X = xs.map(asTensor);
  if (X.length === 0) throw new ShapeError('stack: no tensors given');
  const ax = normAxis(axis, X[0]!.ndim + 1, 'stack');
  X.forEach((t, k) => {
    if (!sameShape(t.shape, X[0]!.shape)) throw new ShapeError(`stack: tensor ${k} has shape ${fmtShape(t.shape)}, tensor 0 has ${fmtShape(X[0]!.shape)}`);
  });
  return concat(
    X.map((t) => expandDims(t, ax)),
    ax,
  );
}

/** Splits along an axis into pieces of the given sizes (or n equal pieces). */
export function split(x: TensorLike, sizes: number | readonly number[], axis = 0): Tensor[] {
  const X = asTensor(x);
  const ax = normAxis(axis, X.ndim, 'split');
  const len = X.shape[ax]!;
  const parts = typeof sizes === 'number' ? new Array<number>(sizes).fill(len / sizes) : sizes;
  if (parts.reduce((s, v) => s + v, 0) !== len || parts.some((p) => !Number.isInteger(p))) {
    throw new ShapeError(`split: sizes [${parts.join(', ')}] do not add up to ${len} on axis ${ax} of ${fmtShape(X.shape)}`);
  }
  let at = 0;
  return parts.map((p) => {
    const b = new Array<number>(X.ndim).fill(0);
    b[ax] = at;
    const sz = [...X.shape];
    sz[ax] = p;
    at += p;
    return slice(X, b, sz);
  });
}

function checkIndices(indices: ArrayLike<number>, n: number, op: string): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new ShapeError(`${op}: index ${k} at position ${i} is out of range [0, ${n})`);
  }
}

/** Picks slices `indices` along `axis` (tf.gather). */
export function gather(x: TensorLike, indices: ArrayLike<number>, axis = 0): Tensor {
  const X = asTensor(x);
  const ax = normAxis(axis, X.ndim, 'gather');
  const n = X.shape[ax]!;
  checkIndices(indices, n, 'gather');
  const outer = sizeOf(X.shape.slice(0, ax));
  const inner = sizeOf(X.shape.slice(ax + 1));
  const m = indices.length;
  const o = new Float64Array(outer * m * inner);
  const d = X.data;
  for (let a = 0; a < outer; a++) {
    for (let i = 0; i < m; i++) {
      const src = (a * n + indices[i]!) * inner;
      const dst = (a * m + i) * inner;
      for (let j = 0; j < inner; j++) o[dst + j] = d[src + j]!;
    }
  }
  const shape = [...X.shape];
  shape[ax] = m;
  return record1('gather', [X], new Tensor(o, shape), (g) => [scatterAdd(null, X.shape, indices, g, ax)]);
}

/**
 * Adds `updates` into slices `indices` of `x` along `axis` (duplicate indices add up);
 * with `x` null, into zeros of `shape`.
 */
export function scatterAdd(x: TensorLike | null, shape: readonly number[], indices: ArrayLike<number>, updates: TensorLike, axis = 0): Tensor {
  const U = asTensor(updates);
  const X = x === null ? null : asTensor(x);
  const sh = X ? X.shape : shape;
  const ax = normAxis(axis, sh.length, 'scatterAdd');
  const n = sh[ax]!;
  checkIndices(indices, n, 'scatterAdd');
  const m = indices.length;
  const expected = [...sh];
  expected[ax] = m;
  if (!sameShape(U.shape, expected)) throw new ShapeError(`scatterAdd: updates have shape ${fmtShape(U.shape)}, expected ${fmtShape(expected)}`);
  const outer = sizeOf(sh.slice(0, ax));
  const inner = sizeOf(sh.slice(ax + 1));
  const o = X ? new Float64Array(X.data) : new Float64Array(sizeOf(sh));
  const u = U.data;
  for (let a = 0; a < outer; a++) {
    for (let i = 0; i < m; i++) {
      const dst = (a * n + indices[i]!) * inner;
      const src = (a * m + i) * inner;
      for (let j = 0; j < inner; j++) o[dst + j]! += u[src + j]!;
    }
  }
  const inputs = X ? [X, U] : [U];
  return record1('scatterAdd', inputs, new Tensor(o, [...sh]), (g) => {
    const gu = U.requiresGrad ? gather(g, indices, ax) : null;
    return X ? [g, gu] : [gu];
  });
}
