// Benchmark of the QP layer (`npm run bench -- qp`), the OptNet/qpth setting: a batch of 64
// random QPs with 50 variables, 50 inequalities and no equalities (Q = L L'/n + 0.1 I,
// p, G standard normal, h = G z0 + U(0, 1)), float64. Forward and forward + backward times,
// constraint violation, KKT residuals and interior-point iterations.
import { cpus, loadavg } from 'node:os';
import { Rng, Tensor, backward, mul, noGrad, sum } from '../sim/core/index.ts';
import { qp, type QPInfo } from '../models/implicit/qp.ts';
import { randomBenchQP } from '../models/implicit/qp-random.ts';
import { argNum, round, timeWallCpu } from './_util.ts';

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

  return {
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
    timing: {
      reps,
      statistic: 'median (wall clock and process CPU time)',
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage1m: round(loadavg()[0]!, 2),
      threads: 1,
    },
  };
}
