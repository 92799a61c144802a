// Continuous adjoint backward of the ODE layer (models/implicit): the forward solution is kept
// only as checkpoints; the backward re-integrates z forward inside one checkpoint segment at a
// time (dense output) while it integrates [a, dL/dtheta, dL/dt0] backward with VJPs of f.
import { Tensor, fmtShape, gradients, noGrad, sameShape, scalar, ShapeError, withGradMode } from '../../sim/core/index.ts';
import type { MlpKernel } from './mlp-field.ts';
import { type Dyn, type OdeFunc, type StepRecord, type Tableau, assertFinite, denseDopri5, denseHermite, rkStep, solve, val } from './ode-solvers.ts';

/** Figures of the adjoint backward pass (accumulated over backward calls). */
export interface AdjointStats {
  /** Evaluations of f with its vector-Jacobian product (one per adjoint stage). */
  nfeAdjoint: number;
  /** Plain evaluations of f spent re-integrating z forward from the checkpoints. */
  nfeRecompute: number;
  /** Evaluations of f at the output times for the time gradients. */
  nfeTimes: number;
  acceptedSteps: number;
  rejectedSteps: number;
  /** Checkpoints stored by the forward pass (2 states each: y and f(t, y)). */
  checkpoints: number;
  /** Accepted forward steps between checkpoints. */
  checkpointEvery: number;
  /** Accepted forward steps (the trajectory the checkpoints cover). */
  forwardSteps: number;
  /** Segment re-integrations run by the backward. */
  segmentsRecomputed: number;
  /** Largest number of state-sized arrays held at once for z(t): checkpoints plus cached segments. */
  peakStoredStates: number;
}

/** Fresh zeroed stats. */
export function emptyAdjointStats(every: number): AdjointStats {
  return {
    nfeAdjoint: 0,
    nfeRecompute: 0,
    nfeTimes: 0,
    acceptedSteps: 0,
    rejectedSteps: 0,
    checkpoints: 0,
    checkpointEvery: every,
    forwardSteps: 0,
    segmentsRecomputed: 0,
    peakStoredStates: 0,
  };
}

interface Checkpoint {
  index: number;
  y: Tensor;
  k1: Tensor;
}

interface SegStep {
  t: number;
  h: number;
  y: Tensor;
  y1: Tensor;
  ks: Tensor[];
}

interface Segment {
  i0: number;
  steps: SegStep[];
  /** f at the end of the last step (Hermite dense output of fixed-step methods). */
  fEnd: Tensor | null;
  states: number;
}

/**
 * The forward solution as the adjoint sees it: every `every`-th accepted step stores a
 * checkpoint (y and f(t, y)); each step stores only its (t, h), and the stages of the latest
 * segment are kept (the backward starts there). `at(t)` re-integrates the segment holding t from
 * its checkpoint (the same steps, so the same numbers as the forward) and interpolates with the
 * method's dense output. At most two segments are held, so memory is 2 states per checkpoint
 * plus O(every) states, whatever the number of steps.
 */
export class ForwardTrajectory {
  private readonly tStart: number[] = [];
  private readonly hStep: number[] = [];
  private readonly cps: Checkpoint[] = [];
  private readonly cache = new Map<number, Segment>();
  /** The segment the forward is filling (its steps are the forward's own, so the backward starts without re-integrating). */
  private live: Segment | null = null;
  private dir = 1;

  constructor(
    private readonly tab: Tableau,
    private readonly dyn: Dyn,
    private readonly every: number,
    private readonly stats: AdjointStats,
  ) {}

  /** The solver's onStep hook: stores (t, h), a checkpoint every `every` steps, and the latest segment's steps. */
  record(r: StepRecord): void {
    const i = this.tStart.length;
    if (i === 0) this.dir = Math.sign(r.h) || 1;
    if (i % this.every === 0) {
      this.cps.push({ index: i, y: r.y, k1: r.ks[0]! });
      // the previous segment's steps are dropped here; the latest one is kept for the backward's first use
      this.live = { i0: i, steps: [], fEnd: null, states: 1 };
    }
    this.live!.steps.push({ t: r.t, h: r.h, y: r.y, y1: r.y1, ks: r.ks });
    this.live!.states += 1 + r.ks.length;
    this.tStart.push(r.t);
    this.hStep.push(r.h);
    this.stats.checkpoints = this.cps.length;
    this.stats.forwardSteps = i + 1;
    this.notePeak();
  }

  private notePeak(): void {
    let n = 2 * this.cps.length + (this.live ? this.live.states : 0);
    for (const s of this.cache.values()) n += s.states;
    if (n > this.stats.peakStoredStates) this.stats.peakStoredStates = n;
  }

  /** Index of the step whose interval (t_i, t_i + h_i] holds t (clamped to the trajectory). */
  private stepIndex(t: number): number {
    const ts = this.tStart;
    const d = this.dir;
    let lo = 0;
    let hi = ts.length - 1;
    // largest i with d (t - ts[i]) > 0
    if (!(d * (t - ts[0]!) > 0)) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (d * (t - ts[mid]!) > 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private segment(s: number): Segment {
    if (this.live) {
      this.cache.set(this.cps.length - 1, this.live);
      this.live = null;
    }
    const hit = this.cache.get(s);
    if (hit) {
      this.cache.delete(s);
      this.cache.set(s, hit); // most recently used last
      return hit;
    }
    const seg = noGrad(() => this.load(s));
    if (this.cache.size >= 2) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(s, seg);
    this.stats.segmentsRecomputed++;
    this.notePeak();
    return seg;
  }

  private load(s: number): Segment {
    const cp = this.cps[s]!;
    const n = this.tStart.length;
    const i0 = cp.index;
    const i1 = Math.min(i0 + this.every, n);
    const steps: SegStep[] = [];
    let y = cp.y;
    let k1 = cp.k1;
    let states = 0;
    for (let i = i0; i < i1; i++) {
      const t = this.tStart[i]!;
      const h = this.hStep[i]!;
      const { ks, y1 } = rkStep(this.tab, this.dyn, t, y, k1, h, i + 1);
      steps.push({ t, h, y, y1, ks });
      states += 1 + ks.length;
      y = y1;
      if (i + 1 < i1) k1 = this.tab.fsal ? ks[ks.length - 1]! : this.dyn(this.tStart[i + 1]!, y1, i + 2);
    }
    return { i0, steps, fEnd: null, states: states + 1 };
  }

  /** f at the end of segment s (Hermite dense output): the next checkpoint's, or evaluated at the trajectory's end. */
  private fEnd(s: number, seg: Segment): Tensor {
    if (!seg.fEnd) {
      const next = this.cps[s + 1];
      const last = seg.steps[seg.steps.length - 1]!;
      seg.fEnd = next ? next.k1 : noGrad(() => this.dyn(last.t + last.h, last.y1, seg.i0 + seg.steps.length));
      seg.states++;
    }
    return seg.fEnd;
  }

  /** Drops the cached segments (after a backward pass); a later `at` re-integrates what it needs. */
  releaseSegments(): void {
    this.live = null;
    this.cache.clear();
  }

  /** z(t) from the checkpoints (flat copy). */
  at(t: number): Float64Array {
    const i = this.stepIndex(t);
    const si = Math.floor(i / this.every);
    const seg = this.segment(si);
    const k = i - seg.i0;
    const st = seg.steps[k]!;
    const theta = (t - st.t) / st.h;
    if (this.tab.fsal) return noGrad(() => denseDopri5(st.y, st.h, st.ks, theta)).data;
    const f1 = k + 1 < seg.steps.length ? seg.steps[k + 1]!.ks[0]! : this.fEnd(si, seg);
    return denseHermite(st.y.data, st.ks[0]!.data, st.y1.data, f1.data, st.h, theta);
  }
}

/** A leaf on the tape reached from `out` that requires grad and is not among `known` (a tensor f captured instead of taking it in params). */
export function foreignLeaf(out: Tensor, known: ReadonlySet<Tensor>): Tensor | null {
  const seen = new Set<unknown>();
  const stack: Tensor[] = [out];
  while (stack.length) {
    const x = stack.pop()!;
    if (!x.node) {
      if (x.requiresGrad && !known.has(x)) return x;
      continue;
    }
    if (seen.has(x.node)) continue;
    seen.add(x.node);
    for (const i of x.node.inputs) if (i.requiresGrad) stack.push(i);
  }
  return null;
}

/** Everything the adjoint backward needs from the forward call. */
export interface AdjointProblem {
  f: OdeFunc;
  /** f's numeric kernel when f is a known MLP field (its VJP is then evaluated off the tape). */
  mlp?: MlpKernel | null;
  params: readonly Tensor[];
  shape: readonly number[];
  tab: Tableau;
  /** Output times (numbers). */
  ts: readonly number[];
  /** The forward outputs [T, ...shape] (flat). */
  Y: Float64Array;
  traj: ForwardTrajectory | null;
  rtol: number;
  atol: number;
  maxSteps: number;
  /** Largest step of fixed-step methods (the forward's grid), undefined = one step per interval. */
  step: number | undefined;
  norm: 'mixed' | 'seminorm';
  /** Which params need a gradient. */
  wantParams: readonly boolean[];
  wantTimes: boolean;
  stats: AdjointStats;
  where: string;
}

/**
 * The backward pass: given dL/dY ([T, ...shape]), integrates the augmented adjoint system
 * a' = -a df/dz, (dL/dtheta)' = -a df/dtheta, (dL/dt0)' = -a df/dt backward from t_{T-1} to
 * t_0, landing on every output time to add its dL/dY. Returns dL/dy0, dL/dparams, dL/dts.
 */
export function adjointBackward(p: AdjointProblem, gY: Tensor): { gy0: Tensor; gParams: (Tensor | null)[]; gTs: Tensor | null } {
  const { f, params, shape, ts, tab, stats, where } = p;
  const n = sizeOf(shape);
  const T = ts.length;
  const g = gY.data;
  // layout of the augmented state: [a | dL/dp_k for wanted k | dL/dt0]
  const pOff: number[] = [];
  let m = n;
  params.forEach((q, k) => {
    pOff.push(p.wantParams[k] ? m : -1);
    if (p.wantParams[k]) m += q.size;
  });
  const tIdx = p.wantTimes ? m++ : -1;
  // mixed norm: each block normed on its own, the worst counts; seminorm: only a
  const segs: [number, number][] = [[0, n]];
  if (p.norm === 'mixed') {
    params.forEach((q, k) => {
      if (pOff[k]! >= 0) segs.push([pOff[k]!, q.size]);
    });
    if (tIdx >= 0) segs.push([tIdx, 1]);
  }

  // fresh leaves sharing the params' storage (only for those that need a gradient)
  const leaves = params.map((q, k) => (p.wantParams[k] ? new Tensor(q.data, q.shape).requireGrad() : q));
  const gradLeaves = leaves.filter((_, k) => p.wantParams[k]);
  let checkedForeign = false;

  const kernel = p.mlp ?? null;
  const fOut = new Float64Array(n);
  const mlpDynAdj: Dyn = (tS, s, step) => {
    const t = val(tS);
    const ds = new Float64Array(m);
    kernel!.forward(p.traj!.at(t), fOut);
    stats.nfeAdjoint++;
    kernel!.vjp(s.data, ds, 0, pOff, -1); // f is autonomous: dL/dt0 gets nothing
    assertFinite(ds, where, 'the vector-Jacobian product of f', t, step);
    return new Tensor(ds, [m]);
  };

  const tapeDyn: Dyn = (tS, s, step) => {
    const t = val(tS);
    const z = p.traj!.at(t);
    const a = new Tensor(s.data.subarray(0, n), shape);
    const ds = new Float64Array(m);
    withGradMode(true, () => {
      const zLeaf = new Tensor(z, shape).requireGrad();
      const tLeaf = scalar(t);
      if (p.wantTimes) tLeaf.requireGrad();
      const out = f(tLeaf, zLeaf, leaves);
      stats.nfeAdjoint++;
      if (!(out instanceof Tensor) || !sameShape(out.shape, shape)) {
        throw new ShapeError(
          `${where}: f(t, y, params) returned shape ${out instanceof Tensor ? fmtShape(out.shape) : typeof out}; the state has shape ${fmtShape(shape)}`,
        );
      }
      const wrt = [zLeaf, ...gradLeaves, ...(p.wantTimes ? [tLeaf] : [])];
      if (!checkedForeign) {
        checkedForeign = true;
        const bad = foreignLeaf(out, new Set(wrt));
        if (bad) {
          throw new Error(
            `${where}: f uses a tensor of shape ${fmtShape(bad.shape)}${bad.name ? ` (${bad.name})` : ''} that requires grad but is not in params; ` +
              'the adjoint cannot give its gradient: pass it in params (or detach it)',
          );
        }
      }
      if (!out.requiresGrad) return;
      const gs = gradients([out], wrt, [a], { allowUnused: true });
      const gz = gs[0];
      if (gz) for (let i = 0; i < n; i++) ds[i] = -gz.data[i]!;
      let j = 1;
      params.forEach((q, k) => {
        if (pOff[k]! < 0) return;
        const gq = gs[j++];
        if (gq) for (let i = 0; i < q.size; i++) ds[pOff[k]! + i] = -gq.data[i]!;
      });
      if (tIdx >= 0) {
        const gt = gs[j];
        if (gt) ds[tIdx] = -gt.data[0]!;
      }
    });
    assertFinite(ds, where, 'the vector-Jacobian product of f', t, step);
    return new Tensor(ds, [m]);
  };
  const dyn = kernel ? mlpDynAdj : tapeDyn;

  const gTs = p.wantTimes ? new Float64Array(T) : null;
  const s = new Float64Array(m);
  for (let i = 0; i < n; i++) s[i] = g[(T - 1) * n + i]!;
  let hNext: number | undefined = undefined; // dopri5: Hairer's heuristic for the first backward step
  for (let i = T - 1; i >= 1; i--) {
    if (gTs) {
      // dL/dt_i = <dL/dY_i, f(t_i, Y_i)>; t_0 collects minus these plus the integral of a df/dt
      const yi = new Tensor(p.Y.slice(i * n, (i + 1) * n), shape);
      const fi = noGrad(() => f(scalar(ts[i]!), yi, params));
      stats.nfeTimes++;
      assertFinite(fi.data, where, 'f(t, y, params)', ts[i]!, 0);
      let dot = 0;
      for (let k = 0; k < n; k++) dot += g[i * n + k]! * fi.data[k]!;
      gTs[i] = dot;
      s[tIdx] = s[tIdx]! - dot;
    }
    const res = solve({
      tab,
      fun: dyn,
      y0: new Tensor(s.slice(), [m]),
      t0: ts[i]!,
      times: [ts[i - 1]!],
      rtol: p.rtol,
      atol: p.atol,
      maxSteps: p.maxSteps,
      step: tab.e ? hNext : p.step,
      land: true,
      segments: segs,
      // f's VJP reads only the adjoint a = s[0, n); dL/dtheta and dL/dt0 are quadratures
      stageLive: n,
      where,
    });
    stats.acceptedSteps += res.accepted;
    stats.rejectedSteps += res.rejected;
    if (tab.e && Number.isFinite(res.hNext)) hNext = res.hNext;
    s.set(res.ys[0]!.data);
    for (let k = 0; k < n; k++) s[k] = s[k]! + g[(i - 1) * n + k]!;
  }
  const gy0 = new Tensor(s.slice(0, n), shape);
  const gParams = params.map((q, k) => (pOff[k]! >= 0 ? new Tensor(s.slice(pOff[k]!, pOff[k]! + q.size), q.shape) : null));
  if (gTs) gTs[0] = s[tIdx]!;
  return { gy0, gParams, gTs: gTs ? new Tensor(gTs, [T]) : null };
}

function sizeOf(shape: readonly number[]): number {
  let k = 1;
  for (const d of shape) k *= d;
  return k;
}

/** Throws if the adjoint backward is asked for a differentiable result (it is first order). */
export function assertFirstOrder(where: string, gradMode: boolean): void {
  if (gradMode) throw new Error(`${where}: the adjoint backward is first order (createGraph is not supported); use adjoint: false for higher derivatives`);
}
