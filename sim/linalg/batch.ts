// Shared plumbing of the tape ops in sim/linalg: matrix shape checks, the vector-or-matrix
// reading of right-hand sides, batch broadcasting offsets, triangle masks and the wording
// of LinalgError messages. Internal to sim/linalg (not exported by its index.ts).
import { ShapeError, Tensor, broadcastOffsets, broadcastShapes, fmtShape, reshape, sameShape, sizeOf } from '../core/index.ts';

/** Batch shape and matrix size of a [..., m, n] operand. */
export interface MatrixDims {
  batch: number[];
  m: number;
  n: number;
  /** Number of matrices in the batch (1 when unbatched). */
  count: number;
}

/** Reads `x` as a batch of matrices [..., m, n]; with `square`, checks m = n. */
export function matrixDims(x: Tensor, op: string, name: string, square: boolean): MatrixDims {
  if (x.ndim < 2) throw new ShapeError(`${op}: ${name} must be a matrix [..., m, n], got shape ${fmtShape(x.shape)}`);
  const m = x.shape[x.ndim - 2]!;
  const n = x.shape[x.ndim - 1]!;
  if (square && m !== n) throw new ShapeError(`${op}: ${name} must be square [..., n, n], got shape ${fmtShape(x.shape)}`);
  const batch = x.shape.slice(0, -2);
  return { batch, m, n, count: sizeOf(batch) };
}

/**
 * Reads the right-hand side `b` of a system with left-hand side of shape `lhs` ([..., m, n])
 * as a batch of matrices [..., m, k]. As in torch.linalg.solve, `b` is a (batch of)
 * vector(s) when it is 1-D or when its shape is exactly lhs's batch shape plus m; otherwise
 * it is a (batch of) matrices [..., m, k]. Vectors are reshaped to [..., m, 1] (no copy).
 */
export function rhsAsMatrix(b: Tensor, lhs: readonly number[], op: string): { B: Tensor; vector: boolean } {
  const m = lhs[lhs.length - 2]!;
  const lhsBatch = lhs.slice(0, -2);
  const vector = b.ndim === 1 || (b.ndim === lhs.length - 1 && sameShape(b.shape.slice(0, -1), lhsBatch));
  if (vector) {
    if (b.shape[b.ndim - 1] !== m) throw new ShapeError(`${op}: b of shape ${fmtShape(b.shape)} does not fit A of shape ${fmtShape(lhs)} (needs ${m} rows)`);
    return { B: reshape(b, [...b.shape, 1]), vector: true };
  }
  if (b.ndim < 2 || b.shape[b.ndim - 2] !== m) {
    throw new ShapeError(
      `${op}: b of shape ${fmtShape(b.shape)} does not fit A of shape ${fmtShape(lhs)}: b must be [..., ${m}] with A's batch dims, or [..., ${m}, k] ` +
        `(for a batch of vectors against one unbatched A, pass b as [batch, ${m}, 1])`,
    );
  }
  const bb = b.shape.slice(0, -2);
  try {
    broadcastShapes(lhsBatch, bb, op);
  } catch {
    throw new ShapeError(`${op}: batch dims of A ${fmtShape(lhs)} and b ${fmtShape(b.shape)} do not broadcast`);
  }
  return { B: b, vector: false };
}

/**
 * The front end of a solve against the matrix operand M ([..., m, n], checked square when
 * `square`): reads b by `rhsAsMatrix`, runs `solveMatrix` on its matrix form B [..., m, k]
 * and returns the result in b's form (without the k = 1 axis when b is a vector).
 */
export function solveInRhsForm(op: string, M: Tensor, name: string, square: boolean, b: Tensor, solveMatrix: (B: Tensor) => Tensor): Tensor {
  matrixDims(M, op, name, square);
  const { B, vector } = rhsAsMatrix(b, M.shape, op);
  const X = solveMatrix(B);
  return vector ? reshape(X, X.shape.slice(0, -1)) : X;
}

/** Right-hand sides laid out for a batched solve against n x n matrices (see `rhsBlocks`). */
export interface RhsBlocks {
  /** Broadcast batch shape of the matrices and the right-hand sides. */
  batch: number[];
  /** Items of that batch: the number of solves. */
  count: number;
  /** For each item, the index of its matrix; null when item t uses matrix t. */
  im: Int32Array | null;
  /** Columns of each right-hand side. */
  k: number;
  /** A fresh copy of the right-hand sides, item t's n x k block at t * n * k (solves run in place on it). */
  x: Float64Array;
}

/** Lays out B ([..., n, k]) for solves against the n x n matrices of M ([..., n, n]), batch dims broadcasting. */
export function rhsBlocks(M: Tensor, B: Tensor, op: string): RhsBlocks {
  const n = M.shape[M.ndim - 1]!;
  const k = B.shape[B.ndim - 1]!;
  const batch = broadcastBatch(M, B, op);
  const im = batchIndex(M.shape.slice(0, -2), batch);
  const ib = batchIndex(B.shape.slice(0, -2), batch);
  const count = sizeOf(batch);
  const nk = n * k;
  let x: Float64Array;
  if (ib === null) x = new Float64Array(B.data);
  else {
    x = new Float64Array(count * nk);
    for (let t = 0; t < count; t++) x.set(B.data.subarray(ib[t]! * nk, ib[t]! * nk + nk), t * nk);
  }
  return { batch, count, im, k, x };
}

/** Batch shape of two operands broadcast together (error names both full shapes). */
export function broadcastBatch(a: Tensor, b: Tensor, op: string): number[] {
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  try {
    return broadcastShapes(ba, bb, op);
  } catch {
    throw new ShapeError(`${op}: batch dims of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`);
  }
}

/**
 * For each item of the broadcast batch `full`, the index of the matching item of an operand
 * with batch shape `own`; null when they are the same (identity).
 */
export function batchIndex(own: readonly number[], full: readonly number[]): Int32Array | null {
  if (sameShape(own, full)) return null;
  if (sizeOf(own) === 1) return new Int32Array(sizeOf(full));
  return broadcastOffsets(own, full);
}

/** "matrix 3 of the batch", with the multi-index when the batch has several axes. */
export function itemLabel(i: number, batch: readonly number[]): string {
  if (batch.length <= 1) return `matrix ${i} of the batch`;
  const idx: number[] = [];
  let r = i;
  for (let d = batch.length - 1; d >= 0; d--) {
    idx.unshift(r % batch[d]!);
    r = Math.floor(r / batch[d]!);
  }
  return `matrix ${i} (index [${idx.join(', ')}]) of the batch`;
}

/** A number for an error message: six significant digits, no trailing zeros. */
export function fmtNum(v: number): string {
  return Number.isFinite(v) ? String(+v.toPrecision(6)) : String(v);
}

const maskCache = new Map<string, Tensor>();

/**
 * Constant n x n 0/1 mask of the lower (or upper) triangle, without the diagonal when
 * `strict`. Cached; never mutate it.
 */
export function triMask(n: number, lower: boolean, strict: boolean): Tensor {
  const key = `${n}:${lower}:${strict}`;
  let t = maskCache.get(key);
  if (!t) {
    const d = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const inside = lower ? j < i : j > i;
        if (inside || (!strict && i === j)) d[i * n + j] = 1;
      }
    }
    t = new Tensor(d, [n, n]);
    maskCache.set(key, t);
  }
  return t;
}

/** Constant n x n identity (cached; never mutate it). */
export function eyeConst(n: number): Tensor {
  const key = `eye:${n}`;
  let t = maskCache.get(key);
  if (!t) {
    const d = new Float64Array(n * n);
    for (let i = 0; i < n; i++) d[i * n + i] = 1;
    t = new Tensor(d, [n, n]);
    maskCache.set(key, t);
  }
  return t;
}

/** Copies each n x n matrix of `src` as its symmetric part (A + A^T) / 2 into a fresh array. */
export function symmetricPart(src: Float64Array, count: number, n: number): Float64Array {
  const out = new Float64Array(count * n * n);
  for (let t = 0; t < count; t++) {
    const o = t * n * n;
    for (let i = 0; i < n; i++) {
      out[o + i * n + i] = src[o + i * n + i]!;
      for (let j = 0; j < i; j++) {
        const v = 0.5 * (src[o + i * n + j]! + src[o + j * n + i]!);
        out[o + i * n + j] = v;
        out[o + j * n + i] = v;
      }
    }
  }
  return out;
}
