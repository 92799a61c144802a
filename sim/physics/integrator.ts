// The semi-implicit Euler integrator (sim/physics, layer sim): one step, with substeps, is
// ONE fused custom op on the core's tape. Its forward runs the force kernels of the one
// kernel list (kernels/list.ts) in order, then the integration (particles, then bodies); its
// backward runs their hand-written adjoints in reverse order, so gradients reach the incoming state, the step's
// controls and every Model parameter. The adjoints are plain-array code: first order only
// (no createGraph through a step).
import { Tensor, anyNeedsGrad, customOp, zeros, ShapeError, fmtShape, type GradAccumulator } from '../core/index.ts';
import { modelDataCached, paramGradsWith, type ModelData, type ParamGrads } from './data.ts';
import { ModelError, SimulationError } from './errors.ts';
import { adjQuatToMat, rotationMatrices } from './math.ts';
import { Control, MODEL_PARAMS, STATE_FIELDS, State, Model } from './model.ts';
import { adj_integrate_particles, integrate_particles } from './kernels/particles.ts';
import { adj_integrate_bodies, integrate_bodies } from './kernels/bodies.ts';
import { bodyPairsCached } from './kernels/bodybody.ts';
import { BODY_FORCE_KERNELS, PARTICLE_FORCE_KERNELS, type BodyKernelInputs } from './kernels/list.ts';

type F64 = Float64Array;

/** Options of one simulation step. */
export interface SimulateOptions {
  /** Substeps of dt / substeps inside the fused step (default 1). */
  substeps?: number;
  /** Step index used in error messages (default 0). */
  step?: number;
  /** Scan the new state (forward) and the state gradient (backward) for NaN/Inf (default true). */
  checkFinite?: boolean;
  /**
   * Gradient-norm clipping: in the backward pass, the adjoint of this step's output state is
   * scaled down to this Euclidean norm (over all its entries) before it is propagated
   * through the step. Bounds exploding gradients over long horizons (off by default).
   */
  clipGradNorm?: number;
}

/** Raw arrays of a State. */
interface RawState {
  q: F64;
  qd: F64;
  pos: F64;
  rot: F64;
  vel: F64;
  w: F64;
}

/** What the backward pass needs from one substep. */
interface Substep {
  s: RawState;
  pf: F64;
  bf: F64;
  bt: F64;
  R: F64;
  /** Extra inputs of the body force kernels (the broad phase's pairs, fixed for the adjoint; the track forces). */
  x: BodyKernelInputs;
}

const QUANTITY = ['particle_q', 'particle_qd', 'body_pos', 'body_rot', 'body_vel', 'body_ang_vel'] as const;
const COMPONENT = ['x', 'y', 'z', 'w'];

function raw(ts: readonly Tensor[]): RawState {
  return { q: ts[0]!.data, qd: ts[1]!.data, pos: ts[2]!.data, rot: ts[3]!.data, vel: ts[4]!.data, w: ts[5]!.data };
}

function rawList(s: RawState): F64[] {
  return [s.q, s.qd, s.pos, s.rot, s.vel, s.w];
}

/** Entries of a raw state. */
function rawSize(M: ModelData): number {
  return 6 * M.np + 13 * M.nb;
}

function zerosRaw(M: ModelData): RawState {
  return rawIn(M, new Float64Array(rawSize(M)));
}

/**
 * A raw state as six views of `all` (from its start; `rawSize` entries): allocating (and
 * later freeing) typed arrays dominates the bookkeeping of a step, and views are as fast as
 * arrays of their own, so a step takes what it hands out from one allocation.
 */
function rawIn(M: ModelData, all: F64): RawState {
  const np3 = 3 * M.np;
  const nb3 = 3 * M.nb;
  let o = 0;
  const take = (n: number): F64 => all.subarray(o, (o += n));
  return { q: take(np3), qd: take(np3), pos: take(nb3), rot: take(4 * M.nb), vel: take(nb3), w: take(nb3) };
}

/** `x` copied into `buf` (zero when x is null: a fresh or zeroed force accumulator). */
function startForces(x: F64 | null, buf: F64): F64 {
  if (x) buf.set(x);
  return buf;
}

/**
 * Work arrays of one ModelData reused by every step that runs on it: the arrays a step
 * writes and reads back itself but never hands out (the adjoint's force accumulators, the
 * unrecorded forward's forces, the states between substeps). A step runs to its end before
 * the next one starts, so one set per ModelData suffices. What a step returns (its new
 * state, the gradients it gives the tape) and what the tape keeps for the backward pass are
 * always fresh arrays.
 */
interface StepScratch {
  /** Forces of the particles, then of the bodies, then torques (`forcesSize`). */
  forces: F64;
  adjPf: F64;
  adjBf: F64;
  adjBt: F64;
  adjR: F64;
  /** Adjoint of the track forces when the caller does not want it (written, never read). */
  trackSink: F64;
  /** Two states to alternate between substeps (forward without a tape; adjoints). */
  ping: RawState;
  pong: RawState;
  /** Storage of input-state adjoints the reverse pass has let go of, ready for reuse (see `handedOut`). */
  freeAdj: F64[];
}

/** Entries of a substep's force block: particle forces, body forces, body torques. */
function forcesSize(M: ModelData): number {
  return 3 * M.np + 6 * M.nb;
}

const scratchOf = new WeakMap<ModelData, StepScratch>();

function stepScratch(M: ModelData): StepScratch {
  let s = scratchOf.get(M);
  if (!s) {
    const np3 = 3 * M.np;
    const nb3 = 3 * M.nb;
    s = {
      forces: new Float64Array(forcesSize(M)),
      adjPf: new Float64Array(np3),
      adjBf: new Float64Array(nb3),
      adjBt: new Float64Array(nb3),
      adjR: new Float64Array(9 * M.nb),
      trackSink: new Float64Array(M.nt),
      ping: zerosRaw(M),
      pong: zerosRaw(M),
      freeAdj: [],
    };
    scratchOf.set(M, s);
  }
  return s;
}

/**
 * An input-state adjoint a step's backward handed to the reverse pass: the tensors (null
 * where that field needs no gradient) and the one allocation they view, recorded under each
 * tensor. When the step before consumes them in the same pass, and the pass has let go of
 * them (GradAccumulator.consumed), the storage goes back to that step's `freeAdj`: a rollout's
 * backward then cycles through two buffers instead of allocating one per step.
 */
interface HandedOut {
  all: F64;
  ts: readonly (Tensor | null)[];
  pass: GradAccumulator;
}

const handedOut = new WeakMap<Tensor, HandedOut>();

/** Takes back the storage of `gs` when they are an adjoint handed out in this pass and let go of (see HandedOut). */
function reclaimAdjoint(gs: readonly (Tensor | null)[], acc: GradAccumulator, W: StepScratch, size: number): void {
  const first = gs.find((g) => g !== null);
  const rec = first ? handedOut.get(first) : undefined;
  if (!rec || rec.pass !== acc || rec.all.length !== size) return;
  for (let i = 0; i < rec.ts.length; i++) if (rec.ts[i] !== null && (gs[i] !== rec.ts[i] || !acc.consumed(i))) return;
  for (const t of rec.ts) if (t) handedOut.delete(t);
  if (W.freeAdj.length < 2) W.freeAdj.push(rec.all);
}

/** Zeroes every array of a raw state (the views of one allocation when from zerosRaw). */
function zeroRaw(s: RawState): RawState {
  for (const a of rawList(s)) a.fill(0);
  return s;
}

// Forward: velocities first (a bad force shows in the velocity, then the position);
// backward: positions first (their adjoint flows into the velocities').
const CHECK_ORDER = { forward: [1, 0, 4, 5, 2, 3], backward: [0, 1, 2, 3, 4, 5] };

/** Throws a SimulationError at the first non-finite entry of the arrays (STATE_FIELDS order). */
function checkFiniteState(arrays: readonly F64[], step: number, phase: 'forward' | 'backward'): void {
  // fast scan: x * 0 is 0 for every finite x and NaN for NaN and +-Inf, so the sum is NaN
  // iff some entry is not finite; only then is the first one looked for and named
  // (four sums, so the additions do not wait on each other)
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (const d of arrays) {
    const n = d.length;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      z0 += d[i]! * 0;
      z1 += d[i + 1]! * 0;
      z2 += d[i + 2]! * 0;
      z3 += d[i + 3]! * 0;
    }
    for (; i < n; i++) z0 += d[i]! * 0;
  }
  if (z0 + z1 + z2 + z3 === 0) return;
  CHECK_ORDER[phase].forEach((f) => {
    const d = arrays[f]!;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (Number.isFinite(v)) continue;
      const width = f === 3 ? 4 : 3;
      const idx = Math.floor(i / width);
      const kind = f < 2 ? 'particle' : 'body';
      const what = phase === 'forward' ? `${QUANTITY[f]}` : `gradient of ${QUANTITY[f]}`;
      throw new SimulationError(
        `simulate: non-finite ${what} at step ${step} (${phase}): ${kind} ${idx}, component ${COMPONENT[i % width]} = ${v}`,
        step,
        QUANTITY[f]!,
        idx,
        phase,
      );
    }
  });
}

const NO_TRACKS = new Float64Array(0);

/**
 * Forward of one substep of length h: writes the new raw state into `out` and returns what
 * the adjoint needs. `forces` (`forcesSize` entries, zero) holds the substep's forces: fresh
 * when the record is kept for a backward pass, the pooled scratch otherwise.
 */
function substepForward(
  M: ModelData,
  s: RawState,
  pF: F64 | null,
  bF: F64 | null,
  bT: F64 | null,
  tF: F64 | null,
  h: number,
  out: RawState,
  forces: F64,
): Substep {
  const np3 = 3 * M.np;
  const nb3 = 3 * M.nb;
  const pf = startForces(pF, forces.subarray(0, np3));
  for (const k of PARTICLE_FORCE_KERNELS) k.forward(M, s.q, s.qd, pf);
  integrate_particles(M, s.q, s.qd, pf, h, out.q, out.qd);
  const R = rotationMatrices(s.rot, M.nb);
  const bf = startForces(bF, forces.subarray(np3, np3 + nb3));
  const bt = startForces(bT, forces.subarray(np3 + nb3, np3 + 2 * nb3));
  const x: BodyKernelInputs = { pairs: bodyPairsCached(M, s.pos), trackF: tF, adjTrackF: NO_TRACKS };
  for (const k of BODY_FORCE_KERNELS) k.forward(M, s.pos, R, s.vel, s.w, x, bf, bt);
  integrate_bodies(M, s.pos, s.rot, R, s.vel, s.w, bf, bt, h, out.pos, out.rot, out.vel, out.w);
  return { s, pf, bf, bt, R, x };
}

/** Adjoint accumulators of the step's controls (null: not wanted, nothing accumulated). */
interface ControlGrads {
  particleF: F64 | null;
  bodyF: F64 | null;
  bodyT: F64 | null;
  trackF: F64;
}

/** Adjoint of one substep: from the adjoint of its output state to that of its input state. */
function substepBackward(M: ModelData, rec: Substep, h: number, adjOut: RawState, adjIn: RawState, G: ParamGrads, C: ControlGrads): RawState {
  const { s, pf, bf, bt, R } = rec;
  const W = stepScratch(M);
  if (M.nb > 0) {
    const adjBf = W.adjBf.fill(0);
    const adjBt = W.adjBt.fill(0);
    const adjR = W.adjR.fill(0);
    adj_integrate_bodies(
      M,
      s.rot,
      R,
      s.w,
      bf,
      bt,
      h,
      adjOut.pos,
      adjOut.rot,
      adjOut.vel,
      adjOut.w,
      adjIn.pos,
      adjIn.rot,
      adjR,
      adjIn.vel,
      adjIn.w,
      adjBf,
      adjBt,
      G,
    );
    const x: BodyKernelInputs = { pairs: rec.x.pairs, trackF: rec.x.trackF, adjTrackF: C.trackF };
    for (let i = BODY_FORCE_KERNELS.length - 1; i >= 0; i--)
      BODY_FORCE_KERNELS[i]!.adjoint(M, s.pos, R, s.vel, s.w, x, adjBf, adjBt, adjIn.pos, adjR, adjIn.vel, adjIn.w, G);
    for (let b = 0; b < M.nb; b++) adjQuatToMat(s.rot, b, adjR, adjIn.rot);
    if (C.bodyF) addInto(C.bodyF, adjBf);
    if (C.bodyT) addInto(C.bodyT, adjBt);
  }
  if (M.np > 0) {
    const adjPf = W.adjPf.fill(0);
    adj_integrate_particles(M, pf, h, adjOut.q, adjOut.qd, adjIn.q, adjIn.qd, adjPf, G);
    for (let i = PARTICLE_FORCE_KERNELS.length - 1; i >= 0; i--) PARTICLE_FORCE_KERNELS[i]!.adjoint(M, s.q, s.qd, adjPf, adjIn.q, adjIn.qd, G);
    if (C.particleF) addInto(C.particleF, adjPf);
  }
  return adjIn;
}

function addInto(a: F64, b: F64): void {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
}

const zeroCtlCache = new WeakMap<Model, Tensor[]>();

/** Shared constant zero controls of a model (never written: kernels copy them). */
function zeroControls(model: Model): Tensor[] {
  let z = zeroCtlCache.get(model);
  if (!z) {
    z = [zeros([model.particleCount, 3]), zeros([model.bodyCount, 3]), zeros([model.bodyCount, 3]), zeros([model.trackCount])];
    zeroCtlCache.set(model, z);
  }
  return z;
}

function checkShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`simulate: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}

/**
 * Advances `stateIn` by dt with semi-implicit Euler (in `substeps` substeps) and returns the
 * new State, also stored into `stateOut`'s fields when given (fresh tensors: nothing
 * recorded is overwritten). Recorded on the tape as one op `physics.simulate`: gradients
 * reach stateIn, control and every Model tensor that requires grad. First order only.
 *
 * @example
 * const model = new ModelBuilder().addParticle([0, 0, 1], [1, 0, 0], 1, 0.1).finalize();
 * const s0 = model.state().requireGrad();
 * const s1 = simulate(model, s0, null, 1 / 60, null, { substeps: 4 });
 * backward(sum(s1.particleQ)); // s0.particleQd.grad holds d sum(q1) / d qd0
 */
export function simulate(model: Model, stateIn: State, stateOut: State | null, dt: number, control?: Control | null, opts: SimulateOptions = {}): State {
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`simulate: dt = ${dt} must be a finite number > 0`, 'dt');
  const S = opts.substeps ?? 1;
  if (!Number.isInteger(S) || S < 1) throw new ModelError(`simulate: substeps = ${S} must be an integer >= 1`, 'substeps');
  const step = opts.step ?? 0;
  const checkFinite = opts.checkFinite ?? true;
  const clip = opts.clipGradNorm;
  if (clip !== undefined && !(clip > 0)) throw new ModelError(`simulate: clipGradNorm = ${clip} must be > 0`, 'clipGradNorm');
  const np = model.particleCount;
  const nb = model.bodyCount;
  const stateShapes = [
    [np, 3],
    [np, 3],
    [nb, 3],
    [nb, 4],
    [nb, 3],
    [nb, 3],
  ];
  const sIn = stateIn.tensors();
  sIn.forEach((t, i) => checkShape(t, stateShapes[i]!, `state.${STATE_FIELDS[i]}`));
  const ctl = control ?? new Control();
  const cShapes = [[np, 3], [nb, 3], [nb, 3], [model.trackCount]];
  const cNames = ['particleF', 'bodyF', 'bodyT', 'trackF'];
  const cIn = ctl.tensors();
  const present = cIn.map((t) => t !== null);
  const zeroCtl = zeroControls(model);
  const cTensors = cIn.map((t, i) => {
    if (t) checkShape(t, cShapes[i]!, `control.${cNames[i]}`);
    return t ?? zeroCtl[i]!;
  });
  const params = model.tensors();
  // only the parameters that require grad join the tape node: the others are constants of
  // the step (read through `params`), so a step's node does not grow with the parameter table
  const gradIdx: number[] = [];
  for (let i = 0; i < params.length; i++) if (params[i]!.requiresGrad) gradIdx.push(i);
  const inputs = [...sIn, ...cTensors];
  for (const i of gradIdx) inputs.push(params[i]!);
  const h = dt / S;
  // whether the tape records this step (else no record is kept and the forces, and the
  // states between substeps, live in pooled scratch)
  const tape = anyNeedsGrad(inputs);
  let subs: Substep[] = [];
  let M: ModelData | null = null;
  const outs = customOp(
    'physics.simulate',
    inputs,
    (xs) => {
      const md = modelDataCached(model, params);
      M = md;
      const pF = present[0] ? xs[6]!.data : null;
      const bF = present[1] ? xs[7]!.data : null;
      const bT = present[2] ? xs[8]!.data : null;
      const tF = present[3] ? xs[9]!.data : null;
      let s = raw(xs.slice(0, 6));
      subs = [];
      const W = tape ? null : stepScratch(md);
      for (let k = 0; k < S; k++) {
        // with a tape, each substep's new state and forces are one fresh allocation (the
        // record keeps the forces as long as the tape keeps the state); without, the forces
        // are pooled and so are the states between substeps (alternating between two)
        let out: RawState;
        let forces: F64;
        if (W) {
          forces = W.forces.fill(0);
          out = k === S - 1 ? zerosRaw(md) : zeroRaw(k % 2 === 0 ? W.ping : W.pong);
        } else {
          const all = new Float64Array(rawSize(md) + forcesSize(md));
          out = rawIn(md, all);
          forces = all.subarray(rawSize(md));
        }
        const rec = substepForward(md, s, pF, bF, bT, tF, h, out, forces);
        if (tape) subs.push(rec);
        s = out;
      }
      if (checkFinite) checkFiniteState(rawList(s), step, 'forward');
      return rawList(s).map((d, i) => new Tensor(d, stateShapes[i]!));
    },
    (gs, _xs, _outs, acc) => {
      const md = M!;
      // the substeps' adjoints only read the adjoint of their output state: without clipping,
      // the incoming gradients serve as it directly (no copy); clipping scales a copy
      let adj: RawState;
      if (clip === undefined && gs.every((g) => g)) adj = raw(gs as Tensor[]);
      else {
        adj = zerosRaw(md);
        const list = rawList(adj);
        gs.forEach((g, i) => {
          if (g) list[i]!.set(g.data);
        });
      }
      const adjList = rawList(adj);
      if (clip !== undefined) {
        let n2 = 0;
        for (const a of adjList) for (let i = 0; i < a.length; i++) n2 += a[i]! * a[i]!;
        const n = Math.sqrt(n2);
        if (n > clip) for (const a of adjList) for (let i = 0; i < a.length; i++) a[i] = (a[i]! * clip) / n;
      }
      // the parameters' gradients are added in place into the reverse pass's accumulators
      // where it offers them (one per parameter for the whole rollout, not one per step);
      // what else the step hands the tape (its input state's adjoint, the parameters' gradients
      // where no accumulator is offered, the wanted controls' gradients) comes from one
      // allocation; the adjoints between substeps alternate between two pooled states (a
      // substep never writes the adjoint it reads)
      const wantCtl = present.map((p, i) => p && cIn[i]!.requiresGrad);
      const ctlSizes = [3 * np, 3 * nb, 3 * nb, model.trackCount].map((n, i) => (wantCtl[i] ? n : 0));
      const rs = rawSize(md);
      const pIn = inputs.length - gradIdx.length;
      const accs = gradIdx.map((_, j) => acc?.into(pIn + j) ?? null);
      let gs0 = 0;
      gradIdx.forEach((i, j) => (gs0 += accs[j] ? 0 : params[i]!.size));
      const size = rs + gs0 + ctlSizes.reduce((a, b) => a + b, 0);
      const W = stepScratch(md);
      // only a block that is the input state's adjoint alone is reused (see HandedOut)
      const all = size === rs && W.freeAdj.length > 0 ? W.freeAdj.pop()!.fill(0) : new Float64Array(size);
      let o = rs;
      const G = paramGradsWith(
        model,
        gradIdx,
        gradIdx.map((i, j) => accs[j] ?? all.subarray(o, (o += params[i]!.size))),
      );
      const ctl = ctlSizes.map((n, i) => (wantCtl[i] ? all.subarray(o, (o += n)) : null));
      const C: ControlGrads = { particleF: ctl[0] ?? null, bodyF: ctl[1] ?? null, bodyT: ctl[2] ?? null, trackF: ctl[3] ?? W.trackSink.fill(0) };
      for (let k = S - 1; k >= 0; k--) adj = substepBackward(md, subs[k]!, h, adj, k === 0 ? rawIn(md, all) : zeroRaw(k % 2 === 0 ? W.ping : W.pong), G, C);
      if (checkFinite) checkFiniteState(rawList(adj), step, 'backward');
      const stateGrads = rawList(adj).map((d, i) => (sIn[i]!.requiresGrad ? new Tensor(d, stateShapes[i]!) : null));
      if (acc) {
        reclaimAdjoint(gs, acc, W, rs);
        if (size === rs) {
          const rec: HandedOut = { all, ts: stateGrads, pass: acc };
          for (const t of stateGrads) if (t) handedOut.set(t, rec);
        }
      }
      const ctlGrads = [C.particleF, C.bodyF, C.bodyT, C.trackF].map((d, i) => (wantCtl[i] ? new Tensor(d!, cShapes[i]!) : null));
      const paramGrads = gradIdx.map((i, j) => (accs[j] ? null : new Tensor(G[MODEL_PARAMS[i]!], params[i]!.shape)));
      return [...stateGrads, ...ctlGrads, ...paramGrads];
    },
  );
  const next = State.fromTensors(outs);
  if (stateOut) {
    STATE_FIELDS.forEach((k, i) => (stateOut[k] = outs[i]!));
    return stateOut;
  }
  return next;
}

/**
 * Warp-style integrator object: holds the options, `simulate` does the step.
 * @example
 * const integrator = new SemiImplicitIntegrator({ substeps: 8 });
 * const s1 = integrator.simulate(model, s0, null, 1 / 60, control);
 */
export class SemiImplicitIntegrator {
  constructor(readonly options: SimulateOptions = {}) {}

  /** One step of dt; see the free function `simulate`. */
  simulate(model: Model, stateIn: State, stateOut: State | null, dt: number, control?: Control | null, step?: number): State {
    return simulate(model, stateIn, stateOut, dt, control, { ...this.options, step: step ?? this.options.step });
  }
}
