// Runge-Kutta solvers of the ODE layer (models/implicit): dopri5 (adaptive, error control,
// dense output), rk4 and euler (fixed steps). One code path serves plain float64 solves and
// backprop-through-solver: arithmetic goes through ops that record only when an input is on the tape.
import {
  ShapeError,
  Tensor,
  add,
  anyNeedsGrad,
  clamp,
  div,
  fmtShape,
  isGradEnabled,
  maximum,
  mean,
  minimum,
  mul,
  pow,
  record1,
  sameShape,
  scalar,
  sqrt,
  square,
  sub,
  sum,
  abs,
  withArgShapes,
} from '../../sim/core/index.ts';

// ---------------------------------------------------------------- types

/** Integration methods: dopri5 (adaptive, order 5(4), dense output), rk4 and euler (fixed steps). */
export type OdeMethod = 'dopri5' | 'rk4' | 'euler';

/**
 * The vector field dy/dt = f(t, y, params), written with the core's ops. `t` is a 0-d tensor,
 * `y` has y0's shape (a leading batch axis is allowed: f sees the whole batch), `params` are the
 * tensors passed to the solver. Must return a tensor of y's shape.
 */
export type OdeFunc = (t: Tensor, y: Tensor, params: readonly Tensor[]) => Tensor;

/** What went wrong in a solve: see `OdeError`. */
export type OdeErrorKind = 'non-finite' | 'step-size-underflow' | 'max-steps';

/**
 * Raised when an integration cannot go on: f (or the adjoint's vector-Jacobian product)
 * returned NaN/Inf, the step size fell below what float64 can resolve, or maxSteps was
 * exceeded. Carries the time and the step number where it happened.
 */
export class OdeError extends Error {
  constructor(
    message: string,
    readonly kind: OdeErrorKind,
    readonly t: number,
    readonly step: number,
  ) {
    super(message);
    this.name = 'OdeError';
  }
}

/** A scalar of the solver: a number, or a 0-d tensor on the tape (backprop through the solver). */
export type Sc = number | Tensor;

/** A Butcher tableau. `e` = b - b_hat (embedded error weights) for adaptive methods. */
export interface Tableau {
  name: OdeMethod;
  c: readonly number[];
  a: readonly (readonly number[])[];
  b: readonly number[];
  e: readonly number[] | null;
  /** Order used by the step-size controller (exponent 1/order) and the initial-step heuristic. */
  order: number;
  /** First-same-as-last: the last stage is f(t + h, y1), reused as the next step's first stage. */
  fsal: boolean;
}

/** Dormand-Prince 5(4) (Hairer's DOPRI5): 7 stages, FSAL, 4th-order dense output. */
export const DOPRI5: Tableau = {
  name: 'dopri5',
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  e: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  order: 5,
  fsal: true,
};

/** Classical 4th-order Runge-Kutta. */
export const RK4: Tableau = {
  name: 'rk4',
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  e: null,
  order: 4,
  fsal: false,
};

/** Explicit (forward) Euler. */
export const EULER: Tableau = { name: 'euler', c: [0], a: [[]], b: [1], e: null, order: 1, fsal: false };

/** The tableau of a method name. */
export function tableauOf(method: OdeMethod): Tableau {
  switch (method) {
    case 'dopri5':
      return DOPRI5;
    case 'rk4':
      return RK4;
    case 'euler':
      return EULER;
  }
}

// Hairer's dense-output coefficients of DOPRI5 (contd5).
const D = [
  -12715105075 / 11282082432,
  0,
  87487479700 / 32700410799,
  -10690763975 / 1880347072,
  701980252875 / 199316789632,
  -1453857185 / 822651844,
  69997945 / 29380423,
];

// ---------------------------------------------------------------- scalar helpers (number or 0-d tensor)

/** The value of a solver scalar. */
export function val(a: Sc): number {
  return typeof a === 'number' ? a : a.data[0]!;
}
function sAdd(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? a + b : add(a, b);
}
function sSub(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? a - b : sub(a, b);
}
function sMul(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? a * b : mul(a, b);
}
function sDiv(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? a / b : div(a, b);
}
function sPow(a: Sc, e: number): Sc {
  return typeof a === 'number' ? Math.pow(a, e) : pow(a, e);
}
function sMax(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : maximum(a, b);
}
function sMin(a: Sc, b: Sc): Sc {
  return typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : minimum(a, b);
}
function sClamp(a: Sc, lo: number, hi: number): Sc {
  return typeof a === 'number' ? Math.min(hi, Math.max(lo, a)) : clamp(a, lo, hi);
}

// ---------------------------------------------------------------- fused kernels

/**
 * base + sum_j c_j k_j in one pass (base may be null). The coefficients are numbers or 0-d
 * tensors; one node is recorded when anything is on the tape, with a backward written with the
 * core's ops (so it differentiates again).
 */
export function lincomb(base: Tensor | null, terms: readonly (readonly [Sc, Tensor])[], shape: readonly number[], prefix?: number): Tensor {
  const live = terms.filter(([c]) => typeof c !== 'number' || c !== 0);
  const full = base ? base.size : live.length ? live[0]![1].size : sizeOfShape(shape);
  // only the first `prefix` entries, as a flat [prefix] tensor (off the tape only)
  const cut = prefix !== undefined && prefix < full && !isGradEnabled();
  const n = cut ? prefix : full;
  if (cut) shape = [n];
  const o = base ? (cut ? base.data.slice(0, n) : new Float64Array(base.data)) : new Float64Array(n);
  // up to four terms per pass over o (an RK stage combines up to six; the adjoint's augmented
  // state is large at small batch, where these passes are a fifth of the backward's time)
  let t = 0;
  for (; t + 4 <= live.length; t += 4) {
    const [c0, k0] = live[t]!;
    const [c1, k1] = live[t + 1]!;
    const [c2, k2] = live[t + 2]!;
    const [c3, k3] = live[t + 3]!;
    axpy4(o, n, val(c0), k0.data, val(c1), k1.data, val(c2), k2.data, val(c3), k3.data);
  }
  if (live.length - t === 3) {
    const [c0, k0] = live[t]!;
    const [c1, k1] = live[t + 1]!;
    const [c2, k2] = live[t + 2]!;
    const v0 = val(c0);
    const v1 = val(c1);
    const v2 = val(c2);
    const d0 = k0.data;
    const d1 = k1.data;
    const d2 = k2.data;
    for (let i = 0; i < n; i++) o[i]! += v0 * d0[i]! + v1 * d1[i]! + v2 * d2[i]!;
  } else if (live.length - t === 2) {
    const [c0, k0] = live[t]!;
    const [c1, k1] = live[t + 1]!;
    const v0 = val(c0);
    const v1 = val(c1);
    const d0 = k0.data;
    const d1 = k1.data;
    for (let i = 0; i < n; i++) o[i]! += v0 * d0[i]! + v1 * d1[i]!;
  } else if (live.length - t === 1) {
    const [c0, k0] = live[t]!;
    const v0 = val(c0);
    const d0 = k0.data;
    for (let i = 0; i < n; i++) o[i]! += v0 * d0[i]!;
  }
  const out = new Tensor(o, shape);
  const inputs: Tensor[] = [];
  if (base) inputs.push(base);
  for (const [c, k] of live) {
    inputs.push(k);
    if (typeof c !== 'number') inputs.push(c);
  }
  if (!isGradEnabled() || !anyNeedsGrad(inputs)) return out;
  return record1('odeint.lincomb', inputs, out, (g) => {
    const gs: (Tensor | null)[] = [];
    if (base) gs.push(base.requiresGrad ? g : null);
    for (const [c, k] of live) {
      gs.push(k.requiresGrad ? mul(g, c) : null);
      if (typeof c !== 'number') gs.push(c.requiresGrad ? sum(mul(g, k)) : null);
    }
    return gs;
  });
}

/** o += v0 d0 + v1 d1 + v2 d2 + v3 d3 over n entries. */
function axpy4(
  o: Float64Array,
  n: number,
  v0: number,
  d0: Float64Array,
  v1: number,
  d1: Float64Array,
  v2: number,
  d2: Float64Array,
  v3: number,
  d3: Float64Array,
): void {
  for (let i = 0; i < n; i++) o[i]! += v0 * d0[i]! + v1 * d1[i]! + v2 * d2[i]! + v3 * d3[i]!;
}

function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Contiguous blocks [offset, length] of a flat state, each normed on its own (mixed norm). */
export type NormSegments = readonly (readonly [number, number])[];

/**
 * The scaled error norm of the step-size controller: max over segments of
 * RMS(x_i / (atol + rtol max(|r1_i|, |r2_i|))). On the tape (single segment) it is built from
 * ops so the step size differentiates; otherwise a plain loop.
 */
export function scaledNorm(x: Tensor, r1: Tensor, r2: Tensor | null, rtol: number, atol: number, segments: NormSegments | null): Sc {
  if (isGradEnabled() && (x.requiresGrad || r1.requiresGrad || (r2 !== null && r2.requiresGrad))) {
    if (segments && segments.length > 1) throw new Error('scaledNorm: mixed norms are not supported on the tape');
    const ref = r2 ? maximum(abs(r1), abs(r2)) : abs(r1);
    return sqrt(mean(square(div(x, add(atol, mul(rtol, ref))))));
  }
  const xd = x.data;
  const a = r1.data;
  const b = r2 ? r2.data : null;
  const segs = segments ?? [[0, xd.length] as const];
  let worst = 0;
  for (const [off, len] of segs) {
    if (len === 0) continue;
    let s = 0;
    for (let i = off; i < off + len; i++) {
      const ref = b ? Math.max(Math.abs(a[i]!), Math.abs(b[i]!)) : Math.abs(a[i]!);
      const q = xd[i]! / (atol + rtol * ref);
      s += q * q;
    }
    const r = Math.sqrt(s / len);
    if (!(r <= worst)) worst = r; // NaN propagates
  }
  return worst;
}

// ---------------------------------------------------------------- steps

/**
 * The vector field as the solver sees it: a flat or shaped state, a time that may be on the
 * tape, and the step number (for error messages). Implementations count evaluations and check
 * for NaN.
 */
export type Dyn = (t: Sc, y: Tensor, step: number) => Tensor;

/**
 * Stages and end state of one Runge-Kutta step from (t, y) with step h; k1 = f(t, y). With
 * `stageLive`, fun reads only the first stageLive entries of a stage's state (the rest is a
 * quadrature, as the adjoint's parameter gradients), so only those are formed for the inner
 * stages (off the tape); the end state and an FSAL tableau's last stage are formed whole.
 */
export function rkStep(tab: Tableau, fun: Dyn, t: Sc, y: Tensor, k1: Tensor, h: Sc, step: number, stageLive?: number): { ks: Tensor[]; y1: Tensor } {
  const ks: Tensor[] = [k1];
  let yLast = y;
  for (let s = 1; s < tab.c.length; s++) {
    const row = tab.a[s]!;
    const terms: [Sc, Tensor][] = [];
    for (let j = 0; j < row.length; j++) if (row[j] !== 0) terms.push([sMul(h, row[j]!), ks[j]!]);
    const whole = tab.fsal && s === tab.c.length - 1;
    yLast = lincomb(y, terms, y.shape, whole ? undefined : stageLive);
    ks.push(fun(sAdd(t, sMul(h, tab.c[s]!)), yLast, step));
  }
  if (tab.fsal) return { ks, y1: yLast };
  const terms: [Sc, Tensor][] = [];
  tab.b.forEach((b, j) => {
    if (b !== 0) terms.push([sMul(h, b), ks[j]!]);
  });
  return { ks, y1: lincomb(y, terms, y.shape) };
}

/**
 * DOPRI5 dense output at theta in [0, 1] of a step (Hairer's contd5, 4th order):
 * y(theta) = y0 + h sum_i b_i(theta) k_i.
 */
export function denseDopri5(y: Tensor, h: Sc, ks: readonly Tensor[], theta: Sc): Tensor {
  const p1 = theta;
  const one = sSub(1, theta);
  const p2 = sMul(theta, one);
  const p3 = sMul(theta, p2);
  const p4 = sMul(p3, one);
  const terms: [Sc, Tensor][] = [];
  for (let i = 0; i < 7; i++) {
    const b = DOPRI5.b[i]!;
    const d1 = i === 0 ? 1 : 0;
    const d7 = i === 6 ? 1 : 0;
    const c1 = b;
    const c2 = d1 - b;
    const c3 = 2 * b - d1 - d7;
    const c4 = D[i]!;
    if (c1 === 0 && c2 === 0 && c3 === 0 && c4 === 0) continue;
    let bi: Sc = 0;
    if (c1 !== 0) bi = sAdd(bi, sMul(c1, p1));
    if (c2 !== 0) bi = sAdd(bi, sMul(c2, p2));
    if (c3 !== 0) bi = sAdd(bi, sMul(c3, p3));
    if (c4 !== 0) bi = sAdd(bi, sMul(c4, p4));
    terms.push([sMul(h, bi), ks[i]!]);
  }
  return lincomb(y, terms, y.shape);
}

/** Cubic Hermite interpolation on a step from (y0, f0) to (y1, f1): the dense output of rk4 and euler. */
export function denseHermite(y0: Float64Array, f0: Float64Array, y1: Float64Array, f1: Float64Array, h: number, theta: number): Float64Array {
  const t2 = theta * theta;
  const t3 = t2 * theta;
  const h00 = 2 * t3 - 3 * t2 + 1;
  const h10 = (t3 - 2 * t2 + theta) * h;
  const h01 = -2 * t3 + 3 * t2;
  const h11 = (t3 - t2) * h;
  const o = new Float64Array(y0.length);
  for (let i = 0; i < o.length; i++) o[i] = h00 * y0[i]! + h10 * f0[i]! + h01 * y1[i]! + h11 * f1[i]!;
  return o;
}

// ---------------------------------------------------------------- the solve loop

/** One accepted step, as handed to `onStep` (the adjoint's checkpoint store). */
export interface StepRecord {
  index: number;
  t: number;
  h: number;
  y: Tensor;
  y1: Tensor;
  ks: Tensor[];
}

/** A solve from (t0, y0) through output times (excluding t0), forward or backward in time. */
export interface SolveSpec {
  tab: Tableau;
  fun: Dyn;
  y0: Tensor;
  t0: Sc;
  /** Output times after t0, strictly monotone away from t0. */
  times: readonly Sc[];
  rtol: number;
  atol: number;
  maxSteps: number;
  /** dopri5: the first step (else Hairer's heuristic); fixed methods: the largest step (else one step per output interval). */
  step?: Sc;
  /** f(t0, y0) when already known. */
  k1?: Tensor;
  /** Adaptive only: clip the last step to land on the last output time exactly (the adjoint needs this at its jumps). */
  land?: boolean;
  /** Mixed-norm segments of the flat state (plain solves only). */
  segments?: NormSegments | null;
  /** fun reads only the first stageLive entries of the state (see rkStep). */
  stageLive?: number;
  onStep?: (r: StepRecord) => void;
  /** Names the solve in error messages ('odeint', 'odeint adjoint backward', ...). */
  where: string;
}

/** States at the output times and the step statistics. */
export interface SolveResult {
  ys: Tensor[];
  accepted: number;
  rejected: number;
  /** The controller's proposal for the next step (signed), for continuing a solve. */
  hNext: number;
}

const SAFETY = 0.9;
const IFACTOR = 10;
const DFACTOR = 0.2;

/** Runs a solve with the tableau's kind of stepping. */
export function solve(spec: SolveSpec): SolveResult {
  return spec.tab.e ? solveAdaptive(spec) : solveFixed(spec);
}

function checkStep(spec: SolveSpec, t: Sc, h: Sc, attempts: number): void {
  const tv = val(t);
  const hv = val(h);
  if (attempts >= spec.maxSteps) {
    throw new OdeError(`${spec.where}: maxSteps = ${spec.maxSteps} exceeded at t = ${tv} (step ${attempts}, step size ${hv})`, 'max-steps', tv, attempts);
  }
  if (!(Math.abs(hv) > 8 * Number.EPSILON * Math.max(Math.abs(tv), 1e-300))) {
    throw new OdeError(
      `${spec.where}: step size underflow at t = ${tv} (step ${attempts}, step size ${hv}): the solution is likely singular or too stiff for ${spec.tab.name}`,
      'step-size-underflow',
      tv,
      attempts,
    );
  }
}

/** Hairer's initial step heuristic (as in torchdiffeq/scipy), signed by the direction. */
function initialStep(spec: SolveSpec, t0: Sc, y0: Tensor, f0: Tensor, dir: number): Sc {
  const { rtol, atol, tab, fun } = spec;
  const segs = spec.segments ?? null;
  const d0 = scaledNorm(y0, y0, null, rtol, atol, segs);
  const d1 = scaledNorm(f0, y0, null, rtol, atol, segs);
  const h0: Sc = val(d0) < 1e-5 || val(d1) < 1e-5 ? 1e-6 : sMul(0.01, sDiv(d0, d1));
  const hs = sMul(h0, dir);
  const y1 = lincomb(y0, [[hs, f0]], y0.shape);
  const f1 = fun(sAdd(t0, hs), y1, 0);
  const d2 = sDiv(scaledNorm(lincomb(f1, [[-1, f0]], f0.shape), y0, null, rtol, atol, segs), h0);
  const dm = sMax(d1, d2);
  const h1: Sc = val(dm) <= 1e-15 ? Math.max(1e-6, val(h0) * 1e-3) : sPow(sDiv(0.01, dm), 1 / (tab.order + 1));
  return sMul(sMin(sMul(100, h0), h1), dir);
}

function stepFactor(ratio: Sc, order: number): Sc {
  if (val(ratio) === 0) return IFACTOR;
  return sClamp(sMul(SAFETY, sPow(ratio, -1 / order)), DFACTOR, IFACTOR);
}

function solveAdaptive(spec: SolveSpec): SolveResult {
  const { tab, fun, times, rtol, atol } = spec;
  const e = tab.e!;
  const segs = spec.segments ?? null;
  const ys: Tensor[] = [];
  if (times.length === 0) return { ys, accepted: 0, rejected: 0, hNext: spec.step === undefined ? NaN : val(spec.step) };
  let t: Sc = spec.t0;
  let y = spec.y0;
  const dir = Math.sign(val(times[times.length - 1]!) - val(t));
  let k1 = spec.k1 ?? fun(t, y, 0);
  let h: Sc = spec.step !== undefined ? spec.step : initialStep(spec, t, y, k1, dir);
  if (Math.sign(val(h)) !== dir) h = sMul(h, -1);
  let j = 0;
  let accepted = 0;
  let rejected = 0;
  while (j < times.length) {
    let landing = false;
    if (spec.land && j === times.length - 1) {
      const rem = val(times[j]!) - val(t);
      if (Math.abs(val(h)) >= Math.abs(rem)) {
        h = sSub(times[j]!, t);
        landing = true;
      }
    }
    checkStep(spec, t, h, accepted + rejected);
    const step = accepted + rejected + 1;
    const { ks, y1 } = rkStep(tab, fun, t, y, k1, h, step, spec.stageLive);
    const terms: [Sc, Tensor][] = [];
    e.forEach((ei, i) => {
      if (ei !== 0) terms.push([sMul(h, ei), ks[i]!]);
    });
    const err = lincomb(null, terms, y.shape);
    const ratio = scaledNorm(err, y, y1, rtol, atol, segs);
    const r = val(ratio);
    if (Number.isNaN(r)) {
      throw new OdeError(`${spec.where}: the error estimate is NaN at t = ${val(t)} (step ${step}, step size ${val(h)})`, 'non-finite', val(t), step);
    }
    if (r <= 1) {
      const tNew: Sc = landing ? times[j]! : sAdd(t, h);
      while (j < times.length && dir * (val(times[j]!) - val(tNew)) <= 0) {
        if (landing && j === times.length - 1) ys.push(y1);
        else ys.push(denseDopri5(y, h, ks, sDiv(sSub(times[j]!, t), h)));
        j++;
      }
      spec.onStep?.({ index: accepted, t: val(t), h: val(h), y, y1, ks });
      accepted++;
      t = tNew;
      y = y1;
      k1 = ks[ks.length - 1]!;
    } else rejected++;
    h = sMul(h, stepFactor(ratio, tab.order));
  }
  return { ys, accepted, rejected, hNext: val(h) };
}

/** Number of equal steps covering |dt| with steps no longer than `step`. */
export function fixedStepCount(dt: number, step: number | undefined): number {
  if (step === undefined) return 1;
  return Math.max(1, Math.ceil(Math.abs(dt) / step - 1e-9));
}

function solveFixed(spec: SolveSpec): SolveResult {
  const { tab, fun, times } = spec;
  const ys: Tensor[] = [];
  let tPrev: Sc = spec.t0;
  let y = spec.y0;
  let k1: Tensor | undefined = spec.k1;
  let accepted = 0;
  const maxStep = spec.step === undefined ? undefined : Math.abs(val(spec.step));
  let hv = NaN;
  for (const tj of times) {
    const dt = sSub(tj, tPrev);
    const n = fixedStepCount(val(dt), maxStep);
    const h = sDiv(dt, n);
    for (let k = 0; k < n; k++) {
      const tk: Sc = k === 0 ? tPrev : sAdd(tPrev, sMul(h, k));
      checkStep(spec, tk, h, accepted);
      const step = accepted + 1;
      const f0 = k1 ?? fun(tk, y, step);
      k1 = undefined;
      const { ks, y1 } = rkStep(tab, fun, tk, y, f0, h, step, spec.stageLive);
      spec.onStep?.({ index: accepted, t: val(tk), h: val(h), y, y1, ks });
      accepted++;
      y = y1;
    }
    hv = val(h);
    ys.push(y);
    tPrev = tj;
  }
  return { ys, accepted, rejected: 0, hNext: hv };
}

// ---------------------------------------------------------------- the user's f as a Dyn

/** Counts of vector-field evaluations, shared by the solves of one call. */
export interface NfeCounter {
  nfe: number;
}

/**
 * Wraps the user's f: converts t to a 0-d tensor, checks the returned shape (ShapeError naming
 * both shapes) and its finiteness (OdeError naming t, the step and the flat index), counts calls.
 */
export function userDyn(f: OdeFunc, params: readonly Tensor[], shape: readonly number[], counter: NfeCounter, where: string): Dyn {
  return (t, y, step) => {
    const tt = typeof t === 'number' ? scalar(t) : t;
    const out = withArgShapes(where, 'f(t, y, params)', { y, params }, () => f(tt, y, params));
    counter.nfe++;
    if (!(out instanceof Tensor)) throw new TypeError(`${where}: f(t, y, params) must return a Tensor, got ${typeof out}`);
    if (!sameShape(out.shape, shape)) {
      throw new ShapeError(`${where}: f(t, y, params) returned shape ${fmtShape(out.shape)}; the state y0 has shape ${fmtShape(shape)}`);
    }
    assertFinite(out.data, where, 'f(t, y, params)', val(t), step);
    return out;
  };
}

/** Throws an OdeError naming what returned a non-finite value, where (t, step) and the flat index. */
export function assertFinite(d: Float64Array, where: string, what: string, t: number, step: number): void {
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new OdeError(`${where}: ${what} returned ${d[i]} at t = ${t} (step ${step}, flat index ${i})`, 'non-finite', t, step);
    }
  }
}

// ---------------------------------------------------------------- options and input checks

/** Options of `odeint` and `odeintSensitivities`. */
export interface OdeOptions {
  /** 'dopri5' (default, adaptive), 'rk4' or 'euler' (fixed steps). */
  method?: OdeMethod;
  /** Relative tolerance of dopri5's error control (default 1e-7). */
  rtol?: number;
  /** Absolute tolerance of dopri5's error control (default 1e-9). */
  atol?: number;
  /**
   * dopri5: the first step size (default: Hairer's heuristic). rk4/euler: the largest step;
   * each interval between output times is cut into equal steps no longer than this (default:
   * one step per interval), so the grid hits every output time.
   */
  step?: number;
  /** Step attempts (accepted + rejected) allowed per solve before an OdeError (default 100000). */
  maxSteps?: number;
  /** Backward by the continuous adjoint (default true); false = backprop through the solver's ops. */
  adjoint?: boolean;
  /** Adjoint: accepted forward steps between stored checkpoints (default 16). */
  checkpoints?: number;
  /** Adjoint: tolerances of the backward solve (default: rtol, atol). */
  adjointRtol?: number;
  adjointAtol?: number;
  /**
   * Adjoint: error norm of the backward solve. 'mixed' (default): the worst RMS over the blocks
   * a, dL/dp_k, dL/dt0; 'seminorm': only a (fewer steps, Kidger et al. 2021).
   */
  adjointNorm?: 'mixed' | 'seminorm';
  /**
   * Step groups (y0 [B, ...] with a leading batch axis): the batch is cut into groups of this
   * many consecutive items, each integrated with its own adaptive steps and differentiated by
   * its own adjoint (1: every item its own steps). Default: the whole batch shares its steps
   * (the error norm takes every item). A group's results do not depend on the thread count,
   * but differ from the shared steps' within the tolerances.
   */
  stepGroup?: number;
  /**
   * Threads the step groups are split over (default IMPULSE_THREADS or the core count); needs
   * `stepGroup`, the adjoint backward and a field a worker can rebuild (mlpField, or one
   * marked by remoteField). Results are those of one thread bit for bit.
   */
  threads?: number;
}

/** Checked inputs of a solve. */
export interface Prepared {
  tab: Tableau;
  tsT: Tensor;
  ts: number[];
  rtol: number;
  atol: number;
  maxSteps: number;
  step: number | undefined;
}

/** Validates the inputs of a solve; every error names the argument, field or index at fault. */
export function prepare(where: string, f: unknown, y0: unknown, ts: unknown, params: unknown, opts: OdeOptions): Prepared {
  if (typeof f !== 'function') throw new TypeError(`${where}: f must be a function (t, y, params) => Tensor`);
  if (!(y0 instanceof Tensor)) throw new TypeError(`${where}: y0 must be a Tensor`);
  if (y0.size === 0) throw new ShapeError(`${where}: y0 has shape ${fmtShape(y0.shape)} with no elements`);
  let tsT: Tensor;
  if (ts instanceof Tensor) tsT = ts;
  else if (ts instanceof Float64Array || Array.isArray(ts)) tsT = new Tensor(Float64Array.from(ts as ArrayLike<number>), [(ts as ArrayLike<number>).length]);
  else throw new TypeError(`${where}: ts must be a Tensor or an array of numbers`);
  if (tsT.ndim !== 1) throw new ShapeError(`${where}: ts must be 1-D, got shape ${fmtShape(tsT.shape)}`);
  if (tsT.size === 0) throw new ShapeError(`${where}: ts is empty; give at least the start time`);
  const tv = Array.from(tsT.data);
  tv.forEach((t, i) => {
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new RangeError(`${where}: ts[${i}] = ${t} is not a finite number`);
  });
  if (tv.length > 1) {
    const dir = Math.sign(tv[1]! - tv[0]!);
    for (let i = 1; i < tv.length; i++) {
      if (dir === 0 || Math.sign(tv[i]! - tv[i - 1]!) !== dir) {
        throw new RangeError(`${where}: ts must be strictly increasing or strictly decreasing; ts[${i}] = ${tv[i]} after ts[${i - 1}] = ${tv[i - 1]}`);
      }
    }
  }
  if (!Array.isArray(params)) throw new TypeError(`${where}: params must be an array of Tensors`);
  params.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${where}: params[${i}] is not a Tensor`);
  });
  const method = opts.method ?? 'dopri5';
  if (method !== 'dopri5' && method !== 'rk4' && method !== 'euler')
    throw new RangeError(`${where}: options.method '${String(method)}' is not one of dopri5, rk4, euler`);
  const rtol = opts.rtol ?? 1e-7;
  const atol = opts.atol ?? 1e-9;
  for (const [k, v] of [
    ['rtol', rtol],
    ['atol', atol],
    ['adjointRtol', opts.adjointRtol ?? rtol],
    ['adjointAtol', opts.adjointAtol ?? atol],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${where}: options.${k} = ${v} must be a finite number >= 0`);
  }
  if (!(rtol + atol > 0)) throw new RangeError(`${where}: options.rtol and options.atol cannot both be 0`);
  const step = opts.step;
  if (step !== undefined && !(Number.isFinite(step) && step > 0)) throw new RangeError(`${where}: options.step = ${step} must be a finite number > 0`);
  const maxSteps = opts.maxSteps ?? 100000;
  if (!(Number.isInteger(maxSteps) && maxSteps > 0)) throw new RangeError(`${where}: options.maxSteps = ${maxSteps} must be a positive integer`);
  const cp = opts.checkpoints ?? 16;
  if (!(Number.isInteger(cp) && cp > 0)) throw new RangeError(`${where}: options.checkpoints = ${cp} must be a positive integer`);
  if (opts.adjointNorm !== undefined && opts.adjointNorm !== 'mixed' && opts.adjointNorm !== 'seminorm') {
    throw new RangeError(`${where}: options.adjointNorm '${String(opts.adjointNorm)}' is not 'mixed' or 'seminorm'`);
  }
  return { tab: tableauOf(method), tsT, ts: tv, rtol, atol, maxSteps, step };
}
