// Divergence detection during a run (sim/physics, layer sim): soft contact, springs, drag
// and friction are passive (they store or dissipate energy, never create it), so the
// mechanical energy of a world (kinetic + gravitational + spring) can exceed its initial value
// only by the work of the controls. `DivergenceMonitor.check` bounds that work from above
// (|F| |v| dt summed over the steps), and stops a run whose energy exceeds the bound by more
// than a tolerance, or whose state is not finite, with a SimulationError naming the step, the
// body or particle that carries the most kinetic energy, and the quantity.
import { ModelError, SimulationError } from './errors.ts';
import type { Control, Model, State } from './model.ts';

/** Options of the divergence monitor. */
export interface DivergenceOptions {
  /**
   * Energy gain (J) tolerated above the initial energy plus the controls' work. Default:
   * the initial kinetic energy plus the work of lifting every mass by `heightScale` metres
   * (1 m) against gravity, plus 1 mJ: an explicit integrator that diverges gains energy
   * exponentially and crosses it within a few steps.
   */
  tolerance?: number;
  /** Height (m) that sets the default tolerance (default 1). */
  heightScale?: number;
}

/** Energies of a state: kinetic (translational + rotational), gravitational, spring. */
export interface Energies {
  kinetic: number;
  potential: number;
  spring: number;
  total: number;
}

/** Energies of `state` in `model` (J); gravity's potential is -m g . x. */
export function energies(model: Model, state: State): Energies {
  const g = model.gravity.data;
  let kinetic = 0;
  let potential = 0;
  const pm = model.particleMass.data;
  const q = state.particleQ.data;
  const qd = state.particleQd.data;
  for (let i = 0; i < model.particleCount; i++) {
    const m = pm[i]!;
    kinetic += 0.5 * m * (qd[3 * i]! ** 2 + qd[3 * i + 1]! ** 2 + qd[3 * i + 2]! ** 2);
    potential -= m * (g[0]! * q[3 * i]! + g[1]! * q[3 * i + 1]! + g[2]! * q[3 * i + 2]!);
  }
  const bm = model.bodyMass.data;
  const I = model.bodyInertia.data;
  const x = state.bodyPos.data;
  const v = state.bodyVel.data;
  const w = state.bodyAngVel.data;
  const rot = state.bodyRot.data;
  for (let b = 0; b < model.bodyCount; b++) {
    const m = bm[b]!;
    kinetic += 0.5 * m * (v[3 * b]! ** 2 + v[3 * b + 1]! ** 2 + v[3 * b + 2]! ** 2);
    kinetic += rotationalEnergy(I, rot, w, b);
    potential -= m * (g[0]! * x[3 * b]! + g[1]! * x[3 * b + 1]! + g[2]! * x[3 * b + 2]!);
  }
  let spring = 0;
  const si = model.springIndices;
  const ke = model.springKe.data;
  const rest = model.springRest.data;
  for (let s = 0; s < model.springCount; s++) {
    const i = si[2 * s]!;
    const j = si[2 * s + 1]!;
    const l = Math.hypot(q[3 * i]! - q[3 * j]!, q[3 * i + 1]! - q[3 * j + 1]!, q[3 * i + 2]! - q[3 * j + 2]!);
    spring += 0.5 * ke[s]! * (l - rest[s]!) ** 2;
  }
  return { kinetic, potential, spring, total: kinetic + potential + spring };
}

/** 0.5 wb . (I wb) with wb = R^T w the body-frame angular velocity of body b. */
function rotationalEnergy(I: Float64Array, rot: Float64Array, w: Float64Array, b: number): number {
  const qx = rot[4 * b]!;
  const qy = rot[4 * b + 1]!;
  const qz = rot[4 * b + 2]!;
  const qw = rot[4 * b + 3]!;
  const wx = w[3 * b]!;
  const wy = w[3 * b + 1]!;
  const wz = w[3 * b + 2]!;
  // wb = q^-1 w q: rotate by the conjugate
  const tx = 2 * (-qy * wz + qz * wy);
  const ty = 2 * (-qz * wx + qx * wz);
  const tz = 2 * (-qx * wy + qy * wx);
  const bx = wx + qw * tx + (-qy * tz + qz * ty);
  const by = wy + qw * ty + (-qz * tx + qx * tz);
  const bz = wz + qw * tz + (-qx * ty + qy * tx);
  const o = 9 * b;
  const Ix = I[o]! * bx + I[o + 1]! * by + I[o + 2]! * bz;
  const Iy = I[o + 3]! * bx + I[o + 4]! * by + I[o + 5]! * bz;
  const Iz = I[o + 6]! * bx + I[o + 7]! * by + I[o + 8]! * bz;
  return 0.5 * (bx * Ix + by * Iy + bz * Iz);
}

/** The largest distance of a contact point from its body's centre, per body (arms of the track forces). */
function bodyReach(model: Model): Float64Array {
  const r = new Float64Array(model.bodyCount);
  const P = model.contactPoint.data;
  const R = model.contactRadius.data;
  for (let k = 0; k < model.contactCount; k++) {
    const b = model.contactBody[k]!;
    r[b] = Math.max(r[b]!, Math.hypot(P[3 * k]!, P[3 * k + 1]!, P[3 * k + 2]!) + R[k]!);
  }
  return r;
}

const FIELDS = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'] as const;
const QUANTITY = ['particle_q', 'particle_qd', 'body_pos', 'body_rot', 'body_vel', 'body_ang_vel'];

/**
 * Watches a run step by step for non-finite values and energy growth that no control can
 * explain (see the file header); `check` throws a SimulationError naming where.
 * @example
 * const mon = new DivergenceMonitor(model, s0);
 * for (let t = 0; t < T; t++) { s = simulate(model, s, null, dt, ctl, { substeps, step: t }); mon.check(t + 1, s, ctl, dt); }
 */
export class DivergenceMonitor {
  /** Energy of the initial state (J). */
  readonly initialEnergy: number;
  /** Tolerated energy gain (J) above the initial energy plus the controls' work bound. */
  readonly tolerance: number;
  /** Upper bound of the work done by the controls so far (J). */
  work = 0;
  /** Largest energy gain seen so far relative to the tolerance (<= 1 while stable). */
  worst = 0;
  private readonly reach: Float64Array;
  private prev: State;

  constructor(
    private readonly model: Model,
    state0: State,
    opts: DivergenceOptions = {},
  ) {
    const e = energies(model, state0);
    if (!Number.isFinite(e.total)) throw new ModelError(`initial state: energy is ${e.total} (a non-finite position or velocity)`, 'state');
    this.initialEnergy = e.total;
    const hs = opts.heightScale ?? 1;
    const g = Math.hypot(...model.gravity.data);
    let mass = 0;
    for (const d of [model.particleMass.data, model.bodyMass.data]) for (let i = 0; i < d.length; i++) mass += d[i]!;
    this.tolerance = opts.tolerance ?? e.kinetic + mass * g * hs + 1e-3;
    if (!(this.tolerance > 0)) throw new ModelError(`divergence tolerance = ${this.tolerance} must be > 0`, 'tolerance');
    this.reach = bodyReach(model);
    this.prev = state0;
  }

  /** Checks the state after step `step` (1-based) reached with `control` over dt; throws a SimulationError on divergence. */
  check(step: number, state: State, control: Control | null, dt: number): void {
    const m = this.model;
    FIELDS.forEach((f, fi) => {
      const d = state[f].data;
      for (let i = 0; i < d.length; i++) {
        if (Number.isFinite(d[i]!)) continue;
        const w = f === 'bodyRot' ? 4 : 3;
        const kind = fi < 2 ? 'particle' : 'body';
        throw new SimulationError(
          `diverged at step ${step}: ${kind} ${Math.floor(i / w)} ${QUANTITY[fi]} is ${d[i]}`,
          step,
          QUANTITY[fi]!,
          Math.floor(i / w),
          'forward',
        );
      }
    });
    if (control) this.work += this.controlWork(control, this.prev, state, dt);
    this.prev = state;
    const e = energies(m, state);
    const gain = e.total - this.initialEnergy - this.work;
    this.worst = Math.max(this.worst, gain / this.tolerance);
    if (gain > this.tolerance) {
      const who = this.mostKinetic(state);
      throw new SimulationError(
        `diverged at step ${step}: the energy grew to ${e.total.toExponential(3)} J from ${this.initialEnergy.toExponential(3)} J (controls' work at most ${this.work.toExponential(3)} J, tolerance ${this.tolerance.toExponential(3)} J); ${who.kind} ${who.index} carries the most kinetic energy (${who.energy.toExponential(3)} J, speed ${who.speed.toExponential(3)} m/s). The step is too long for the contact or spring stiffness: use more substeps`,
        step,
        'energy',
        who.index,
        'forward',
      );
    }
  }

  /** Energy of `state` (J), for the run's summary. */
  finalEnergy(state: State): number {
    return energies(this.model, state).total;
  }

  /** Upper bound of the controls' work over one step: |F| max(|v0|, |v1|) dt per force (torques: |T| |w|). */
  private controlWork(c: Control, s0: State, s1: State, dt: number): number {
    const speed = (d0: Float64Array, d1: Float64Array, i: number): number =>
      Math.max(Math.hypot(d0[3 * i]!, d0[3 * i + 1]!, d0[3 * i + 2]!), Math.hypot(d1[3 * i]!, d1[3 * i + 1]!, d1[3 * i + 2]!));
    const norm = (d: Float64Array, i: number): number => Math.hypot(d[3 * i]!, d[3 * i + 1]!, d[3 * i + 2]!);
    let W = 0;
    const m = this.model;
    if (c.particleF) for (let i = 0; i < m.particleCount; i++) W += norm(c.particleF.data, i) * speed(s0.particleQd.data, s1.particleQd.data, i);
    if (c.bodyF) for (let b = 0; b < m.bodyCount; b++) W += norm(c.bodyF.data, b) * speed(s0.bodyVel.data, s1.bodyVel.data, b);
    if (c.bodyT) for (let b = 0; b < m.bodyCount; b++) W += norm(c.bodyT.data, b) * speed(s0.bodyAngVel.data, s1.bodyAngVel.data, b);
    if (c.trackF)
      for (let t = 0; t < m.trackCount; t++) {
        const b = m.trackBody[t]!;
        const v = speed(s0.bodyVel.data, s1.bodyVel.data, b) + speed(s0.bodyAngVel.data, s1.bodyAngVel.data, b) * this.reach[b]!;
        W += Math.abs(c.trackF.data[t]!) * v;
      }
    return W * dt;
  }

  private mostKinetic(s: State): { kind: 'particle' | 'body'; index: number; energy: number; speed: number } {
    const m = this.model;
    let best = { kind: 'body' as 'particle' | 'body', index: 0, energy: -1, speed: 0 };
    const qd = s.particleQd.data;
    for (let i = 0; i < m.particleCount; i++) {
      const v = Math.hypot(qd[3 * i]!, qd[3 * i + 1]!, qd[3 * i + 2]!);
      const e = 0.5 * m.particleMass.data[i]! * v * v;
      if (e > best.energy) best = { kind: 'particle', index: i, energy: e, speed: v };
    }
    const bv = s.bodyVel.data;
    for (let b = 0; b < m.bodyCount; b++) {
      const v = Math.hypot(bv[3 * b]!, bv[3 * b + 1]!, bv[3 * b + 2]!);
      const e = 0.5 * m.bodyMass.data[b]! * v * v + rotationalEnergy(m.bodyInertia.data, s.bodyRot.data, s.bodyAngVel.data, b);
      if (e > best.energy) best = { kind: 'body', index: b, energy: e, speed: v };
    }
    return best;
  }
}
