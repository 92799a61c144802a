// Argmin (unconstrained optimizer) layer (models/implicit): x* = argmin_x f(x, w) by Newton
// (dense Hessian from the core's second-order autodiff) or L-BFGS, differentiated by the IFT
// on the gradient, dx*/dw = -H^-1 d(grad_x f)/dw; or "unrolled": differentiate through K
// gradient steps x <- x - lr grad_x f(x, w), to compare with the implicit gradient.
import { Tensor, anyNeedsGrad, gradients, withArgShapes, isGradEnabled, mul, sub, withGradMode, zeros } from '../../sim/core/index.ts';
import { cholFactor, cholSolve } from '../../sim/linalg/dense.ts';
import {
  type BackwardOptions,
  ImplicitError,
  type Params,
  checkFinite,
  checkOptionKeys,
  checkPositive,
  checkSolverLimits,
  packParams,
  paramList,
} from './ift.ts';
import { type SolverInfo, checkInputs, finish, solveOutcome } from './root.ts';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { tfOp } from '../tf/bridge.ts';

/** Options of `argmin`. */
export interface ArgminOptions {
  /** 'newton' (default): dense Hessian, steepest descent where it is not positive definite. 'lbfgs': limited-memory BFGS. */
  method?: 'newton' | 'lbfgs';
  /**
   * 'implicit' (default): solve to `tol`, backward by the IFT on grad_x f = 0.
   * 'unrolled': `steps` gradient steps of size `lr` from x0, recorded on the tape.
   */
  mode?: 'implicit' | 'unrolled';
  /** Stop when max|grad_x f| <= tol (default 1e-10). */
  tol?: number;
  /** Iteration cap (default 100 for Newton, 1000 for L-BFGS). */
  maxIter?: number;
  /** L-BFGS memory (default 10). */
  memory?: number;
  /** Unrolled mode: number of gradient steps (default 25). */
  steps?: number;
  /** Unrolled mode: step size (default 0.1). */
  lr?: number;
  /** Throw NonConvergenceError instead of returning an unconverged x. */
  raiseOnNonConvergence?: boolean;
  /** How the backward solves H^T w = g ('dense' uses the Hessian from n HVPs; 'gmres' HVPs only). */
  backward?: BackwardOptions;
}

/** Report of `argmin`: the forward solver's info plus the objective at the returned x. */
export interface ArgminInfo extends SolverInfo {
  /** f(x, w) at the returned x. */
  value: number;
}

const ARGMIN_KEYS = ['method', 'mode', 'tol', 'maxIter', 'memory', 'steps', 'lr', 'raiseOnNonConvergence', 'backward'] as const;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (!(v <= m)) m = v;
  }
  return m;
}

/**
 * x* = argmin_x f(x, w) on the tape as a function of w (a Tensor or a list of Tensors).
 * f returns a scalar and is written with the core's ops; every tensor f should pass
 * gradients to must be in w. In 'implicit' mode the gradient is exact at the minimiser
 * (IFT, independent of the solver's path); in 'unrolled' mode it is the derivative of the
 * K-step gradient-descent iterate.
 *
 * @example
 * // the seed: f = sin(x w), w = 2, x0 = 0: x* = -pi/4, dx/dw = pi/8 = 0.3927
 * const w = scalar(2).requireGrad();
 * const { x } = argmin((x, w) => sin(mul(x, w)), w, scalar(0));
 * backward(x); // w.grad = 0.3927
 */
export function argmin<W extends Params>(f: (x: Tensor, w: W) => Tensor, w: W, x0: Tensor, opts: ArgminOptions = {}): { x: Tensor; info: ArgminInfo } {
  const layer = 'argmin';
  checkOptionKeys(opts, ARGMIN_KEYS, layer);
  checkSolverLimits(opts, layer);
  checkPositive(opts.memory, 'memory', layer, true);
  checkPositive(opts.steps, 'steps', layer, true);
  checkPositive(opts.lr, 'lr', layer);
  const method = opts.method ?? 'newton';
  const mode = opts.mode ?? 'implicit';
  if (method !== 'newton' && method !== 'lbfgs') throw new RangeError(`${layer}: method must be 'newton' or 'lbfgs', got '${String(method)}'`);
  if (mode !== 'implicit' && mode !== 'unrolled') throw new RangeError(`${layer}: mode must be 'implicit' or 'unrolled', got '${String(mode)}'`);
  const ws = paramList(w, layer);
  checkInputs(layer, ws, x0, 'x0');
  const detached = ws.map((t) => t.detach());
  const pw = packParams(w, detached);
  const obj = new Objective(layer, f, pw, x0.shape);
  if (mode === 'unrolled') return unrolled(layer, f, w, ws, x0, obj, opts);
  const tol = opts.tol ?? 1e-10;
  const r = method === 'newton' ? newton(obj, x0.data, tol, opts.maxIter ?? 100) : lbfgs(obj, x0.data, tol, opts.maxIter ?? 1000, opts.memory ?? 10);
  const info: ArgminInfo = { ...r.info, method, evaluations: obj.evaluations };
  // F(w, x) = grad_x f(x, w): its Jacobian in x is the Hessian, its VJPs are HVPs
  const F = (ww: W, xv: Tensor): Tensor =>
    withGradMode(true, () => {
      const xl = xv.requiresGrad ? xv : xv.detach().requireGrad();
      const fv = f(xl, ww);
      const [g] = gradients([fv], [xl], undefined, { createGraph: true, allowUnused: true });
      return g ?? zeros(xl.shape);
    });
  return { x: finish(layer, F, w, info, r.x, x0.shape, false, opts), info };
}

/** f, its gradient and Hessian at flat points, with the parameters held fixed. */
class Objective<W extends Params> {
  evaluations = 0;
  private checked = false;
  constructor(
    private readonly layer: string,
    private readonly f: (x: Tensor, w: W) => Tensor,
    private readonly w: W,
    private readonly shape: readonly number[],
  ) {}

  private call(x: Tensor, iteration: number): Tensor {
    this.evaluations++;
    const v = withArgShapes(this.layer, 'f(x, w)', { x, w: this.w }, () => this.f(x, this.w));
    if (!(v instanceof Tensor) || v.size !== 1) {
      throw new TypeError(`${this.layer}: f(x, w) must return a scalar Tensor, got ${v instanceof Tensor ? `shape [${v.shape.join(', ')}]` : typeof v}`);
    }
    checkFinite(v.data, 'f(x, w)', this.layer, 'forward', iteration);
    return v;
  }

  /** f at x (NaN allowed: the line search treats it as a failed trial). */
  value(x: Float64Array): number {
    this.evaluations++;
    return withGradMode(true, () => this.f(new Tensor(x, this.shape), this.w).data[0]!);
  }

  valueGrad(x: Float64Array, iteration: number): { f: number; g: Float64Array } {
    return withGradMode(true, () => {
      if (!this.checked) {
        this.checked = true;
        if (this.call(new Tensor(Float64Array.from(x), this.shape), iteration).requiresGrad) {
          throw new ImplicitError(
            `${this.layer}: f depends on a tensor that requires grad but is not passed in w (captured by the closure?); its gradient would be lost: pass it in w, or detach it`,
            this.layer,
            'forward',
            iteration,
          );
        }
      }
      const xl = new Tensor(Float64Array.from(x), this.shape).requireGrad();
      const v = this.call(xl, iteration);
      const [g] = gradients([v], [xl], undefined, { allowUnused: true });
      const gd = g ? Float64Array.from(g.data) : new Float64Array(x.length);
      checkFinite(gd, 'grad_x f(x, w)', this.layer, 'forward', iteration);
      return { f: v.data[0]!, g: gd };
    });
  }

  /** Dense Hessian (n reverse passes over the recorded gradient). */
  hessian(x: Float64Array, iteration: number): Float64Array {
    return withGradMode(true, () => {
      const n = x.length;
      const xl = new Tensor(Float64Array.from(x), this.shape).requireGrad();
      const v = this.call(xl, iteration);
      const [g] = gradients([v], [xl], undefined, { createGraph: true, allowUnused: true });
      const H = new Float64Array(n * n);
      if (!g || !g.requiresGrad) return H;
      for (let j = 0; j < n; j++) {
        const e = new Float64Array(n);
        e[j] = 1;
        const [row] = gradients([g], [xl], [new Tensor(e, g.shape)], { allowUnused: true });
        if (row) H.set(row.data, j * n);
      }
      checkFinite(H, 'the Hessian of f', this.layer, 'forward', iteration);
      return H;
    });
  }
}

interface MinResult {
  x: Float64Array;
  info: Omit<ArgminInfo, 'method' | 'evaluations'>;
}

/**
 * Backtracking Armijo search along d from x: largest t in 1, 1/2, ... with
 * f(x + t d) <= f + 1e-4 t g.d + 8 eps |f| (non-finite f counts as failure). The round-off
 * allowance lets the last steps to a gradient tolerance near 1e-13 through, where f no
 * longer resolves the decrease. Where d is not a descent direction (g.d >= 0) it is first
 * replaced, in place, by -g, and `onSteepest` runs. Returns null if no t passes.
 */
function armijo<W extends Params>(
  obj: Objective<W>,
  x: Float64Array,
  fx: number,
  g: Float64Array,
  d: Float64Array,
  onSteepest?: () => void,
): { x: Float64Array; t: number } | null {
  let slope = dot(g, d);
  if (!(slope < 0)) {
    onSteepest?.();
    for (let i = 0; i < d.length; i++) d[i] = -g[i]!;
    slope = dot(g, d);
  }
  let t = 1;
  for (let k = 0; k < 60; k++) {
    const xt = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) xt[i] = x[i]! + t * d[i]!;
    const ft = obj.value(xt);
    if (Number.isFinite(ft) && ft <= fx + 1e-4 * t * slope + 8 * Number.EPSILON * Math.abs(fx)) return { x: xt, t };
    t *= 0.5;
  }
  return null;
}

function report(iterations: number, g: Float64Array, tol: number, hist: number[], value: number, extra = ''): MinResult['info'] {
  return { ...solveOutcome(Float64Array.of(maxAbs(g)), iterations, hist, tol, 'max|grad f|', extra), value };
}

function newton<W extends Params>(obj: Objective<W>, x0: Float64Array, tol: number, maxIter: number): MinResult {
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let { f, g } = obj.valueGrad(x, 0);
  const hist = [maxAbs(g)];
  let it = 0;
  let extra = '';
  for (; it < maxIter && !(maxAbs(g) <= tol); it++) {
    const H = obj.hessian(x, it + 1);
    const L = Float64Array.from(H);
    // Newton direction where H is positive definite, else steepest descent
    const d = g.map((v) => -v);
    if (cholFactor(L, 0, n) < 0) cholSolve(L, 0, n, d, 0, 1);
    const step = armijo(obj, x, f, g, d);
    if (!step) {
      extra = '; the line search found no decrease';
      break;
    }
    x = step.x;
    ({ f, g } = obj.valueGrad(x, it + 1));
    hist.push(maxAbs(g));
  }
  return { x, info: report(it, g, tol, hist, f, extra) };
}

function lbfgs<W extends Params>(obj: Objective<W>, x0: Float64Array, tol: number, maxIter: number, m: number): MinResult {
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let { f, g } = obj.valueGrad(x, 0);
  const hist = [maxAbs(g)];
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let it = 0;
  let extra = '';
  for (; it < maxIter && !(maxAbs(g) <= tol); it++) {
    // two-loop recursion: d = -H g
    const q = Float64Array.from(g);
    const a = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      a[k] = rho[k]! * dot(S[k]!, q);
      const y = Y[k]!;
      for (let i = 0; i < n; i++) q[i]! -= a[k]! * y[i]!;
    }
    const gamma = S.length ? dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!) : 1 / Math.max(1, maxAbs(g));
    for (let i = 0; i < n; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = rho[k]! * dot(Y[k]!, q);
      const s = S[k]!;
      for (let i = 0; i < n; i++) q[i]! += (a[k]! - b) * s[i]!;
    }
    const d = q.map((v) => -v);
    const step = armijo(obj, x, f, g, d, () => {
      S.length = Y.length = rho.length = 0;
    });
    if (!step) {
      extra = '; the line search found no decrease';
      break;
    }
    const next = obj.valueGrad(step.x, it + 1);
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = step.x[i]! - x[i]!;
      y[i] = next.g[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    x = step.x;
    f = next.f;
    g = next.g;
    hist.push(maxAbs(g));
  }
  return { x, info: report(it, g, tol, hist, f, extra) };
}

/** K gradient steps x <- x - lr grad_x f(x, w), recorded (createGraph) so w's gradient flows through them. */
function unrolled<W extends Params>(
  layer: string,
  f: (x: Tensor, w: W) => Tensor,
  w: W,
  ws: readonly Tensor[],
  x0: Tensor,
  obj: Objective<W>,
  opts: ArgminOptions,
): { x: Tensor; info: ArgminInfo } {
  const steps = opts.steps ?? 25;
  const lr = opts.lr ?? 0.1;
  const record = isGradEnabled() && anyNeedsGrad([...ws, x0]);
  const hist: number[] = [];
  let x: Tensor;
  if (!record) {
    let xd = Float64Array.from(x0.data);
    for (let k = 0; k < steps; k++) {
      const { g } = obj.valueGrad(xd, k);
      hist.push(maxAbs(g));
      xd = xd.map((v, i) => v - lr * g[i]!);
    }
    x = new Tensor(xd, x0.shape);
  } else {
    x = x0.requiresGrad ? x0 : x0.detach().requireGrad();
    for (let k = 0; k < steps; k++) {
      const fv = f(x, w);
      if (!(fv instanceof Tensor) || fv.size !== 1) throw new TypeError(`${layer}: f(x, w) must return a scalar Tensor`);
      checkFinite(fv.data, 'f(x, w)', layer, 'forward', k);
      const [g] = gradients([fv], [x], undefined, { createGraph: true, allowUnused: true });
      const gt = g ?? zeros(x.shape);
      checkFinite(gt.data, 'grad_x f(x, w)', layer, 'forward', k);
      hist.push(maxAbs(gt.data));
      x = sub(x, mul(lr, gt));
    }
    if (!x0.requiresGrad && x === x0) x = x0.detach();
  }
  const fin = obj.valueGrad(x.data, steps);
  const res = maxAbs(fin.g);
  hist.push(res);
  const info: ArgminInfo = {
    converged: res <= (opts.tol ?? 1e-10),
    iterations: steps,
    residual: res,
    residualHistory: hist,
    method: `unrolled gradient descent (lr ${lr})`,
    evaluations: obj.evaluations + steps,
    message: `${steps} unrolled gradient steps of size ${lr}: max|grad f| = ${res.toExponential(3)}`,
    value: fin.f,
  };
  return { x, info };
}

/**
 * The argmin layer as a tfjs op: `op(...ws)` takes the parameters as tf tensors and
 * returns x* (float32), differentiable for tfjs (IFT, or unrolled with mode 'unrolled').
 * Call `await initTf()` first.
 */
export function argminTf(
  f: (x: Tensor, w: Tensor[]) => Tensor,
  x0: Tensor | ((w: readonly Tensor[]) => Tensor),
  opts: ArgminOptions = {},
): (...ws: TfTensor[]) => TfTensor {
  return tfOp((...ws: Tensor[]) => argmin(f, ws, typeof x0 === 'function' ? x0(ws) : x0, opts).x, { name: 'argmin' });
}
