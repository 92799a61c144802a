// Root-finding layer (models/implicit): y* with F(x, y*) = 0, found by Newton with
// backtracking line search or by Broyden's method, and differentiated by the implicit
// function theorem (ift.ts): dy/dx = -[dF/dy]^-1 dF/dx, both terms from the core's autodiff.
import { Tensor, withArgShapes, withGradMode } from '../../sim/core/index.ts';
import {
  type BackwardInfo,
  type BackwardOptions,
  ImplicitError,
  NonConvergenceError,
  type Params,
  batchDims,
  callF,
  checkFinite,
  checkOptionKeys,
  checkPositive,
  checkSolverLimits,
  implicitSolution,
  jacobianBlocks,
  linearize,
  packParams,
  paramList,
} from './ift.ts';
import { luFactor, luSolve } from '../../sim/linalg/dense.ts';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { tfOp } from '../tf/bridge.ts';

/** Convergence report of a forward solve. */
export interface SolverInfo {
  /** Every item reached the tolerance. */
  converged: boolean;
  /** Iterations of the forward solver. */
  iterations: number;
  /** Final residual (largest over items; what `tol` is compared with). */
  residual: number;
  /** Residual after each iteration (largest over items), starting with the initial guess. */
  residualHistory: number[];
  /** The forward method used. */
  method: string;
  /** Evaluations of the user's function by the forward solver (not counting the recordings Newton takes its Jacobians from). */
  evaluations: number;
  /** Human-readable outcome (why it stopped). */
  message: string;
  /** Filled in when a backward pass runs: what the adjoint solve did. */
  backward?: BackwardInfo;
}

/** Options of `rootFind`. */
export interface RootFindOptions {
  /** 'newton' (default): dense Jacobian from VJPs, backtracking line search. 'broyden': inverse-Jacobian updates. */
  method?: 'newton' | 'broyden';
  /** Stop when max|F| <= tol for every item (default 1e-10). */
  tol?: number;
  /** Iteration cap (default 50 for Newton, 200 for Broyden). */
  maxIter?: number;
  /** Leading axis of y indexes independent problems: F's item b may read only y's item b. */
  batched?: boolean;
  /** Backtracking line search on |F|^2 (default true). */
  lineSearch?: boolean;
  /** Broyden: start from the inverse of the autodiff Jacobian at y0 ('jacobian', default when n <= 200) or from -I ('identity'). */
  broydenInit?: 'jacobian' | 'identity';
  /** Broyden: rank-one updates kept before a restart (default 50). */
  memory?: number;
  /** Throw NonConvergenceError instead of returning an unconverged y (default false: see info.converged). */
  raiseOnNonConvergence?: boolean;
  /** How the backward solves the adjoint system. */
  backward?: BackwardOptions;
}

const ROOT_KEYS = ['method', 'tol', 'maxIter', 'batched', 'lineSearch', 'broydenInit', 'memory', 'raiseOnNonConvergence', 'backward'] as const;

/** Per-item max|v| of a flat [B, n] vector. */
export function itemMaxAbs(v: Float64Array, B: number, n: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let i = b * n; i < (b + 1) * n; i++) {
      const a = Math.abs(v[i]!);
      if (!(a <= m)) m = a; // NaN propagates
    }
    out[b] = m;
  }
  return out;
}

function dotItem(a: Float64Array, b: Float64Array, k: number, n: number): number {
  let s = 0;
  for (let i = k * n; i < (k + 1) * n; i++) s += a[i]! * b[i]!;
  return s;
}

/** F on flat data at a solver iteration (fresh array); throws on a non-finite value unless told not to. */
export type EvalF = (y: Float64Array, iteration: number, throwOnNonFinite?: boolean) => Float64Array;

/** Evaluates F on flat data: grad mode on (F may use the core's gradients), inputs detached. */
export function makeEval<X extends Params>(
  layer: string,
  F: (x: X, y: Tensor) => Tensor,
  x: X,
  detached: readonly Tensor[],
  shape: readonly number[],
  B: number,
  batched: boolean,
): { eval: EvalF; count: () => number } {
  const px = packParams(x, detached);
  let count = 0;
  let first = true;
  return {
    eval: (y, iteration, throwOnNonFinite = true) =>
      withGradMode(true, () => {
        count++;
        const yt = new Tensor(y, shape);
        const Fv = withArgShapes(layer, 'F(x, y)', { x, y: yt }, () => callF(layer, F, px, yt, B, batched));
        if (first) {
          first = false;
          if (Fv.requiresGrad) {
            throw new ImplicitError(
              `${layer}: F depends on a tensor that requires grad but is not passed in x (captured by the closure?); its gradient would be lost: pass it in x, or detach it`,
              layer,
              'forward',
              iteration,
            );
          }
        }
        if (throwOnNonFinite) checkFinite(Fv.data, 'F(x, y)', layer, 'forward', iteration, B);
        return Float64Array.from(Fv.data);
      }),
    count: () => count,
  };
}

/** Checks user inputs are finite tensors; names the bad one. */
export function checkInputs(layer: string, xs: readonly Tensor[], y0: Tensor, y0Name: string): void {
  if (!(y0 instanceof Tensor)) throw new TypeError(`${layer}: ${y0Name} must be a Tensor`);
  xs.forEach((t, i) => {
    for (let k = 0; k < t.size; k++) {
      if (!Number.isFinite(t.data[k]!)) throw new ImplicitError(`${layer}: x[${i}] has ${t.data[k]} at flat index ${k}`, layer, 'forward', 0, k);
    }
  });
  for (let k = 0; k < y0.size; k++) {
    if (!Number.isFinite(y0.data[k]!)) throw new ImplicitError(`${layer}: ${y0Name} has ${y0.data[k]} at flat index ${k}`, layer, 'forward', 0, k);
  }
}

interface Iterate {
  y: Float64Array;
  F: Float64Array;
  res: Float64Array;
}

/** Keeps, per item, the iterate with the smallest residual. */
export class BestTracker {
  readonly y: Float64Array;
  readonly res: Float64Array;
  constructor(
    y: Float64Array,
    res: Float64Array,
    private readonly n: number,
  ) {
    this.y = Float64Array.from(y);
    this.res = Float64Array.from(res);
  }
  update(y: Float64Array, res: Float64Array): void {
    const n = this.n;
    for (let b = 0; b < res.length; b++) {
      if (res[b]! < this.res[b]!) {
        this.res[b] = res[b]!;
        this.y.set(y.subarray(b * n, (b + 1) * n), b * n);
      }
    }
  }
}

/**
 * Finds y* with F(x, y*) = 0 and returns it on the tape as a function of x (a Tensor or a
 * list of Tensors), differentiated by the implicit function theorem. F is written with the
 * core's ops; every tensor F should pass gradients to must be in x.
 *
 * @example
 * // y^2 - w = 0: dy/dw = 1 / (2 y)
 * const w = scalar(4).requireGrad();
 * const { y, info } = rootFind((w, y) => sub(mul(y, y), w), w, scalar(1));
 * backward(y); // y = 2, w.grad = 0.25
 */
export function rootFind<X extends Params>(F: (x: X, y: Tensor) => Tensor, x: X, y0: Tensor, opts: RootFindOptions = {}): { y: Tensor; info: SolverInfo } {
  const layer = 'rootFind';
  checkOptionKeys(opts, ROOT_KEYS, layer);
  checkSolverLimits(opts, layer);
  checkPositive(opts.memory, 'memory', layer, true);
  const method = opts.method ?? 'newton';
  if (method !== 'newton' && method !== 'broyden') throw new RangeError(`${layer}: method must be 'newton' or 'broyden', got '${String(method)}'`);
  const xs = paramList(x, layer);
  checkInputs(layer, xs, y0, 'y0');
  const batched = opts.batched ?? false;
  const { B, n } = batchDims(y0.shape, batched, layer);
  const detached = xs.map((t) => t.detach());
  const ev = makeEval(layer, F, x, detached, y0.shape, B, batched);
  const tol = opts.tol ?? 1e-10;
  const solve = method === 'newton' ? newtonSolve : broydenSolve;
  const { y, ...r } = solve({ layer, F, x, detached, y0, evalF: ev.eval, B, n, batched, tol }, opts);
  const info: SolverInfo = { ...r, method, evaluations: ev.count() };
  return { y: finish(layer, F, x, info, y, y0.shape, batched, opts), info };
}

/** Raises on non-convergence if asked, then attaches the IFT backward. */
export function finish<X extends Params>(
  layer: string,
  F: (x: X, y: Tensor) => Tensor,
  x: X,
  info: SolverInfo,
  y: Float64Array,
  shape: readonly number[],
  batched: boolean,
  opts: { raiseOnNonConvergence?: boolean; backward?: BackwardOptions },
): Tensor {
  if (!info.converged && opts.raiseOnNonConvergence) throw new NonConvergenceError(`${layer} (${info.method}): ${info.message}`, layer, 'forward', info);
  return implicitSolution(
    {
      layer,
      F,
      x,
      batched,
      backward: opts.backward,
      onBackward: (b) => {
        info.backward = b;
      },
    },
    y,
    shape,
  );
}

/** A root-finding problem as the forward solvers of `rootFind` see it. */
interface RootProblem<X extends Params> {
  layer: string;
  F: (x: X, y: Tensor) => Tensor;
  x: X;
  /** Detached copies of the parameters (the solvers' linearisations record F on them). */
  detached: readonly Tensor[];
  y0: Tensor;
  evalF: EvalF;
  B: number;
  n: number;
  batched: boolean;
  tol: number;
}

/** Result of a forward solve on flat data: the best iterate y per item and how the iteration ended. */
export interface SolveResult {
  y: Float64Array;
  converged: boolean;
  iterations: number;
  residual: number;
  residualHistory: number[];
  message: string;
}

/** The largest per-item residual and its item (NaN counts as largest). */
export function worstItem(res: Float64Array): { value: number; item: number } {
  let value = 0;
  let item = 0;
  for (let b = 0; b < res.length; b++) {
    if (!(res[b]! <= value)) {
      value = res[b]!;
      item = b;
    }
  }
  return { value, item };
}

/**
 * The outcome of a finished iteration from the per-item residuals of its best iterates:
 * converged when every item is within tol; the message names the residual `what`, the worst
 * item when there are several, and any `extra` reason for stopping.
 */
export function solveOutcome(res: Float64Array, iterations: number, residualHistory: number[], tol: number, what: string, extra = ''): Omit<SolveResult, 'y'> {
  const converged = res.every((r) => r <= tol);
  const { value, item } = worstItem(res);
  const where = res.length > 1 ? ` (worst item ${item})` : '';
  const message = converged
    ? `converged in ${iterations} iterations: ${what} = ${value.toExponential(3)} <= tol ${tol}`
    : `not converged after ${iterations} iterations: ${what} = ${value.toExponential(3)} > tol ${tol}${where}${extra}`;
  return { converged, iterations, residual: value, residualHistory, message };
}

/**
 * Backtracking (Armijo) line search on phi = |F|^2 / 2, per item: tries y + t d with
 * t = 1, 1/2, ...; an item accepts the first t with phi(t) <= phi(0) + 1e-4 t slope.
 * Non-finite trial values count as failures. Items with `active[b]` false stay put.
 */
function lineSearch(
  cur: Iterate,
  d: Float64Array,
  slope: Float64Array,
  active: boolean[],
  evalF: EvalF,
  B: number,
  n: number,
  iteration: number,
): { moved: boolean[]; nonFinite: number } {
  const t = new Float64Array(B).fill(1);
  const pending = active.slice();
  const moved = new Array<boolean>(B).fill(false);
  let nonFinite = -1;
  const phi0 = new Float64Array(B);
  for (let b = 0; b < B; b++) phi0[b] = 0.5 * dotItem(cur.F, cur.F, b, n);
  for (let ls = 0; ls < 40 && pending.some((p) => p); ls++) {
    const yt = Float64Array.from(cur.y);
    for (let b = 0; b < B; b++) {
      if (!pending[b]) continue;
      for (let i = b * n; i < (b + 1) * n; i++) yt[i] = cur.y[i]! + t[b]! * d[i]!;
    }
    const Ft = evalF(yt, iteration, false);
    for (let b = 0; b < B; b++) {
      if (!pending[b]) continue;
      const phi = 0.5 * dotItem(Ft, Ft, b, n);
      const ok = Number.isFinite(phi) && phi <= phi0[b]! + 1e-4 * t[b]! * slope[b]!;
      if (!Number.isFinite(phi) && nonFinite < 0) {
        for (let i = b * n; i < (b + 1) * n; i++) if (!Number.isFinite(Ft[i]!)) nonFinite = i;
      }
      if (ok) {
        pending[b] = false;
        moved[b] = true;
        cur.y.set(yt.subarray(b * n, (b + 1) * n), b * n);
        cur.F.set(Ft.subarray(b * n, (b + 1) * n), b * n);
      } else t[b]! *= 0.5;
    }
  }
  if (moved.every((m, b) => m || !active[b])) nonFinite = -1;
  return { moved, nonFinite };
}

function newtonSolve<X extends Params>(p: RootProblem<X>, opts: RootFindOptions): SolveResult {
  const { layer, F, x, detached, y0, evalF, B, n, batched, tol } = p;
  const maxIter = opts.maxIter ?? 50;
  const useLs = opts.lineSearch ?? true;
  const cur: Iterate = { y: Float64Array.from(y0.data), F: evalF(y0.data, 0), res: new Float64Array(B) };
  cur.res = itemMaxAbs(cur.F, B, n);
  const best = new BestTracker(cur.y, cur.res, n);
  const hist = [worstItem(cur.res).value];
  let it = 0;
  let extra = '';
  for (; it < maxIter; it++) {
    const active = Array.from(cur.res, (r) => !(r <= tol));
    if (!active.some((a) => a)) break;
    const lin = linearize(layer, F, x, detached, cur.y, y0.shape, B, batched, 'forward', it + 1);
    const J = jacobianBlocks((v) => lin.vjpY(v), B, n);
    const d = new Float64Array(B * n);
    const slope = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      if (!active[b]) continue;
      const lu = J.slice(b * n * n, (b + 1) * n * n);
      const piv = new Int32Array(n);
      const ok = luFactor(lu, 0, n, piv, 1e-14) !== 0;
      const o = b * n;
      if (ok) {
        const rhs = cur.F.slice(o, o + n);
        luSolve(lu, 0, n, piv, rhs, 0, 1, false);
        let s = 0;
        for (let i = 0; i < n; i++) {
          d[o + i] = -rhs[i]!;
          s += cur.F[o + i]! * cur.F[o + i]!;
        }
        slope[b] = -s;
      } else {
        // singular Jacobian: steepest descent on |F|^2 / 2, d = -J^T F
        let s = 0;
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let k = 0; k < n; k++) v += J[b * n * n + k * n + i]! * cur.F[o + k]!;
          d[o + i] = -v;
          s += v * v;
        }
        slope[b] = -s;
        if (s === 0) active[b] = false; // stationary point of |F|^2 that is not a root
      }
    }
    if (useLs) {
      const { moved, nonFinite } = lineSearch(cur, d, slope, active, evalF, B, n, it + 1);
      if (nonFinite >= 0) {
        const where = B > 1 ? ` (item ${Math.floor(nonFinite / n)}, component ${nonFinite % n})` : '';
        throw new ImplicitError(
          `${layer} (forward, iteration ${it + 1}): F(x, y) is not finite at flat index ${nonFinite}${where} at every trial point of the line search along the Newton step`,
          layer,
          'forward',
          it + 1,
          nonFinite,
        );
      }
      if (!moved.some((m, b) => m && active[b])) {
        extra = '; the line search found no decrease (a local minimum of |F| that is not a root, or F is not smooth)';
        it++;
        hist.push(worstItem(cur.res).value);
        break;
      }
    } else {
      for (let i = 0; i < cur.y.length; i++) cur.y[i]! += d[i]!;
      cur.F = evalF(cur.y, it + 1);
    }
    cur.res = itemMaxAbs(cur.F, B, n);
    best.update(cur.y, cur.res);
    hist.push(worstItem(cur.res).value);
  }
  return { y: best.y, ...solveOutcome(best.res, it, hist, tol, 'max|F|', extra) };
}

/** Limited-memory inverse-Jacobian approximation H = H0 + sum u_k v_k^T, per item. */
export class BroydenInverse {
  private readonly U: Float64Array[] = [];
  private readonly V: Float64Array[] = [];
  constructor(
    private readonly B: number,
    private readonly n: number,
    private readonly memory: number,
    /** Dense LU of J0 per item (H0 = J0^-1), or null for H0 = -I. */
    private readonly lu: { lu: Float64Array; piv: Int32Array; ok: boolean[] } | null,
  ) {}

  private h0(v: Float64Array, transpose: boolean): Float64Array {
    const { B, n } = this;
    const r = Float64Array.from(v);
    for (let b = 0; b < B; b++) {
      if (this.lu && this.lu.ok[b]) luSolve(this.lu.lu, b * n * n, n, this.lu.piv, r, b * n, 1, transpose, b * n);
      else for (let i = b * n; i < (b + 1) * n; i++) r[i] = -r[i]!;
    }
    return r;
  }

  /** Adds sum_k outer_k (inner_k . v) to r per item: the rank-one terms of H (outer U, inner V) or of H^T (outer V, inner U). */
  private addLowRank(r: Float64Array, v: Float64Array, outer: readonly Float64Array[], inner: readonly Float64Array[]): Float64Array {
    const { B, n } = this;
    for (let k = 0; k < outer.length; k++) {
      const o = outer[k]!;
      const w = inner[k]!;
      for (let b = 0; b < B; b++) {
        const c = dotItem(w, v, b, n);
        if (c !== 0) for (let i = b * n; i < (b + 1) * n; i++) r[i]! += c * o[i]!;
      }
    }
    return r;
  }

  /** H v. */
  apply(v: Float64Array): Float64Array {
    return this.addLowRank(this.h0(v, false), v, this.U, this.V);
  }

  /** H^T v. */
  applyT(v: Float64Array): Float64Array {
    return this.addLowRank(this.h0(v, true), v, this.V, this.U);
  }

  /** Good-Broyden update from a step s and the change dF of F (Sherman-Morrison form). */
  update(s: Float64Array, dF: Float64Array): void {
    const { B, n } = this;
    const Hd = this.apply(dF);
    const Hts = this.applyT(s);
    const u = new Float64Array(B * n);
    const v = new Float64Array(B * n);
    for (let b = 0; b < B; b++) {
      const den = dotItem(s, Hd, b, n);
      const scale = Math.sqrt(dotItem(s, s, b, n) * dotItem(Hd, Hd, b, n));
      if (!(Math.abs(den) > 1e-12 * scale) || !Number.isFinite(den)) continue;
      for (let i = b * n; i < (b + 1) * n; i++) {
        u[i] = (s[i]! - Hd[i]!) / den;
        v[i] = Hts[i]!;
      }
    }
    if (this.U.length >= this.memory) {
      this.U.length = 0;
      this.V.length = 0;
    }
    this.U.push(u);
    this.V.push(v);
  }
}

function broydenSolve<X extends Params>(p: RootProblem<X>, opts: RootFindOptions): SolveResult {
  const { layer, F, x, detached, y0, evalF, B, n, batched, tol } = p;
  const maxIter = opts.maxIter ?? 200;
  const init = opts.broydenInit ?? (n <= 200 ? 'jacobian' : 'identity');
  if (init !== 'jacobian' && init !== 'identity') throw new RangeError(`${layer}: broydenInit must be 'jacobian' or 'identity', got '${String(init)}'`);
  let lu: { lu: Float64Array; piv: Int32Array; ok: boolean[] } | null = null;
  if (init === 'jacobian') {
    const lin = linearize(layer, F, x, detached, y0.data, y0.shape, B, batched, 'forward', 0);
    const J = jacobianBlocks((v) => lin.vjpY(v), B, n);
    const f = Float64Array.from(J);
    const piv = new Int32Array(B * n);
    const ok: boolean[] = [];
    for (let b = 0; b < B; b++) ok.push(luFactor(f, b * n * n, n, piv, 1e-14, b * n) !== 0);
    lu = { lu: f, piv, ok };
  }
  const H = new BroydenInverse(B, n, opts.memory ?? 50, lu);
  return broydenLoop(layer, H, evalF, Float64Array.from(y0.data), B, n, tol, maxIter, opts.lineSearch ?? true);
}

/**
 * The Broyden iteration on F(y) = 0 with per-item line search; `resNorm` measures the
 * residual compared with tol (max|F| by default). Shared with fixed-point.ts, which passes
 * F = f(z) - z and a relative norm.
 */
export function broydenLoop(
  layer: string,
  H: BroydenInverse,
  evalF: EvalF,
  y0: Float64Array,
  B: number,
  n: number,
  tol: number,
  maxIter: number,
  useLs: boolean,
  resNorm: (F: Float64Array, y: Float64Array) => Float64Array = (F) => itemMaxAbs(F, B, n),
): SolveResult {
  const cur: Iterate = { y: y0, F: evalF(y0, 0), res: new Float64Array(B) };
  cur.res = resNorm(cur.F, cur.y);
  const best = new BestTracker(cur.y, cur.res, n);
  const hist = [worstItem(cur.res).value];
  let it = 0;
  for (; it < maxIter; it++) {
    const active = Array.from(cur.res, (r) => !(r <= tol));
    if (!active.some((a) => a)) break;
    const d = H.apply(cur.F);
    for (let b = 0; b < B; b++) for (let i = b * n; i < (b + 1) * n; i++) d[i] = active[b] ? -d[i]! : 0;
    const yPrev = Float64Array.from(cur.y);
    const FPrev = Float64Array.from(cur.F);
    if (useLs) {
      // accept the first t in 1, 1/2, .. 1/16 that lowers |F|; else the full step
      lineSearchSimple(cur, d, active, evalF, B, n, it + 1);
    } else {
      for (let i = 0; i < cur.y.length; i++) cur.y[i]! += d[i]!;
      cur.F = evalF(cur.y, it + 1);
    }
    checkFinite(cur.F, 'F(x, y)', layer, 'forward', it + 1, B);
    const s = new Float64Array(B * n);
    const dF = new Float64Array(B * n);
    for (let i = 0; i < s.length; i++) {
      s[i] = cur.y[i]! - yPrev[i]!;
      dF[i] = cur.F[i]! - FPrev[i]!;
    }
    H.update(s, dF);
    cur.res = resNorm(cur.F, cur.y);
    best.update(cur.y, cur.res);
    hist.push(worstItem(cur.res).value);
  }
  return { y: best.y, ...solveOutcome(best.res, it, hist, tol, 'max|F|') };
}

function lineSearchSimple(cur: Iterate, d: Float64Array, active: boolean[], evalF: EvalF, B: number, n: number, iteration: number): boolean[] {
  const phi0 = new Float64Array(B);
  for (let b = 0; b < B; b++) phi0[b] = dotItem(cur.F, cur.F, b, n);
  const pending = active.slice();
  const t = new Float64Array(B).fill(1);
  const moved = new Array<boolean>(B).fill(false);
  const yNew = Float64Array.from(cur.y);
  const FNew = Float64Array.from(cur.F);
  for (let ls = 0; ls < 6 && pending.some((p) => p); ls++) {
    const last = ls === 5;
    const yt = Float64Array.from(cur.y);
    for (let b = 0; b < B; b++) {
      if (!pending[b]) continue;
      const tb = last ? 1 : t[b]!;
      for (let i = b * n; i < (b + 1) * n; i++) yt[i] = cur.y[i]! + tb * d[i]!;
    }
    const Ft = evalF(yt, iteration, last);
    for (let b = 0; b < B; b++) {
      if (!pending[b]) continue;
      const phi = dotItem(Ft, Ft, b, n);
      if (last || (Number.isFinite(phi) && phi < phi0[b]!)) {
        pending[b] = false;
        moved[b] = true;
        yNew.set(yt.subarray(b * n, (b + 1) * n), b * n);
        FNew.set(Ft.subarray(b * n, (b + 1) * n), b * n);
      } else t[b]! *= 0.5;
    }
  }
  cur.y.set(yNew);
  cur.F.set(FNew);
  return moved;
}

/**
 * The root-find layer as a tfjs op (through the bridge's `tfOp`): `op(...xs)` takes the
 * parameters as tf tensors and returns y* as a float32 tf tensor; tfjs gradients flow to
 * every x through the IFT backward (first order). Solving and differentiating run in
 * float64. `y0` may depend on the parameters. Call `await initTf()` first.
 *
 * @example
 * const op = rootFindTf(([w], y) => sub(mul(y, y), w), scalar(1));
 * const g = tf.grad((w) => op(w))(tf.scalar(4)); // 0.25
 */
export function rootFindTf(
  F: (x: Tensor[], y: Tensor) => Tensor,
  y0: Tensor | ((x: readonly Tensor[]) => Tensor),
  opts: RootFindOptions = {},
): (...xs: TfTensor[]) => TfTensor {
  return tfOp((...xs: Tensor[]) => rootFind(F, xs, typeof y0 === 'function' ? y0(xs) : y0, opts).y, { name: 'rootFind' });
}
