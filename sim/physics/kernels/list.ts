// The one list of the engine's force kernels (sim/physics, layer sim): each declared once as a
// (forward, adjoint) pair. The integrator (integrator.ts) runs the forwards in list order and
// the adjoints in reverse; the single-kernel tape ops (ops.ts) are built from the same
// entries, and the gradient checks (checks.ts) are generated from each entry's `check`: its
// test world, the parameters it reads and its contact variants. Adding a kernel: write its
// forward and adjoint, add one entry here.
import type { ModelData, ParamGrads } from '../data.ts';
import type { ModelParamName } from '../params.ts';
import * as P from './particles.ts';
import * as B from './bodies.ts';
import * as BB from './bodybody.ts';

type F64 = Float64Array;

/**
 * How a kernel's gradient check is generated (checks.ts): the kernel's tape op is checked
 * against central differences with respect to the state it reads and each parameter named
 * here, in a test world where every contact is active, once per contact model variant.
 */
export interface KernelCheck {
  /** Test world: particles or bodies on the ground (and a wall), on a random heightmap, or bodies touching each other. */
  world: 'ground' | 'terrain' | 'bodyBody';
  /** The parameters the kernel reads, checked as inputs; the number is the scale of a stiff one (checked as value / scale, O(1)). */
  params: Partial<Record<ModelParamName, number>>;
  /** Contact variants checked besides the exact model: 'smooth' (planning smoothing) and 'c1' (the C1 model), each a check `<name>_<variant>`. */
  variants: readonly ('smooth' | 'c1')[];
}

/**
 * A force kernel on the particles: `forward` adds forces into f [Np * 3]; `adjoint` reads the
 * force adjoint adjF and adds into adjQ, adjQd and the parameter accumulators G.
 */
export interface ParticleForceKernel {
  /** Kernel name (Warp's); its tape op is `physics.<name>`, its gradient check the same. */
  name: string;
  /** How its gradient check is generated. */
  check: KernelCheck;
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
  /** How its gradient check is generated; null where the kernel needs inputs beyond the body state (track drive: checked by hand in checks.ts). */
  check: KernelCheck | null;
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
    check: { world: 'ground', params: { particleDrag: 1 }, variants: [] },
    forward: (M, _q, qd, f) => P.eval_particle_drag(M, qd, f),
    adjoint: (M, _q, qd, adjF, _adjQ, adjQd, G) => P.adj_eval_particle_drag(M, qd, adjF, adjQd, G),
  },
  {
    name: 'eval_springs',
    check: { world: 'ground', params: { springKe: 1, springKd: 1, springRest: 1 }, variants: [] },
    forward: P.eval_springs,
    adjoint: P.adj_eval_springs,
  },
  {
    name: 'eval_particle_ground_contacts',
    check: { world: 'ground', params: { particleRadius: 1, planeOffset: 1, groundKe: 1, groundKd: 1, groundKf: 1, groundMu: 1 }, variants: ['smooth', 'c1'] },
    forward: P.eval_particle_ground_contacts,
    adjoint: P.adj_eval_particle_ground_contacts,
  },
  {
    name: 'eval_particle_terrain_contacts',
    check: {
      world: 'terrain',
      params: { particleRadius: 1, terrainHeights: 1, terrainKe: 1e3, terrainKd: 10, terrainMu: 1, terrainKf: 100 },
      variants: ['c1'],
    },
    forward: P.eval_particle_terrain_contacts,
    adjoint: P.adj_eval_particle_terrain_contacts,
  },
];

/** Force kernels on the bodies, in the order the integrator runs them forward. */
export const BODY_FORCE_KERNELS: readonly BodyForceKernel[] = [
  {
    name: 'eval_body_ground_contacts',
    check: {
      world: 'ground',
      params: { contactPoint: 1, contactRadius: 1, planeOffset: 1, groundKe: 1, groundKd: 1, groundKf: 1, groundMu: 1 },
      variants: ['c1'],
    },
    forward: (M, pos, R, vel, w, _x, f, t) => B.eval_body_ground_contacts(M, pos, R, vel, w, f, t),
    adjoint: (M, pos, R, vel, w, _x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      B.adj_eval_body_ground_contacts(M, pos, R, vel, w, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_body_terrain_contacts',
    check: {
      world: 'terrain',
      params: { contactPoint: 1, contactRadius: 1, terrainHeights: 1, terrainKe: 1e3, terrainKd: 10, terrainMu: 1, terrainKf: 100 },
      variants: ['smooth', 'c1'],
    },
    forward: (M, pos, R, vel, w, _x, f, t) => B.eval_body_terrain_contacts(M, pos, R, vel, w, f, t),
    adjoint: (M, pos, R, vel, w, _x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      B.adj_eval_body_terrain_contacts(M, pos, R, vel, w, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_body_body_contacts',
    check: { world: 'bodyBody', params: { contactPoint: 1, contactRadius: 1, bodyKe: 1e3, bodyKd: 10, bodyKf: 10, bodyMu: 1 }, variants: ['c1'] },
    forward: (M, pos, R, vel, w, x, f, t) => BB.eval_body_body_contacts(M, pos, R, vel, w, x.pairs, f, t),
    adjoint: (M, pos, R, vel, w, x, adjF, adjT, adjPos, adjR, adjVel, adjW, G) =>
      BB.adj_eval_body_body_contacts(M, pos, R, vel, w, x.pairs, adjF, adjT, adjPos, adjR, adjVel, adjW, G),
  },
  {
    name: 'eval_track_drive',
    check: null,
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
