// Shared helpers of the benchmarks in bench/: timing with warm-up (wall and CPU), medians,
// forced GC, memory in use, command-line arguments and rounding for the JSON output.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The engine's `gc` (exposed at run time with --expose-gc), or undefined if it could not be exposed. */
function exposeGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const gcFn = exposeGc();

/** Whether `gc()` really collects (the engine's gc could be exposed). */
export const gcExposed = gcFn !== undefined;

/**
 * Forces `passes` full garbage collections (so heap figures are comparable); a no-op when
 * the engine's gc could not be exposed. After a backward pass, the array buffers of the
 * freed tape are only released by a second pass.
 */
export function gc(passes = 1): void {
  for (let i = 0; i < passes; i++) gcFn?.();
}

/** Heap plus array-buffer bytes in use now (no collection first). */
export function memUsed(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Heap bytes in use after a full GC. */
export function heapUsed(): number {
  gc();
  return memUsed();
}

/** Median of `xs` (the upper one of the middle two for an even count); `xs` is left as it is. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median wall times in ms of several functions measured in turns (f0, f1, ..., f0, f1, ...),
 * each run after a full GC, over `reps` rounds after `warmup` rounds: what one function
 * allocates is then not collected on another's clock, and slow drifts of a shared machine's
 * load fall on all of them alike. Use it for "ours vs bare loop" ratios.
 */
export function timeInterleavedMs(fns: readonly (() => void)[], reps = 9, warmup = 2): number[] {
  for (let r = 0; r < warmup; r++) for (const f of fns) f();
  const ts = fns.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    fns.forEach((f, i) => {
      gc();
      const t0 = performance.now();
      f();
      ts[i]!.push(performance.now() - t0);
    });
  }
  return ts.map(median);
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
  return median(ts);
}

/** Median wall time in ms of the async `fn` (awaited) over `reps` runs after `warmup` runs. */
export async function timeMsAsync(fn: () => Promise<unknown> | unknown, reps: number, warmup = 0): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/**
 * Median wall-clock and CPU (this process: user + system) milliseconds of `fn` over `reps`
 * runs after `warmup` runs. CPU times are less sensitive to a shared machine's load.
 */
export function timeWallCpu(fn: () => void, reps: number, warmup = 1): { wall: number; cpu: number } {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
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

/** The value of option `--name` in `args` (`--name value` or `--name=value`), undefined when absent. */
export function argString(args: readonly string[], name: string): string | undefined {
  const flag = `--${name}`;
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

/** How `argNum` checks a number: `bench` names the benchmark in the error; `allowZero` admits 0. */
export interface ArgNumOptions {
  bench: string;
  allowZero?: boolean;
}

/**
 * The number given as option `--name` in `args` (see `argString`), `dflt` when absent.
 * Throws, naming the benchmark and the option, unless it is finite and positive (or >= 0
 * with `allowZero`).
 */
export function argNum(args: readonly string[], name: string, dflt: number, opts: ArgNumOptions): number {
  const s = argString(args, name);
  if (s === undefined && !args.includes(`--${name}`)) return dflt;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0 || (v === 0 && !opts.allowZero)) {
    throw new Error(`bench ${opts.bench}: --${name} needs ${opts.allowZero ? 'a number >= 0' : 'a positive number'}, got '${s ?? ''}'`);
  }
  return v;
}

/** Rounds for JSON output. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
