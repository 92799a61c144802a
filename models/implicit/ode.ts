// The ODE layer (models/implicit): `odeint` solves dy/dt = f(t, y, params) at requested times
// and joins the tape, backward by the continuous adjoint (checkpointed) or by backprop through
// the solver's ops. Solvers: ode-solvers.ts; adjoint: ode-adjoint.ts; sensitivities: ode-sensitivity.ts;
// step groups of a batch (each its own steps) and their split over threads: ode-groups.ts.
import { ShapeError, Tensor, anyNeedsGrad, fmtShape, isGradEnabled, noGrad, recordN, reshape, slice, stack } from '../../sim/core/index.ts';
import { odeGroupThreadCount, odeintGroups } from './ode-groups.ts';
import { checkThreads } from './worker-pool.ts';
import { type AdjointStats, ForwardTrajectory, adjointBackward, assertFirstOrder, emptyAdjointStats } from './ode-adjoint.ts';
import { type Dyn, type NfeCounter, type OdeFunc, type OdeMethod, type OdeOptions, type Sc, prepare, solve, userDyn } from './ode-solvers.ts';
import { MlpKernel, batchOf, checkMlpParams, mlpDyn, mlpSpecOf } from './mlp-field.ts';

export { OdeError, type OdeErrorKind, type OdeFunc, type OdeMethod, type OdeOptions } from './ode-solvers.ts';
export type { AdjointStats } from './ode-adjoint.ts';
export { odeintSensitivities, type OdeSensitivityOptions, type OdeSensitivitySolution } from './ode-sensitivity.ts';

/** Counts of an `odeint` call. The backward figures are filled in when the backward pass runs. */
export interface OdeStats {
  method: OdeMethod;
  /** 'adjoint' (continuous adjoint backward) or 'backprop' (reverse pass through the solver's recorded ops). */
  mode: 'adjoint' | 'backprop';
  /** Evaluations of f in the forward solve (including the initial-step heuristic's one). */
  nfeForward: number;
  acceptedSteps: number;
  rejectedSteps: number;
  /**
   * Evaluations of f in the backward pass: adjoint = VJP evaluations + re-integration from the
   * checkpoints + time-gradient evaluations; backprop = 0 (the reverse pass replays the tape).
   */
  nfeBackward: number;
  /** Details of the adjoint backward (null in backprop mode or when nothing needs a gradient). */
  backward: AdjointStats | null;
  /** With `stepGroup`: each group's own counts, in group order (the fields above are their sums). */
  groups?: OdeStats[];
}

/** Result of `odeint`: the solution at the output times, [T, ...y0.shape], and the counts. */
export interface OdeSolution {
  y: Tensor;
  stats: OdeStats;
}

/**
 * Solves dy/dt = f(t, y, params), y(ts[0]) = y0, and returns y at every time of `ts`
 * (shape [T, ...y0.shape]; ts strictly increasing or decreasing) as a tensor on the tape.
 *
 * dopri5 (default) takes adaptive steps under rtol/atol and reads the output times off its
 * dense output (no steps forced onto them); rk4 and euler take fixed steps that land on them.
 * Backward (`adjoint: true`, default): the continuous adjoint, with the forward solution kept
 * as checkpoints every `checkpoints` steps and re-integrated per segment (so z is never
 * integrated backward through unstable directions, and memory is O(checkpoints + segment));
 * gradients for y0, params and the times `ts` (when a Tensor requiring grad). Its gradient is
 * that of the exact flow up to the solver tolerances, not the derivative of the discrete solve,
 * and it is first order. `adjoint: false` records the solver's operations (step-size control
 * included) and back-propagates through them: the exact derivative of the discrete solve.
 *
 * Batches: dopri5's step is shared by the whole batch (its error norm takes every item);
 * `stepGroup: G` cuts y0 [B, ...] into groups of G items, each with its own steps and adjoint,
 * split over `threads` worker threads with the results of one thread bit for bit (ode-groups.ts).
 *
 * Errors: OdeError (NaN from f, step-size underflow, maxSteps) naming t and the step;
 * ShapeError when f returns another shape than y0.
 *
 * @example
 * const k = tensor([0.5]).requireGrad();
 * const { y } = odeint((_t, y, [k]) => neg(mul(k!, y)), tensor([1]), [0, 1, 2], [k], { rtol: 1e-9, atol: 1e-9 });
 * backward(sum(y)); // y = e^{-k t}: k.grad = -(e^{-k} + 2 e^{-2k}) = -1.3423
 */
export function odeint(f: OdeFunc, y0: Tensor, ts: Tensor | readonly number[], params: readonly Tensor[] = [], opts: OdeOptions = {}): OdeSolution {
  const where = 'odeint';
  const P = prepare(where, f, y0, ts, params, opts);
  const { tab, tsT } = P;
  if (opts.threads !== undefined) checkThreads(opts.threads, where);
  if (opts.stepGroup !== undefined) {
    const g = opts.stepGroup;
    if (!(Number.isInteger(g) && g >= 1)) throw new RangeError(`${where}: options.stepGroup = ${g} must be a positive integer`);
    if (y0.ndim < 2) throw new ShapeError(`${where}: options.stepGroup needs y0 with a leading batch axis [B, ...], got shape ${fmtShape(y0.shape)}`);
    const B = y0.shape[0]!;
    if (g < B) return odeintGroups(f, y0, tsT, params, opts, g, odeGroupThreadCount(opts.threads, f, Math.ceil(B / g), opts));
  }
  const adjoint = opts.adjoint ?? true;
  const inputs = [y0, ...params, tsT];
  const onTape = isGradEnabled() && anyNeedsGrad(inputs);
  const counter = { nfe: 0 };
  // a known MLP field (mlpField) is evaluated numerically off the tape wherever the tape is not needed
  const mlp = knownMlp(f, y0, params, where);
  const numeric = (c: NfeCounter, w: string): Dyn => (mlp ? mlpDyn(mlp, y0.shape, c, w) : userDyn(f, params, y0.shape, c, w));
  const dyn = adjoint || !onTape ? numeric(counter, where) : userDyn(f, params, y0.shape, counter, where);
  const stats: OdeStats = {
    method: tab.name,
    mode: adjoint ? 'adjoint' : 'backprop',
    nfeForward: 0,
    acceptedSteps: 0,
    rejectedSteps: 0,
    nfeBackward: 0,
    backward: null,
  };
  const base = { tab, fun: dyn, y0, rtol: P.rtol, atol: P.atol, maxSteps: P.maxSteps, where };

  if (!adjoint) {
    const tsSc: Sc[] = onTape && tsT.requiresGrad ? P.ts.map((_, i) => reshape(slice(tsT, [i], [1]), [])) : P.ts;
    const res = solve({ ...base, t0: tsSc[0]!, times: tsSc.slice(1), step: P.step });
    Object.assign(stats, { nfeForward: counter.nfe, acceptedSteps: res.accepted, rejectedSteps: res.rejected });
    return { y: stack([y0, ...res.ys], 0), stats };
  }

  const every = opts.checkpoints ?? 16;
  const bstats = onTape ? emptyAdjointStats(every) : null;
  const recCounter = { nfe: 0 };
  const traj = bstats ? new ForwardTrajectory(tab, numeric(recCounter, `${where} adjoint backward (re-integrating the forward)`), every, bstats) : null;
  const res = noGrad(() => solve({ ...base, t0: P.ts[0]!, times: P.ts.slice(1), step: P.step, onStep: traj ? (r) => traj.record(r) : undefined }));
  Object.assign(stats, { nfeForward: counter.nfe, acceptedSteps: res.accepted, rejectedSteps: res.rejected, backward: bstats });
  const n = y0.size;
  const T = P.ts.length;
  const Y = new Float64Array(T * n);
  Y.set(y0.data, 0);
  res.ys.forEach((yi, i) => Y.set(yi.data, (i + 1) * n));
  const out = new Tensor(Y, [T, ...y0.shape]);
  if (!onTape || !bstats) return { y: out, stats };
  recordN('odeint.adjoint', inputs, [out], ([g]) => {
    assertFirstOrder(where, isGradEnabled());
    if (!g) return inputs.map(() => null);
    const r = adjointBackward(
      {
        f,
        mlp,
        params,
        shape: y0.shape,
        tab,
        ts: P.ts,
        Y,
        traj,
        rtol: opts.adjointRtol ?? P.rtol,
        atol: opts.adjointAtol ?? P.atol,
        maxSteps: P.maxSteps,
        step: P.step,
        norm: opts.adjointNorm ?? 'mixed',
        wantParams: params.map((p) => p.requiresGrad),
        wantTimes: tsT.requiresGrad,
        stats: bstats,
        where: `${where} adjoint backward`,
      },
      g,
    );
    traj!.releaseSegments();
    bstats.nfeRecompute = recCounter.nfe;
    stats.nfeBackward = bstats.nfeAdjoint + bstats.nfeRecompute + bstats.nfeTimes;
    return [y0.requiresGrad ? r.gy0 : null, ...r.gParams, r.gTs];
  });
  return { y: out, stats };
}

/** A numeric kernel for f when f is a known MLP field that fits y0 and params (checked), else null. */
function knownMlp(f: OdeFunc, y0: Tensor, params: readonly Tensor[], where: string): MlpKernel | null {
  const spec = mlpSpecOf(f);
  if (!spec || batchOf(spec, y0.shape) < 1) return null;
  checkMlpParams(spec, params, where);
  return new MlpKernel(
    spec,
    batchOf(spec, y0.shape),
    params.map((p) => p.data),
  );
}
