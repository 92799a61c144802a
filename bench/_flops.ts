// Shared helpers of the benchmarks for arithmetic rates: the machine's float64 peak as the
// WebAssembly SIMD kernels can reach it (a tight loop of independent f64x2 multiply-adds in
// kernels.wasm, on one thread and on all threads at once), GFLOP/s and fraction of that peak,
// and timing the same function with the wasm and the JS kernels in turns (one run, so a
// shared machine's load falls on both alike).
import { setKernelBackend, wasmKernels } from '../sim/linalg/wasm/loader.ts';
import { defaultThreads, runOnWorkers, threadsUnavailable, type WorkerAnswer, type WorkerJob } from '../models/implicit/worker-pool.ts';
import { median, round } from './_util.ts';

/** Flops of one peakLoop round: twelve f64x2 (mul, add) pairs = 12 * 2 lanes * 2 flops. */
const FLOPS_PER_ROUND = 48;

/** GFLOP/s of peakLoop on this thread (best of `tries` runs of about `ms` each). */
function peakHere(ms = 60, tries = 5): number {
  const w = wasmKernels();
  if (!w) return NaN;
  let iters = 1 << 16;
  for (;;) {
    const t0 = performance.now();
    w.x.peakLoop(iters, 0.999999, 1e-6);
    if (performance.now() - t0 > ms / 4) break;
    iters *= 2;
  }
  let best = 0;
  for (let i = 0; i < tries; i++) {
    const t0 = performance.now();
    w.x.peakLoop(iters, 0.999999, 1e-6);
    const t = (performance.now() - t0) / 1e3;
    best = Math.max(best, (iters * FLOPS_PER_ROUND) / t / 1e9);
  }
  return best;
}

/** Worker task: this thread's peak (for the all-threads figure). */
export function peakTask(): WorkerAnswer<number> {
  return { result: peakHere(), transfer: [] };
}

/** The float64 peak of the wasm SIMD kernels on this machine (GFLOP/s), one thread and all threads at once. */
export interface Peak {
  oneThreadGflops: number;
  allThreadsGflops: number;
  threads: number;
  method: string;
}

let cached: Peak | null = null;

/** Measures the peak once per process (see Peak). NaN when the wasm kernels are not active. */
export function measurePeak(): Peak {
  if (cached) return cached;
  const one = peakHere();
  const threads = threadsUnavailable() ? 1 : defaultThreads();
  let all = one;
  if (threads > 1) {
    const jobs: WorkerJob[] = [];
    for (let t = 1; t < threads; t++) jobs.push({ module: import.meta.url, fn: 'peakTask', payload: null, start: t, end: t + 1 });
    runOnWorkers(() => 0, jobs, 'peak'); // first call: workers start and load the module
    const [here, rest] = runOnWorkers<number, number>(() => peakHere(), jobs, 'peak');
    all = here + rest.reduce((a, b) => a + b, 0);
  }
  cached = {
    oneThreadGflops: round(one, 2),
    allThreadsGflops: round(all, 2),
    threads,
    method:
      "best of 5 runs of a wasm loop of twelve independent f64x2 multiply-then-add chains (acc = acc * x + y; no FMA in wasm SIMD), 48 flops per round; all threads: the same loop on every thread at once, summed. This is the peak reachable from wasm (128-bit vectors, separate multiply and add); the core's own 256-bit FMA peak is higher",
  };
  return cached;
}

/** GFLOP/s of `flops` in `ms`, and its fraction of the one-thread (or all-threads) peak. */
export function rate(flops: number, ms: number, threads: 'one' | 'all' = 'one'): { gflops: number; fractionOfPeak: number } {
  const p = measurePeak();
  const g = flops / (ms * 1e6);
  return { gflops: round(g, 3), fractionOfPeak: round(g / (threads === 'one' ? p.oneThreadGflops : p.allThreadsGflops), 3) };
}

/**
 * Median wall ms of each function, run in turns (f0, f1, ..., f0, f1, ...) `reps` times after
 * `warmup` rounds, without forcing a GC between them: the layers allocate much, and a forced
 * full GC before each run makes the next one pay page faults for the memory it re-acquires
 * (measured 1.5-3x slower on the QP layer), which the runs of an application never see.
 */
export function timeTurns(fns: readonly (() => void)[], reps: number, warmup = 2): number[] {
  for (let r = 0; r < warmup; r++) for (const f of fns) f();
  const ts = fns.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    fns.forEach((f, i) => {
      const t0 = performance.now();
      f();
      ts[i]!.push(performance.now() - t0);
    });
  }
  return ts.map(median);
}

/** Runs `fn` with the JS kernels forced, then back to 'auto'. */
export function withJsKernels(fn: () => void): () => void {
  return () => {
    setKernelBackend('js');
    try {
      fn();
    } finally {
      setKernelBackend('auto');
    }
  };
}

/**
 * Median ms of `fn` with the JS kernels and with the wasm kernels, measured in turns in one
 * process (each `reps` times after `warmup` rounds). Leaves the kernels on 'auto'.
 */
export function jsVsWasm(fn: () => void, reps: number, warmup = 2): { jsMs: number; wasmMs: number; speedup: number } {
  const [js, wasm] = timeTurns([withJsKernels(fn), fn], reps, warmup) as [number, number];
  return { jsMs: round(js, 3), wasmMs: round(wasm, 3), speedup: round(js / wasm, 2) };
}
