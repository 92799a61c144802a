// Benchmark of the differentiable MPC layer (`npm run bench -- mpc`): the standard pendulum and
// cartpole, T = 20, batch 16, th ~ U(-pi/2, pi/2), thdot ~ U(-1, 1) (cartpole: x = xdot = 0),
// fixed seed. Times the forward solve (box-constrained iLQR) and the backward (gradient of
// sum(u^2) with respect to theta and c) in each backward mode, with analytic and with tape
// Jacobians; reports iLQR iterations and the mean final objective.
// Args: --reps N (timing repetitions, default 7), --unrolled (also time the unrolled backward).
import { Rng, Tensor, gradients, square, sum, tensor } from '../sim/core/index.ts';
import { cartpole, cartpoleCost, cartpoleState, CARTPOLE } from '../mpc/cartpole.ts';
import { quadCost } from '../mpc/cost.ts';
import type { Dynamics } from '../mpc/dynamics.ts';
import { mpc, type MpcOptions } from '../mpc/mpc.ts';
import { pendulum, pendulumCost, pendulumState, PENDULUM } from '../mpc/pendulum.ts';
import { round, timeMs } from './_util.ts';
import { timeTurns } from './_flops.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'pendulum and cartpole MPC (T = 20, batch 16): forward/backward ms, iterations, objective';

interface Case {
  name: string;
  dyn: (theta: Tensor) => Dynamics;
  theta: number[];
  C: Tensor;
  c: Tensor;
  x_init: Tensor;
  u_lower: number;
  u_upper: number;
}

const T = 20;
const B = 16;

function cases(): Case[] {
  const rng = new Rng(0);
  const th = Array.from({ length: B }, () => rng.range(-Math.PI / 2, Math.PI / 2));
  const thdot = Array.from({ length: B }, () => rng.range(-1, 1));
  const zeros = new Array<number>(B).fill(0);
  return [
    {
      name: 'pendulum',
      dyn: (t) => pendulum(t),
      theta: [...PENDULUM.params],
      ...pendulumCost(),
      x_init: pendulumState(th, thdot),
      u_lower: PENDULUM.u_lower,
      u_upper: PENDULUM.u_upper,
    },
    {
      name: 'cartpole',
      dyn: (t) => cartpole(t),
      theta: [...CARTPOLE.params],
      ...cartpoleCost(),
      x_init: cartpoleState(zeros, zeros, th, thdot),
      u_lower: CARTPOLE.u_lower,
      u_upper: CARTPOLE.u_upper,
    },
  ];
}

/** The same dynamics without its analytic fast paths (Jacobians and steps from the tape). */
function tapeOnly(d: Dynamics): Dynamics {
  return { name: d.name, nx: d.nx, nu: d.nu, params: d.params, step: d.step.bind(d) };
}

function runCase(k: Case, reps: number, unrolled: boolean): Record<string, unknown> {
  const problem = (theta: Tensor, c: Tensor, tape = false) => ({
    dynamics: tape ? tapeOnly(k.dyn(theta)) : k.dyn(theta),
    cost: quadCost(k.C, c),
    x_init: k.x_init,
    T,
    u_lower: k.u_lower,
    u_upper: k.u_upper,
  });
  const t0 = performance.now();
  const first = mpc(problem(tensor(k.theta), k.c));
  const coldMs = performance.now() - t0;
  const fwd = (opts: MpcOptions = {}, tape = false) => timeMs(() => void mpc(problem(tensor(k.theta), k.c, tape), { threads: 1, ...opts }), reps, 10);
  // one thread against two, in turns (the batch split over a worker: bit for bit the same solution)
  const [oneThread, twoThreads] = timeTurns(
    [1, 2].map((threads) => () => void mpc(problem(tensor(k.theta), k.c), { threads })),
    Math.max(reps, 9),
    10,
  ) as [number, number];
  const bwd = (opts: MpcOptions = {}) => {
    const theta = tensor(k.theta).requireGrad();
    const c = k.c.clone().requireGrad();
    const r = mpc(problem(theta, c), { threads: 1, ...opts });
    const loss = sum(square(r.u));
    const ms = timeMs(() => void gradients(loss, [theta, c]), reps, 30);
    const [gTheta, gc] = gradients(loss, [theta, c]);
    return { ms, loss: loss.item(), dTheta: Array.from(gTheta!.data, (v) => round(v, 6)), dc: Array.from(gc!.data, (v) => round(v, 6)) };
  };
  const implicit = bwd();
  const gn = bwd({ backward: 'implicit-gn' });
  const out: Record<string, unknown> = {
    T,
    batch: B,
    forwardMs: round(fwd(), 2),
    forwardThreads: { oneMs: round(oneThread, 2), twoMs: round(twoThreads, 2), speedup: round(oneThread / twoThreads, 2) },
    forwardColdMs: round(coldMs, 1),
    forwardTapeJacobiansMs: round(fwd({}, true), 2),
    backwardMs: round(implicit.ms, 2),
    backwardGaussNewtonMs: round(gn.ms, 2),
    iterations: { mean: round(first.iterations.reduce((a, b) => a + b, 0) / B, 2), max: Math.max(...first.iterations) },
    converged: first.converged.filter((c) => c).length,
    meanObjective: round(first.objective.data.reduce((a, b) => a + b, 0) / B, 6),
    lossSumU2: round(implicit.loss, 6),
    grad: { theta: implicit.dTheta, c: implicit.dc },
    gradGaussNewton: { theta: gn.dTheta, c: gn.dc },
  };
  if (unrolled) {
    const theta = tensor(k.theta).requireGrad();
    const c = k.c.clone().requireGrad();
    const t1 = performance.now();
    const r = mpc(problem(theta, c), { backward: 'unrolled' });
    const loss = sum(square(r.u));
    const [gTheta, gc] = gradients(loss, [theta, c]);
    out.unrolled = {
      forwardPlusBackwardMs: round(performance.now() - t1, 1),
      theta: Array.from(gTheta!.data, (v) => round(v, 6)),
      c: Array.from(gc!.data, (v) => round(v, 6)),
    };
  }
  return out;
}

/** Runs the MPC benchmark and returns its JSON figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const ri = args.indexOf('--reps');
  const reps = ri >= 0 ? Number(args[ri + 1]) : 7;
  const unrolled = args.includes('--unrolled');
  const out: Record<string, unknown> = {
    note: 'ms are medians after warm-up (forwardColdMs: first call, JIT cold), on one thread except forwardThreads (1 vs 2 threads in turns); backward = gradient of sum(u^2) w.r.t. theta and c',
  };
  for (const k of cases()) out[k.name] = runCase(k, reps, unrolled);
  return out;
}
