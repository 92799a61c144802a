// Box-constrained iLQR (mpc/): the forward solve of the MPC layer on raw float64 arrays.
// Each iteration linearises the dynamics (F_t), quadratises the cost, runs the Riccati pass
// with a box-QP per step (lqr.ts), and a per-item line search on the true dynamics, with
// Levenberg-Marquardt regularisation of Q_uu (Tassa, Mansard, Todorov 2014). Batch items are
// independent: each has its own step size, regularisation, convergence flag and status.
import type { Tensor } from '../sim/core/index.ts';
import { fnCostValues, quadratizeFnCost, type Cost } from './cost.ts';
import { firstNonFinite, lagrangianHessian, linearize, makeContext, stepRows, type Dynamics, type StepContext } from './dynamics.ts';
import { MpcError } from './errors.ts';
import { RiccatiWork, costate, riccati, type LqrDims } from './lqr.ts';

/** Options of the iLQR solve. */
export interface IlqrOptions {
  /** Most iLQR iterations (steps) per batch item (default 50). */
  maxIter?: number;
  /** Converged when max_t |k_t| (the full control step) is at most this (default 1e-7). */
  tol?: number;
  /** Step-size decay of the line search (default 0.5) and its most trials (default 12). */
  lineSearchDecay?: number;
  maxLineSearch?: number;
  /** Regularisation mu of Q_uu: initial (default 0), smallest non-zero (1e-8), largest before giving up (1e10), factor (10). */
  mu0?: number;
  muMin?: number;
  muMax?: number;
  muFactor?: number;
  /** Record each iteration's decisions (step sizes, free sets, clamps) for the unrolled backward. */
  trace?: boolean;
  /**
   * Hessian of the backward pass: 'newton' (default) takes Gauss-Newton steps (classic iLQR /
   * mpc.pytorch: the cost Hessian only) until an item's full control step is below
   * newtonSwitch * (1 + max|u|), then adds the dynamics' second-order term lambda_{t+1}' d2f_t
   * (DDP-like, fast local convergence; back to Gauss-Newton for an iteration whose Q_uu is not
   * positive definite). 'gauss-newton' never adds it. For first-order-only dynamics without an
   * analytic Jacobian (the physics engine) the default is 'gauss-newton'; an explicit 'newton'
   * takes the term from central differences of VJPs (2 (nx + nu) VJP passes per Newton
   * iteration: fewer iterations on contact-rich problems, each dearer). The fixed point is the same.
   */
  hessian?: 'newton' | 'gauss-newton';
  /** Relative step size below which an item switches to Newton steps (default 1e-2). */
  newtonSwitch?: number;
  /**
   * Stop an item, with status 'stalled' (not converged), after this many consecutive
   * iterations whose accepted steps lowered its objective by no more than roundoff (1e-13
   * relative) while the full control step stays above `tol` without reaching a new smallest
   * value: what iLQR does near a kink of piecewise-smooth dynamics (contact), where the step
   * never vanishes. Default 8; 0 never.
   */
  stallIterations?: number;
}

/** One iteration's decisions, replayed by the unrolled backward. */
export interface IlqrTraceStep {
  /** Regularisation used per item. */
  mu: Float64Array;
  /** Accepted step size per item (0: no step taken). */
  alpha: Float64Array;
  /** Box-QP outcome per control [B, T, m]: 0 free, -1 clamped at the lower, 1 at the upper bound of the step. */
  free: Int8Array;
  /** Forward-pass clamp of the new control [B, T, m]: -1 at u_lower, 1 at u_upper, 0 inside. */
  clamp: Int8Array;
}

/** A problem in raw form for `solveIlqr`. */
export interface IlqrProblem {
  dims: LqrDims;
  dynamics: Dynamics;
  /** Dynamics parameters (their data is read; not differentiated here). */
  dynParams: readonly Tensor[];
  cost: Cost;
  costParams: readonly Tensor[];
  /** Expanded quadratic cost (for cost.kind 'quad'): C [B, T, nt, nt] (symmetric), c [B, T, nt]. */
  quad?: { C: Float64Array; c: Float64Array };
  x_init: Float64Array;
  /** Control bounds [B, T, m] (may be +-Infinity). */
  u_lower: Float64Array;
  u_upper: Float64Array;
  /** Initial controls [B, T, m] (warm start); zeros when absent. */
  u_init?: Float64Array;
}

/** Per-item outcome of the solve. */
export type IlqrStatus = 'converged' | 'max-iter' | 'stalled' | 'line-search-failed' | 'not-positive-definite';

/** Result of `solveIlqr`. */
export interface IlqrSolution {
  x: Float64Array;
  u: Float64Array;
  objective: Float64Array;
  converged: boolean[];
  iterations: number[];
  status: IlqrStatus[];
  /** Human-readable reason per item when not converged ('' when converged). */
  message: string[];
  /** Largest full control step max_t |k_t| at the last check, per item. */
  stepNorm: number[];
  trace?: { clampInit: Int8Array; steps: IlqrTraceStep[] };
}

/** Rows of all steps t < T-1 of the given items: their context and the packing order. */
function dynRows(items: Int32Array, T: number, B: number): StepContext {
  const N = items.length * (T - 1);
  const times = new Int32Array(N);
  const its = new Int32Array(N);
  let r = 0;
  for (const b of items) {
    for (let t = 0; t < T - 1; t++) {
      times[r] = t;
      its[r++] = b;
    }
  }
  return makeContext(times, its, T, B);
}

function costRows(items: Int32Array, T: number, B: number): StepContext {
  const N = items.length * T;
  const times = new Int32Array(N);
  const its = new Int32Array(N);
  let r = 0;
  for (const b of items) {
    for (let t = 0; t < T; t++) {
      times[r] = t;
      its[r++] = b;
    }
  }
  return makeContext(times, its, T, B);
}

/** Objective of the given items at (x, u) into J[b]; quadratic cost raw, FnCost on the tape. */
export function evalObjective(p: IlqrProblem, x: Float64Array, u: Float64Array, items: Int32Array, J: Float64Array): void {
  const { T, B, n, m } = p.dims;
  const nt = n + m;
  if (p.cost.kind === 'quad') {
    const { C, c } = p.quad!;
    for (const b of items) {
      let s = 0;
      for (let t = 0; t < T; t++) {
        const bt = b * T + t;
        const Co = bt * nt * nt;
        for (let i = 0; i < nt; i++) {
          const ti = i < n ? x[bt * n + i]! : u[bt * m + i - n]!;
          let r = 0.5 * C[Co + i * nt + i]! * ti;
          for (let j = i + 1; j < nt; j++) r += C[Co + i * nt + j]! * (j < n ? x[bt * n + j]! : u[bt * m + j - n]!);
          s += ti * (r + c[bt * nt + i]!);
        }
      }
      J[b] = s;
    }
    return;
  }
  const ctx = costRows(items, T, B);
  const tau = packTau(p.dims, x, u, items);
  const l = fnCostValues(p.cost, tau, nt, p.costParams, ctx);
  let r = 0;
  for (const b of items) {
    let s = 0;
    for (let t = 0; t < T; t++) s += l[r++]!;
    J[b] = s;
  }
}

/** Packs tau = [x; u] rows of all steps of the given items. */
function packTau(dims: LqrDims, x: Float64Array, u: Float64Array, items: Int32Array): Float64Array {
  const { T, n, m } = dims;
  const nt = n + m;
  const tau = new Float64Array(items.length * T * nt);
  let r = 0;
  for (const b of items) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      tau.set(x.subarray(bt * n, bt * n + n), r * nt);
      tau.set(u.subarray(bt * m, bt * m + m), r * nt + n);
      r++;
    }
  }
  return tau;
}

/**
 * Rolls the true dynamics forward for the given items: u_t <- clamp(u_t + alpha k_t + K_t (xn_t - x_t))
 * when gains are given (the iLQR forward pass), else the controls as they are. Writes xn, un;
 * records the clamp side in `clamp` when given. Returns per item the first step whose
 * successor state is non-finite (-1 if none).
 */
function rollout(
  p: IlqrProblem,
  items: Int32Array,
  x: Float64Array,
  u: Float64Array,
  gains: { K: Float64Array; k: Float64Array; alpha: Float64Array } | null,
  xn: Float64Array,
  un: Float64Array,
  clamp: Int8Array | null,
): Int32Array {
  const { T, B, n, m } = p.dims;
  const S = items.length;
  const nanAt = new Int32Array(S).fill(-1);
  const xs = new Float64Array(S * n);
  const us = new Float64Array(S * m);
  const out = new Float64Array(S * n);
  const times = new Int32Array(S);
  const ctx = makeContext(times, items, T, B);
  for (let s = 0; s < S; s++) {
    const b = items[s]!;
    xn.set(p.x_init.subarray(b * n, b * n + n), b * T * n);
  }
  for (let t = 0; t < T; t++) {
    times.fill(t);
    for (let s = 0; s < S; s++) {
      const b = items[s]!;
      const bt = b * T + t;
      for (let i = 0; i < m; i++) {
        let v = u[bt * m + i]!;
        if (gains) {
          v += gains.alpha[b]! * gains.k[bt * m + i]!;
          const Ko = (bt * m + i) * n;
          for (let j = 0; j < n; j++) v += gains.K[Ko + j]! * (xn[bt * n + j]! - x[bt * n + j]!);
        }
        const lo = p.u_lower[bt * m + i]!;
        const hi = p.u_upper[bt * m + i]!;
        let side = 0;
        if (v <= lo) {
          v = lo;
          side = -1;
        } else if (v >= hi) {
          v = hi;
          side = 1;
        }
        if (clamp) clamp[bt * m + i] = side;
        un[bt * m + i] = v;
        us[s * m + i] = v;
      }
      xs.set(xn.subarray(bt * n, bt * n + n), s * n);
    }
    if (t === T - 1) break;
    stepRows(p.dynamics, xs, us, p.dynParams, ctx, out);
    for (let s = 0; s < S; s++) {
      const b = items[s]!;
      const o = (b * T + t + 1) * n;
      for (let i = 0; i < n; i++) {
        const v = out[s * n + i]!;
        if (!Number.isFinite(v) && nanAt[s] === -1) nanAt[s] = t;
        xn[o + i] = v;
      }
    }
  }
  return nanAt;
}

function fmtVec(a: Float64Array, off: number, len: number): string {
  return `[${Array.from(a.subarray(off, off + len), (v) => Number(v.toPrecision(6))).join(', ')}]`;
}

/**
 * Solves the batch of box-constrained optimal control problems
 * min sum_t l_t(x_t, u_t) s.t. x_{t+1} = f(x_t, u_t, theta), x_0 = x_init, u_lower <= u <= u_upper
 * by iLQR with box-QP control steps. Throws MpcError on non-finite dynamics or cost at the
 * initial rollout or in a linearisation; reports non-convergence per item in the result.
 */
export function solveIlqr(p: IlqrProblem, opts: IlqrOptions = {}): IlqrSolution {
  const { T, B, n, m } = p.dims;
  const nt = n + m;
  const maxIter = opts.maxIter ?? 50;
  const tol = opts.tol ?? 1e-7;
  const decay = opts.lineSearchDecay ?? 0.5;
  const maxLS = opts.maxLineSearch ?? 12;
  const muMin = opts.muMin ?? 1e-8;
  const muMax = opts.muMax ?? 1e10;
  const muFactor = opts.muFactor ?? 10;
  const stallIterations = opts.stallIterations ?? 8;
  const name = p.dynamics.name;

  const x = new Float64Array(B * T * n);
  const u = new Float64Array(B * T * m);
  const xc = new Float64Array(B * T * n);
  const uc = new Float64Array(B * T * m);
  const J = new Float64Array(B);
  const Jc = new Float64Array(B);
  const all = Int32Array.from({ length: B }, (_, b) => b);
  const u0 = p.u_init ?? new Float64Array(B * T * m);
  const trace = opts.trace ? { clampInit: new Int8Array(B * T * m), steps: [] as IlqrTraceStep[] } : undefined;

  // initial rollout
  const nan0 = rollout(p, all, x, u0, null, x, u, trace?.clampInit ?? null);
  for (let b = 0; b < B; b++) {
    if (nan0[b]! >= 0) {
      const t = nan0[b]!;
      const bt = b * T + t;
      throw new MpcError(
        `mpc: dynamics '${name}' returned a non-finite state at step ${t + 1} of batch item ${b} in the initial rollout (x_${t} = ${fmtVec(x, bt * n, n)}, u_${t} = ${fmtVec(u, bt * m, m)})`,
        b,
        t,
      );
    }
  }
  evalObjective(p, x, u, all, J);
  for (let b = 0; b < B; b++)
    if (!Number.isFinite(J[b]!)) throw new MpcError(`mpc: the cost is not finite (${J[b]}) at the initial rollout of batch item ${b}`, b);

  // Newton needs second derivatives: from the tape, or from an analytic Jacobian (not from a first-order-only step)
  // first-order-only dynamics (no tape second derivatives, no analytic Jacobian): Newton steps
  // take their second-order term from central differences of VJPs (2 nt VJP passes), so only
  // when asked for explicitly
  const fdOnly = !!p.dynamics.firstOrderOnly && !p.dynamics.jacobianRaw;
  const newton = T > 1 && (opts.hessian === 'newton' || (opts.hessian === undefined && !fdOnly));
  const H = p.quad && !newton ? p.quad.C : new Float64Array(B * T * nt * nt);
  const lambda = newton ? new Float64Array(B * T * n) : null;
  const newtonSwitch = opts.newtonSwitch ?? 1e-2;
  const lastStep = new Float64Array(B).fill(Infinity);
  const usingNewton = new Uint8Array(B);
  // an item whose Newton step was not taken in full goes back to Gauss-Newton for the rest of the solve
  const newtonOff = new Uint8Array(B);
  const Hcost = p.quad ? p.quad.C : newton ? new Float64Array(B * T * nt * nt) : H;
  const q = new Float64Array(B * T * nt);
  const F = new Float64Array(B * T * n * nt);
  const K = new Float64Array(B * T * m * n);
  const k = new Float64Array(B * T * m);
  const free = new Uint8Array(B * T * m);
  const kLo = new Float64Array(B * T * m);
  const kHi = new Float64Array(B * T * m);
  const dV = new Float64Array(2 * B);
  const mu = new Float64Array(B).fill(opts.mu0 ?? 0);
  const alpha = new Float64Array(B);
  const work = new RiccatiWork(p.dims);
  const riccatiArgs = { dims: p.dims, H, q, F, mu, kLo, kHi, K, k, free, dV };

  const converged: boolean[] = new Array(B).fill(false);
  const iterations: number[] = new Array(B).fill(0);
  const status: IlqrStatus[] = new Array(B).fill('max-iter');
  const message: string[] = new Array(B).fill('');
  const stepNorm: number[] = new Array(B).fill(NaN);
  const done = new Uint8Array(B);
  const stalls = new Int32Array(B);
  const stallStep = new Float64Array(B).fill(Infinity);
  const lastNan: number[] = new Array(B).fill(-1);

  for (let iter = 0; iter <= maxIter; iter++) {
    const active = all.filter((b) => !done[b]);
    if (active.length === 0) break;
    // linearise the dynamics at steps 0..T-2 of the active items
    const dctx = T > 1 ? dynRows(active, T, B) : null;
    const xr = new Float64Array(active.length * (T - 1) * n);
    const ur = new Float64Array(active.length * (T - 1) * m);
    if (dctx) {
      const ctx = dctx;
      const N = ctx.rows;
      let r = 0;
      for (const b of active) {
        for (let t = 0; t < T - 1; t++, r++) {
          xr.set(x.subarray((b * T + t) * n, (b * T + t + 1) * n), r * n);
          ur.set(u.subarray((b * T + t) * m, (b * T + t + 1) * m), r * m);
        }
      }
      const Fr = new Float64Array(N * n * nt);
      linearize(p.dynamics, xr, ur, p.dynParams, ctx, Fr);
      r = 0;
      for (const b of active) {
        for (let t = 0; t < T - 1; t++, r++) {
          const bad = firstNonFinite(Fr.subarray(r * n * nt, (r + 1) * n * nt));
          if (bad >= 0) {
            throw new MpcError(
              `mpc: the Jacobian of dynamics '${name}' is not finite at step ${t} of batch item ${b} (entry ${bad} of F_${t}; x_${t} = ${fmtVec(x, (b * T + t) * n, n)}, u_${t} = ${fmtVec(u, (b * T + t) * m, m)})`,
              b,
              t,
            );
          }
          F.set(Fr.subarray(r * n * nt, (r + 1) * n * nt), (b * T + t) * n * nt);
        }
      }
    }
    // quadratise the cost: q = gradient at tau (delta space)
    if (p.quad) {
      const { C, c } = p.quad;
      if (H !== C) for (const b of active) H.set(C.subarray(b * T * nt * nt, (b + 1) * T * nt * nt), b * T * nt * nt);
      for (const b of active) {
        for (let t = 0; t < T; t++) {
          const bt = b * T + t;
          for (let i = 0; i < nt; i++) {
            let s = c[bt * nt + i]!;
            for (let j = 0; j < nt; j++) s += C[(bt * nt + i) * nt + j]! * (j < n ? x[bt * n + j]! : u[bt * m + j - n]!);
            q[bt * nt + i] = s;
          }
        }
      }
    } else {
      const ctx = costRows(active, T, B);
      const tau = packTau(p.dims, x, u, active);
      const g = new Float64Array(ctx.rows * nt);
      const h = new Float64Array(ctx.rows * nt * nt);
      quadratizeFnCost(p.cost as Extract<Cost, { kind: 'fn' }>, tau, nt, p.costParams, ctx, g, h);
      let r = 0;
      for (const b of active) {
        for (let t = 0; t < T; t++, r++) {
          const bt = b * T + t;
          const bad = Math.max(firstNonFinite(g.subarray(r * nt, (r + 1) * nt)), firstNonFinite(h.subarray(r * nt * nt, (r + 1) * nt * nt)));
          if (bad >= 0)
            throw new MpcError(
              `mpc: the gradient or Hessian of cost '${p.cost.kind === 'fn' ? p.cost.name : ''}' is not finite at step ${t} of batch item ${b}`,
              b,
              t,
            );
          q.set(g.subarray(r * nt, (r + 1) * nt), bt * nt);
          H.set(h.subarray(r * nt * nt, (r + 1) * nt * nt), bt * nt * nt);
        }
      }
    }
    // Newton: add lambda_{t+1}' d2f_t (costate of the current trajectory) for items close to convergence
    usingNewton.fill(0);
    const nItems = newton
      ? active.filter((b) => {
          let umax = 0;
          for (let i = b * T * m; i < (b + 1) * T * m; i++) umax = Math.max(umax, Math.abs(u[i]!));
          return !newtonOff[b] && lastStep[b]! <= newtonSwitch * (1 + umax);
        })
      : new Int32Array(0);
    if (nItems.length > 0) {
      const nctx = dynRows(nItems, T, B);
      const N = nctx.rows;
      const xn = new Float64Array(N * n);
      const un = new Float64Array(N * m);
      const lam = new Float64Array(N * n);
      let r = 0;
      for (const b of nItems) {
        costate(p.dims, F, q, b, lambda!);
        for (let t = 0; t < T - 1; t++, r++) {
          xn.set(x.subarray((b * T + t) * n, (b * T + t + 1) * n), r * n);
          un.set(u.subarray((b * T + t) * m, (b * T + t + 1) * m), r * m);
          lam.set(lambda!.subarray((b * T + t + 1) * n, (b * T + t + 2) * n), r * n);
        }
      }
      const S = new Float64Array(N * nt * nt);
      lagrangianHessian(p.dynamics, xn, un, p.dynParams, nctx, lam, S);
      r = 0;
      for (const b of nItems) {
        usingNewton[b] = 1;
        if (Hcost !== p.quad?.C) Hcost.set(H.subarray(b * T * nt * nt, (b + 1) * T * nt * nt), b * T * nt * nt);
        for (let t = 0; t < T - 1; t++, r++) {
          const o = (b * T + t) * nt * nt;
          for (let i = 0; i < nt * nt; i++) H[o + i]! += S[r * nt * nt + i]!;
        }
      }
    }
    // backward pass with regularisation
    const stepping: number[] = [];
    for (const b of active) {
      for (let i = b * T * m; i < (b + 1) * T * m; i++) {
        kLo[i] = p.u_lower[i]! - u[i]!;
        kHi[i] = p.u_upper[i]! - u[i]!;
      }
      let failedAt = riccati(riccatiArgs, b, work);
      if (failedAt >= 0 && usingNewton[b]) {
        // far from a minimum after all: a Gauss-Newton step this iteration
        H.set(Hcost.subarray(b * T * nt * nt, (b + 1) * T * nt * nt), b * T * nt * nt);
        usingNewton[b] = 0;
        failedAt = riccati(riccatiArgs, b, work);
      }
      while (failedAt >= 0) {
        mu[b] = Math.max(muMin, mu[b]! * muFactor);
        if (mu[b]! > muMax) break;
        failedAt = riccati(riccatiArgs, b, work);
      }
      if (failedAt >= 0) {
        done[b] = 1;
        status[b] = 'not-positive-definite';
        message[b] = `Q_uu (free block) is not positive definite at step ${failedAt} of batch item ${b} even with regularisation mu = ${muMax}`;
        continue;
      }
      let kmax = 0;
      for (let i = b * T * m; i < (b + 1) * T * m; i++) kmax = Math.max(kmax, Math.abs(k[i]!));
      stepNorm[b] = kmax;
      lastStep[b] = kmax;
      if (kmax <= tol) {
        done[b] = 1;
        converged[b] = true;
        status[b] = 'converged';
        message[b] = '';
        continue;
      }
      if (iter === maxIter) {
        done[b] = 1;
        message[b] = `no convergence in ${maxIter} iterations (full control step ${kmax.toExponential(3)} > tol ${tol})`;
        continue;
      }
      stepping.push(b);
    }
    const traceStep: IlqrTraceStep | undefined = trace
      ? {
          mu: mu.slice(),
          alpha: new Float64Array(B),
          free: Int8Array.from(free, (f, i) => (f ? 0 : k[i]! <= kLo[i]! ? -1 : 1)),
          clamp: new Int8Array(B * T * m),
        }
      : undefined;
    // line search per item
    let searching = Int32Array.from(stepping);
    for (const b of searching) alpha[b] = 1;
    for (let ls = 0; ls < maxLS && searching.length > 0; ls++) {
      const clampBuf = traceStep ? new Int8Array(B * T * m) : null;
      const nanAt = rollout(p, searching, x, u, { K, k, alpha }, xc, uc, clampBuf);
      const ok = searching.filter((_, s) => nanAt[s]! < 0);
      searching.forEach((b, s) => {
        if (nanAt[s]! >= 0) {
          lastNan[b] = nanAt[s]!;
          Jc[b] = NaN;
        }
      });
      if (ok.length) evalObjective(p, xc, uc, ok, Jc);
      const next: number[] = [];
      for (const b of searching) {
        const a = alpha[b]!;
        const expected = -(a * dV[2 * b]! + a * a * dV[2 * b + 1]!);
        const dec = J[b]! - Jc[b]!;
        const scale = 1 + Math.abs(J[b]!);
        const accept = Number.isFinite(Jc[b]!) && ((dec > 0 && dec >= 1e-4 * expected) || (expected <= 1e-11 * scale && dec >= -1e-13 * scale));
        if (usingNewton[b] && !(accept && a === 1)) newtonOff[b] = 1;
        if (accept) {
          x.set(xc.subarray(b * T * n, (b + 1) * T * n), b * T * n);
          u.set(uc.subarray(b * T * m, (b + 1) * T * m), b * T * m);
          J[b] = Jc[b]!;
          mu[b] = mu[b]! / muFactor < muMin ? 0 : mu[b]! / muFactor;
          iterations[b] = iterations[b]! + 1;
          // stalled: no decrease beyond roundoff, and no new smallest step (converging steps,
          // however slowly, keep reaching new minima; at a kink they bounce)
          if (stepNorm[b]! < stallStep[b]!) {
            stallStep[b] = stepNorm[b]!;
            stalls[b] = 0;
          } else if (dec <= 1e-13 * scale) stalls[b] = stalls[b]! + 1;
          if (stallIterations > 0 && stalls[b]! >= stallIterations) {
            done[b] = 1;
            status[b] = 'stalled';
            message[b] =
              `stalled: ${stallIterations} iterations lowered the objective of batch item ${b} by no more than roundoff while the full control step stays at ${stepNorm[b]!.toExponential(3)} > tol ${tol} (piecewise-smooth dynamics?)`;
          }
          if (traceStep) {
            traceStep.alpha[b] = a;
            traceStep.clamp.set(clampBuf!.subarray(b * T * m, (b + 1) * T * m), b * T * m);
          }
        } else {
          alpha[b] = a * decay;
          next.push(b);
        }
      }
      searching = Int32Array.from(next);
    }
    for (const b of searching) {
      iterations[b] = iterations[b]! + 1;
      mu[b] = Math.max(muMin, mu[b]! * muFactor);
      if (mu[b]! > muMax) {
        done[b] = 1;
        status[b] = 'line-search-failed';
        message[b] =
          lastNan[b]! >= 0
            ? `line search failed: dynamics '${name}' returned non-finite states (last at step ${lastNan[b]! + 1} of batch item ${b}) for every step size`
            : `line search failed to decrease the cost of batch item ${b} (full control step ${stepNorm[b]!.toExponential(3)})`;
      }
    }
    if (traceStep) trace!.steps.push(traceStep);
  }
  return { x, u, objective: J, converged, iterations, status, message, stepNorm, trace };
}
