// Benchmark of the ODE layer (`npm run bench -- ode`): a neural ODE with an 8-64-64-8 tanh MLP
// vector field on t in [0, 1], dopri5 at rtol = atol = 1e-6, loss |y(1)|^2. Times forward and
// forward+backward (adjoint and backprop-through-solver), counts f evaluations, and measures
// the peak memory of batch 4096 (each mode in its own child process: peak RSS).
// Args: --peak-batch N (default 4096; 0 skips), --reps N (timing repetitions, default 5).
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng, Tensor, add, backward, matmul, noGrad, rand, randn, sum, square, tanh } from '../sim/core/index.ts';
import { odeint, type OdeFunc } from '../models/implicit/ode.ts';
import { mlpField } from '../models/implicit/mlp-field.ts';
import { argNum, gc, heapUsed, round, timeMs } from './_util.ts';
import { jsVsWasm, timeTurns } from './_flops.ts';
import { defaultThreads } from '../models/implicit/worker-pool.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'neural ODE (MLP 8-64-64-8, dopri5): forward, adjoint and backprop time, peak memory';

const SIZES = [8, 64, 64, 8];
const OPTS = { method: 'dopri5', rtol: 1e-6, atol: 1e-6 } as const;

/** y' = tanh(tanh(y W1 + b1) W2 + b2) W3 + b3 (autonomous; t unused). */
const mlp: OdeFunc = (_t, y, [W1, b1, W2, b2, W3, b3]) => add(matmul(tanh(add(matmul(tanh(add(matmul(y, W1!), b1!)), W2!), b2!)), W3!), b3!);

/** The same MLP as a known field (mlpField): odeint evaluates it and its VJP numerically, off the tape. */
const known = mlpField(SIZES);

/** PyTorch nn.Linear's default initialisation: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
function makeParams(seed: number): Tensor[] {
  const rng = new Rng(seed);
  const ps: Tensor[] = [];
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const k = 1 / Math.sqrt(SIZES[l]!);
    ps.push(rand([SIZES[l]!, SIZES[l + 1]!], rng, -k, k));
    ps.push(rand([SIZES[l + 1]!], rng, -k, k));
  }
  return ps;
}

function problem(batch: number): { y0: Tensor; params: Tensor[] } {
  return { y0: randn([batch, 8], new Rng(100 + batch)), params: makeParams(7) };
}

/** One forward + backward; returns the stats. */
function forwardBackward(batch: number, adjoint: boolean, y0: Tensor, params: Tensor[], f: OdeFunc = mlp): ReturnType<typeof odeint>['stats'] {
  const ps = params.map((p) => p.detach().requireGrad());
  const y0l = y0.detach().requireGrad();
  const { y, stats } = odeint(f, y0l, [0, 1], ps, { ...OPTS, adjoint });
  backward(sum(square(y)));
  if (!ps[0]!.grad) throw new Error(`bench ode: no gradient (batch ${batch})`);
  return stats;
}

function timing(batch: number, reps: number): Record<string, unknown> {
  const { y0, params } = problem(batch);
  const fwd = noGrad(() => odeint(mlp, y0, [0, 1], params, OPTS));
  const forwardMs = timeMs(() => noGrad(() => odeint(mlp, y0, [0, 1], params, OPTS)), reps, 10);
  const adj = forwardBackward(batch, true, y0, params);
  const adjointMs = timeMs(() => forwardBackward(batch, true, y0, params), reps, 5);
  const bp = forwardBackward(batch, false, y0, params);
  const backpropMs = timeMs(() => forwardBackward(batch, false, y0, params), reps, 5);
  return {
    batch,
    forwardMs: round(forwardMs),
    nfeForward: fwd.stats.nfeForward,
    steps: { accepted: fwd.stats.acceptedSteps, rejected: fwd.stats.rejectedSteps },
    adjoint: {
      forwardBackwardMs: round(adjointMs),
      nfeForward: adj.nfeForward,
      nfeBackward: adj.nfeBackward,
      nfeBackwardParts: { vjp: adj.backward!.nfeAdjoint, recompute: adj.backward!.nfeRecompute },
      backwardSteps: { accepted: adj.backward!.acceptedSteps, rejected: adj.backward!.rejectedSteps },
    },
    backprop: {
      forwardBackwardMs: round(backpropMs),
      nfeForward: bp.nfeForward,
      nfeBackward: bp.nfeBackward,
      note: 'the reverse pass replays the recorded solver ops; f is not evaluated again',
    },
  };
}

/** torchdiffeq odeint_adjoint (dopri5, 1e-6) forward+backward on the same problem, PyTorch 1.13 at one thread on this machine (the measurement), ms. */
const TORCHDIFFEQ_MS: Record<number, number> = { 1: 8.96, 64: 16.0 };

/**
 * The adjoint forward+backward with the JS kernels and with the wasm ones, in turns in one
 * process; flops of the MLP's matmuls (forward evaluations: 2 B (8*64 + 64*64 + 64*8) each;
 * each backward vjp: twice that) as GFLOP/s; and the ratio to torchdiffeq.
 */
function kernelsCompare(batch: number, reps: number, f: OdeFunc = mlp): Record<string, unknown> {
  const { y0, params } = problem(batch);
  const stats = forwardBackward(batch, true, y0, params, f);
  const t = jsVsWasm(() => void forwardBackward(batch, true, y0, params, f), reps, 3);
  const perEval = 2 * batch * (8 * 64 + 64 * 64 + 64 * 8);
  const flops = perEval * (stats.nfeForward + 2 * stats.nfeBackward);
  const ref = TORCHDIFFEQ_MS[batch];
  return {
    adjointForwardBackwardMs: t,
    matmulMflop: round(flops / 1e6, 2),
    matmulGflopsWasm: round(flops / (t.wasmMs * 1e6), 3),
    ...(ref ? { torchdiffeqMs: ref, torchdiffeqOverProject: { js: round(ref / t.jsMs, 2), wasm: round(ref / t.wasmMs, 2) } } : {}),
  };
}

/**
 * Batch 64 with the known MLP field over threads: the shared steps (one thread: they cannot be
 * split), and step groups of 32 and of 1 (per item) on one thread and on all threads, adjoint
 * forward+backward, in turns; with the steps taken and how far the groups' y(1) is from the
 * shared steps' in units of the tolerance (|dy| / (atol + rtol |y|)).
 */
function threadRows(reps: number): Record<string, unknown> {
  const batch = 64;
  const { y0, params } = problem(batch);
  const threads = defaultThreads();
  const fb = (stepGroup: number | undefined, t: number) => (): ReturnType<typeof odeint>['stats'] => {
    const ps = params.map((p) => p.detach().requireGrad());
    const { y, stats } = odeint(known, y0.detach().requireGrad(), [0, 1], ps, { ...OPTS, stepGroup, threads: t });
    backward(sum(square(y)));
    return stats;
  };
  const configs: [string, number | undefined, number][] = [
    ['shared, 1 thread', undefined, 1],
    ['groups of 32, 1 thread', 32, 1],
    [`groups of 32, ${threads} threads`, 32, threads],
    ['per item, 1 thread', 1, 1],
    [`per item, ${threads} threads`, 1, threads],
  ];
  const ms = timeTurns(
    configs.map(
      ([, g, t]) =>
        () =>
          void fb(g, t)(),
    ),
    reps,
    5,
  );
  const shared = noGrad(() => odeint(known, y0, [0, 1], params, OPTS).y.data);
  const rows: Record<string, unknown> = {};
  configs.forEach(([name, g, t], i) => {
    const st = fb(g, t)();
    const y = noGrad(() => odeint(known, y0, [0, 1], params, { ...OPTS, stepGroup: g, threads: t }).y.data);
    let d = 0;
    for (let k = 0; k < y.length; k++) d = Math.max(d, Math.abs(y[k]! - shared[k]!) / (OPTS.atol + OPTS.rtol * Math.abs(shared[k]!)));
    rows[name] = {
      forwardBackwardMs: round(ms[i]!, 2),
      torchdiffeqOverProject: round(TORCHDIFFEQ_MS[64]! / ms[i]!, 2),
      acceptedSteps: st.acceptedSteps,
      nfeForward: st.nfeForward,
      nfeBackward: st.nfeBackward,
      maxDiffFromSharedInTolerances: round(d, 3),
    };
  });
  return {
    note: `adjoint forward+backward at batch 64, mlpField, medians of runs in turns in one process; all threads = ${threads} (IMPULSE_THREADS or the core count); step groups give the same results on any thread count, bit for bit`,
    threads,
    ...rows,
  };
}

/** Runs one forward+backward at `batch` in this process and reports memory (child mode). */
function peakChild(mode: 'adjoint' | 'backprop', batch: number): Record<string, unknown> {
  // warm up at a small batch so compiled code and lazily built structures are not counted
  const small = problem(8);
  forwardBackward(8, mode === 'adjoint', small.y0, small.params);
  const { y0, params } = problem(batch);
  const ps = params.map((p) => p.detach().requireGrad());
  const y0l = y0.detach().requireGrad();
  gc();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = heapUsed();
  const t0 = performance.now();
  const { y, stats } = odeint(mlp, y0l, [0, 1], ps, { ...OPTS, adjoint: mode === 'adjoint' });
  const forwardMs = performance.now() - t0;
  const retained = heapUsed() - heapBefore; // what the forward keeps alive for the backward
  const t1 = performance.now();
  backward(sum(square(y)));
  const backwardMs = performance.now() - t1;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return {
    mode,
    batch,
    retainedAfterForwardMB: round(retained / 2 ** 20, 1),
    peakRssMB: round(maxRss / 2 ** 20, 1),
    peakRssAboveStartMB: round((maxRss - rssBefore) / 2 ** 20, 1),
    forwardMs: round(forwardMs),
    backwardMs: round(backwardMs),
    nfeForward: stats.nfeForward,
    nfeBackward: stats.nfeBackward,
  };
}

function peakMemory(batch: number): Record<string, unknown> {
  const self = fileURLToPath(import.meta.url);
  const out: Record<string, unknown> = {
    batch,
    method: 'each mode in a fresh child process; peak RSS from getrusage, retained = heap + array buffers after a full GC',
  };
  for (const mode of ['adjoint', 'backprop'] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--peak-child', mode, String(batch)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) {
      out[mode] = { error: `child exited with ${r.status}: ${(r.stderr || '').slice(-500)}` };
      continue;
    }
    out[mode] = JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
  }
  return out;
}

/** The benchmark entry (`npm run bench -- ode [--peak-batch N] [--reps N]`). */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = { bench: 'ode', allowZero: true };
  const reps = argNum(args, 'reps', 5, opt);
  const peakBatch = argNum(args, 'peak-batch', 4096, opt);
  return {
    problem: 'neural ODE, f = MLP 8-64-64-8 (tanh, tanh, linear), torch-default init, y0 ~ N(0, 1); t in [0, 1]; dopri5 rtol = atol = 1e-6; loss sum |y(1)|^2',
    machine: { cpus: cpus().length, loadAverage1m: round(loadavg()[0]!, 2) },
    batch1: timing(1, Math.max(reps, 9)),
    batch64: timing(64, reps),
    kernels: {
      note: 'adjoint forward+backward, JS vs wasm SIMD kernels, medians of runs in turns in one process; f a closure of tape ops',
      batch1: kernelsCompare(1, Math.max(reps, 15)),
      batch64: kernelsCompare(64, Math.max(reps, 9)),
    },
    mlpField: {
      note: 'the same MLP as a known field (mlpField([8, 64, 64, 8])): odeint evaluates it and its VJP numerically, off the tape',
      batch1: kernelsCompare(1, Math.max(reps, 15), known),
      batch64: kernelsCompare(64, Math.max(reps, 9), known),
    },
    threads: threadRows(Math.max(reps, 9)),
    peakMemory: peakBatch > 0 ? peakMemory(peakBatch) : 'skipped (--peak-batch 0)',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--peak-child') {
  const mode = process.argv[3] === 'backprop' ? 'backprop' : 'adjoint';
  console.log(JSON.stringify(peakChild(mode, Number(process.argv[4]))));
}
