// The differentiable MPC layer (mpc/): validates a problem, solves it with box-constrained
// iLQR (ilqr.ts) and joins the tape as a custom op whose backward is the implicit method of
// Amos et al. (NeurIPS 2018): with the active control bounds held fixed, one more LQR solve
// at the solution gives the derivatives with respect to C, c, x_init and the dynamics
// parameters theta (through F_t, f_t). An unrolled backward (unrolled.ts) is the comparison.
import { ShapeError, Tensor, customOp, fmtShape, type TensorLike } from '../sim/core/index.ts';
import { expandQuadCost, type Cost } from './cost.ts';
import type { Dynamics } from './dynamics.ts';
import { MpcError } from './errors.ts';
import { solveIlqr, type IlqrOptions, type IlqrProblem, type IlqrSolution, type IlqrStatus } from './ilqr.ts';
import { implicitBackward, type BackwardInfo } from './implicit.ts';
import type { LqrDims } from './lqr.ts';
import { unrolledMpc } from './unrolled.ts';
import { mpcThreadCount, solveIlqrParallel } from './parallel.ts';
import { checkThreads, threadsUnavailable } from '../models/implicit/worker-pool.ts';

/** A batch of box-constrained optimal control problems. */
export interface MpcProblem {
  dynamics: Dynamics;
  cost: Cost;
  /** Initial states [B, nx]. */
  x_init: Tensor;
  /** Horizon: states x_0..x_{T-1}, controls u_0..u_{T-1} (as mpc.pytorch). */
  T: number;
  /** Control bounds (constants): a number, [nu], [T, nu] or [B, T, nu]; absent = unbounded. */
  u_lower?: TensorLike;
  u_upper?: TensorLike;
}

/** Options of `mpc`: the iLQR options plus warm start, backward mode and error policy. */
export interface MpcOptions extends IlqrOptions {
  /** Warm start controls [B, T, nu] or [T, nu] (e.g. `shiftControls` of the previous solution). */
  u_init?: Tensor;
  /**
   * Backward mode: 'implicit' (default) the Amos et al. LQR backward with the dynamics'
   * second-order term lambda' d2f in the backward LQR's Hessian, exact for nonlinear dynamics;
   * 'implicit-gn' the Gauss-Newton form of mpc.pytorch (drops that term: exact for affine
   * dynamics, approximate otherwise, cheaper); 'unrolled' differentiates through the solver's
   * iterations on the tape.
   */
  backward?: 'implicit' | 'implicit-gn' | 'unrolled';
  /** Throw an MpcError naming the items that did not converge (default false: reported in the result). */
  raiseOnNonConverged?: boolean;
  /** A control within activeTol * (1 + |bound|) of a bound is held fixed in the backward (default 1e-9). */
  activeTol?: number;
  /**
   * When the exact reduced Hessian of an item is not positive definite in the implicit backward
   * (the item did not converge, or the dynamics have a kink there): 'gauss-newton' (default)
   * uses the Gauss-Newton backward for that item and lists it in `backwardInfo`; 'raise' throws.
   */
  onIndefiniteBackward?: 'gauss-newton' | 'raise';
  /**
   * Worker threads for the forward solve (default IMPULSE_THREADS or the core count): the
   * batch is split into contiguous item ranges when the dynamics can be rebuilt in a worker
   * (`Dynamics.remote`; pendulum and cartpole can), the cost is quadratic, no trace is asked
   * and the batch is large enough; results are bit for bit those of one thread.
   */
  threads?: number;
}

/** Result of `mpc`: the solution on the tape and a report per batch item. */
export interface MpcResult {
  /** States [B, T, nx] (x[:, 0] = x_init). */
  x: Tensor;
  /** Controls [B, T, nu]. */
  u: Tensor;
  /** Objective per item [B]. */
  objective: Tensor;
  converged: boolean[];
  iterations: number[];
  status: IlqrStatus[];
  /** Why an item did not converge ('' when it did). */
  message: string[];
  /** Final full control step max_t |k_t| per item. */
  stepNorm: number[];
  /** Filled when gradients flow back through this solve (implicit modes). */
  backwardInfo: BackwardInfo;
}

/** Problem data in raw form, shared by the implicit and unrolled paths. */
export interface PreparedProblem {
  dims: LqrDims;
  lower: Float64Array;
  upper: Float64Array;
  uInit?: Float64Array;
}

function expandBound(v: TensorLike | undefined, fill: number, B: number, T: number, m: number, field: string): Float64Array {
  const out = new Float64Array(B * T * m);
  if (v === undefined) return out.fill(fill);
  if (typeof v === 'number') return out.fill(v);
  if (v.requiresGrad) throw new MpcError(`mpc: ${field} requires grad; control bounds are constants (derivatives with respect to them are not provided)`);
  const s = v.shape;
  const ok =
    s.length === 0 ||
    (s.length === 1 && s[0] === m) ||
    (s.length === 2 && s[0] === T && s[1] === m) ||
    (s.length === 3 && s[0] === B && s[1] === T && s[2] === m);
  if (!ok) throw new ShapeError(`mpc: ${field} has shape ${fmtShape(s)}, expected a number, [${m}], [${T}, ${m}] or [${B}, ${T}, ${m}]`);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < m; i++) {
        const src = s.length === 0 ? 0 : s.length === 1 ? i : s.length === 2 ? t * m + i : (b * T + t) * m + i;
        out[(b * T + t) * m + i] = v.data[src]!;
      }
    }
  }
  return out;
}

/** Checks shapes, bounds and data of a problem and returns it in raw form. */
export function prepareProblem(p: MpcProblem, opts: MpcOptions): PreparedProblem {
  const dyn = p.dynamics;
  const n = dyn.nx;
  const m = dyn.nu;
  const T = p.T;
  if (!Number.isInteger(T) || T < 1) throw new MpcError(`mpc: horizon T must be a positive integer, got ${T}`);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(m) || m < 1)
    throw new MpcError(`mpc: dynamics '${dyn.name}' has nx = ${n}, nu = ${m}; both must be positive integers`);
  if (p.x_init.ndim !== 2 || p.x_init.shape[1] !== n)
    throw new ShapeError(`mpc: x_init has shape ${fmtShape(p.x_init.shape)}, expected [B, ${n}] (nx = ${n} from dynamics '${dyn.name}')`);
  const B = p.x_init.shape[0]!;
  if (B < 1) throw new ShapeError('mpc: x_init has an empty batch');
  for (let i = 0; i < p.x_init.size; i++) {
    if (!Number.isFinite(p.x_init.data[i]!)) throw new MpcError(`mpc: x_init[${Math.floor(i / n)}, ${i % n}] is ${p.x_init.data[i]}`, Math.floor(i / n));
  }
  dyn.validate?.(T, B);
  const lower = expandBound(p.u_lower, -Infinity, B, T, m, 'u_lower');
  const upper = expandBound(p.u_upper, Infinity, B, T, m, 'u_upper');
  for (let i = 0; i < lower.length; i++) {
    const lo = lower[i]!;
    const hi = upper[i]!;
    const at = `[b=${Math.floor(i / (T * m))}, t=${Math.floor(i / m) % T}, i=${i % m}]`;
    if (Number.isNaN(lo) || Number.isNaN(hi)) throw new MpcError(`mpc: control bound at ${at} is NaN (u_lower ${lo}, u_upper ${hi})`);
    if (lo > hi) throw new MpcError(`mpc: u_lower > u_upper at ${at} (${lo} > ${hi})`, Math.floor(i / (T * m)), Math.floor(i / m) % T);
  }
  let uInit: Float64Array | undefined;
  if (opts.u_init) {
    const s = opts.u_init.shape;
    const ok = (s.length === 3 && s[0] === B && s[1] === T && s[2] === m) || (s.length === 2 && s[0] === T && s[1] === m);
    if (!ok) throw new ShapeError(`mpc: u_init has shape ${fmtShape(s)}, expected [${B}, ${T}, ${m}] or [${T}, ${m}]`);
    uInit = new Float64Array(B * T * m);
    for (let b = 0; b < B; b++) uInit.set(s.length === 3 ? opts.u_init.data.subarray(b * T * m, (b + 1) * T * m) : opts.u_init.data, b * T * m);
    const bad = uInit.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new MpcError(`mpc: u_init is not finite at flat index ${bad}`);
  }
  return { dims: { B, T, n, m }, lower, upper, uInit };
}

/**
 * Solves a batch of box-constrained MPC problems and returns the optimal states and controls
 * as tensors on the tape. Gradients reach x_init, the cost (C, c or an FnCost's parameters)
 * and the dynamics parameters through the implicit backward (or through the unrolled solver
 * with `backward: 'unrolled'`). Non-converged items are reported in `converged` / `status`
 * and still differentiated at their last iterate (never detached); pass
 * `raiseOnNonConverged` to throw instead.
 *
 * @example
 * const dyn = pendulum();
 * const { C, c } = pendulumCost();
 * const res = mpc({ dynamics: dyn, cost: quadCost(C, c), x_init: pendulumState([0.2], [0]), T: 20, u_lower: -2, u_upper: 2 });
 * res.u;          // [1, 20, 1] optimal torques
 * res.converged;  // [true]
 */
export function mpc(p: MpcProblem, opts: MpcOptions = {}): MpcResult {
  const prep = prepareProblem(p, opts);
  const wantThreads = checkThreads(opts.threads, 'mpc');
  if (opts.backward === 'unrolled') return unrolledMpc(p, prep, opts);
  const { B, T, n, m } = prep.dims;
  const nt = n + m;
  const dyn = p.dynamics;
  const cost = p.cost;
  const nDyn = dyn.params.length;
  const costParams = cost.kind === 'fn' ? cost.params : [];
  const inputs: Tensor[] = cost.kind === 'quad' ? [p.x_init, cost.C, cost.c, ...dyn.params, ...costParams] : [p.x_init, ...dyn.params, ...costParams];
  const off = cost.kind === 'quad' ? 3 : 1;
  let sol: IlqrSolution | undefined;
  const info: BackwardInfo = { runs: 0, gaussNewtonFallback: [] };
  let quad: { C: Float64Array; c: Float64Array } | undefined;
  const outs = customOp(
    'mpc',
    inputs,
    (ins) => {
      quad = cost.kind === 'quad' ? expandQuadCost({ kind: 'quad', C: ins[1]!, c: ins[2]! }, B, T, nt) : undefined;
      const ilqr: IlqrProblem = {
        dims: prep.dims,
        dynamics: dyn,
        dynParams: ins.slice(off, off + nDyn),
        cost,
        costParams: ins.slice(off + nDyn),
        quad,
        x_init: ins[0]!.data,
        u_lower: prep.lower,
        u_upper: prep.upper,
        u_init: prep.uInit,
      };
      const threads = mpcThreadCount(wantThreads, ilqr, opts) > 1 && threadsUnavailable() === null ? mpcThreadCount(wantThreads, ilqr, opts) : 1;
      sol = threads > 1 ? solveIlqrParallel(ilqr, opts, threads) : solveIlqr(ilqr, opts);
      return [new Tensor(sol.x, [B, T, n]), new Tensor(sol.u, [B, T, m]), new Tensor(sol.objective, [B])];
    },
    (gs, ins) => {
      const want = ins.map((t) => t.requiresGrad);
      return implicitBackward(
        { prep, sol: sol!, quad, dyn, cost, x_init: ins[0]!, dynParams: ins.slice(off, off + nDyn), costParams: ins.slice(off + nDyn), opts, info },
        gs,
        want,
        off,
      );
    },
  );
  const s = sol!;
  if (opts.raiseOnNonConverged && s.converged.some((c) => !c)) {
    const bad = s.converged.map((c, b) => (c ? -1 : b)).filter((b) => b >= 0);
    throw new MpcError(`mpc: ${bad.length} of ${B} batch items did not converge: ${bad.map((b) => `item ${b}: ${s.message[b]}`).join('; ')}`, bad[0]);
  }
  return {
    x: outs[0]!,
    u: outs[1]!,
    objective: outs[2]!,
    converged: s.converged,
    iterations: s.iterations,
    status: s.status,
    message: s.message,
    stepNorm: s.stepNorm,
    backwardInfo: info,
  };
}

/**
 * Shifts a control sequence one step earlier for a receding-horizon warm start:
 * u [B, T, m] -> [u_1, ..., u_{T-1}, u_{T-1}].
 */
export function shiftControls(u: Tensor): Tensor {
  if (u.ndim !== 3) throw new ShapeError(`shiftControls: u must be [B, T, m], got ${fmtShape(u.shape)}`);
  const [B, T, m] = u.shape as [number, number, number];
  const out = new Float64Array(u.size);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = Math.min(t + 1, T - 1);
      for (let i = 0; i < m; i++) out[(b * T + t) * m + i] = u.data[(b * T + src) * m + i]!;
    }
  }
  return new Tensor(out, u.shape);
}
