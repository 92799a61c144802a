// Benchmark of the DEQ layer (`npm run bench -- deq`): z* = tanh(W z* + U x), d = 64, batch 64,
// Anderson (m = 5) to a relative residual of 1e-8 per sample, loss sum(z*). Times forward and
// forward+backward for each backward solver (dense IFT, GMRES, adjoint fixed point), with
// the forward iterations, final residual and the adjoint solve's cost. Wall and CPU times
// (this process) are medians; CPU times are less sensitive to a shared machine's load.
// The threads block times the default backward on one thread and on all threads (IMPULSE_THREADS
// or the core count), in turns; the other rows use the layer's default thread count.
// Args: --batch N (64), --d N (64), --tol X (1e-8), --reps N (timing repetitions, 10).
import { Rng, type Tensor, add, backward, matmul, matrixTranspose, rand, randn, sum, tanh } from '../sim/core/index.ts';
import { deq, type FixedPointBackwardOptions } from '../models/implicit/fixed-point.ts';
import { remoteCell } from '../models/implicit/deq-parallel.ts';
import { defaultThreads } from '../models/implicit/worker-pool.ts';
import { cpus, loadavg } from 'node:os';
import type { SolverInfo } from '../models/implicit/root.ts';
import { argNum, round, timeWallCpu } from './_util.ts';
import { jsVsWasm, timeTurns } from './_flops.ts';
import { wasmKernels } from '../sim/linalg/wasm/loader.ts';

/** torchdeq (Anderson, implicit backward) forward+backward on the same problem, PyTorch 1.13 at one thread on this machine (the measurement), ms. */
const TORCHDEQ_MS = 46.6;

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'DEQ z = tanh(W z + U x), d = 64, batch 64 (Anderson): forward and forward+backward time';

/** Untimed runs before each measurement: the solver's code paths are optimised by then. */
const WARMUP = 10;

/**
 * Untimed rounds before the one-thread-against-all timing: a worker's isolate optimises its
 * copy of the solver on its own and only from the calls it serves; at d 64, batch 64 the
 * two-thread times settle after about 40 rounds (after 10: no faster than one thread).
 */
const THREAD_WARMUP = 60;

/**
 * f(z, [u, Wt]) = tanh(z Wt + u), with the input injection u = x U^T and Wt = W^T computed once,
 * outside the solver (on the tape); a remote cell, so the batch can be split over threads.
 */
export const benchCell = remoteCell((z: Tensor, [u, Wt]: readonly Tensor[]): Tensor => tanh(add(matmul(z, Wt!), u!)), {
  module: import.meta.url,
  name: 'benchCell',
});

/** The DEQ layer of the benchmark: z* = tanh(W z* + U x) per sample. */
function layer(x: Tensor, W: Tensor, U: Tensor, opts: Parameters<typeof deq>[3]): ReturnType<typeof deq> {
  return deq(benchCell, matmul(x, matrixTranspose(U)), [matrixTranspose(W)], { ...opts, d: W.shape[0] });
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = { bench: 'deq' };
  const batch = argNum(args, 'batch', 64, opt);
  const d = argNum(args, 'd', 64, opt);
  const tol = argNum(args, 'tol', 1e-8, opt);
  const reps = argNum(args, 'reps', 10, opt);
  const rng = new Rng(2024);
  // PyTorch nn.Linear's default initialisation for W and U, standard-normal inputs
  const k = 1 / Math.sqrt(d);
  const W = rand([d, d], rng, -k, k);
  const U = rand([d, d], rng, -k, k);
  const x = randn([batch, d], rng);
  const opts = { tol, anderson: { m: 5 } };

  const forward = (): SolverInfo => layer(x, W, U, opts).info;
  const fwdInfo = forward();
  const steps = (['dense', 'gmres', 'fixed-point'] as const).map((solver) => {
    const bw: FixedPointBackwardOptions = { solver, tol: 1e-10 };
    const Wg = W.clone().requireGrad();
    const Ug = U.clone().requireGrad();
    const s = { solver, info: undefined as SolverInfo | undefined, run: (): void => {} };
    s.run = (): void => {
      const r = layer(x, Wg, Ug, { ...opts, backward: bw });
      backward(sum(r.z));
      s.info = r.info;
      Wg.grad = null;
      Ug.grad = null;
    };
    return s;
  });
  // every code path is warmed up before anything is timed (the forward is part of each step)
  for (let i = 0; i < WARMUP; i++) for (const s of steps) s.run();
  const tForward = timeWallCpu(forward, reps, WARMUP);

  const results: Record<string, unknown> = {};
  for (const s of steps) {
    const t = timeWallCpu(s.run, reps, 1);
    results[s.solver] = {
      forwardBackwardMs: round(t.wall, 1),
      backwardMs: round(t.wall - tForward.wall, 1),
      forwardBackwardCpuMs: round(t.cpu, 1),
      backwardCpuMs: round(t.cpu - tForward.cpu, 1),
      adjointVjps: s.info?.backward?.iterations,
      adjointResidual: s.info?.backward?.residual,
    };
  }
  const denseMax = wasmKernels() ? 64 : 32;
  const defaultSolver = d <= denseMax ? 'dense' : 'gmres';
  const kernels: Record<string, unknown> = {
    note: 'forward+backward, JS vs wasm SIMD kernels, medians of runs in turns in one process',
    torchdeqMs: TORCHDEQ_MS,
  };
  for (const s of steps) {
    const t = jsVsWasm(s.run, reps, 2);
    kernels[s.solver] = { ...t, torchdeqOverProject: { js: round(TORCHDEQ_MS / t.jsMs, 2), wasm: round(TORCHDEQ_MS / t.wasmMs, 2) } };
  }
  // the default backward on one thread and on all threads (forward+backward and forward), in turns
  const threads = defaultThreads();
  const Wg = W.clone().requireGrad();
  const Ug = U.clone().requireGrad();
  const fb = (t: number) => (): void => {
    const r = layer(x, Wg, Ug, { ...opts, threads: t });
    backward(sum(r.z));
    Wg.grad = null;
    Ug.grad = null;
  };
  const fwdOnly = (t: number) => (): void => void layer(x, W, U, { ...opts, threads: t });
  const [fbOne, fbAll, fOne, fAll] = timeTurns([fb(1), fb(threads), fwdOnly(1), fwdOnly(threads)], Math.max(reps, 7), THREAD_WARMUP) as [
    number,
    number,
    number,
    number,
  ];
  const threadRows = {
    note: `the default backward (${defaultSolver}), wasm kernels, medians of runs in turns in one process; all threads = ${threads} (IMPULSE_THREADS or the core count); z* and dL/dx are bit for bit those of one thread`,
    threads,
    forwardBackwardMs: { oneThread: round(fbOne, 1), allThreads: round(fbAll, 1), speedup: round(fbOne / fbAll, 2) },
    forwardMs: { oneThread: round(fOne, 1), allThreads: round(fAll, 1), speedup: round(fOne / fAll, 2) },
    torchdeqOverProject: { oneThread: round(TORCHDEQ_MS / fbOne, 2), allThreads: round(TORCHDEQ_MS / fbAll, 2) },
  };
  return {
    threads: threadRows,
    kernels,
    problem: `z = tanh(W z + U x), d = ${d}, batch ${batch}, W, U ~ U(-1/sqrt(d), 1/sqrt(d)), x ~ N(0, 1), loss sum(z*), float64`,
    solver: 'anderson (m = 5, lambda = 1e-8 relative, beta = 1)',
    tol,
    residualDefinition: 'max over samples of ||f(z) - z|| / ||f(z)||',
    iterations: fwdInfo.iterations,
    finalResidual: fwdInfo.residual,
    converged: fwdInfo.converged,
    forwardMs: round(tForward.wall, 1),
    forwardCpuMs: round(tForward.cpu, 1),
    defaultBackward: `${defaultSolver} (backward.solver auto: n = ${d} per sample, denseMax ${denseMax} with the ${wasmKernels() ? 'wasm' : 'JS'} kernels)`,
    forwardBackwardMs: (results[defaultSolver] as { forwardBackwardMs: number }).forwardBackwardMs,
    forwardBackwardCpuMs: (results[defaultSolver] as { forwardBackwardCpuMs: number }).forwardBackwardCpuMs,
    backward: results,
    timing: {
      reps,
      statistic: 'median (wall clock and process CPU time)',
      threads: `the layer's default (${threads}) for forwardMs, forwardBackwardMs and backward; see threads for 1 thread against all`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage1m: round(loadavg()[0]!, 2),
    },
  };
}
