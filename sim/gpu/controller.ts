// The track-speed controller of tracked bodies on the float64 tape (sim/gpu, layer sim): the
// CPU counterpart of the GPU controller kernels (wgsl.ts controllerShaders), same equations.
// Each track's drive force is F = fMax tanh(kp (target - measured) / fMax), with measured the
// forward speed of the track's centre (the mean of its contact points), d . (v + w x R c),
// d = R e the track's world direction, from the state at the step's start.
import { Tensor, add, cross, div, dot, gather, mul, quatRotate, sub, tanh, tensor, type TensorLike } from '../core/index.ts';
import { Control, rollout, type Model, type State } from '../physics/index.ts';

/** Body, body-frame centre (mean of its contact points) and direction of each track of `model`. */
export function modelTrackGeometry(model: Model): { body: number[]; centre: number[][]; dir: number[][] } {
  const nt = model.trackCount;
  const cp = model.params.contactPoint.data;
  const body = new Array<number>(nt).fill(-1);
  const sum = Array.from({ length: nt }, () => [0, 0, 0, 0]);
  for (let k = 0; k < model.contactCount; k++) {
    const tr = model.contactTrack[k]!;
    if (tr < 0) continue;
    body[tr] = model.contactBody[k]!;
    for (let c = 0; c < 3; c++) sum[tr]![c]! += cp[3 * k + c]!;
    sum[tr]![3]!++;
  }
  return {
    body,
    centre: sum.map((s) => (s[3]! > 0 ? [s[0]! / s[3]!, s[1]! / s[3]!, s[2]! / s[3]!] : [0, 0, 0])),
    dir: Array.from({ length: nt }, (_, t) => [model.trackDir[3 * t]!, model.trackDir[3 * t + 1]!, model.trackDir[3 * t + 2]!]),
  };
}

/** The controller of `model`'s tracks as a function of (state, targets [nt], kp, fMax), its geometry computed once. */
export type TrackControlFn = (s: State, targets: TensorLike, kp: TensorLike, fMax: TensorLike) => Tensor;

/** Builds {@link TrackControlFn} for `model` (geometry read once: for use every step). */
export function trackController(model: Model): TrackControlFn {
  const g = modelTrackGeometry(model);
  const dir = tensor(g.dir);
  const centre = tensor(g.centre);
  return (s, targets, kp, fMax) => {
    const rot = gather(s.bodyRot, g.body);
    const d = quatRotate(rot, dir);
    const c = quatRotate(rot, centre);
    const meas = dot(d, add(gather(s.bodyVel, g.body), cross(gather(s.bodyAngVel, g.body), c)));
    return mul(fMax, tanh(div(mul(kp, sub(targets, meas)), fMax)));
  };
}

/**
 * Drive forces [nt] of `model`'s tracks from the state `s` and the target track speeds
 * `targets` [nt], on the tape (gradients reach the state, the targets and tensor gains).
 */
export function trackControlForces(model: Model, s: State, targets: TensorLike, kp: TensorLike, fMax: TensorLike): Tensor {
  return trackController(model)(s, targets, kp, fMax);
}

/** Options of {@link closedLoopRollout}. */
export interface ClosedLoopOptions {
  steps: number;
  dt: number;
  substeps?: number;
  /** Target track speeds per step, each [nt]. */
  targets: readonly TensorLike[];
  kp: TensorLike;
  fMax: TensorLike;
  /** Steps (1..steps) whose states are returned (default: the last). */
  record?: readonly number[];
}

/**
 * Rolls `model` out from `s0` on the float64 CPU engine with the track-speed controller closing
 * the loop each step (the reference of the GPU rollout with `controller`); returns the recorded states.
 */
export function closedLoopRollout(model: Model, s0: State, o: ClosedLoopOptions): State[] {
  const record = o.record ?? [o.steps];
  const ctl = trackController(model);
  let last = s0;
  const out: State[] = [];
  rollout(model, s0, {
    steps: o.steps,
    dt: o.dt,
    substeps: o.substeps ?? 1,
    control: (t) => new Control({ trackF: ctl(last, o.targets[Math.min(t, o.targets.length - 1)]!, o.kp, o.fMax) }),
    onStep: (t, s) => {
      last = s;
      if (record.includes(t)) out.push(s);
    },
  });
  return out;
}
