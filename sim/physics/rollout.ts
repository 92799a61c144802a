// Rollouts (sim/physics, layer sim): T steps of the fused integrator, optionally
// checkpointed (keep every K-th state, recompute the K steps inside a chunk during the
// backward pass with the core's `checkpoint`), with NaN/Inf reporting and per-step
// gradient-norm clipping. Also trajectory export for the CLI.
import { Tensor, checkpoint, expectShape } from '../core/index.ts';
import { ModelError } from './errors.ts';
import { simulate, type SimulateOptions } from './integrator.ts';
import { Control, State, type Model } from './model.ts';
import { autoSubsteps } from './stability.ts';
import { firstViolation } from './params.ts';

/** Controls of a rollout: one for all steps, one per step, or a function of the step index. */
export type ControlSchedule = Control | null | readonly (Control | null)[] | ((t: number) => Control | null);

/** Options of `rollout`. */
export interface RolloutOptions extends Omit<SimulateOptions, 'step' | 'substeps'> {
  /** Substeps per step (default 1); 'auto': chosen from the stability bound (`autoSubsteps`, stability.ts). */
  substeps?: number | 'auto';
  /** Number of steps T. */
  steps: number;
  /** Step length (s). */
  dt: number;
  /** Controls (default none). A function is called once per step, in the forward pass. */
  control?: ControlSchedule;
  /**
   * Called after every step with its index (1..T) and new state; with checkpointing it is
   * called again for the steps recomputed in the backward pass (a monitoring hook).
   */
  onStep?: (t: number, state: State) => void;
  /**
   * Keep only every K-th state on the tape and recompute the steps in between during the
   * backward pass (memory O(T/K + K) states instead of O(T)). Default: keep all.
   */
  checkpointEvery?: number;
}

/** Result of `rollout`. */
export interface Rollout {
  /** Kept states: all T + 1 without checkpointing, else states 0, K, 2K, ..., T. */
  states: State[];
  /** Step index of each kept state. */
  steps: number[];
  /** The state after T steps. */
  final: State;
}

function controlAt(c: ControlSchedule | undefined, t: number): Control | null {
  if (!c) return null;
  if (c instanceof Control) return c;
  if (typeof c === 'function') return c(t);
  return (c as readonly (Control | null)[])[t] ?? null;
}

/** The state's and the controls' shapes against the model (names the field, expected and actual shapes). */
function checkInputShapes(model: Model, s: State, control: ControlSchedule | undefined): void {
  const np = model.particleCount;
  const nb = model.bodyCount;
  const hint = `the model has ${np} particle${np === 1 ? '' : 's'} and ${nb} bod${nb === 1 ? 'y' : 'ies'}`;
  const names = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'];
  const shapes = [
    [np, 3],
    [np, 3],
    [nb, 3],
    [nb, 4],
    [nb, 3],
    [nb, 3],
  ];
  s.tensors().forEach((t, f) => expectShape('rollout', `state0.${names[f]}`, t, shapes[f]!, hint));
  const cNames = ['particleF', 'bodyF', 'bodyT', 'trackF'];
  const cShapes = [[np, 3], [nb, 3], [nb, 3], [model.trackCount]];
  const checkControl = (c: Control | null, label: string): void =>
    c?.tensors().forEach((t, f) => t && expectShape('rollout', `${label}.${cNames[f]}`, t, cShapes[f]!, `${hint}, ${model.trackCount} tracks`));
  if (control instanceof Control) checkControl(control, 'control');
  else if (Array.isArray(control)) (control as readonly (Control | null)[]).forEach((c, t) => checkControl(c, `control[${t}]`));
}

function checkInitialState(s: State): void {
  const names = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'];
  s.tensors().forEach((t, f) => {
    const d = t.data;
    const i = firstViolation(d, 'finite');
    if (i >= 0) throw new ModelError(`rollout: initial state ${names[f]}[${i}] is ${d[i]}`, `state.${names[f]}[${i}]`);
  });
}

/**
 * Simulates T steps from state0 and returns the kept states. With `checkpointEvery: K`
 * each chunk of K steps is one `checkpoint` node: its inner states are dropped after the
 * forward pass and recomputed (deterministically) in the backward pass.
 *
 * @example
 * const model = new ModelBuilder().addParticle([0, 0, 1], [1, 0, 2], 1, 0.05).finalize();
 * const s0 = model.state().requireGrad();
 * const { final } = rollout(model, s0, { steps: 1000, dt: 1e-3, checkpointEvery: 50 });
 * backward(sum(final.particleQ)); // s0.particleQd.grad
 */
export function rollout(model: Model, state0: State, opts: RolloutOptions): Rollout {
  const T = opts.steps;
  if (!Number.isInteger(T) || T < 0) throw new ModelError(`rollout: steps = ${T} must be an integer >= 0`, 'steps');
  if (!(opts.dt > 0) || !Number.isFinite(opts.dt)) throw new ModelError(`rollout: dt = ${opts.dt} must be a finite number > 0`, 'dt');
  const K = opts.checkpointEvery;
  if (K !== undefined && (!Number.isInteger(K) || K < 1)) throw new ModelError(`rollout: checkpointEvery = ${K} must be an integer >= 1`, 'checkpointEvery');
  model.validate();
  checkInputShapes(model, state0, opts.control);
  checkInitialState(state0);
  const substeps = opts.substeps === 'auto' ? autoSubsteps(model, opts.dt) : opts.substeps;
  const simOpts = (t: number): SimulateOptions => ({ substeps, checkFinite: opts.checkFinite, clipGradNorm: opts.clipGradNorm, step: t });
  const states: State[] = [state0];
  const steps: number[] = [0];
  let s = state0;
  if (K === undefined) {
    for (let t = 0; t < T; t++) {
      s = simulate(model, s, null, opts.dt, controlAt(opts.control, t), simOpts(t));
      opts.onStep?.(t + 1, s);
      states.push(s);
      steps.push(t + 1);
    }
    return { states, steps, final: s };
  }
  const params = model.tensors();
  for (let t0 = 0; t0 < T; t0 += K) {
    const n = Math.min(K, T - t0);
    const ctls: (Control | null)[] = [];
    for (let t = t0; t < t0 + n; t++) ctls.push(controlAt(opts.control, t));
    // flatten the chunk's inputs: state (6), present control tensors, model params
    const ctlTensors: Tensor[] = [];
    const ctlLayout: boolean[][] = ctls.map((c) => (c ? c.tensors() : [null, null, null, null]).map((x) => x !== null));
    ctls.forEach((c) => c?.tensors().forEach((x) => x && ctlTensors.push(x)));
    const inputs = [...s.tensors(), ...ctlTensors, ...params];
    const chunk = (...xs: Tensor[]): Tensor[] => {
      let st = State.fromTensors(xs.slice(0, 6));
      const m = model.withTensors(xs.slice(6 + ctlTensors.length));
      let k = 6;
      for (let i = 0; i < n; i++) {
        const lay = ctlLayout[i]!;
        const parts = lay.map((on) => (on ? xs[k++]! : null));
        const c = ctls[i] ? new Control({ particleF: parts[0], bodyF: parts[1], bodyT: parts[2], trackF: parts[3] }) : null;
        st = simulate(m, st, null, opts.dt, c, simOpts(t0 + i));
        opts.onStep?.(t0 + i + 1, st);
      }
      return st.tensors();
    };
    s = State.fromTensors(checkpoint(chunk, ...inputs));
    states.push(s);
    steps.push(t0 + n);
  }
  return { states, steps, final: s };
}

/** JSON trajectory: per kept step, particle positions and body poses (plain numbers). */
export interface Trajectory {
  dt: number;
  steps: number[];
  times: number[];
  particles: number[][][];
  bodies: { pos: number[][]; rot: number[][] }[];
}

function rows(t: Tensor, w: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < t.size / w; i++) out.push(Array.from(t.data.subarray(w * i, w * i + w)));
  return out;
}

/** Converts kept states into a JSON-ready trajectory. */
export function trajectoryOf(r: Rollout, dt: number): Trajectory {
  return {
    dt,
    steps: r.steps,
    times: r.steps.map((k) => k * dt),
    particles: r.states.map((s) => rows(s.particleQ, 3)),
    bodies: r.states.map((s) => ({ pos: rows(s.bodyPos, 3), rot: rows(s.bodyRot, 4) })),
  };
}
