// Benchmark of the QP layer (`npm run bench -- qp`), the OptNet/qpth setting: a batch of 64
// random QPs with 50 variables, 50 inequalities and no equalities (Q = L L'/n + 0.1 I,
// p, G standard normal, h = G z0 + U(0, 1)), float64. Forward and forward + backward times,
// constraint violation, KKT residuals and interior-point iterations; and warm starts: the same
// batch with p and h moved by 1e-3 (relative) re-solved cold and from the first solution.
import { cpus, loadavg } from 'node:os';
import { Rng, Tensor, backward, mul, noGrad, sum } from '../sim/core/index.ts';
import { qp, type QPInfo } from '../models/implicit/qp.ts';
import { randomBenchQP } from '../models/implicit/qp-random.ts';
import { argNum, round, timeWallCpu } from './_util.ts';
import { defaultThreads } from '../models/implicit/worker-pool.ts';
import { measurePeak, rate, timeTurns, withJsKernels } from './_flops.ts';

/** qpth (PDIPM, defaults) on the same problem, PyTorch 1.13 at one thread on this machine (the measurement). */
const QPTH_MS = 59.7;

/**
 * Flops of the dense kernels of one forward: per item and iteration, H = Q + G'WG (lower
 * triangle, m n (n + 1)) and its Cholesky (n^3 / 3); per polished item, the LU of the
 * active-set KKT matrix (2 N^3 / 3, N = n + active). Solves and residuals (O(n (n + m)) per
 * iteration) are left out, so the rate is a lower bound.
 */
function forwardFlops(info: QPInfo[], n: number, m: number): number {
  let f = 0;
  for (const i of info) {
    f += i.iterations * (m * n * (n + 1) + n ** 3 / 3);
    if (i.polished) f += (2 * (n + i.active) ** 3) / 3;
  }
  return f;
}

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'QP layer: batch 64, 50 variables, 50 inequalities; forward/backward time, iterations, KKT residual';

/** Max over items of (Gx - h)_+ for x [B, n], G [B, m, n], h [B, m]. */
function maxViolation(x: Tensor, G: Tensor, h: Tensor): number {
  const [B, m, n] = G.shape as [number, number, number];
  let worst = 0;
  for (let k = 0; k < B; k++) {
    for (let i = 0; i < m; i++) {
      let gx = 0;
      for (let j = 0; j < n; j++) gx += G.data[k * m * n + i * n + j]! * x.data[k * n + j]!;
      worst = Math.max(worst, gx - h.data[k * m + i]!);
    }
  }
  return worst;
}

function summarise(info: QPInfo[]): Record<string, unknown> {
  const it = info.map((i) => i.iterations);
  const statuses: Record<string, number> = {};
  for (const i of info) statuses[i.status] = (statuses[i.status] ?? 0) + 1;
  return {
    statuses,
    iterations: { mean: round(it.reduce((a, b) => a + b, 0) / it.length, 2), min: Math.min(...it), max: Math.max(...it) },
    polished: info.filter((i) => i.polished).length,
    degenerate: info.filter((i) => i.degenerate).length,
    maxPrimalResidual: Math.max(...info.map((i) => i.primalResidual)),
    maxDualResidual: Math.max(...info.map((i) => i.dualResidual)),
    maxComplementarity: Math.max(...info.map((i) => i.gap)),
  };
}

/** `npm run bench -- qp [--batch 64] [--n 50] [--m 50] [--reps 5] [--seed 0]` */
/** Untimed runs before each measurement (JIT warm-up). */
const WARMUP = 3;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = { bench: 'qp' };
  const B = argNum(args, 'batch', 64, opt);
  const n = argNum(args, 'n', 50, opt);
  const m = argNum(args, 'm', 50, opt);
  const reps = argNum(args, 'reps', 5, opt);
  const seed = args.some((a) => a.startsWith('--seed')) ? argNum(args, 'seed', 1, opt) : 0;
  const P = randomBenchQP(new Rng(seed), B, n, m);

  let info: QPInfo[] = [];
  let x: Tensor | null = null;
  const fwd = timeWallCpu(
    () => {
      const r = noGrad(() => qp(P));
      info = r.info;
      x = r.x;
    },
    reps,
    WARMUP,
  );
  const fwdNoPolish = timeWallCpu(() => noGrad(() => qp(P, { polish: false })), reps, WARMUP);
  const infoNoPolish = noGrad(() => qp(P, { polish: false })).info;

  // forward + backward of a random projection of x* to Q, p, G, h (all batched)
  const leaves = [P.Q, P.p, P.G, P.h].map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
  const [Q, p, G, h] = leaves as [Tensor, Tensor, Tensor, Tensor];
  const w = new Tensor(new Rng(seed + 1).normals(B * n), [B, n]);
  const fwdBwd = timeWallCpu(
    () => {
      for (const l of leaves) l.grad = null;
      const r = qp({ Q, p, G, h });
      backward(sum(mul(r.x, w)));
    },
    reps,
    WARMUP,
  );
  let gradFinite = true;
  for (const l of leaves) for (const v of l.grad!.data) if (!Number.isFinite(v)) gradFinite = false;

  // forward + backward with the JS kernels on one thread (the path before the wasm kernels),
  // the wasm kernels on one thread and on all threads, measured in turns in this process
  const threads = defaultThreads();
  const fb = (t: number) => () => {
    for (const l of leaves) l.grad = null;
    const r = qp({ Q, p, G, h }, { threads: t });
    backward(sum(mul(r.x, w)));
  };
  const fwdOnly = (t: number) => () => void noGrad(() => qp(P, { threads: t }));
  const [tJs, tOne, tAll, fJs, fOne, fAll] = timeTurns(
    [withJsKernels(fb(1)), fb(1), fb(threads), withJsKernels(fwdOnly(1)), fwdOnly(1), fwdOnly(threads)],
    Math.max(reps, 7),
    WARMUP,
  ) as [number, number, number, number, number, number];
  const flops = forwardFlops(info, n, m);
  const kernels = {
    note: 'forward+backward (fb) and forward (f) ms, medians measured in turns in one process; jsOneThread is the pre-wasm path (same algorithm, pure-JS kernels)',
    threads,
    fbMs: { jsOneThread: round(tJs, 1), wasmOneThread: round(tOne, 1), wasmAllThreads: round(tAll, 1) },
    fMs: { jsOneThread: round(fJs, 1), wasmOneThread: round(fOne, 1), wasmAllThreads: round(fAll, 1) },
    speedupWasm: round(tJs / tOne, 2),
    speedupThreads: round(tOne / tAll, 2),
    qpthFbMs: QPTH_MS,
    qpthOverProject: { jsOneThread: round(QPTH_MS / tJs, 2), wasmOneThread: round(QPTH_MS / tOne, 2), wasmAllThreads: round(QPTH_MS / tAll, 2) },
    forwardKernelMflop: round(flops / 1e6, 1),
    forwardRate: {
      definition: "flops of G'WG + Q, Cholesky and the polish LU over the whole forward's time: a lower bound of the kernels' rate",
      jsOneThread: rate(flops, fJs, 'one'),
      wasmOneThread: rate(flops, fOne, 'one'),
      wasmAllThreads: rate(flops, fAll, 'all'),
    },
    peak: measurePeak(),
  };

  // warm starts: p and h moved by `size` (relative), solved cold and from the first solution, in turns
  const first = noGrad(() => qp(P, { threads: 1 }));
  const warmRows: Record<string, unknown> = {};
  for (const size of [1e-3, 1e-1]) {
    const r = new Rng(seed + 2);
    const shift = (t: Tensor): Tensor =>
      new Tensor(
        t.data.map((v) => v + size * r.normal() * (1 + Math.abs(v))),
        t.shape,
      );
    const near = { ...P, p: shift(P.p), h: shift(P.h) };
    const cold = noGrad(() => qp(near, { threads: 1 }));
    const warm = noGrad(() => qp(near, { threads: 1, warmStart: first }));
    const [tCold, tWarm] = timeTurns(
      [() => void noGrad(() => qp(near, { threads: 1 })), () => void noGrad(() => qp(near, { threads: 1, warmStart: first }))],
      Math.max(reps, 7),
      WARMUP,
    ) as [number, number];
    let dx = 0;
    for (let i = 0; i < cold.x.size; i++) dx = Math.max(dx, Math.abs(cold.x.data[i]! - warm.x.data[i]!));
    warmRows[`moved ${size}`] = {
      forwardMs: { cold: round(tCold, 1), warm: round(tWarm, 1), speedup: round(tCold / tWarm, 2) },
      interiorPointIterations: { cold: cold.info.reduce((a, i) => a + i.iterations, 0), warm: warm.info.reduce((a, i) => a + i.iterations, 0) },
      itemsSolvedByTheWarmStart: warm.info.filter((i) => i.warmStarted).length,
      kktResidualWarm: Math.max(...warm.info.map((i) => Math.max(i.primalResidual, i.dualResidual, i.gap))),
      maxAbsDiffWarmVsCold: dx,
    };
  }
  const warmStarts = {
    note: 'p and h moved by the given relative size (x N(0, 1) (1 + |v|)), forward on one thread, cold vs warmStart from the unmoved solution, medians in turns',
    ...warmRows,
  };

  return {
    warmStarts,
    problem: { batch: B, n, m, equalities: 0, seed, distribution: "Q = L L'/n + 0.1 I, p, G ~ N(0, 1), h = G z0 + U(0, 1)" },
    tol: 1e-10,
    forwardMs: round(fwd.wall, 1),
    forwardBackwardMs: round(fwdBwd.wall, 1),
    forwardCpuMs: round(fwd.cpu, 1),
    forwardBackwardCpuMs: round(fwdBwd.cpu, 1),
    forwardMsPerItem: round(fwd.wall / B, 3),
    maxConstraintViolation: maxViolation(x!, P.G, P.h),
    kktResidual: Math.max(...info.map((i) => Math.max(i.primalResidual, i.dualResidual, i.gap))),
    ...summarise(info),
    gradientsFinite: gradFinite,
    withoutPolish: { forwardMs: round(fwdNoPolish.wall, 1), forwardCpuMs: round(fwdNoPolish.cpu, 1), ...summarise(infoNoPolish) },
    kernels,
    timing: {
      reps,
      statistic: 'median (wall clock and process CPU time)',
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage1m: round(loadavg()[0]!, 2),
      threads: `the layer's default (${threads}) for forwardMs and forwardBackwardMs; see kernels for 1 thread and the JS kernels`,
    },
  };
}
