// Shared implicit-function-theorem machinery of the implicit layers (models/implicit):
// attaches y* (a root of F(x, y) = 0) to the tape with the backward dy/dx = -[dF/dy]^-1 dF/dx,
// both Jacobian terms from the core's VJPs; the adjoint system [dF/dy]^T w = g is solved
// densely (LU of the Jacobian built from n VJPs) or matrix-free (GMRES on VJPs).
import {
  Tensor,
  ShapeError,
  anyNeedsGrad,
  fmtShape,
  gradients,
  isGradEnabled,
  neg,
  record1,
  recordN,
  reshape,
  sub,
  withGradMode,
  zeros,
} from '../../sim/core/index.ts';
import { luFactor, luSolve } from '../../sim/linalg/dense.ts';
import { wasmKernels } from '../../sim/linalg/wasm/loader.ts';
import { gmres } from './gmres.ts';

/** Parameters of an implicit layer: one tensor or a list of tensors. */
export type Params = Tensor | readonly Tensor[];

/** Base error of the implicit layers: names the layer, the pass, and where it happened. */
export class ImplicitError extends Error {
  constructor(
    message: string,
    readonly layer: string,
    readonly phase: 'forward' | 'backward',
    readonly iteration?: number,
    readonly index?: number,
  ) {
    super(message);
    this.name = 'ImplicitError';
  }
}

/** The forward solver did not reach its tolerance and the caller asked to raise (`raiseOnNonConvergence`). */
export class NonConvergenceError extends ImplicitError {
  constructor(
    message: string,
    layer: string,
    phase: 'forward' | 'backward',
    readonly info: unknown,
  ) {
    super(message, layer, phase);
    this.name = 'NonConvergenceError';
  }
}

/** dF/dy is singular (or the returned point is not a simple root): the IFT does not apply there. */
export class SingularJacobianError extends ImplicitError {
  constructor(
    message: string,
    layer: string,
    readonly batchIndex: number,
  ) {
    super(message, layer, 'backward', undefined, batchIndex);
    this.name = 'SingularJacobianError';
  }
}

/** How the backward pass solves the adjoint system [dF/dy]^T w = g. */
export interface BackwardOptions {
  /**
   * 'dense': Jacobian from n VJPs, LU solve (exact; checks singularity). 'gmres':
   * matrix-free, VJPs only. 'auto' (default): dense when the unknowns per item are at most
   * `denseMax`, GMRES otherwise.
   */
  solver?: 'auto' | 'dense' | 'gmres';
  /**
   * Largest per-item size solved densely under 'auto' (default 64 with the WebAssembly SIMD
   * kernels, 32 with the JS ones: above it GMRES's fewer VJPs outweigh the exact dense solve;
   * measured on the DEQ benchmark, d = 64: dense 21 ms vs GMRES 24 ms with wasm, 33 vs 30 with JS).
   */
  denseMax?: number;
  /** GMRES relative residual target (default 1e-10). */
  tol?: number;
  /** GMRES cap on VJPs (default min(20 n, 2000)). */
  maxIter?: number;
  /** GMRES restart length (default min(n, 50)). */
  restart?: number;
  /** Dense: pivots at most singularTol * max|dF/dy| count as singular (default 1e-12). */
  singularTol?: number;
  /**
   * Dense: verify that the returned y is near a simple root by one Newton step (one F
   * evaluation): if the step is not negligible next to y (|step| > 1e-9 max(|y|, 1e-6)) and
   * cuts max|F| by less than 10x, y is not near a simple root (a double root converges
   * linearly: ratio 1/4), or the forward tolerance is too loose; the backward then raises
   * SingularJacobianError instead of returning a meaningless gradient. Default true.
   */
  checkSolution?: boolean;
}

/** What the last backward pass did (filled in on each backward). */
export interface BackwardInfo {
  solver: string;
  /** VJPs of F with respect to y used by the adjoint solve. */
  iterations: number;
  /** Relative residual of the adjoint solve (0 for an exact dense solve). */
  residual: number;
  /** Wall time of the backward pass in ms. */
  ms: number;
}

/** Result of an adjoint solve. */
export interface AdjointResult {
  w: Float64Array;
  solver: string;
  iterations: number;
  residual: number;
}

/**
 * A custom adjoint solver: given v -> [dF/dy]^T v (flat, B items of n) and g, returns w
 * with [dF/dy]^T w = g. Layers with structure (the fixed-point layer) supply their own.
 */
export type AdjointSolver = (vjpY: (v: Float64Array) => Float64Array, g: Float64Array, B: number, n: number) => AdjointResult;

/** Description of an implicit layer for `implicitSolution`. */
export interface ImplicitSpec<X extends Params> {
  /** Layer name used in error messages and as the op name on the tape. */
  layer: string;
  /** The residual function; y* satisfies F(x, y*) = 0. Called with grad mode on. */
  F: (x: X, y: Tensor) => Tensor;
  /** Parameters (what gradients flow to). */
  x: X;
  /** Leading axis of y indexes independent problems (F's item b reads only y's item b). */
  batched?: boolean;
  /** Adjoint solve options. */
  backward?: BackwardOptions;
  /** Overrides the adjoint solve of the first-order backward. */
  adjoint?: AdjointSolver;
  /** Receives what each backward pass did. */
  onBackward?: (info: BackwardInfo) => void;
  /** Extra explanation appended to singular-Jacobian errors (e.g. which constraint is degenerate). */
  explainSingular?: () => string;
}

/** The list form of `x`, checked: every entry must be a Tensor. */
export function paramList(x: Params, where: string): Tensor[] {
  const xs = x instanceof Tensor ? [x] : Array.isArray(x) ? [...(x as readonly Tensor[])] : null;
  if (!xs) throw new TypeError(`${where}: x must be a Tensor or an array of Tensors`);
  xs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${where}: x[${i}] is not a Tensor`);
  });
  return xs;
}

/** Rebuilds the user's structure (a Tensor or a list) from a list. */
export function packParams<X extends Params>(x: X, list: readonly Tensor[]): X {
  return (x instanceof Tensor ? list[0]! : list) as X;
}

/** Item count B and per-item size n of y under the `batched` convention. */
export function batchDims(shape: readonly number[], batched: boolean, where: string): { B: number; n: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!batched) return { B: 1, n: size };
  if (shape.length < 1 || shape[0]! < 1) throw new ShapeError(`${where}: batched mode needs y with a leading batch axis, got shape ${fmtShape(shape)}`);
  return { B: shape[0]!, n: size / shape[0]! };
}

/** Throws an ImplicitError naming the first non-finite entry of `a`, if any. */
export function checkFinite(a: Float64Array, what: string, layer: string, phase: 'forward' | 'backward', iteration: number | undefined, B = 1): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (Number.isFinite(v)) continue;
    const n = a.length / B;
    const where = B > 1 ? ` (item ${Math.floor(i / n)}, component ${i % n})` : '';
    const it = iteration === undefined ? '' : `, iteration ${iteration}`;
    throw new ImplicitError(`${layer} (${phase}${it}): ${what} is ${v} at flat index ${i}${where}`, layer, phase, iteration, i);
  }
}

/** Throws on an option key the function does not know (catches typos such as `tolerance`). */
export function checkOptionKeys(opts: object | undefined, allowed: readonly string[], where: string): void {
  if (!opts) return;
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new TypeError(`${where}: unknown option '${k}' (known: ${allowed.join(', ')})`);
  }
}

/** Checks a positive number option. */
export function checkPositive(v: number | undefined, name: string, where: string, integer = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${where}: option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
}

/** Checks the `tol` (positive) and `maxIter` (positive integer) options of an iterative solver. */
export function checkSolverLimits(opts: { tol?: number; maxIter?: number }, where: string): void {
  checkPositive(opts.tol, 'tol', where);
  checkPositive(opts.maxIter, 'maxIter', where, true);
}

/** Calls F and checks it returns one equation per unknown. */
export function callF<X extends Params>(layer: string, F: (x: X, y: Tensor) => Tensor, x: X, y: Tensor, B: number, batched: boolean): Tensor {
  const Fv = F(x, y);
  if (!(Fv instanceof Tensor)) throw new TypeError(`${layer}: F(x, y) must return a Tensor, got ${typeof Fv}`);
  if (Fv.size !== y.size) {
    throw new ShapeError(
      `${layer}: F(x, y) returned shape ${fmtShape(Fv.shape)} (${Fv.size} equations) for y of shape ${fmtShape(y.shape)} (${y.size} unknowns); F must give one equation per unknown`,
    );
  }
  if (batched && Fv.shape[0] !== B) {
    throw new ShapeError(`${layer}: batched F(x, y) returned shape ${fmtShape(Fv.shape)}, whose leading axis is not y's batch size ${B}`);
  }
  return Fv;
}

/** F linearised at one point: its value and VJPs with respect to y and to the parameters. */
export interface Linearization {
  /** F at the point (flat). */
  F: Float64Array;
  /** Shape of F's output. */
  shape: readonly number[];
  /** v -> [dF/dy]^T v (flat, copied). */
  vjpY(v: Float64Array): Float64Array;
  /** w -> [dF/dx_i]^T w for the given parameter leaves. */
  vjpX(w: Float64Array, leaves: readonly Tensor[]): (Tensor | null)[];
  /** F at another y, same parameters (flat). */
  evalAt(y: Float64Array): Float64Array;
}

/**
 * Records F at (xs, y) once and returns VJP closures over that graph (one reverse pass
 * each, no re-evaluation of F). `xs` are used as given (pass fresh leaves).
 */
export function linearize<X extends Params>(
  layer: string,
  F: (x: X, y: Tensor) => Tensor,
  x: X,
  xs: readonly Tensor[],
  yData: Float64Array,
  yShape: readonly number[],
  B: number,
  batched: boolean,
  phase: 'forward' | 'backward',
  iteration?: number,
): Linearization {
  return withGradMode(true, () => {
    // The y-graph holds x as constants, so each VJP in y skips the parameters' gradients
    // (a matmul's backward would otherwise compute both operands'); the x-graph is recorded
    // once, on demand, for the final VJP in x.
    const yl = new Tensor(yData, yShape).requireGrad();
    const constX = packParams(
      x,
      xs.map((s) => s.detach()),
    );
    const Fv = callF(layer, F, constX, yl, B, batched);
    checkFinite(Fv.data, 'F(x, y)', layer, phase, iteration, B);
    const N = yl.size;
    return {
      F: Fv.data,
      shape: Fv.shape,
      vjpY(v: Float64Array): Float64Array {
        if (!Fv.requiresGrad) return new Float64Array(N);
        const [g] = gradients([Fv], [yl], [new Tensor(v, Fv.shape)], { allowUnused: true });
        const out = g ? g.data.slice() : new Float64Array(N);
        checkFinite(out, 'a VJP of F with respect to y', layer, phase, iteration, B);
        return out;
      },
      vjpX(w: Float64Array, leaves: readonly Tensor[]): (Tensor | null)[] {
        if (leaves.length === 0) return [];
        const Fx = withGradMode(true, () => callF(layer, F, packParams(x, xs), new Tensor(yData, yShape), B, batched));
        if (!Fx.requiresGrad) return leaves.map(() => null);
        return gradients([Fx], leaves, [new Tensor(w, Fx.shape)], { allowUnused: true });
      },
      evalAt(y: Float64Array): Float64Array {
        return withGradMode(true, () => callF(layer, F, constX, new Tensor(y, yShape), B, batched).data);
      },
    };
  });
}

/**
 * Dense Jacobian blocks of a block-diagonal map from its VJP: n reverse passes, each
 * seeding output component j of every item. Result [B, n, n], row j of block b = dF_j/dy.
 */
export function jacobianBlocks(vjpY: (v: Float64Array) => Float64Array, B: number, n: number): Float64Array {
  const J = new Float64Array(B * n * n);
  for (let j = 0; j < n; j++) {
    const seed = new Float64Array(B * n);
    for (let b = 0; b < B; b++) seed[b * n + j] = 1;
    const r = vjpY(seed);
    for (let b = 0; b < B; b++) {
      const o = b * n * n + j * n;
      for (let i = 0; i < n; i++) J[o + i] = r[b * n + i]!;
    }
  }
  return J;
}

/** LU factors of B blocks; `singular` is the first singular item or -1. */
export function luBlocks(J: Float64Array, B: number, n: number, tol: number): { lu: Float64Array; piv: Int32Array; singular: number } {
  const lu = Float64Array.from(J);
  const piv = new Int32Array(B * n);
  for (let b = 0; b < B; b++) {
    if (luFactor(lu, b * n * n, n, piv, tol, b * n) === 0) return { lu, piv, singular: b };
  }
  return { lu, piv, singular: -1 };
}

/** Solves per item J_b X = R_b (or J_b^T X = R_b) in place in `r` (flat [B, n]). */
export function luSolveBlocks(lu: Float64Array, piv: Int32Array, B: number, n: number, r: Float64Array, transpose: boolean): void {
  for (let b = 0; b < B; b++) luSolve(lu, b * n * n, n, piv, r, b * n, 1, transpose, b * n);
}

function maxAbs(a: Float64Array, lo: number, hi: number): number {
  let m = 0;
  for (let i = lo; i < hi; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Dense adjoint solve with singularity and simple-root checks. */
function solveDense(layer: string, lin: Linearization, y: Float64Array, g: Float64Array, B: number, n: number, opts: BackwardOptions): AdjointResult {
  const J = jacobianBlocks((v) => lin.vjpY(v), B, n);
  const { lu, piv, singular } = luBlocks(J, B, n, opts.singularTol ?? 1e-12);
  const item = B > 1 ? ` (item ${singular})` : '';
  if (singular >= 0) {
    throw new SingularJacobianError(
      `${layer}: dF/dy is singular at the solution${item}, so the implicit function theorem does not apply there and dy/dx is not defined`,
      layer,
      singular,
    );
  }
  if (opts.checkSolution !== false) {
    const d = Float64Array.from(lin.F);
    luSolveBlocks(lu, piv, B, n, d, false);
    const y1 = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) y1[i] = y[i]! - d[i]!;
    const F1 = lin.evalAt(y1);
    for (let b = 0; b < B; b++) {
      const f0 = maxAbs(lin.F, b * n, (b + 1) * n);
      // skip when F is exactly zero or the Newton step is negligible next to y (round-off)
      if (!(f0 > 0) || !(maxAbs(d, b * n, (b + 1) * n) > 1e-9 * Math.max(maxAbs(y, b * n, (b + 1) * n), 1e-6))) continue;
      const f1 = maxAbs(F1, b * n, (b + 1) * n);
      const q = f1 / f0;
      if (!(q <= 0.1)) {
        const it = B > 1 ? ` (item ${b})` : '';
        throw new SingularJacobianError(
          `${layer}: dF/dy is singular or nearly singular at the solution${it}: one Newton step from the returned y only takes max|F| from ${f0.toExponential(3)} to ${f1.toExponential(3)} (ratio ${q.toFixed(3)}), ` +
            'so y is not near a simple root and the implicit function theorem does not apply (if the root is simple, tighten the forward tolerance)',
          layer,
          b,
        );
      }
    }
  }
  const w = Float64Array.from(g);
  luSolveBlocks(lu, piv, B, n, w, true);
  return { w, solver: 'dense', iterations: n, residual: 0 };
}

/** GMRES adjoint solve; a breakdown with a residual left means dF/dy is singular. */
function solveGmres(layer: string, lin: Linearization, g: Float64Array, B: number, n: number, opts: BackwardOptions): AdjointResult {
  const r = gmres((v) => lin.vjpY(v), g, B, n, { tol: opts.tol ?? 1e-10, maxIter: opts.maxIter, restart: opts.restart });
  if (!r.converged) {
    const b = r.itemConverged.findIndex((c) => !c);
    const it = B > 1 ? ` (item ${b})` : '';
    if (r.breakdown[b]) {
      throw new SingularJacobianError(
        `${layer}: the adjoint system [dF/dy]^T w = g has no solution${it} (GMRES breakdown at relative residual ${r.residual.toExponential(3)}): dF/dy is singular at the solution, so the implicit function theorem does not apply`,
        layer,
        b,
      );
    }
    throw new NonConvergenceError(
      `${layer}: GMRES on the adjoint system did not converge${it} in ${r.iterations} VJPs (relative residual ${r.residual.toExponential(3)} > tol ${opts.tol ?? 1e-10}); dF/dy may be singular or ill-conditioned at the solution (raise backward.maxIter, or use backward.solver 'dense' to check)`,
      layer,
      'backward',
      r,
    );
  }
  return { w: r.x, solver: 'gmres', iterations: r.iterations, residual: r.residual };
}

/** Solves [dF/dy]^T w = g by the configured method. */
export function solveAdjoint(
  layer: string,
  lin: Linearization,
  y: Float64Array,
  g: Float64Array,
  B: number,
  n: number,
  opts: BackwardOptions = {},
): AdjointResult {
  const solver = opts.solver ?? 'auto';
  const dense = solver === 'dense' || (solver === 'auto' && n <= (opts.denseMax ?? (wasmKernels() ? 64 : 32)));
  if (solver !== 'auto' && solver !== 'dense' && solver !== 'gmres')
    throw new RangeError(`${layer}: backward.solver must be 'auto', 'dense' or 'gmres', got '${String(solver)}'`);
  return dense ? solveDense(layer, lin, y, g, B, n, opts) : solveGmres(layer, lin, g, B, n, opts);
}

/** An op that passes its input through, recorded so gradients w.r.t. it are partial derivatives. */
function proxy(x: Tensor): Tensor {
  return record1('implicit.proxy', [x], new Tensor(x.data, x.shape), (g) => [g]);
}

/**
 * Puts y* (flat data, a root of spec.F at spec.x) on the tape as a function of the
 * parameters, with the IFT backward: for an output gradient g, solve [dF/dy]^T w = g and
 * return -[dF/dx_i]^T w for each parameter. When the reverse pass is itself recorded
 * (createGraph), w is again an implicit layer (the adjoint system) and the gradients are
 * written with the core's ops, so implicit layers differentiate to any order.
 */
export function implicitSolution<X extends Params>(spec: ImplicitSpec<X>, yStar: Float64Array, shape: readonly number[]): Tensor {
  const xs = paramList(spec.x, spec.layer);
  const yOut = new Tensor(yStar, shape);
  if (!anyNeedsGrad(xs)) return yOut;
  const batched = spec.batched ?? false;
  const { B, n } = batchDims(shape, batched, spec.layer);
  const opts = spec.backward ?? {};

  const firstOrder = (gy: Tensor): (Tensor | null)[] => {
    const t0 = performance.now();
    checkFinite(gy.data, 'the incoming gradient dL/dy', spec.layer, 'backward', undefined, B);
    const leaves = xs.map((t) => (t.requiresGrad ? new Tensor(t.data, t.shape).requireGrad() : t.detach()));
    const lin = linearize(spec.layer, spec.F, spec.x, leaves, yOut.data, shape, B, batched, 'backward');
    const res = spec.adjoint ? spec.adjoint((v) => lin.vjpY(v), gy.data, B, n) : solveAdjoint(spec.layer, lin, yOut.data, gy.data, B, n, opts);
    checkFinite(res.w, 'the adjoint solution w', spec.layer, 'backward', undefined, B);
    const need = leaves.filter((t) => t.requiresGrad);
    const gs = lin.vjpX(res.w, need);
    let k = 0;
    const out = xs.map((t) => {
      if (!t.requiresGrad) return null;
      const gi = gs[k++];
      if (!gi) return null;
      const d = new Float64Array(gi.size);
      for (let i = 0; i < d.length; i++) d[i] = -gi.data[i]!;
      return new Tensor(d, t.shape);
    });
    spec.onBackward?.({ solver: res.solver, iterations: res.iterations, residual: res.residual, ms: performance.now() - t0 });
    return out;
  };

  const higherOrder = (gy: Tensor): (Tensor | null)[] => {
    const t0 = performance.now();
    const detached = xs.map((t) => t.detach());
    const lin = linearize(spec.layer, spec.F, spec.x, detached, yOut.data, shape, B, batched, 'backward');
    const res = solveAdjoint(spec.layer, lin, yOut.data, gy.data, B, n, opts);
    // w as an implicit function of (x, y*, g): G = [dF/dy]^T w - g = 0
    const G = (p: readonly Tensor[], w: Tensor): Tensor => {
      const xq = p.slice(0, xs.length);
      const yq = p[xs.length]!;
      const gq = p[xs.length + 1]!;
      const yv = yq.requiresGrad ? yq : yq.detach().requireGrad();
      const Fv = callF(spec.layer, spec.F, packParams(spec.x, xq), yv, B, batched);
      const [vj] = gradients([Fv], [yv], [reshape(w, Fv.shape)], { createGraph: true, allowUnused: true });
      return sub(vj ?? zeros(yv.shape), gq);
    };
    const w = implicitSolution({ layer: `${spec.layer} (adjoint)`, F: G, x: [...xs, yOut, gy], batched, backward: opts }, res.w, lin.shape);
    const xp = xs.map((t) => (t.requiresGrad ? proxy(t) : t.detach()));
    const yp = proxy(yOut);
    const Fv = callF(spec.layer, spec.F, packParams(spec.x, xp), yp, B, batched);
    const need = xp.filter((t) => t.requiresGrad);
    const gs = need.length && Fv.requiresGrad ? gradients([Fv], need, [w], { createGraph: true, allowUnused: true }) : need.map(() => null);
    let k = 0;
    const out = xs.map((t) => {
      if (!t.requiresGrad) return null;
      const gi = gs[k++];
      return gi ? neg(gi) : null;
    });
    spec.onBackward?.({ solver: res.solver, iterations: res.iterations, residual: res.residual, ms: performance.now() - t0 });
    return out;
  };

  recordN(spec.layer, xs, [yOut], (gs) => {
    const gy = gs[0];
    if (!gy) return xs.map(() => null);
    try {
      return isGradEnabled() ? higherOrder(gy) : firstOrder(gy);
    } catch (e) {
      const extra = e instanceof SingularJacobianError && spec.explainSingular ? spec.explainSingular() : '';
      if (extra)
        throw new SingularJacobianError(`${e instanceof Error ? e.message : String(e)}; ${extra}`, spec.layer, (e as SingularJacobianError).batchIndex);
      throw e;
    }
  });
  return yOut;
}
