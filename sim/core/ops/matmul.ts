// Matrix products of the float64 core: batched matmul with broadcasting batch dims, outer.
// Products from 16^3 multiply-adds run in the WebAssembly SIMD GEMM of sim/linalg/wasm when
// it is active; the JS kernel below otherwise.
import { isGradEnabled, record1, needsGrad } from '../autograd.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastOffsets, broadcastShapes, sizeOf } from '../shape.ts';
import { Tensor, asTensor, type TensorLike } from '../tensor.ts';
import { matrixTranspose, reshape, sumTo } from './shape.ts';
import { mul } from './elementwise.ts';
// the WebAssembly SIMD GEMM for large products (a leaf module: it imports nothing of sim/)
import { gemmItemsWasm } from '../../linalg/gemm.ts';

/**
 * Raw kernel: C[m,n] += A[m,k] B[k,n] at the given offsets (i-k-j order, four rows of B per
 * pass over a row of C, so C is loaded and stored a quarter as often; about twice as fast as
 * one row at a time). Groups of four zeros in A are skipped (sparse and identity-like A).
 */
function gemm(a: Float64Array, ao: number, b: Float64Array, bo: number, c: Float64Array, co: number, m: number, k: number, n: number): void {
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const ci = co + i * n;
    const ai = ao + i * k;
    let p = 0;
    for (; p < k4; p += 4) {
      const a0 = a[ai + p]!;
      const a1 = a[ai + p + 1]!;
      const a2 = a[ai + p + 2]!;
      const a3 = a[ai + p + 3]!;
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const b0 = bo + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) c[ci + j]! += a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
    }
    for (; p < k; p++) {
      const av = a[ai + p]!;
      if (av === 0) continue;
      const bp = bo + p * n;
      for (let j = 0; j < n; j++) c[ci + j]! += av * b[bp + j]!;
    }
  }
}

/** Below this many multiply-adds (or with fewer than 8 rows) an unbatched matmul's first-order backward skips the transposed copies. */
const SMALL_BACKWARD_WORK = 4096;

/** G B' for G [m, n] and B [k, n] (row dot products): [m, k]. */
function gemmNT(g: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const o = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    const gi = i * n;
    for (let p = 0; p < k; p++) {
      const bp = p * n;
      let acc = 0;
      for (let j = 0; j < n; j++) acc += g[gi + j]! * b[bp + j]!;
      o[i * k + p] = acc;
    }
  }
  return o;
}

/** A' G for A [m, k] and G [m, n] (rows of G accumulated): [k, n]. */
function gemmTN(a: Float64Array, g: Float64Array, m: number, k: number, n: number): Float64Array {
  const o = new Float64Array(k * n);
  for (let i = 0; i < m; i++) {
    const gi = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p]!;
      if (v === 0) continue;
      const op = p * n;
      for (let j = 0; j < n; j++) o[op + j]! += v * g[gi + j]!;
    }
  }
  return o;
}

/**
 * Matrix product over the last two axes; leading (batch) axes broadcast. A 1-D operand is
 * read as a row (left) or column (right) vector and that axis is dropped from the result.
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  let A = asTensor(a);
  let B = asTensor(b);
  const vecA = A.ndim === 1;
  const vecB = B.ndim === 1;
  if (vecA) A = reshape(A, [1, A.shape[0]!]);
  if (vecB) B = reshape(B, [B.shape[0]!, 1]);
  if (A.ndim < 2 || B.ndim < 2) throw new ShapeError(`matmul: scalars are not matrices (${fmtShape(A.shape)} x ${fmtShape(B.shape)})`);
  const m = A.shape[A.ndim - 2]!;
  const k = A.shape[A.ndim - 1]!;
  const k2 = B.shape[B.ndim - 2]!;
  const n = B.shape[B.ndim - 1]!;
  if (k !== k2) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(A.shape)} x ${fmtShape(B.shape)}`);
  const ba = A.shape.slice(0, -2);
  const bb = B.shape.slice(0, -2);
  const batch = broadcastShapes(ba, bb, 'matmul');
  const nb = sizeOf(batch);
  const o = new Float64Array(nb * m * n);
  if (nb === 1) {
    if (!gemmItemsWasm(1, A.data, null, B.data, null, o, m, k, n)) gemm(A.data, 0, B.data, 0, o, 0, m, k, n);
  } else {
    const oa = broadcastOffsets(ba, batch);
    const ob = broadcastOffsets(bb, batch);
    if (!gemmItemsWasm(nb, A.data, oa, B.data, ob, o, m, k, n)) {
      for (let t = 0; t < nb; t++) gemm(A.data, oa[t]! * m * k, B.data, ob[t]! * k * n, o, t * m * n, m, k, n);
    }
  }
  const A2 = A;
  const B2 = B;
  let out = new Tensor(o, [...batch, m, n]);
  if (needsGrad(A2, B2)) {
    out = record1('matmul', [A2, B2], out, (g) => {
      // small unbatched products in a first-order backward: g B' and A' g straight from the
      // operands (no transposed copies, which cost more than these products themselves)
      if (!isGradEnabled() && A2.ndim === 2 && B2.ndim === 2 && (m * k * n < SMALL_BACKWARD_WORK || m < 8)) {
        return [
          A2.requiresGrad ? new Tensor(gemmNT(g.data, B2.data, m, n, k), [m, k]) : null,
          B2.requiresGrad ? new Tensor(gemmTN(A2.data, g.data, m, k, n), [k, n]) : null,
        ];
      }
      return [
        A2.requiresGrad ? sumTo(matmul(g, matrixTranspose(B2)), A2.shape) : null,
        B2.requiresGrad ? sumTo(matmul(matrixTranspose(A2), g), B2.shape) : null,
      ];
    });
  }
  if (vecA && vecB) return reshape(out, batch);
  if (vecA) return reshape(out, [...batch, n]);
  if (vecB) return reshape(out, [...batch, m]);
  return out;
}

/** Outer product of the last axes: [..., m] x [..., n] -> [..., m, n]. */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  return mul(reshape(A, [...A.shape, 1]), reshape(B, [...B.shape.slice(0, -1), 1, B.shape[B.ndim - 1]!]));
}
