// Benchmark of sim/linalg (`npm run bench -- linalg`): batched 6x6 LU solves per second for
// a 10k batch with the raw in-place kernels and with the `solve` tape op (forward only, and
// forward + backward), a single 64x64 solve both ways, and the float64 kernels' GFLOP/s
// (WebAssembly SIMD, with and without the copies in and out, and pure JS) beside the
// machine's peak as wasm SIMD reaches it (bench/_flops.ts).
import { loadavg } from 'node:os';
import { Rng, add, backward, eye, mul, noGrad, randn, sum, type Tensor } from '../sim/core/index.ts';
import { luFactor, luSolve, solve } from '../sim/linalg/index.ts';
import { cholFactor, cholFactorJs, luFactorJs } from '../sim/linalg/dense.ts';
import { gemm, gemmJs, gramLower, gramLowerJs } from '../sim/linalg/gemm.ts';
import { kernelBackend, wasmKernels } from '../sim/linalg/wasm/loader.ts';
import { rate, round, timeInterleavedMs } from './_util.ts';
import { measurePeak, rate as flopRate } from './_flops.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'batched 6x6 and 64x64 solves and factorisations: raw kernels vs tape ops';

function wellConditioned(batch: number[], n: number, rng: Rng): Tensor {
  return add(randn([...batch, n, n], rng), mul(n, eye(n)));
}

/** Raw kernels on a batch: copy A, factor, solve in place; returns seconds per batch. */
function rawBatch(A: Float64Array, b: Float64Array, count: number, n: number): () => void {
  const lu = new Float64Array(A.length);
  const x = new Float64Array(b.length);
  const piv = new Int32Array(n);
  return () => {
    lu.set(A);
    x.set(b);
    for (let t = 0; t < count; t++) {
      if (luFactor(lu, t * n * n, n, piv) === 0) throw new Error(`bench: matrix ${t} is singular`);
      luSolve(lu, t * n * n, n, piv, x, t * n, 1);
    }
  };
}

export function batched(count: number, n: number): Record<string, unknown> {
  const rng = new Rng(7);
  const A = wellConditioned([count], n, rng);
  const b = randn([count, n], rng);
  const Ag = A.clone().requireGrad();
  const bg = b.clone().requireGrad();
  // raw kernel, tape op and forward+backward in turns, each after a GC (see timeInterleavedMs)
  const [tRaw, tOp, tGrad] = timeInterleavedMs(
    [
      rawBatch(A.data, b.data, count, n),
      () => void noGrad(() => solve(A, b)),
      () => {
        backward(sum(solve(Ag, bg)));
        Ag.grad = null;
        bg.grad = null;
      },
    ],
    15,
    12, // warm-up rounds: the tape op's code paths need about ten calls to be optimised
  ) as [number, number, number];
  return {
    batch: count,
    n,
    rawKernel: { msPerBatch: round(tRaw), solvesPerS: Math.round((count / tRaw) * 1e3) },
    tapeOpForward: { msPerBatch: round(tOp), solvesPerS: Math.round((count / tOp) * 1e3), ratioToRaw: round(tRaw / tOp) },
    tapeOpForwardBackward: { msPerBatch: round(tGrad), solvesPerS: Math.round((count / tGrad) * 1e3) },
    note: 'the raw kernel reuses its buffers; the tape op allocates its outputs (3 MB here). Whether glibc serves those from fresh mmaps (page faults on first touch, tape op about 0.3 of raw) or from its heap (about 0.95) varies between processes; MALLOC_MMAP_THRESHOLD_=33554432 fixes the heap case',
  };
}

function single(n: number): Record<string, unknown> {
  const rng = new Rng(8);
  const A = wellConditioned([], n, rng);
  const b = randn([n], rng);
  const raw = rawBatch(A.data, b.data, 1, n);
  const rawPerS = rate(raw, 300);
  const opPerS = rate(() => noGrad(() => solve(A, b)), 300);
  const Ag = A.clone().requireGrad();
  const bg = b.clone().requireGrad();
  const gradPerS = rate(() => {
    backward(sum(solve(Ag, bg)));
    Ag.grad = null;
    bg.grad = null;
  }, 300);
  return {
    n,
    rawKernelUs: round(1e6 / rawPerS, 2),
    tapeOpForwardUs: round(1e6 / opPerS, 2),
    tapeOpForwardBackwardUs: round(1e6 / gradPerS, 2),
  };
}

/** One kernel's rates: JS, wasm through the dispatching wrapper (copies in and out), wasm on resident data. */
function kernelRates(flops: number, js: () => void, wasm: () => void, resident: (() => void) | null, reps = 9): Record<string, unknown> {
  const fns = resident ? [js, wasm, resident] : [js, wasm];
  const ts = timeInterleavedMs(fns, reps, 3);
  const out: Record<string, unknown> = {
    mflop: round(flops / 1e6, 3),
    js: { ms: round(ts[0]!), ...flopRate(flops, ts[0]!) },
    wasm: { ms: round(ts[1]!), ...flopRate(flops, ts[1]!) },
  };
  if (resident) out.wasmResident = { ms: round(ts[2]!), ...flopRate(flops, ts[2]!) };
  out.speedup = round(ts[0]! / ts[1]!, 2);
  return out;
}

/** GFLOP/s of GEMM, batched Cholesky and LU, and the QP's G'WG + Q, JS vs wasm SIMD (one thread). */
function kernels(): Record<string, unknown> {
  const w = wasmKernels();
  if (!w) return { skipped: `wasm kernels not active: ${kernelBackend().reason}` };
  const rng = new Rng(9);
  const out: Record<string, unknown> = {};
  for (const n of [32, 64, 128, 256]) {
    const a = Float64Array.from(rng.normals(n * n));
    const b = Float64Array.from(rng.normals(n * n));
    const c = new Float64Array(n * n);
    const mark = w.mark();
    const [pa, pb, pc] = [w.alloc(n * n), w.alloc(n * n), w.alloc(n * n)];
    w.put(pa, a, 0, n * n);
    w.put(pb, b, 0, n * n);
    out[`gemm${n}`] = kernelRates(
      2 * n ** 3,
      () => gemmJs(a, 0, b, 0, c, 0, n, n, n),
      () => gemm(a, 0, b, 0, c, 0, n, n, n),
      () => w.x.gemm(pa, pb, pc, n, n, n, n, n, n, 0),
    );
    w.release(mark);
  }
  const spdBatch = (count: number, n: number): Float64Array => {
    const A = new Float64Array(count * n * n);
    for (let t = 0; t < count; t++) {
      const L = Float64Array.from(rng.normals(n * n));
      const o = t * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[o + i * n + j]! += (L[i * n + k]! * L[j * n + k]!) / n;
      for (let i = 0; i < n; i++) A[o + i * n + i]! += 1;
    }
    return A;
  };
  {
    const [count, n] = [64, 50];
    const A = spdBatch(count, n);
    const work = new Float64Array(A.length);
    const mark = w.mark();
    const pa = w.alloc(A.length);
    out.cholesky50Batch64 = kernelRates(
      (count * n ** 3) / 3,
      () => {
        work.set(A);
        for (let t = 0; t < count; t++) cholFactorJs(work, t * n * n, n);
      },
      () => {
        work.set(A);
        for (let t = 0; t < count; t++) cholFactor(work, t * n * n, n);
      },
      () => {
        w.put(pa, A, 0, A.length);
        w.x.cholFactorBatch(pa, count, n);
      },
    );
    w.release(mark);
  }
  {
    const [count, n] = [64, 75];
    const A = Float64Array.from(rng.normals(count * n * n));
    const work = new Float64Array(A.length);
    const piv = new Int32Array(count * n);
    const mark = w.mark();
    const pa = w.alloc(A.length);
    const pp = w.alloc(count * n);
    const ps = w.alloc(count);
    out.lu75Batch64 = kernelRates(
      (count * 2 * n ** 3) / 3,
      () => {
        work.set(A);
        for (let t = 0; t < count; t++) luFactorJs(work, t * n * n, n, piv, 0, t * n);
      },
      () => {
        work.set(A);
        for (let t = 0; t < count; t++) luFactor(work, t * n * n, n, piv, 0, t * n);
      },
      () => {
        w.put(pa, A, 0, A.length);
        w.x.luFactorBatch(pa, count, n, pp, ps, 0);
      },
    );
    w.release(mark);
  }
  {
    const [n, m] = [50, 50];
    const Q = spdBatch(1, n);
    const G = Float64Array.from(rng.normals(m * n));
    const W = Float64Array.from(rng.normals(m), Math.abs);
    const H = new Float64Array(n * n);
    const mark = w.mark();
    const [ph, pq, pg, pw] = [w.alloc(n * n), w.alloc(n * n), w.alloc(m * n), w.alloc(m)];
    w.put(pq, Q, 0, n * n);
    w.put(pg, G, 0, m * n);
    w.put(pw, W, 0, m);
    out.qpGram50x50 = kernelRates(
      m * n * (n + 1),
      () => gramLowerJs(H, Q, G, W, n, m),
      () => gramLower(H, Q, G, W, n, m),
      () => w.x.gramLower(ph, pq, pg, pw, n, m),
      15,
    );
    w.release(mark);
  }
  return out;
}

/** `npm run bench -- linalg`: returns the JSON object to print. */
export async function run(_args: string[]): Promise<Record<string, unknown>> {
  return {
    bench: 'linalg',
    lu6x6Batch10k: batched(10_000, 6),
    lu64x64: single(64),
    peak: measurePeak(),
    kernels: kernels(),
    flopCounts: "gemm 2 n^3; Cholesky n^3 / 3; LU 2 n^3 / 3; G'WG + Q (lower triangle) m n (n + 1); fractionOfPeak against peak.oneThreadGflops",
    loadAverage1m: round(loadavg()[0]!, 2),
  };
}
