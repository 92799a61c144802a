// Model (static parameters), State (per-step positions and velocities) and Control (inputs)
// of the physics engine (sim/physics, layer sim), after Warp's sim module. Every physical
// parameter is a float64 Tensor, so it can require grad and receive gradients from a rollout.
import { Tensor, zeros } from '../core/index.ts';
import { ModelError } from './errors.ts';
import { MODEL_PARAMS, PARAMS, constraintViolation, firstViolation, type ModelParamName, type ParamSpec } from './params.ts';

export { MODEL_PARAMS, type ModelParamName } from './params.ts';

/** Names of the State tensors, in the order the fused step takes and returns them. */
export const STATE_FIELDS = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'] as const;
/** Names of the Control tensors, in the order the fused step takes them. */
export const CONTROL_FIELDS = ['particleF', 'bodyF', 'bodyT', 'trackF'] as const;

/**
 * Contact smoothing (contact.ts, terrain.ts); all off (0, 'bilinear') is Warp's exact model.
 * `C1_CONTACT` turns every part on: the step is then continuously differentiable.
 */
export interface ContactSmoothing {
  /** Width (m/s) of the smooth min(vn, 0) of the damping; 0: exact. */
  damping: number;
  /** Power p of the soft minimum of the two friction regimes; 0: exact. */
  friction: number;
  /** Width (m) of the softplus activation of the penetration; 0 (default): force only for c < 0. */
  penetration?: number;
  /** Heightmap interpolation: 'bilinear' (default, interpolates the grid, C0 normal) or 'spline' (cubic B-spline: C2 heights, C1 normal; smooths the grid). */
  terrain?: 'bilinear' | 'spline';
}

/**
 * The C1 contact model for planning and learning: smooth damping (0.05 m/s), soft-min friction
 * (p = 4), softplus activation of width 2 mm, cubic B-spline terrain.
 */
export const C1_CONTACT: Readonly<Required<ContactSmoothing>> = { damping: 0.05, friction: 4, penetration: 0.002, terrain: 'spline' };

/** Grid geometry of a heightmap: nx x ny points, point (i, j) at origin + (i, j) * cellSize. */
export interface TerrainGrid {
  nx: number;
  ny: number;
  origin: [number, number];
  cellSize: number;
}

/** Everything a Model is made of; produced by `ModelBuilder.finalize()`. */
export interface ModelInit {
  particleCount: number;
  springCount: number;
  bodyCount: number;
  contactCount: number;
  trackCount: number;
  planeCount: number;
  worldCount: number;
  particleWorld: Int32Array;
  bodyWorld: Int32Array;
  springIndices: Int32Array;
  planeNormal: Float64Array;
  terrain: TerrainGrid | null;
  contactBody: Int32Array;
  contactTrack: Int32Array;
  trackBody: Int32Array;
  trackDir: Float64Array;
  frictionEps: number;
  contactSmoothing?: ContactSmoothing;
  /** Body-body contact on (default true); its parameters are bodyKe/Kd/Kf/Mu. */
  bodyContact?: boolean;
  /** Shape of each body as a body-body contact target (kinds.ts `BODY_SHAPE`), [Nb]. */
  bodyShape?: Int32Array;
  /** Box half extents, or (0, 0, half height) of a capsule, per body [Nb * 3] (zeros for spheres and point sets). */
  bodyShapeHalf?: Float64Array;
  /** Capsule radius per body [Nb] (0 for the others: a sphere's and a point set's radii are their contact radii). */
  bodyShapeRadius?: Float64Array;
  params: Record<ModelParamName, Tensor>;
  initial: Record<(typeof STATE_FIELDS)[number], Float64Array>;
}

/** One read accessor per table parameter: `model.groundMu` is `model.params.groundMu`. */
export type ParamAccessors = { readonly [K in ModelParamName]: Tensor };

// the accessors' types (defined on the prototype after the class, one per table entry)
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface Model extends ParamAccessors {}

/**
 * Static description of a world: topology (indices, counts) as typed arrays and every
 * physical parameter as a float64 Tensor. A rollout never mutates a Model; to learn a
 * parameter, call `model.groundMu.requireGrad()` (or assign a tensor computed from your own
 * leaves, e.g. a terrain map from a network) and back-propagate a loss of the rollout.
 *
 * Conventions: z is up; quaternions are [x, y, z, w]; body positions are centres of mass;
 * body velocities and angular velocities are in the world frame; inertia in the body frame.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Model implements ModelInit {
  particleCount!: number;
  springCount!: number;
  bodyCount!: number;
  contactCount!: number;
  trackCount!: number;
  planeCount!: number;
  worldCount!: number;
  /** World (batch copy) of each particle. */
  particleWorld!: Int32Array;
  /** World (batch copy) of each body. */
  bodyWorld!: Int32Array;
  /** Spring end points, [Ns * 2]. */
  springIndices!: Int32Array;
  /** Unit normals of the contact planes (the ground and walls), [Npl * 3]. */
  planeNormal!: Float64Array;
  terrain!: TerrainGrid | null;
  /** Body of each contact point, [Nc]. */
  contactBody!: Int32Array;
  /** Track of each contact point (-1 for none), [Nc]. */
  contactTrack!: Int32Array;
  /** Body of each track, [Nt]. */
  trackBody!: Int32Array;
  /** Drive direction of each track in its body's frame, [Nt * 3]. */
  trackDir!: Float64Array;
  /** Smoothing of |vt| in friction: |vt| is taken as sqrt(|vt|^2 + frictionEps^2) (m/s). */
  frictionEps!: number;
  /** Contact smoothing for planning: damping width (m/s) and friction soft-min power; 0, 0 = exact (contact.ts). */
  contactSmoothing!: ContactSmoothing;
  /** Body-body contact on (soft contact of every body's contact points against the other bodies' shapes). */
  bodyContact!: boolean;
  /** Shape kind of each body as a contact target: 0 sphere or point set (its contact spheres), 1 box, 2 capsule, [Nb]. */
  bodyShape!: Int32Array;
  /** Box half extents, or (0, 0, half height) of a capsule, [Nb * 3]; constants. */
  bodyShapeHalf!: Float64Array;
  /** Capsule radius, [Nb]; a constant. */
  bodyShapeRadius!: Float64Array;
  params!: Record<ModelParamName, Tensor>;
  initial!: Record<(typeof STATE_FIELDS)[number], Float64Array>;

  constructor(init: ModelInit) {
    Object.assign(this, init);
    this.contactSmoothing = { ...(init.contactSmoothing ?? { damping: 0, friction: 0 }) };
    this.bodyContact = init.bodyContact ?? true;
    this.bodyShape = init.bodyShape ?? new Int32Array(init.bodyCount);
    this.bodyShapeHalf = init.bodyShapeHalf ?? new Float64Array(3 * init.bodyCount);
    this.bodyShapeRadius = init.bodyShapeRadius ?? new Float64Array(init.bodyCount);
    this.params = { ...init.params };
  }

  /** The differentiable parameters in MODEL_PARAMS order. */
  tensors(): Tensor[] {
    return MODEL_PARAMS.map((k) => this.params[k]);
  }

  /**
   * A Model sharing this one's topology with some parameters replaced (shapes checked).
   * @example const m2 = model.with({ groundMu: mul(scalar(0.3), 1) });
   */
  with(replace: Partial<Record<ModelParamName, Tensor>>): Model {
    const m = new Model(this);
    for (const [k, t] of Object.entries(replace) as [ModelParamName, Tensor][]) {
      const old = this.params[k];
      if (!old) throw new ModelError(`Model.with: unknown parameter '${k}'`, k);
      if (t.shape.length !== old.shape.length || t.shape.some((d, i) => d !== old.shape[i])) {
        throw new ModelError(`Model.with: ${k} has shape [${t.shape.join(', ')}], expected [${old.shape.join(', ')}]`, k);
      }
      m.params[k] = t;
    }
    return m;
  }

  /** A Model with its parameters replaced by `ts` (MODEL_PARAMS order), no checks. */
  withTensors(ts: readonly Tensor[]): Model {
    const m = new Model(this);
    MODEL_PARAMS.forEach((k, i) => (m.params[k] = ts[i]!));
    return m;
  }

  /** A fresh State holding the initial positions and velocities given to the builder (leaves). */
  state(): State {
    const s = this.initial;
    return new State({
      particleQ: new Tensor(s.particleQ.slice(), [this.particleCount, 3]),
      particleQd: new Tensor(s.particleQd.slice(), [this.particleCount, 3]),
      bodyPos: new Tensor(s.bodyPos.slice(), [this.bodyCount, 3]),
      bodyRot: new Tensor(s.bodyRot.slice(), [this.bodyCount, 4]),
      bodyVel: new Tensor(s.bodyVel.slice(), [this.bodyCount, 3]),
      bodyAngVel: new Tensor(s.bodyAngVel.slice(), [this.bodyCount, 3]),
    });
  }

  /** A Control with zero inputs of the right shapes (leaves; call requireGrad to learn them). */
  control(): Control {
    return new Control({
      particleF: zeros([this.particleCount, 3]),
      bodyF: zeros([this.bodyCount, 3]),
      bodyT: zeros([this.bodyCount, 3]),
      trackF: zeros([this.trackCount]),
    });
  }

  /**
   * Checks every parameter for shape, finiteness and sign (masses > 0, radii >= 0,
   * stiffnesses >= 0, inertia diagonal > 0). Throws a ModelError naming the field and index.
   */
  validate(): void {
    for (const k of MODEL_PARAMS) {
      const spec: ParamSpec = PARAMS[k];
      const t = this.params[k];
      const e = spec.shape(this);
      if (t.shape.length !== e.length || t.shape.some((d, i) => d !== e[i])) {
        throw new ModelError(`model: ${k} has shape [${t.shape.join(', ')}], expected [${e.join(', ')}]`, k);
      }
      const d = t.data;
      const i = firstViolation(d, spec.constraint);
      if (i >= 0) throw new ModelError(`model: ${k}[${i}] ${constraintViolation(d[i]!, spec.constraint)}`, `${k}[${i}]`);
    }
    const I = this.params.bodyInertia.data;
    for (let b = 0; b < this.bodyCount; b++) {
      for (let a = 0; a < 3; a++) {
        if (!(I[9 * b + 4 * a]! > 0))
          throw new ModelError(`model: bodyInertia[${b}] diagonal entry ${a} = ${I[9 * b + 4 * a]} must be > 0`, `bodyInertia[${b}]`);
      }
    }
    const si = this.springIndices;
    for (let s = 0; s < si.length; s++) {
      if (!(si[s]! >= 0 && si[s]! < this.particleCount)) {
        throw new ModelError(`model: spring ${s >> 1} end ${s & 1} = ${si[s]} is out of range [0, ${this.particleCount})`, `springIndices[${s}]`);
      }
    }
    for (let c = 0; c < this.contactCount; c++) {
      const b = this.contactBody[c]!;
      if (!(b >= 0 && b < this.bodyCount)) throw new ModelError(`model: contact ${c} body ${b} is out of range [0, ${this.bodyCount})`, `contactBody[${c}]`);
      const t = this.contactTrack[c]!;
      if (!(t >= -1 && t < this.trackCount))
        throw new ModelError(`model: contact ${c} track ${t} is out of range [-1, ${this.trackCount})`, `contactTrack[${c}]`);
    }
    if (!(this.frictionEps > 0)) throw new ModelError(`model: frictionEps = ${this.frictionEps} must be > 0`, 'frictionEps');
    for (const k of ['damping', 'friction', 'penetration'] as const)
      if (!((this.contactSmoothing[k] ?? 0) >= 0))
        throw new ModelError(`model: contactSmoothing.${k} = ${this.contactSmoothing[k]} must be >= 0`, `contactSmoothing.${k}`);
  }
}

// the accessors, one per table entry (params.ts), on the prototype
for (const k of MODEL_PARAMS) {
  Object.defineProperty(Model.prototype, k, {
    get(this: Model): Tensor {
      return this.params[k];
    },
    enumerable: false,
    configurable: false,
  });
}

/** Per-step data: particle positions q and velocities qd; body pose and twist (world frame). */
export class State {
  /** Particle positions [Np, 3]. */
  particleQ: Tensor;
  /** Particle velocities [Np, 3]. */
  particleQd: Tensor;
  /** Body centre-of-mass positions [Nb, 3]. */
  bodyPos: Tensor;
  /** Body orientations, unit quaternions [x, y, z, w], [Nb, 4]. */
  bodyRot: Tensor;
  /** Body linear velocities [Nb, 3]. */
  bodyVel: Tensor;
  /** Body angular velocities in the world frame [Nb, 3]. */
  bodyAngVel: Tensor;

  constructor(f: Record<(typeof STATE_FIELDS)[number], Tensor>) {
    this.particleQ = f.particleQ;
    this.particleQd = f.particleQd;
    this.bodyPos = f.bodyPos;
    this.bodyRot = f.bodyRot;
    this.bodyVel = f.bodyVel;
    this.bodyAngVel = f.bodyAngVel;
  }

  /** The state tensors in STATE_FIELDS order. */
  tensors(): Tensor[] {
    return [this.particleQ, this.particleQd, this.bodyPos, this.bodyRot, this.bodyVel, this.bodyAngVel];
  }

  /** A State from tensors in STATE_FIELDS order. */
  static fromTensors(ts: readonly Tensor[]): State {
    return new State({ particleQ: ts[0]!, particleQd: ts[1]!, bodyPos: ts[2]!, bodyRot: ts[3]!, bodyVel: ts[4]!, bodyAngVel: ts[5]! });
  }

  /** Marks every tensor as requiring grad (for gradients w.r.t. the initial state); returns this. */
  requireGrad(): this {
    for (const t of this.tensors()) t.requireGrad();
    return this;
  }

  /** A copy cut from the tape (fresh storage, leaves). */
  clone(): State {
    return State.fromTensors(this.tensors().map((t) => t.clone()));
  }
}

/** Inputs of one step: external particle forces, body forces and torques (world frame), track drive forces. */
export class Control {
  /** External forces on particles [Np, 3] (N). */
  particleF: Tensor | null;
  /** External forces at body centres of mass [Nb, 3] (N, world frame). */
  bodyF: Tensor | null;
  /** External torques on bodies [Nb, 3] (N m, world frame). */
  bodyT: Tensor | null;
  /** Drive force of each track [Nt] (N), shared by its contact points that touch the ground. */
  trackF: Tensor | null;

  constructor(f: Partial<Record<(typeof CONTROL_FIELDS)[number], Tensor | null>> = {}) {
    this.particleF = f.particleF ?? null;
    this.bodyF = f.bodyF ?? null;
    this.bodyT = f.bodyT ?? null;
    this.trackF = f.trackF ?? null;
  }

  /** The control tensors in CONTROL_FIELDS order (null where absent). */
  tensors(): (Tensor | null)[] {
    return [this.particleF, this.bodyF, this.bodyT, this.trackF];
  }
}
