// Kinematic vehicle models of the ego-motion task (ego/), written with the float64 core's
// differentiable ops (sim/core): a unicycle (controls: acceleration, yaw rate) and a kinematic
// bicycle (controls: acceleration, steering angle; yaw rate = v tan(delta) / L). State
// s = (x, y, psi, v). One step over dt uses the midpoint heading and speed, so that with zero
// acceleration the unicycle reproduces the CTRV baseline's integration exactly. Controls are
// bounded by the vehicle's limits smoothly (limit * tanh(raw)) for learned control sequences,
// and by box constraints (normalised controls in [-1, 1]) in the MPC dynamics.
import { Tensor, add, concat, cos, div, gather, mul, reshape, sin, slice, tanh } from '../sim/core/index.ts';
import type { Dynamics } from '../mpc/index.ts';

/** The kinematic model family. */
export type VehicleKind = 'unicycle' | 'bicycle';

/** Vehicle limits (physical units). */
export interface VehicleLimits {
  /** |acceleration| bound (m/s^2). */
  accel: number;
  /** |yaw rate| bound of the unicycle (rad/s). */
  yawRate: number;
  /** |steering angle| bound of the bicycle (rad). */
  steer: number;
  /** Bicycle wheelbase (m). */
  wheelbase: number;
}

/** State dimension (x, y, psi, v) and control dimension of both models. */
export const VEHICLE_NX = 4;
export const VEHICLE_NU = 2;

/** Bound of the second control: yaw rate (unicycle) or steering angle (bicycle). */
export function turnBound(kind: VehicleKind, lim: VehicleLimits): number {
  return kind === 'unicycle' ? lim.yawRate : lim.steer;
}

/**
 * One step of the model: s [N, 4], physical controls u [N, 2], dt [N, 1] -> s' [N, 4].
 * psi' = psi + w dt, v' = v + a dt, p' = p + (v + a dt / 2) dt (cos, sin)(psi + w dt / 2), with
 * w = u_1 (unicycle) or w = (v + a dt / 2) tan(u_1) / L (bicycle, speed at mid-step).
 */
export function vehicleStep(kind: VehicleKind, lim: VehicleLimits, s: Tensor, u: Tensor, dt: Tensor): Tensor {
  const N = s.shape[0]!;
  const x = slice(s, [0, 0], [N, 1]);
  const y = slice(s, [0, 1], [N, 1]);
  const psi = slice(s, [0, 2], [N, 1]);
  const v = slice(s, [0, 3], [N, 1]);
  const a = slice(u, [0, 0], [N, 1]);
  const turn = slice(u, [0, 1], [N, 1]);
  const vMid = add(v, mul(0.5, mul(a, dt)));
  const w = kind === 'unicycle' ? turn : div(mul(vMid, div(sin(turn), cos(turn))), lim.wheelbase);
  const psiMid = add(psi, mul(0.5, mul(w, dt)));
  const ds = mul(vMid, dt);
  return concat([add(x, mul(ds, cos(psiMid))), add(y, mul(ds, sin(psiMid))), add(psi, mul(w, dt)), add(v, mul(a, dt))], 1);
}

/** Raw (unbounded) controls [B, T, 2] to physical controls: (accel, turn) = limits * tanh(raw). */
export function boundControls(kind: VehicleKind, lim: VehicleLimits, raw: Tensor): Tensor {
  const scale = new Tensor(Float64Array.from([lim.accel, turnBound(kind, lim)]), [2]);
  return mul(tanh(raw), scale);
}

/**
 * Integrates the model from s0 [B, 4] under raw controls [B, T, 2] (bounded by tanh scaling) over
 * steps dt [B, T]; returns the positions after each step [B, T, 2].
 */
export function rollout(kind: VehicleKind, lim: VehicleLimits, s0: Tensor, raw: Tensor, dt: Tensor): Tensor {
  const [B, T] = [raw.shape[0]!, raw.shape[1]!];
  const u = boundControls(kind, lim, raw);
  let s = s0;
  const pos: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    s = vehicleStep(kind, lim, s, reshape(slice(u, [0, t, 0], [B, 1, 2]), [B, 2]), reshape(slice(dt, [0, t], [B, 1]), [B, 1]));
    pos.push(reshape(slice(s, [0, 0], [B, 2]), [B, 1, 2]));
  }
  return concat(pos, 1);
}

/**
 * The vehicle as MPC dynamics (mpc/'s Dynamics) with normalised controls in [-1, 1] (box bounds
 * of the MPC problem): physical controls are (accel * u_0, turn bound * u_1). params[0] holds the
 * per-item, per-step time steps dt [B, T] (row (t, b) uses dt[b, min(t, T - 1)]).
 */
export function vehicleDynamics(kind: VehicleKind, lim: VehicleLimits, dt: Tensor): Dynamics {
  const scale = new Tensor(Float64Array.from([lim.accel, turnBound(kind, lim)]), [2]);
  return {
    name: `ego-${kind}`,
    nx: VEHICLE_NX,
    nu: VEHICLE_NU,
    params: [dt],
    step(x, u, params, ctx) {
      const d = params[0]!;
      const T = d.shape[1]!;
      const idx = Array.from({ length: ctx.rows }, (_, r) => ctx.items[r]! * T + Math.min(ctx.times[r]!, T - 1));
      const dtRows = reshape(gather(reshape(d, [d.size]), idx), [ctx.rows, 1]);
      return vehicleStep(kind, lim, x, mul(u, scale), dtRows);
    },
    validate(T, B) {
      if (dt.ndim !== 2 || dt.shape[0] !== B || dt.shape[1]! < T - 1)
        throw new Error(`ego-${kind} dynamics: dt has shape [${dt.shape.join(', ')}], expected [${B}, >= ${T - 1}]`);
    },
  };
}
