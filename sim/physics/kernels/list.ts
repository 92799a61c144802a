// The one list of the engine's force kernels (sim/physics, layer sim): each declared once as a
// (forward, adjoint) pair. The integrator (integrator.ts) runs the forwards in list order and
// the adjoints in reverse; the single-kernel tape ops (ops.ts) are built from the same
// entries, and every entry has a gradient check of the same name (checks.ts; a test holds the
// two lists together). Adding a kernel: write its forward and adjoint, add one entry here.
import type { ModelData, ParamGrads } from '../data.ts';
import * as P from './particles.ts';
import * as B from './bodies.ts';
import * as BB from './bodybody.ts';

type F64 = Float64Array;

/**
 * A force kernel on the particles: `forward` adds forces into f [Np * 3]; `adjoint` reads the
 * force adjoint adjF and adds into adjQ, adjQd and the parameter accumulators G.
 */
export interface ParticleForceKernel {
  /** Kernel name (Warp's); its tape op is `physics.<name>`, its gradient check the same. */
  name: string;
  forward(M: ModelData, q: F64, qd: F64, f: F64): void;
  adjoint(M: ModelData, q: F64, qd: F64, adjF: F64, adjQ: F64, adjQd: F64, G: ParamGrads): void;
}

/** What a body force kernel reads besides the state: the broad phase's pairs and the tracks' drive forces (null: none). */
export interface BodyKernelInputs {
  pairs: Int32Array;
  trackF: F64 | null;
  /** Adjoint accumulator of trackF [Nt] (written by the adjoint of the track drive). */
  adjTrackF: F64;
}

/**
 * A force kernel on the bodies: `forward` adds forces and torques into f, t [Nb * 3];
 * `adjoint` reads their adjoints and adds into those of pos, R (rotation matrices), vel, w,
 * the extra inputs and the parameters.
 */
export interface BodyForceKernel {
  /** Kernel name (Warp's); its tape op is `physics.<name>`, its gradient check the same. */
  name: string;
  forward(M: ModelData, pos: F64, R: F64, vel: F64, w: F64, x: BodyKernelInputs, f: F64, t: F64): void;
  adjoint(
    M: ModelData,
    pos: F64,
    R: F64,
    vel: F64,
    w: F64,
    x: BodyKernelInputs,
    adjF: F64,
    adjT: F64,
    adjPos: F64,
    adjR: F64,
    adjVel: F64,
    adjW: F64,
    G: ParamGrads,
  ): void;
}

/** Force kernels on the particles, in the order the integrator runs them forward. */
export const PARTICLE_FORCE_KERNELS: readonly ParticleForceKernel[] = [
  {
    name: 'eval_particle_drag',
    forward: (M, _q, qd, f) => P.eval_particle_drag(M, qd, f),
    adjoint: (M, _q, qd, adjF, _adjQ, adjQd, G) => P.adj_eval_particle_drag(M, qd, adjF, adjQd, G),
  },
  { name: 'eval_springs', forward: P.eval_springs, adjoint: P.adj_eval_springs },
  { name: 'eval_particle_ground_contacts', forward: P.eval_particle_ground_contacts, adjoint: P.adj_eval_particle_ground_contacts },
  { name: 'eval_particle_terrain_contacts', forward: P.eval_particle_terrain_contacts, adjoint: P.adj_eval_particle_terrain_contacts },
];

/** Force kernels on the bodies, in the order the integrator runs them forward. */
export const BODY_FORCE_KERNELS: readonly BodyForceKernel[] = [
  {
    name: 'eval_body_ground_contacts',
    forward: (M, pos, R, vel, w, _x, f, t) => B.eval_body_ground_contacts(M, pos, R, vel, w, f, t),
    adjoint: (M, pos, R, vel, w, _x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      B.adj_eval_body_ground_contacts(M, pos, R, vel, w, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_body_terrain_contacts',
    forward: (M, pos, R, vel, w, _x, f, t) => B.eval_body_terrain_contacts(M, pos, R, vel, w, f, t),
    adjoint: (M, pos, R, vel, w, _x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      B.adj_eval_body_terrain_contacts(M, pos, R, vel, w, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_body_body_contacts',
    forward: (M, pos, R, vel, w, x, f, t) => BB.eval_body_body_contacts(M, pos, R, vel, w, x.pairs, f, t),
    adjoint: (M, pos, R, vel, w, x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      BB.adj_eval_body_body_contacts(M, pos, R, vel, w, x.pairs, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_track_drive',
    forward: (M, pos, R, _vel, _w, x, f, t) => {
      if (x.trackF) B.eval_track_drive(M, pos, R, x.trackF, f, t);
    },
    adjoint: (M, pos, R, _vel, _w, x, adjF, adjT, _adjPos, adjR, _adjVel, _adjW, G) => {
      if (x.trackF) B.adj_eval_track_drive(M, pos, R, x.trackF, adjF, adjT, adjR, x.adjTrackF, G);
    },
  },
];

/** The particle or body force kernel called `name`, or undefined. */
export function forceKernel(name: string): ParticleForceKernel | BodyForceKernel | undefined {
  return PARTICLE_FORCE_KERNELS.find((k) => k.name === name) ?? BODY_FORCE_KERNELS.find((k) => k.name === name);
}
