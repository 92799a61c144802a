// Raw float64 matrix-product kernels of sim/linalg on Float64Arrays at offsets: GEMM
// (C = A B or C += A B, batched with broadcasting strides) and the QP's reduced-KKT
// formation H = Q + G' diag(w) G (lower triangle). Each runs in the WebAssembly SIMD kernels
// (wasm/) from a size where that pays off, else in the pure-JS version (*Js), which is also
// the reference the wasm kernels are tested against.
import { wasmKernels } from './wasm/loader.ts';

/** Smallest M * K * N for which gemm runs in wasm. */
export const WASM_GEMM_MIN_WORK = 4096;

/**
 * C = A B (or C += A B with `accumulate`) for row-major A (M x K at a[aoff..]), B (K x N at
 * b[boff..]), C (M x N at c[coff..]).
 */
export function gemm(
  a: Float64Array,
  aoff: number,
  b: Float64Array,
  boff: number,
  c: Float64Array,
  coff: number,
  M: number,
  K: number,
  N: number,
  accumulate = false,
): void {
  gemmBatch(1, a, aoff, 0, b, boff, 0, c, coff, M, K, N, accumulate);
}

/**
 * `count` products C_t = A_t B_t (or C_t += A_t B_t), item t of A at aoff + t * strideA (a
 * stride of 0 uses one A for all items; likewise B), C's items dense at coff + t * M * N.
 */
export function gemmBatch(
  count: number,
  a: Float64Array,
  aoff: number,
  strideA: number,
  b: Float64Array,
  boff: number,
  strideB: number,
  c: Float64Array,
  coff: number,
  M: number,
  K: number,
  N: number,
  accumulate = false,
): void {
  const w = M * K * N >= WASM_GEMM_MIN_WORK && count > 0 ? wasmKernels() : null;
  if (!w) {
    for (let t = 0; t < count; t++) gemmJs(a, aoff + t * strideA, b, boff + t * strideB, c, coff + t * M * N, M, K, N, accumulate);
    return;
  }
  const mark = w.mark();
  const na = strideA === 0 ? M * K : count * M * K;
  const nb = strideB === 0 ? K * N : count * K * N;
  const pa = w.alloc(na);
  const pb = w.alloc(nb);
  const pc = w.alloc(count * M * N);
  copyItems(w.f64, pa >> 3, a, aoff, strideA, M * K, strideA === 0 ? 1 : count);
  copyItems(w.f64, pb >> 3, b, boff, strideB, K * N, strideB === 0 ? 1 : count);
  if (accumulate) w.put(pc, c, coff, count * M * N);
  const sa = strideA === 0 ? 0 : M * K;
  const sb = strideB === 0 ? 0 : K * N;
  if (accumulate) {
    for (let t = 0; t < count; t++) w.x.gemm(pa + 8 * t * sa, pb + 8 * t * sb, pc + 8 * t * M * N, M, K, N, K, N, N, 1);
  } else w.x.gemmBatch(count, pa, sa, pb, sb, pc, M, K, N);
  w.get(pc, c, coff, count * M * N);
  w.release(mark);
}

function copyItems(dst: Float64Array, doff: number, src: Float64Array, off: number, stride: number, size: number, count: number): void {
  if (stride === size || count === 1) {
    dst.set(src.subarray(off, off + size * count), doff);
    return;
  }
  for (let t = 0; t < count; t++) dst.set(src.subarray(off + t * stride, off + t * stride + size), doff + t * size);
}

/** The pure-JS `gemm` (i-k-j order: rows of B streamed, C's row accumulated in place). */
export function gemmJs(
  a: Float64Array,
  aoff: number,
  b: Float64Array,
  boff: number,
  c: Float64Array,
  coff: number,
  M: number,
  K: number,
  N: number,
  accumulate = false,
): void {
  if (!accumulate) c.fill(0, coff, coff + M * N);
  for (let i = 0; i < M; i++) {
    const ci = coff + i * N;
    for (let k = 0; k < K; k++) {
      const v = a[aoff + i * K + k]!;
      if (v === 0) continue;
      const bk = boff + k * N;
      for (let j = 0; j < N; j++) c[ci + j]! += v * b[bk + j]!;
    }
  }
}

/**
 * Lower triangle of H = Q + G' diag(w) G into h (n x n; Q n x n symmetric, only its lower
 * triangle read; G m x n; w length m). The strict upper triangle of h is left as it is.
 */
export function gramLower(h: Float64Array, q: Float64Array, g: Float64Array, w: Float64Array, n: number, m: number): void {
  const k = n >= 8 ? wasmKernels() : null;
  if (!k) return gramLowerJs(h, q, g, w, n, m);
  const mark = k.mark();
  const ph = k.alloc(n * n);
  const pq = k.alloc(n * n);
  const pg = k.alloc(m * n);
  const pw = k.alloc(m);
  k.put(pq, q, 0, n * n);
  k.put(pg, g, 0, m * n);
  k.put(pw, w, 0, m);
  k.put(ph, h, 0, n * n);
  k.x.gramLower(ph, pq, pg, pw, n, m);
  k.get(ph, h, 0, n * n);
  k.release(mark);
}

/** The pure-JS `gramLower`: four constraints per pass over H (H loaded and stored a quarter as often as with one rank-1 update per constraint). */
export function gramLowerJs(H: Float64Array, Q: Float64Array, G: Float64Array, W: Float64Array, n: number, m: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    for (let k = 0; k <= j; k++) H[rj + k] = Q[rj + k]!;
  }
  const m4 = m - (m % 4);
  let i = 0;
  for (; i < m4; i += 4) {
    const g0 = i * n;
    const g1 = g0 + n;
    const g2 = g1 + n;
    const g3 = g2 + n;
    const w0 = W[i]!;
    const w1 = W[i + 1]!;
    const w2 = W[i + 2]!;
    const w3 = W[i + 3]!;
    for (let j = 0; j < n; j++) {
      const a0 = w0 * G[g0 + j]!;
      const a1 = w1 * G[g1 + j]!;
      const a2 = w2 * G[g2 + j]!;
      const a3 = w3 * G[g3 + j]!;
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const rj = j * n;
      for (let k = 0; k <= j; k++) H[rj + k]! += a0 * G[g0 + k]! + a1 * G[g1 + k]! + a2 * G[g2 + k]! + a3 * G[g3 + k]!;
    }
  }
  for (; i < m; i++) {
    const wi = W[i]!;
    const gi = i * n;
    for (let j = 0; j < n; j++) {
      const a = wi * G[gi + j]!;
      if (a === 0) continue;
      const rj = j * n;
      for (let k = 0; k <= j; k++) H[rj + k]! += a * G[gi + k]!;
    }
  }
}

/**
 * For the core's matmul: C_t = A_{ia[t]} B_{ib[t]} for t < count (items of A and B m x k and
 * k x n, C's dense), in wasm when the kernels are active and the products are large enough.
 * Returns false (nothing done) when the caller should run its own JS kernel.
 */
export function gemmItemsWasm(
  count: number,
  a: Float64Array,
  ia: Int32Array | null,
  b: Float64Array,
  ib: Int32Array | null,
  c: Float64Array,
  m: number,
  k: number,
  n: number,
): boolean {
  // each call copies its operands in and C out: worth it only with enough work per copied value
  if (m * k * n < WASM_GEMM_MIN_WORK || m < 8 || k < 8 || n < 4) return false;
  const w = wasmKernels();
  if (!w) return false;
  const mark = w.mark();
  const pa = w.alloc(a.length);
  const pb = w.alloc(b.length);
  const pc = w.alloc(count * m * n);
  w.put(pa, a, 0, a.length);
  w.put(pb, b, 0, b.length);
  for (let t = 0; t < count; t++) {
    const ao = (ia ? ia[t]! : t) * m * k;
    const bo = (ib ? ib[t]! : t) * k * n;
    w.x.gemm(pa + 8 * ao, pb + 8 * bo, pc + 8 * t * m * n, m, k, n, k, n, n, 0);
  }
  w.get(pc, c, 0, count * m * n);
  w.release(mark);
  return true;
}
