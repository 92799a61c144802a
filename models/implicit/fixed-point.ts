// Fixed-point / deep-equilibrium layer (models/implicit): z* = f(z*, x) found by Anderson
// acceleration, Broyden or damped Picard iteration; backward by the IFT on F = f(z, x) - z
// (dense, GMRES, or the adjoint fixed point v = v df/dz + g) or by a phantom gradient (k
// damped unrolled steps, as in torchdeq). Also the DEQ block used inside tfjs models. In a
// batch, Anderson and Picard stop each item on its own (a converged item is frozen), so a
// DEQ batch can be split over worker threads with the results of one thread
// (deq-parallel.ts).
import { Tensor, add, anyNeedsGrad, fmtShape, matmul, matrixTranspose, mul, noGrad, ShapeError, sub, tanh, zeros } from '../../sim/core/index.ts';
import { withArgShapes } from '../../sim/core/index.ts';
import { luFactor, luSolve } from '../../sim/linalg/dense.ts';
import {
  type AdjointResult,
  type BackwardInfo,
  type BackwardOptions,
  NonConvergenceError,
  type Params,
  batchDims,
  checkFinite,
  checkOptionKeys,
  checkPositive,
  checkSolverLimits,
  implicitSolution,
  packParams,
  paramList,
} from './ift.ts';
import type { LayerVariable, Tensor as TfTensor, layers as TfLayers } from '@tensorflow/tfjs';
import { tfOp } from '../tf/bridge.ts';
import { getTf } from '../tf/backend.ts';
import { type DeqCell, deqParallel, deqThreadCount, remoteCell } from './deq-parallel.ts';
import { checkThreads, threadsUnavailable } from './worker-pool.ts';
import { BestTracker, BroydenInverse, type SolverInfo, broydenLoop, checkInputs, makeEval, solveOutcome, worstItem } from './root.ts';

/** Anderson acceleration parameters. */
export interface AndersonOptions {
  /** Memory: past iterates mixed (default 5). */
  m?: number;
  /** Tikhonov regularisation of the mixing least squares, relative to the latest squared residual norm (default 1e-8). */
  lambda?: number;
  /** Damping (mixing) beta: z+ = beta sum a_i f(z_i) + (1 - beta) sum a_i z_i (default 1). */
  beta?: number;
}

/** Result of a raw fixed-point solve on flat arrays. */
export interface FixedPointSolve {
  z: Float64Array;
  /** Per item: the residual of its returned iterate (Anderson and Picard). */
  itemResidual?: Float64Array;
  converged: boolean;
  iterations: number;
  residual: number;
  residualHistory: number[];
  message: string;
}

/** Residual norm per item: 'abs' = ||f(z) - z||_2, 'rel' = ||f(z) - z||_2 / ||f(z)||_2. */
export type StopMode = 'abs' | 'rel';

/**
 * Per-item residual. Computed with the entries scaled by their largest magnitude, so iterates
 * that grow huge (a diverging map) give their true relative residual instead of an overflowed
 * Infinity / Infinity; a non-finite entry gives Infinity: a non-finite iterate is divergence,
 * never convergence.
 */
function residuals(fz: Float64Array, z: Float64Array, B: number, n: number, stop: StopMode): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let scale = 0;
    let finite = true;
    for (let i = b * n; i < (b + 1) * n; i++) {
      const a = Math.abs(fz[i]!);
      const c = Math.abs(z[i]!);
      if (!Number.isFinite(a) || !Number.isFinite(c)) finite = false;
      scale = Math.max(scale, a, c);
    }
    if (!finite) {
      out[b] = Infinity;
      continue;
    }
    if (scale === 0) {
      out[b] = 0;
      continue;
    }
    let r = 0;
    let s = 0;
    for (let i = b * n; i < (b + 1) * n; i++) {
      const d = fz[i]! / scale - z[i]! / scale;
      r += d * d;
      s += (fz[i]! / scale) ** 2;
    }
    if (stop === 'abs') out[b] = Math.sqrt(r) * scale;
    else out[b] = r === 0 ? 0 : s === 0 ? Infinity : Math.sqrt(r) / Math.sqrt(s);
    if (Number.isNaN(out[b]!)) out[b] = Infinity;
  }
  return out;
}

/**
 * How a finished fixed-point iteration went, from the per-item residuals of the returned
 * iterates (also used to join the parts of a batch solved on several threads).
 */
export function fixedPointOutcome(
  z: Float64Array,
  itemResidual: Float64Array,
  iterations: number,
  hist: number[],
  tol: number,
  stop: StopMode,
): FixedPointSolve {
  const what = stop === 'abs' ? '||f(z) - z||' : '||f(z) - z|| / ||f(z)||';
  const diverged = hist.findIndex((h) => !Number.isFinite(h));
  const extra = diverged >= 0 ? `; diverged: the iterates became non-finite at iteration ${diverged}` : '';
  return { z, itemResidual, ...solveOutcome(itemResidual, iterations, hist, tol, what, extra) };
}

function outcome(best: BestTracker, iterations: number, hist: number[], tol: number, stop: StopMode): FixedPointSolve {
  return fixedPointOutcome(best.y, best.res, iterations, hist, tol, stop);
}

/**
 * Per-item stopping: once item b's residual is at most tol it is frozen (its iterate and
 * residual stay as they are while the other items go on). Each item's iterates are then those
 * it would have alone, whatever else is in the batch (given an f that treats items
 * independently), so a batch split over threads gives the results of the whole batch.
 */
class Frozen {
  readonly done: Uint8Array;
  readonly res: Float64Array;
  constructor(B: number) {
    this.done = new Uint8Array(B);
    this.res = new Float64Array(B);
  }
  /** Replaces frozen items' residuals by their frozen values, then freezes the newly converged ones. */
  update(res: Float64Array, tol: number): void {
    for (let b = 0; b < res.length; b++) {
      if (this.done[b]) res[b] = this.res[b]!;
      else if (res[b]! <= tol) {
        this.done[b] = 1;
        this.res[b] = res[b]!;
      }
    }
  }
}

/**
 * Anderson acceleration on flat data, per item (B independent problems of size n share
 * each evaluation of f). Returns, per item, the iterate with the smallest residual.
 * `f(z, iteration)` returns f at z (flat, fresh array).
 */
export function andersonSolve(
  f: (z: Float64Array, iteration: number) => Float64Array,
  z0: Float64Array,
  B: number,
  n: number,
  opts: AndersonOptions & { tol: number; maxIter: number; stop: StopMode },
): FixedPointSolve {
  const m = opts.m ?? 5;
  const lambda = opts.lambda ?? 1e-8;
  const beta = opts.beta ?? 1;
  const N = B * n;
  const X: Float64Array[] = [];
  const Fh: Float64Array[] = [];
  const G: Float64Array[] = [];
  const gram = new Float64Array(B * m * m);
  const best = new BestTracker(z0, new Float64Array(B).fill(Infinity), n);
  const hist: number[] = [];
  const frozen = new Frozen(B);

  const store = (slot: number, z: Float64Array, fz: Float64Array): Float64Array => {
    const g = new Float64Array(N);
    for (let i = 0; i < N; i++) g[i] = fz[i]! - z[i]!;
    X[slot] = z;
    Fh[slot] = fz;
    G[slot] = g;
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < G.length; j++) {
        const gj = G[j]!;
        let s = 0;
        for (let i = b * n; i < (b + 1) * n; i++) s += g[i]! * gj[i]!;
        gram[b * m * m + slot * m + j] = s;
        gram[b * m * m + j * m + slot] = s;
      }
    }
    const res = residuals(fz, z, B, n, opts.stop);
    frozen.update(res, opts.tol);
    best.update(z, res);
    hist.push(worstItem(res).value);
    return res;
  };

  let z = Float64Array.from(z0);
  let res = store(0, z, f(z, 0));
  let it = 0;
  const H = new Float64Array((m + 1) * (m + 1));
  const piv = new Int32Array(m + 1);
  const rhs = new Float64Array(m + 1);
  while (it < opts.maxIter && !res.every((r) => r <= opts.tol)) {
    it++;
    const k = X.length;
    const next = new Float64Array(N);
    for (let b = 0; b < B; b++) {
      const o = b * n;
      if (frozen.done[b]) {
        next.set(z.subarray(o, o + n), o);
        continue;
      }
      let alpha: Float64Array;
      if (k === 1) alpha = Float64Array.of(1);
      else {
        // bordered system [0 1^T; 1 GG^T + lambda I] [nu; alpha] = [1; 0]
        const latest = (it - 1) % m;
        const reg = lambda * gram[b * m * m + latest * m + latest]!;
        const s = k + 1;
        H.fill(0);
        for (let i = 0; i < k; i++) {
          H[i + 1] = 1;
          H[(i + 1) * s] = 1;
          for (let j = 0; j < k; j++) H[(i + 1) * s + j + 1] = gram[b * m * m + i * m + j]! + (i === j ? reg : 0);
        }
        rhs.fill(0);
        rhs[0] = 1;
        if (luFactor(H, 0, s, piv) !== 0) {
          luSolve(H, 0, s, piv, rhs, 0, 1);
          alpha = rhs.slice(1, s);
        } else {
          alpha = new Float64Array(k);
          alpha[latest] = 1;
        }
        if (!alpha.every(Number.isFinite)) {
          alpha = new Float64Array(k);
          alpha[latest] = 1;
        }
      }
      for (let j = 0; j < k; j++) {
        const a = alpha[j]!;
        if (a === 0) continue;
        const fj = Fh[j]!;
        const xj = X[j]!;
        for (let i = o; i < o + n; i++) next[i]! += a * (beta * fj[i]! + (1 - beta) * xj[i]!);
      }
    }
    z = next;
    res = store(it % m, z, f(z, it));
  }
  return outcome(best, it, hist, opts.tol, opts.stop);
}

/** Damped Picard iteration z+ = (1 - damping) z + damping f(z), per item best iterate. */
function picardSolve(
  f: (z: Float64Array, iteration: number) => Float64Array,
  z0: Float64Array,
  B: number,
  n: number,
  opts: { tol: number; maxIter: number; stop: StopMode; damping: number },
): FixedPointSolve {
  const best = new BestTracker(z0, new Float64Array(B).fill(Infinity), n);
  const hist: number[] = [];
  const frozen = new Frozen(B);
  let z = Float64Array.from(z0);
  let it = 0;
  for (; ; it++) {
    const fz = f(z, it);
    const res = residuals(fz, z, B, n, opts.stop);
    frozen.update(res, opts.tol);
    best.update(z, res);
    hist.push(worstItem(res).value);
    if (it >= opts.maxIter || res.every((r) => r <= opts.tol)) break;
    const next = new Float64Array(z.length);
    for (let b = 0; b < B; b++) {
      const frozenItem = frozen.done[b] === 1;
      for (let i = b * n; i < (b + 1) * n; i++) next[i] = frozenItem ? z[i]! : (1 - opts.damping) * z[i]! + opts.damping * fz[i]!;
    }
    z = next;
  }
  return outcome(best, it, hist, opts.tol, opts.stop);
}

/** Backward options of the fixed-point layer. */
export interface FixedPointBackwardOptions extends Omit<BackwardOptions, 'solver'> {
  /**
   * 'auto' (default): dense when n <= denseMax (64 with the wasm kernels, else 32), else GMRES. 'dense' / 'gmres': the IFT on
   * F = f(z, x) - z (see BackwardOptions). 'fixed-point': the adjoint fixed point
   * v = v df/dz + g, Anderson-accelerated (needs f contractive near z*). 'phantom': no IFT;
   * k damped unrolled steps z <- (1 - tau) z + tau f(z, x) from z* on the tape (approximate).
   */
  solver?: 'auto' | 'dense' | 'gmres' | 'fixed-point' | 'phantom';
  /** Phantom gradient: unrolled steps (default 5). */
  steps?: number;
  /** Phantom gradient: damping tau (default 0.5). */
  tau?: number;
  /** Adjoint fixed point: Anderson parameters. */
  anderson?: AndersonOptions;
}

/** Options of `fixedPoint`. */
export interface FixedPointOptions {
  /** 'anderson' (default), 'broyden' (on f(z) - z, starting from -I) or 'picard' (damped iteration). */
  solver?: 'anderson' | 'broyden' | 'picard';
  /** Residual target per item (default 1e-10), measured as `stop` says; with Anderson and Picard an item stops (is frozen) once it meets it. */
  tol?: number;
  /** 'rel' (default): ||f(z) - z|| / ||f(z)||; 'abs': ||f(z) - z||. */
  stop?: StopMode;
  /** Iteration cap (default 200). */
  maxIter?: number;
  /** Anderson parameters. */
  anderson?: AndersonOptions;
  /** Broyden: rank-one updates kept before a restart (default 50). */
  memory?: number;
  /** Picard damping (default 1: plain iteration). */
  damping?: number;
  /** Leading axis of z indexes independent problems (f's item b reads only z's item b). */
  batched?: boolean;
  /** Throw NonConvergenceError instead of returning an unconverged z. */
  raiseOnNonConvergence?: boolean;
  backward?: FixedPointBackwardOptions;
}

const FP_KEYS = ['solver', 'tol', 'stop', 'maxIter', 'anderson', 'memory', 'damping', 'batched', 'raiseOnNonConvergence', 'backward'] as const;
const FP_BACKWARD_KEYS = ['solver', 'denseMax', 'tol', 'maxIter', 'restart', 'singularTol', 'checkSolution', 'steps', 'tau', 'anderson'] as const;

/**
 * Adjoint fixed point of a fixed-point layer: v = [df/dz]^T v + g, Anderson-accelerated,
 * from VJPs of F = f - z ([df/dz]^T v = [dF/dz]^T v + v); returns w = -v, the solution of
 * [dF/dz]^T w = g.
 */
export function adjointFixedPoint(
  layer: string,
  opts: FixedPointBackwardOptions,
): (vjpY: (v: Float64Array) => Float64Array, g: Float64Array, B: number, n: number) => AdjointResult {
  return (vjpY, g, B, n) => {
    const tol = opts.tol ?? 1e-10;
    const maxIter = opts.maxIter ?? 500;
    const map = (v: Float64Array): Float64Array => {
      const jv = vjpY(v);
      for (let i = 0; i < jv.length; i++) jv[i] = jv[i]! + v[i]! + g[i]!;
      return jv;
    };
    const r = andersonSolve(map, Float64Array.from(g), B, n, { ...opts.anderson, tol, maxIter, stop: 'rel' });
    if (!r.converged) {
      throw new NonConvergenceError(
        `${layer}: the adjoint fixed point v = v df/dz + g did not converge (${r.message}); df/dz may not be contractive at z*: use backward.solver 'gmres' or 'dense'`,
        layer,
        'backward',
        r,
      );
    }
    const w = new Float64Array(r.z.length);
    for (let i = 0; i < w.length; i++) w[i] = -r.z[i]!;
    return { w, solver: 'fixed-point', iterations: r.iterations + 1, residual: r.residual };
  };
}

/** f wrapped to name the arguments' shapes when it throws and to check it returns z's shape. */
export function checkedCell<X extends Params>(layer: string, f: (z: Tensor, x: X) => Tensor): (x: X, z: Tensor) => Tensor {
  return (xx: X, z: Tensor): Tensor => {
    const v = withArgShapes(layer, 'f(z, x)', { z, x: xx }, () => f(z, xx));
    if (v instanceof Tensor && (v.shape.length !== z.shape.length || v.shape.some((d, i) => d !== z.shape[i]))) {
      throw new ShapeError(`${layer}: f(z, x) returned shape ${fmtShape(v.shape)} for z of shape ${fmtShape(z.shape)}; f must return z's shape`);
    }
    return v;
  };
}

/** The forward solve of `fixedPoint` (options already checked): the iterate and the count of f evaluations. */
export function fixedPointForward<X extends Params>(
  layer: string,
  fz: (x: X, z: Tensor) => Tensor,
  x: X,
  xs: readonly Tensor[],
  z0: Tensor,
  B: number,
  n: number,
  batched: boolean,
  solver: 'anderson' | 'broyden' | 'picard',
  opts: { tol: number; maxIter: number; stop: StopMode; anderson?: AndersonOptions; damping?: number; memory?: number },
): { r: FixedPointSolve; evaluations: number } {
  const { tol, maxIter, stop } = opts;
  const detached = xs.map((t) => t.detach());
  const ev = makeEval(layer, fz, x, detached, z0.shape, B, batched);
  let r: FixedPointSolve;
  if (solver === 'anderson') r = andersonSolve(ev.eval, z0.data, B, n, { ...opts.anderson, tol, maxIter, stop });
  else if (solver === 'picard') r = picardSolve(ev.eval, z0.data, B, n, { tol, maxIter, stop, damping: opts.damping ?? 1 });
  else {
    const evalG = (z: Float64Array, it: number, throwOnNonFinite = true): Float64Array => {
      const v = ev.eval(z, it, throwOnNonFinite);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! - z[i]!;
      return v;
    };
    const resNorm = (G: Float64Array, z: Float64Array): Float64Array => {
      const fzv = new Float64Array(G.length);
      for (let i = 0; i < G.length; i++) fzv[i] = G[i]! + z[i]!;
      return residuals(fzv, z, B, n, stop);
    };
    const H = new BroydenInverse(B, n, opts.memory ?? 50, null);
    const s = broydenLoop(layer, H, evalG, Float64Array.from(z0.data), B, n, tol, maxIter, true, resNorm);
    r = { ...s, z: s.y };
  }
  return { r, evaluations: ev.count() };
}

/** Checks the options of `fixedPoint` (naming `layer`) and returns them with their defaults. */
export function fixedPointSettings(
  opts: FixedPointOptions,
  layer: string,
): { solver: 'anderson' | 'broyden' | 'picard'; stop: StopMode; tol: number; maxIter: number; batched: boolean } {
  checkOptionKeys(opts, FP_KEYS, layer);
  checkOptionKeys(opts.backward, FP_BACKWARD_KEYS, `${layer} backward`);
  checkOptionKeys(opts.anderson, ['m', 'lambda', 'beta'], `${layer} anderson`);
  checkSolverLimits(opts, layer);
  checkPositive(opts.anderson?.m, 'anderson.m', layer, true);
  checkPositive(opts.damping, 'damping', layer);
  checkPositive(opts.backward?.steps, 'backward.steps', layer, true);
  if (opts.anderson?.lambda !== undefined && !(opts.anderson.lambda >= 0)) throw new RangeError(`${layer}: anderson.lambda must be >= 0`);
  const solver = opts.solver ?? 'anderson';
  if (!['anderson', 'broyden', 'picard'].includes(solver))
    throw new RangeError(`${layer}: solver must be 'anderson', 'broyden' or 'picard', got '${String(solver)}'`);
  const stop = opts.stop ?? 'rel';
  if (stop !== 'abs' && stop !== 'rel') throw new RangeError(`${layer}: stop must be 'abs' or 'rel'`);
  const bsolver = opts.backward?.solver ?? 'auto';
  if (!['auto', 'dense', 'gmres', 'fixed-point', 'phantom'].includes(bsolver)) {
    throw new RangeError(`${layer}: backward.solver must be 'auto', 'dense', 'gmres', 'fixed-point' or 'phantom', got '${String(bsolver)}'`);
  }
  return { solver, stop, tol: opts.tol ?? 1e-10, maxIter: opts.maxIter ?? 200, batched: opts.batched ?? false };
}

/**
 * Finds z* = f(z*, x) and returns it on the tape as a function of x (a Tensor or a list),
 * differentiated by the implicit function theorem on F = f(z, x) - z (or by a phantom
 * gradient). f is written with the core's ops and must return z's shape.
 *
 * @example
 * // z = tanh(W z + U x), batch of 8 samples of size 16
 * const { z, info } = fixedPoint((z, [W, U, x]) => tanh(add(matmul(z, matrixTranspose(W)), matmul(x, matrixTranspose(U)))), [W, U, x], zeros([8, 16]), { batched: true });
 */
export function fixedPoint<X extends Params>(f: (z: Tensor, x: X) => Tensor, x: X, z0: Tensor, opts: FixedPointOptions = {}): { z: Tensor; info: SolverInfo } {
  const layer = 'fixedPoint';
  const { solver, stop, tol, maxIter, batched } = fixedPointSettings(opts, layer);
  const xs = paramList(x, layer);
  checkInputs(layer, xs, z0, 'z0');
  const { B, n } = batchDims(z0.shape, batched, layer);
  const fz = checkedCell(layer, f);
  const { r, evaluations } = fixedPointForward(layer, fz, x, xs, z0, B, n, batched, solver, { ...opts, tol, maxIter, stop });
  const info: SolverInfo = {
    converged: r.converged,
    iterations: r.iterations,
    residual: r.residual,
    residualHistory: r.residualHistory,
    method: solver,
    evaluations,
    message: r.message,
  };
  if (!info.converged && opts.raiseOnNonConvergence) throw new NonConvergenceError(`${layer} (${solver}): ${info.message}`, layer, 'forward', info);
  const bw = opts.backward ?? {};
  if (bw.solver === 'phantom') return { z: phantom(layer, fz, x, xs, r.z, z0.shape, bw, info), info };
  const z = fixedPointOnTape(layer, fz, x, r.z, z0.shape, batched, bw, (b) => {
    info.backward = b;
  });
  return { z, info };
}

/**
 * z* on the tape as a function of x with the IFT backward on F = f(z, x) - z, by the adjoint
 * solver bw.solver names (not 'phantom').
 */
export function fixedPointOnTape<X extends Params>(
  layer: string,
  fz: (x: X, z: Tensor) => Tensor,
  x: X,
  zStar: Float64Array,
  shape: readonly number[],
  batched: boolean,
  bw: FixedPointBackwardOptions,
  onBackward: (b: BackwardInfo) => void,
): Tensor {
  const bsolver = bw.solver ?? 'auto';
  const F = (xx: X, z: Tensor): Tensor => sub(fz(xx, z), z);
  return implicitSolution(
    {
      layer,
      F,
      x,
      batched,
      backward: { ...bw, solver: bsolver === 'fixed-point' ? 'auto' : (bsolver as 'auto' | 'dense' | 'gmres') },
      adjoint: bsolver === 'fixed-point' ? adjointFixedPoint(layer, bw) : undefined,
      onBackward,
    },
    zStar,
    shape,
  );
}

/** Phantom gradient: k damped steps from z* recorded on the tape (torchdeq's phantom grad). */
function phantom<X extends Params>(
  layer: string,
  f: (x: X, z: Tensor) => Tensor,
  x: X,
  xs: readonly Tensor[],
  zStar: Float64Array,
  shape: readonly number[],
  bw: FixedPointBackwardOptions,
  info: SolverInfo,
): Tensor {
  let z = new Tensor(zStar, shape);
  if (!anyNeedsGrad(xs)) return z;
  const steps = bw.steps ?? 5;
  const tau = bw.tau ?? 0.5;
  if (!(tau > 0 && tau <= 1)) throw new RangeError(`${layer}: backward.tau must be in (0, 1], got ${tau}`);
  const px = packParams(x, xs);
  for (let k = 0; k < steps; k++) {
    const fzv = f(px, z);
    checkFinite(fzv.data, 'f(z, x) in the phantom-gradient steps', layer, 'forward', k);
    z = tau === 1 ? fzv : add(mul(1 - tau, z), mul(tau, fzv));
  }
  info.backward = { solver: 'phantom', iterations: steps, residual: NaN, ms: 0 };
  return z;
}

/** Options of the DEQ block. */
export interface DeqOptions extends FixedPointOptions {
  /**
   * Threads the batch is split over (default IMPULSE_THREADS or the core count, used where the
   * batch is large enough to gain: deqThreadCount; an explicit count is taken as asked). Needs
   * a cell that carries `remote` (tanhCell does; see remoteCell), the Anderson or Picard
   * forward and an IFT backward (not 'phantom'); otherwise the DEQ runs on this thread.
   * z*, the report and dL/dx are those of one thread bit for bit when every product in the
   * cell takes the same kernel at a thread's share of the batch as at the whole batch (the
   * WebAssembly GEMM serves products from 4096 multiply-adds); the shared parameters'
   * gradients are sums of per-thread partial sums, equal to one thread's up to rounding.
   */
  threads?: number;
  /** Initial state (default zeros [B, d]). */
  z0?: Tensor;
  /** State width d (default: rows of params[0], the [d, d] state matrix). */
  d?: number;
}

/**
 * The cell of the standard DEQ block, f(z, [x, W, U, b]) = tanh(z W^T + x U^T + b) with
 * z [B, d], x [B, p], W [d, d], U [d, p], b [d].
 */
export function tanhCell(z: Tensor, [x, W, U, b]: readonly Tensor[]): Tensor {
  let a = add(matmul(z, matrixTranspose(W!)), matmul(x!, matrixTranspose(U!)));
  if (b) a = add(a, b);
  return tanh(a);
}
remoteCell(tanhCell, { module: import.meta.url, name: 'tanhCell' });

/** Checks the arguments of {@link tanhCell} for state width d: x [B, p], W [d, d], U [d, p], b [d], naming the one at fault. */
function checkTanhCell(x: Tensor, params: readonly Tensor[], d: number): void {
  const p = x.shape[1]!;
  const [W, U, b] = params;
  const want = (name: string, t: Tensor | undefined, shape: number[]): void => {
    if (!t) throw new ShapeError(`deq (tanhCell): ${name} is missing; params are [W [d, d], U [d, p], b [d]] with d = ${d}, p = ${p}`);
    if (t.ndim !== shape.length || t.shape.some((v, i) => v !== shape[i]))
      throw new ShapeError(
        `deq (tanhCell): ${name} must be ${fmtShape(shape)} (d = ${d} state width, p = ${p} features of x ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}`,
      );
  };
  want('W (params[0])', W, [d, d]);
  want('U (params[1])', U, [d, p]);
  if (b) want('b (params[2])', b, [d]);
  if (params.length > 3) throw new ShapeError(`deq (tanhCell): expected params [W, U, b?], got ${params.length} tensors`);
}

/**
 * A deep-equilibrium block: z* = cell(z*, [x, ...params]) for a batch x [B, p], returned on
 * the tape (batched: each sample is its own fixed point). Use it as a core layer, or inside
 * a tfjs model with `tfOp((x, ...params) => deq(cell, x, params, opts).z)` from models/tf.
 *
 * @example
 * const { z } = deq(tanhCell, x, [W, U, b], { tol: 1e-8 });
 */
export function deq(cell: DeqCell, x: Tensor, params: readonly Tensor[], opts: DeqOptions = {}): { z: Tensor; info: SolverInfo } {
  const { z0, d, threads, ...rest } = opts;
  if (threads !== undefined) checkThreads(threads, 'deq');
  if (!(x instanceof Tensor)) throw new TypeError(`deq: x must be a Tensor [batch, features], got ${typeof x}`);
  if (x.ndim !== 2) throw new ShapeError(`deq: x must be [batch, features], got ${fmtShape(x.shape)}`);
  params.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`deq: params[${i}] must be a Tensor, got ${typeof p}`);
  });
  let init = z0;
  if (!init) {
    const W = params[0];
    const width = d ?? (W && W.ndim === 2 ? W.shape[0]! : undefined);
    if (width === undefined) throw new Error('deq: pass opts.z0 or opts.d (state width) when params[0] is not the [d, d] state matrix');
    init = zeros([x.shape[0]!, width]);
  }
  if (init.ndim !== 2 || init.shape[0] !== x.shape[0])
    throw new ShapeError(`deq: z0 must be [batch, d] with the batch of x ${fmtShape(x.shape)}, got ${fmtShape(init.shape)}`);
  if (cell === tanhCell) checkTanhCell(x, params, init.shape[1]!);
  else {
    // a user cell: a shape error at z0 names every argument's shape
    try {
      noGrad(() => cell(init, [x.detach(), ...params.map((p) => p.detach())]));
    } catch (e) {
      if (e instanceof ShapeError)
        throw new ShapeError(
          `deq: the cell fails on z0 ${fmtShape(init.shape)} with x ${fmtShape(x.shape)}${params.map((p, i) => `, params[${i}] ${fmtShape(p.shape)}`).join('')}: ${e.message}`,
        );
      throw e;
    }
  }
  const B = init.shape[0]!;
  const t = deqThreadCount(threads, cell, B, init.size / B, rest);
  if (t > 1 && !threadsUnavailable()) {
    fixedPointSettings(rest, 'fixedPoint');
    checkInputs('fixedPoint', [x, ...params], init, 'z0');
    return deqParallel(cell, x, params, init, rest, t);
  }
  return fixedPoint(cell, [x, ...params], init, { batched: true, ...rest });
}

/**
 * The DEQ block as a tfjs op: `op(x, ...params)` (tf tensors, x [B, p]) returns z* [B, d]
 * (float32), with the IFT (or phantom) gradient flowing to x and every parameter.
 * Call `await initTf()` first.
 */
export function deqTf(cell: (z: Tensor, xp: readonly Tensor[]) => Tensor, opts: DeqOptions = {}): (x: TfTensor, ...params: TfTensor[]) => TfTensor {
  return tfOp((x: Tensor, ...ps: Tensor[]) => deq(cell, x, ps, opts).z, { name: 'deq' }) as (x: TfTensor, ...params: TfTensor[]) => TfTensor;
}

/** Configuration of `deqLayer`. */
export interface DeqLayerConfig extends Omit<DeqOptions, 'z0' | 'd' | 'batched'> {
  /** Width d of the equilibrium state z. */
  units: number;
  /** Layer name. */
  name?: string;
  /** Standard deviation of W's initial entries, times 1/sqrt(units) (default 0.5: a contraction). */
  wScale?: number;
  /** Seed of the weight initialisers (default: tfjs's unseeded random). */
  seed?: number;
}

/**
 * A tfjs layer (tf.layers.Layer) computing the DEQ block z* = tanh(W z* + U x + b) for
 * inputs x [B, p], with trainable W [d, d], U [d, p], b [d]: usable in tf.sequential or
 * functional tfjs models and trained with model.fit. The forward solves to `tol` (default
 * 1e-8) by Anderson; non-convergence raises by default (a silently unconverged fixed point
 * would give wrong gradients). Call `await initTf()` first.
 *
 * @example
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [2] }), deqLayer({ units: 16 }), tf.layers.dense({ units: 1 })] });
 */
export function deqLayer(config: DeqLayerConfig): TfLayers.Layer {
  const tf = getTf();
  const { units, name, wScale, seed, ...rest } = config;
  checkPositive(units, 'units', 'deqLayer', true);
  const op = deqTf(tanhCell, { tol: 1e-8, raiseOnNonConvergence: true, ...rest, d: units });
  class DeqLayer extends tf.layers.Layer {
    static className = 'ImpulseDeq';
    private W!: LayerVariable;
    private U!: LayerVariable;
    private b!: LayerVariable;
    constructor() {
      super(name ? { name } : {});
    }
    override build(inputShape: (number | null)[] | (number | null)[][]): void {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
      const p = s[s.length - 1];
      if (typeof p !== 'number') throw new ShapeError(`deqLayer: the input's last dimension must be known, got shape [${s.join(', ')}]`);
      this.W = this.addWeight('W', [units, units], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: (wScale ?? 0.5) / Math.sqrt(units), seed }));
      this.U = this.addWeight('U', [units, p], 'float32', tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + 1 }));
      this.b = this.addWeight('b', [units], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
      const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
      return [s[0] ?? null, units];
    }
    override call(inputs: TfTensor | TfTensor[]): TfTensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return op(x, this.W.read(), this.U.read(), this.b.read());
    }
    override getConfig(): ReturnType<TfLayers.Layer['getConfig']> {
      return { ...super.getConfig(), units };
    }
  }
  return new DeqLayer();
}
