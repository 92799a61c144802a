// Dynamics of the MPC layer (mpc/): the `Dynamics` interface x' = f(x, u, theta) over rows of
// (time step, batch item), its linearisation F_t = [A_t B_t] from the core's tape (batched over
// all rows at once) or from an analytic `jacobianRaw`, and affine dynamics x' = F tau + f.
import { ShapeError, Tensor, concat, expandDims, fmtShape, gather, gradients, matmul, noGrad, reshape, squeeze, add, withGradMode } from '../sim/core/index.ts';
import { withArgShapes } from '../sim/core/index.ts';
import { MpcError } from './errors.ts';

/**
 * Which (time step, batch item) each row of a batched call belongs to. The solver stacks
 * rows of many time steps and batch items into one call; dynamics and costs that depend on
 * the time step or carry per-item parameters read `times` and `items` (e.g. with `gather`).
 */
export interface StepContext {
  /** Number of rows. */
  readonly rows: number;
  /** Time step t of each row. */
  readonly times: Int32Array;
  /** Batch item b of each row. */
  readonly items: Int32Array;
  /** Horizon T and batch size B of the problem. */
  readonly T: number;
  readonly B: number;
}

/**
 * A discrete-time dynamics x_{t+1} = f(x_t, u_t, theta). `step` is written with the core's ops
 * so the solver can take Jacobians (and, for the backward pass, second derivatives and
 * derivatives with respect to theta) from the tape. The raw methods are optional fast paths
 * on Float64Arrays for the forward solve; they must agree with `step`.
 *
 * @example
 * const dyn = pendulum();              // mpc/pendulum.ts
 * const y = dyn.step(x, u, dyn.params, ctx); // x [N, 3], u [N, 1] -> [N, 3]
 */
export interface Dynamics {
  /** Name used in error messages. */
  readonly name: string;
  /** State dimension n. */
  readonly nx: number;
  /** Control dimension m. */
  readonly nu: number;
  /** Parameters theta; gradients flow to those that require grad. */
  readonly params: readonly Tensor[];
  /** Differentiable step: x [N, nx], u [N, nu], theta -> x' [N, nx]. */
  step(x: Tensor, u: Tensor, params: readonly Tensor[], ctx: StepContext): Tensor;
  /** Optional raw step on row-major arrays: x [N*nx], u [N*nu] -> out [N*nx]. */
  stepRaw?(x: Float64Array, u: Float64Array, params: readonly Float64Array[], ctx: StepContext, out: Float64Array): void;
  /** Optional analytic Jacobian: F [N*nx*(nx+nu)], row-major [A B] per row. */
  jacobianRaw?(x: Float64Array, u: Float64Array, params: readonly Float64Array[], ctx: StepContext, F: Float64Array): void;
  /** Optional check of the dynamics' parameters against the problem's horizon and batch. */
  validate?(T: number, B: number): void;
  /**
   * True when `step`'s backward is not itself differentiable (e.g. a fused physics kernel with
   * a plain-array adjoint). The solver then uses Gauss-Newton steps, and the implicit backward
   * takes its second-order terms from central differences of vector-Jacobian products.
   */
  firstOrderOnly?: boolean;
  /**
   * How a worker thread rebuilds these dynamics, for `mpc`'s `threads`: the module to import
   * and the name of the factory it exports, called as factory(params, options) with the
   * parameters' values (as tensors) and `options` (structured-clonable). The factory must
   * return dynamics that compute what these compute. Absent: the batch stays on one thread.
   */
  remote?: RemoteDynamics;
}

/** See `Dynamics.remote`. */
export interface RemoteDynamics {
  /** Module specifier a worker can import (e.g. `import.meta.url` of the module defining the dynamics). */
  module: string;
  /** Name of the factory export: (params: Tensor[], options) => Dynamics. */
  name: string;
  options?: unknown;
}

/** A StepContext for rows given as (time, item) pairs. */
export function makeContext(times: Int32Array, items: Int32Array, T: number, B: number): StepContext {
  return { rows: times.length, times, items, T, B };
}

/** Runs the dynamics on rows of raw data (raw fast path if present, else the tape under noGrad), checking the output. */
export function stepRows(dyn: Dynamics, x: Float64Array, u: Float64Array, params: readonly Tensor[], ctx: StepContext, out: Float64Array): void {
  const N = ctx.rows;
  if (dyn.stepRaw) {
    dyn.stepRaw(
      x,
      u,
      params.map((p) => p.data),
      ctx,
      out,
    );
    return;
  }
  let y: Tensor;
  try {
    const xt = new Tensor(x, [N, dyn.nx]);
    const ut = new Tensor(u, [N, dyn.nu]);
    y = withArgShapes('mpc', `dynamics '${dyn.name}'.step(x, u, params)`, { x: xt, u: ut, params }, () => noGrad(() => dyn.step(xt, ut, params, ctx)));
  } catch (e) {
    // a simulator that refuses a non-finite state reports it as NaN here (the solver names step and item)
    const name = (e as Error).name;
    if (name === 'SimulationError' || name === 'NonFiniteError') {
      out.fill(NaN, 0, N * dyn.nx);
      return;
    }
    throw e;
  }
  if (y.size !== N * dyn.nx) throw new ShapeError(`mpc: dynamics '${dyn.name}'.step returned shape ${fmtShape(y.shape)}, expected [${N}, ${dyn.nx}]`);
  out.set(y.data);
}

/**
 * Linearises the dynamics at N rows: writes F [N, nx, nx+nu] (row-major [A B] per row).
 * Uses `jacobianRaw` when present; otherwise one forward pass on the tape over all rows and
 * nx reverse passes (rows are independent, so one reverse pass per output component gives
 * that row of every Jacobian).
 */
export function linearize(dyn: Dynamics, x: Float64Array, u: Float64Array, params: readonly Tensor[], ctx: StepContext, F: Float64Array): void {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  const nt = n + m;
  if (dyn.jacobianRaw) {
    dyn.jacobianRaw(
      x,
      u,
      params.map((p) => p.data),
      ctx,
      F,
    );
    return;
  }
  withGradMode(true, () => {
    const xl = new Tensor(x, [N, n]).requireGrad();
    const ul = new Tensor(u, [N, m]).requireGrad();
    const consts = params.map((p) => p.detach());
    const y = withArgShapes('mpc', `dynamics '${dyn.name}'.step(x, u, params)`, { x: xl, u: ul, params: consts }, () => dyn.step(xl, ul, consts, ctx));
    if (y.size !== N * n) throw new ShapeError(`mpc: dynamics '${dyn.name}'.step returned shape ${fmtShape(y.shape)}, expected [${N}, ${n}]`);
    if (!y.requiresGrad) {
      F.fill(0, 0, N * n * nt);
      return;
    }
    for (let i = 0; i < n; i++) {
      const seed = new Float64Array(N * n);
      for (let r = 0; r < N; r++) seed[r * n + i] = 1;
      const [gx, gu] = gradients([y], [xl, ul], [new Tensor(seed, y.shape)], { allowUnused: true });
      for (let r = 0; r < N; r++) {
        const row = r * n * nt + i * nt;
        for (let j = 0; j < n; j++) F[row + j] = gx ? gx.data[r * n + j]! : 0;
        for (let j = 0; j < m; j++) F[row + n + j] = gu ? gu.data[r * m + j]! : 0;
      }
    }
  });
}

/** Index of the first non-finite entry of a[0..len), or -1. */
export function firstNonFinite(a: Float64Array, len = a.length): number {
  for (let i = 0; i < len; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/**
 * Affine (possibly time-varying, per-item) dynamics x_{t+1} = F_t [x_t; u_t] + f_t, the
 * dynamics of an LQR problem. F: [n, n+m], [T-1, n, n+m] or [B, T-1, n, n+m]; f (optional):
 * [n], [T-1, n] or [B, T-1, n]. Both are differentiable parameters (theta = [F, f]).
 *
 * @example
 * const dyn = affineDynamics(tensor([[1, 0.1, 0], [0, 1, 0.1]]));  // double integrator, n = 2, m = 1
 */
export function affineDynamics(F: Tensor, f?: Tensor): Dynamics {
  if (F.ndim < 2 || F.ndim > 4) throw new ShapeError(`affineDynamics: F must be [n, n+m], [T-1, n, n+m] or [B, T-1, n, n+m], got ${fmtShape(F.shape)}`);
  const n = F.shape[F.ndim - 2]!;
  const nt = F.shape[F.ndim - 1]!;
  const m = nt - n;
  if (m < 1) throw new ShapeError(`affineDynamics: F of shape ${fmtShape(F.shape)} has n+m = ${nt} columns for n = ${n} rows; needs m >= 1`);
  const fv = f ?? new Tensor(new Float64Array(n), [n]);
  if (fv.ndim !== F.ndim - 1 || fv.shape[fv.ndim - 1] !== n || !F.shape.slice(0, -2).every((d, i) => fv.shape[i] === d)) {
    throw new ShapeError(
      `affineDynamics: f has shape ${fmtShape(fv.shape)}, expected ${fmtShape([...F.shape.slice(0, -2), n])} to match F ${fmtShape(F.shape)}`,
    );
  }
  const lead = F.ndim - 2; // 0: shared, 1: per time, 2: per item and time
  const index = (ctx: StepContext): Int32Array => {
    const idx = new Int32Array(ctx.rows);
    const Tm1 = lead === 0 ? 1 : F.shape[lead - 1]!;
    for (let r = 0; r < ctx.rows; r++) idx[r] = lead === 0 ? 0 : lead === 1 ? ctx.times[r]! : ctx.items[r]! * Tm1 + ctx.times[r]!;
    return idx;
  };
  const count = lead === 0 ? 1 : F.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  return {
    name: 'affine',
    nx: n,
    nu: m,
    params: f ? [F, f] : [F],
    step(x, u, params, ctx) {
      const idx = index(ctx);
      const Fr = gather(reshape(params[0]!, [count, n, nt]), idx, 0);
      const tau = expandDims(concat([x, u], 1), 2);
      const y = squeeze(matmul(Fr, tau), 2);
      if (params.length < 2) return y;
      return add(y, gather(reshape(params[1]!, [count, n]), idx, 0));
    },
    stepRaw(x, u, params, ctx, out) {
      const idx = index(ctx);
      const Fd = params[0]!;
      const fd = params[1];
      for (let r = 0; r < ctx.rows; r++) {
        const fo = idx[r]! * n * nt;
        for (let i = 0; i < n; i++) {
          let s = fd ? fd[idx[r]! * n + i]! : 0;
          for (let j = 0; j < n; j++) s += Fd[fo + i * nt + j]! * x[r * n + j]!;
          for (let j = 0; j < m; j++) s += Fd[fo + i * nt + n + j]! * u[r * m + j]!;
          out[r * n + i] = s;
        }
      }
    },
    jacobianRaw(_x, _u, params, ctx, Fout) {
      const idx = index(ctx);
      const Fd = params[0]!;
      for (let r = 0; r < ctx.rows; r++) Fout.set(Fd.subarray(idx[r]! * n * nt, (idx[r]! + 1) * n * nt), r * n * nt);
    },
    validate(T, B) {
      if (lead >= 1 && F.shape[lead - 1] !== T - 1)
        throw new MpcError(`affineDynamics: F has ${F.shape[lead - 1]} time steps (shape ${fmtShape(F.shape)}), the horizon T = ${T} needs T-1 = ${T - 1}`);
      if (lead === 2 && F.shape[0] !== B) throw new MpcError(`affineDynamics: F has batch ${F.shape[0]} (shape ${fmtShape(F.shape)}), x_init has batch ${B}`);
    },
  };
}

/**
 * Second-order term of the dynamics at N rows: S_r = d2(lambda_r' f)/dtau2 [N, nt, nt] for
 * costates lambda [N, nx]. `exact` (or tape dynamics without `jacobianRaw`): from the tape, nt
 * reverse passes over the createGraph gradient J' lambda. Otherwise (an analytic Jacobian, or
 * first-order-only dynamics): central differences of J' lambda (`fdLagrangianHessian`).
 */
export function lagrangianHessian(
  dyn: Dynamics,
  x: Float64Array,
  u: Float64Array,
  params: readonly Tensor[],
  ctx: StepContext,
  lambda: Float64Array,
  S: Float64Array,
  exact = false,
): void {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  const nt = n + m;
  S.fill(0, 0, N * nt * nt);
  if (!exact && (dyn.jacobianRaw || dyn.firstOrderOnly)) {
    fdLagrangianHessian(dyn, x, u, params, ctx, lambda, S);
    return;
  }
  withGradMode(true, () => {
    const xl = new Tensor(x, [N, n]).requireGrad();
    const ul = new Tensor(u, [N, m]).requireGrad();
    const y = dyn.step(
      xl,
      ul,
      params.map((p) => p.detach()),
      ctx,
    );
    if (!y.requiresGrad) return;
    const [vx, vu] = gradients([y], [xl, ul], [new Tensor(lambda, y.shape)], { createGraph: true, allowUnused: true });
    const outs = [vx, vu].filter((v): v is Tensor => !!v && v.requiresGrad);
    if (outs.length === 0) return;
    for (let j = 0; j < nt; j++) {
      const seeds = outs.map((o) => {
        const d = new Float64Array(o.size);
        const w = o.shape[1]!;
        const col = o === vx ? j : j - n;
        if (col >= 0 && col < w) for (let r = 0; r < N; r++) d[r * w + col] = 1;
        return new Tensor(d, o.shape);
      });
      const [hx, hu] = gradients(outs, [xl, ul], seeds, { allowUnused: true });
      for (let r = 0; r < N; r++) {
        const o = (r * nt + j) * nt;
        if (hx) for (let i = 0; i < n; i++) S[o + i] = hx.data[r * n + i]!;
        if (hu) for (let i = 0; i < m; i++) S[o + n + i] = hu.data[r * m + i]!;
      }
    }
  });
}

/**
 * Vector-Jacobian products of the dynamics at N rows for cotangents w [N, nx]: gradients with
 * respect to x [N*nx], u [N*nu] and the parameters flagged in `wantTheta` (null elsewhere).
 */
export function dynamicsVjp(
  dyn: Dynamics,
  x: Float64Array,
  u: Float64Array,
  params: readonly Tensor[],
  ctx: StepContext,
  w: Float64Array,
  wantTheta: readonly boolean[] = [],
): { gx: Float64Array; gu: Float64Array; gtheta: (Float64Array | null)[] } {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  return withGradMode(true, () => {
    const xl = new Tensor(x, [N, n]).requireGrad();
    const ul = new Tensor(u, [N, m]).requireGrad();
    const th = params.map((p, i) => (wantTheta[i] ? new Tensor(p.data, p.shape).requireGrad() : p.detach()));
    const y = dyn.step(xl, ul, th, ctx);
    const wanted = th.filter((_, i) => wantTheta[i]);
    const gs = y.requiresGrad ? gradients([y], [xl, ul, ...wanted], [new Tensor(w, y.shape)], { allowUnused: true }) : [];
    let k = 2;
    return {
      gx: gs[0] ? new Float64Array(gs[0].data) : new Float64Array(N * n),
      gu: gs[1] ? new Float64Array(gs[1].data) : new Float64Array(N * m),
      gtheta: th.map((t, i) => {
        if (!wantTheta[i]) return null;
        const g = gs[k++];
        return g ? new Float64Array(g.data) : new Float64Array(t.size);
      }),
    };
  });
}

/** Replaces each of the N [nt, nt] blocks of S by its symmetric part (S + S') / 2, in place. */
export function symmetrizeBlocks(S: Float64Array, N: number, nt: number): void {
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < nt; i++) {
      for (let j = i + 1; j < nt; j++) {
        const v = 0.5 * (S[(r * nt + i) * nt + j]! + S[(r * nt + j) * nt + i]!);
        S[(r * nt + i) * nt + j] = v;
        S[(r * nt + j) * nt + i] = v;
      }
    }
  }
}

/** Relative step of the central differences of VJPs (first-order-only dynamics). */
export const FD_STEP = 1e-5;

/**
 * S_r = d2(lambda_r' f)/dtau2 [N, nt, nt] by central differences of J(tau +- h e_j)' lambda,
 * one column per perturbed coordinate, all rows at once (error O(h^2), h = FD_STEP (1 + |tau_j|)).
 * J' lambda comes from the analytic `jacobianRaw` when the dynamics have one, else from VJPs
 * (first-order-only dynamics: a fused kernel with a plain-array adjoint).
 */
export function fdLagrangianHessian(
  dyn: Dynamics,
  x: Float64Array,
  u: Float64Array,
  params: readonly Tensor[],
  ctx: StepContext,
  lambda: Float64Array,
  S: Float64Array,
): void {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  const nt = n + m;
  const h = new Float64Array(N);
  const pd = params.map((p) => p.data);
  const F = dyn.jacobianRaw ? new Float64Array(N * n * nt) : null;
  // J(x, u)' lambda per row: gx [N*n], gu [N*m]
  const jtl = (xv: Float64Array, uv: Float64Array): { gx: Float64Array; gu: Float64Array } => {
    if (!F) return dynamicsVjp(dyn, xv, uv, params, ctx, lambda);
    dyn.jacobianRaw!(xv, uv, pd, ctx, F);
    const gx = new Float64Array(N * n);
    const gu = new Float64Array(N * m);
    for (let r = 0; r < N; r++) {
      for (let i = 0; i < nt; i++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += lambda[r * n + k]! * F[(r * n + k) * nt + i]!;
        if (i < n) gx[r * n + i] = sum;
        else gu[r * m + i - n] = sum;
      }
    }
    return { gx, gu };
  };
  for (let j = 0; j < nt; j++) {
    const onX = j < n;
    const w = onX ? n : m;
    const col = onX ? j : j - n;
    const base = onX ? x : u;
    const plus = new Float64Array(base);
    const minus = new Float64Array(base);
    for (let r = 0; r < N; r++) {
      h[r] = FD_STEP * (1 + Math.abs(base[r * w + col]!));
      plus[r * w + col]! += h[r]!;
      minus[r * w + col]! -= h[r]!;
    }
    const gp = jtl(onX ? plus : x, onX ? u : plus);
    const gm = jtl(onX ? minus : x, onX ? u : minus);
    for (let r = 0; r < N; r++) {
      const inv = 0.5 / h[r]!;
      for (let i = 0; i < n; i++) S[(r * nt + i) * nt + j] = (gp.gx[r * n + i]! - gm.gx[r * n + i]!) * inv;
      for (let i = 0; i < m; i++) S[(r * nt + n + i) * nt + j] = (gp.gu[r * m + i]! - gm.gu[r * m + i]!) * inv;
    }
  }
  symmetrizeBlocks(S, N, nt);
}
