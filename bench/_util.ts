// Shared helpers of the benchmarks in bench/: timing with warm-up, forced GC, peak memory.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as (() => void) | undefined;

/** Forces a full garbage collection (so heap figures are comparable). */
export function gc(): void {
  gcFn?.();
}

/** Median wall time in ms of `fn` over `reps` runs after `warmup` runs. */
export function timeMs(fn: () => void, reps = 5, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns calls per second. */
export function rate(fn: () => void, ms = 300): number {
  for (let i = 0; i < 100; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/** Heap bytes in use after a full GC. */
export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

/** Rounds for JSON output. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
