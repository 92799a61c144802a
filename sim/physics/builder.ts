// ModelBuilder and BodyDesc (sim/physics, layer sim): build a world with a Rapier-like fluent
// API (particles, springs, cloth grids, rigid bodies from shapes or point sets, tracks,
// ground planes, a heightmap), then `finalize()` into a Model. `addBuilder` copies a whole
// builder in as another world (Warp's add_builder), for batched rollouts.
import { Tensor } from '../core/index.ts';
import { ModelError } from './errors.ts';
import { Model, type ContactSmoothing, type ModelParamName, type TerrainGrid } from './model.ts';
import { MODEL_PARAMS, PARAMS, constraintViolation, groupDefaults, groupParams, type GroupField, type ParamCounts } from './params.ts';

/** Table defaults (params.ts) of the ground's, the body-body contact's and the terrain's scalar parameters. */
const GROUND_DEFAULTS = groupDefaults('ground');
const BODY_CONTACT_DEFAULTS = groupDefaults('bodyContact');
const TERRAIN_DEFAULTS = groupDefaults('terrain');

type Vec3 = [number, number, number];
type Quat = [number, number, number, number];

/** Mass properties and contact points of a shape, about its centre of mass (body frame). */
export interface ShapeInfo {
  kind: 'sphere' | 'box' | 'capsule' | 'points';
  /** Inertia per unit mass, row-major 3x3. */
  unitInertia: number[];
  /** Contact points (body frame) and their radii. */
  points: Vec3[];
  radii: number[];
  /** Offset of the centre of mass from the shape's origin (non-zero only for point sets). */
  com: Vec3;
  /** Box half extents, or (0, 0, half height) of a capsule: the shape as a body-body contact target. */
  half?: Vec3;
  volume: number;
}

function fin(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new ModelError(`${what} is ${v}, expected a finite number`, what);
  return v;
}

function vec3(v: readonly number[], what: string): Vec3 {
  if (v.length !== 3) throw new ModelError(`${what} must have 3 components, got ${v.length}`, what);
  return [fin(v[0]!, `${what}[0]`), fin(v[1]!, `${what}[1]`), fin(v[2]!, `${what}[2]`)];
}

function positive(v: number, what: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new ModelError(`${what} = ${v} must be a finite number > 0`, what);
  return v;
}

function nonNegative(v: number, what: string): number {
  if (!(v >= 0) || !Number.isFinite(v)) throw new ModelError(`${what} = ${v} must be a finite number >= 0`, what);
  return v;
}

/** Solid sphere of radius r: one contact point at the centre with radius r. */
export function sphereShape(r: number): ShapeInfo {
  positive(r, 'sphere radius');
  const i = 0.4 * r * r;
  return { kind: 'sphere', unitInertia: [i, 0, 0, 0, i, 0, 0, 0, i], points: [[0, 0, 0]], radii: [r], com: [0, 0, 0], volume: (4 / 3) * Math.PI * r ** 3 };
}

/** Solid box of half extents (hx, hy, hz): contact points at the 8 corners. */
export function boxShape(hx: number, hy: number, hz: number): ShapeInfo {
  positive(hx, 'box half extent x');
  positive(hy, 'box half extent y');
  positive(hz, 'box half extent z');
  const points: Vec3[] = [];
  for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) points.push([sx * hx, sy * hy, sz * hz]);
  return {
    kind: 'box',
    unitInertia: [(hy * hy + hz * hz) / 3, 0, 0, 0, (hx * hx + hz * hz) / 3, 0, 0, 0, (hx * hx + hy * hy) / 3],
    points,
    radii: points.map(() => 0),
    com: [0, 0, 0],
    half: [hx, hy, hz],
    volume: 8 * hx * hy * hz,
  };
}

/**
 * Solid capsule along the body z axis: a cylinder of half height `halfHeight` capped by
 * hemispheres of radius r; contact points at the two cap centres with radius r.
 */
export function capsuleShape(halfHeight: number, r: number): ShapeInfo {
  positive(halfHeight, 'capsule half height');
  positive(r, 'capsule radius');
  const H = 2 * halfHeight;
  const vc = Math.PI * r * r * H;
  const vs = (4 / 3) * Math.PI * r ** 3;
  const mc = vc / (vc + vs);
  const ms = vs / (vc + vs);
  const ixx = mc * ((H * H) / 12 + (r * r) / 4) + ms * ((2 * r * r) / 5 + (H * H) / 4 + (3 * H * r) / 8);
  const izz = (mc * (r * r)) / 2 + (ms * 2 * r * r) / 5;
  return {
    kind: 'capsule',
    unitInertia: [ixx, 0, 0, 0, ixx, 0, 0, 0, izz],
    points: [
      [0, 0, -halfHeight],
      [0, 0, halfHeight],
    ],
    radii: [r, r],
    com: [0, 0, 0],
    half: [0, 0, halfHeight],
    volume: vc + vs,
  };
}

/**
 * A point-set body (MonoForce models a tracked robot this way): equal point masses at the
 * given body-frame points, which are also its contact points (radius `radius`). The centre
 * of mass is the points' centroid; points are re-expressed about it.
 */
export function pointsShape(points: readonly (readonly number[])[], radius = 0): ShapeInfo {
  if (points.length === 0) throw new ModelError('point-set body needs at least one point', 'points');
  nonNegative(radius, 'point radius');
  const ps = points.map((p, i) => vec3(p, `points[${i}]`));
  const n = ps.length;
  const com: Vec3 = [0, 0, 0];
  for (const p of ps) for (let a = 0; a < 3; a++) com[a]! += p[a]! / n;
  const local = ps.map((p) => [p[0] - com[0], p[1] - com[1], p[2] - com[2]] as Vec3);
  const I = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const p of local) {
    const r2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) I[3 * a + b]! += ((a === b ? r2 : 0) - p[a]! * p[b]!) / n;
  }
  // A point set on a line or in a plane has a zero principal moment; give the points a
  // small solid-sphere moment (their radius, or 1 cm) so the inertia stays invertible.
  const rr = Math.max(radius, 0.01);
  for (let a = 0; a < 3; a++) I[4 * a]! += 0.4 * rr * rr;
  return { kind: 'points', unitInertia: I, points: local, radii: local.map(() => radius), com, volume: 0 };
}

/** Rigid body descriptor (Rapier-like): `BodyDesc.box(0.5, 0.5, 0.5).setMass(2).setTranslation(0, 0, 1)`. */
export class BodyDesc {
  mass: number | null = null;
  density: number | null = null;
  translation: Vec3 = [0, 0, 0];
  rotation: Quat = [0, 0, 0, 1];
  linvel: Vec3 = [0, 0, 0];
  angvel: Vec3 = [0, 0, 0];
  inertia: number[] | null = null;

  constructor(readonly shape: ShapeInfo) {}

  /** Solid sphere. */
  static sphere(radius: number): BodyDesc {
    return new BodyDesc(sphereShape(radius));
  }
  /** Solid box of half extents. */
  static box(hx: number, hy: number, hz: number): BodyDesc {
    return new BodyDesc(boxShape(hx, hy, hz));
  }
  /** Capsule along body z. */
  static capsule(halfHeight: number, radius: number): BodyDesc {
    return new BodyDesc(capsuleShape(halfHeight, radius));
  }
  /** Point-set body (equal point masses, points are the contact points). */
  static points(points: readonly (readonly number[])[], radius = 0): BodyDesc {
    return new BodyDesc(pointsShape(points, radius));
  }
  /** Total mass (kg); default 1 unless a density is set. */
  setMass(m: number): this {
    this.mass = positive(m, 'body mass');
    return this;
  }
  /** Density (kg/m^3); mass = density * volume. */
  setDensity(rho: number): this {
    this.density = positive(rho, 'body density');
    return this;
  }
  /** Position of the shape's origin (the centre of mass for all but point sets). */
  setTranslation(x: number, y: number, z: number): this {
    this.translation = vec3([x, y, z], 'body translation');
    return this;
  }
  /** Orientation quaternion [x, y, z, w] (normalised here). */
  setRotation(x: number, y: number, z: number, w: number): this {
    const n = Math.hypot(x, y, z, w);
    if (!(n > 0) || !Number.isFinite(n)) throw new ModelError(`body rotation (${x}, ${y}, ${z}, ${w}) is not a valid quaternion`, 'body rotation');
    this.rotation = [x / n, y / n, z / n, w / n];
    return this;
  }
  /** Linear velocity (world frame). */
  setLinvel(x: number, y: number, z: number): this {
    this.linvel = vec3([x, y, z], 'body linvel');
    return this;
  }
  /** Angular velocity (world frame). */
  setAngvel(x: number, y: number, z: number): this {
    this.angvel = vec3([x, y, z], 'body angvel');
    return this;
  }
  /** Overrides the body-frame inertia (row-major 3x3, about the centre of mass). */
  setInertia(I: readonly number[]): this {
    if (I.length !== 9) throw new ModelError(`body inertia must have 9 entries, got ${I.length}`, 'body inertia');
    I.forEach((v, i) => fin(v, `body inertia[${i}]`));
    this.inertia = [...I];
    return this;
  }
}

/** The scalar contact parameters of a scene group, by field (from the table, params.ts): ke, kd, kf, mu. */
type GroupValues<G extends string> = Record<GroupField<G>, number>;

/**
 * Ground plane and contact parameters shared by all plane contacts: `height` (default 0)
 * and, from the parameter table (params.ts), ke (N/m, default 1e4), kd (N s/m, 100),
 * kf (N s/m, 100), mu (0.5).
 */
export type GroundOptions = { height?: number } & Partial<GroupValues<'ground'>>;

/** Body-body contact parameters, from the parameter table: ke, kd, kf, mu (defaults as the ground's). */
export type BodyContactOptions = Partial<GroupValues<'bodyContact'>>;

/** The values of scene group `group` given in `given`, else in `d`, each checked against its table constraint. */
function groupValues<G extends string>(group: G, given: Partial<GroupValues<G>>, d: GroupValues<G>): GroupValues<G> {
  const out = {} as GroupValues<G>;
  for (const [f, k] of groupParams(group)) {
    const v = given[f] ?? d[f];
    const why = constraintViolation(v, PARAMS[k].constraint);
    if (why !== null) throw new ModelError(`${group}.${f} ${why}`, `${group}.${f}`);
    out[f] = v;
  }
  return out;
}

/** Heightmap options: heights[j][i] at origin + (i, j) * cellSize; maps may be one number or [ny][nx]. */
export interface TerrainOptions {
  origin: [number, number];
  cellSize: number;
  heights: readonly (readonly number[])[];
  ke?: number | readonly (readonly number[])[];
  kd?: number | readonly (readonly number[])[];
  mu?: number | readonly (readonly number[])[];
  kf?: number;
}

/** Cloth grid options: nx x ny particles in the x-y plane at `origin`, springs between neighbours. */
export interface ClothOptions {
  origin: readonly number[];
  nx: number;
  ny: number;
  cellSize: number;
  /** Mass of each particle. */
  mass: number;
  radius?: number;
  ke: number;
  kd: number;
  /** Initial velocity of every particle. */
  vel?: readonly number[];
  /** Add diagonal (shear) springs (default true). */
  shear?: boolean;
  /** Add bending springs between particles two apart (default false). */
  bend?: boolean;
}

interface BodyRec {
  mass: number;
  inertia: number[];
  pos: Vec3;
  rot: Quat;
  vel: Vec3;
  angvel: Vec3;
  world: number;
  /** Body-body contact target: 0 sphere or point set, 1 box, 2 capsule; half extents; capsule radius. */
  shape: number;
  half: Vec3;
  shapeRadius: number;
}

/**
 * Builds a Model. Methods return indices (particles, bodies) or `this` (settings), in the
 * spirit of Rapier's descriptors and Warp's ModelBuilder.
 *
 * @example
 * const b = new ModelBuilder().setGround({ mu: 0.4 });
 * const box = b.addBody(BodyDesc.box(0.5, 0.5, 0.5).setMass(1).setTranslation(0, 0, 2));
 * const model = b.finalize();
 */
export class ModelBuilder {
  gravity: Vec3 = [...PARAMS.gravity.default] as Vec3;
  particleDrag: number = PARAMS.particleDrag.default;
  frictionEps = 1e-3;
  /** Contact smoothing for planning (0, 0: Warp's exact model); see `contactForce` in contact.ts. */
  contactSmoothing: ContactSmoothing = { damping: 0, friction: 0 };
  ground: ({ height: number } & GroupValues<'ground'>) | null = { height: 0, ...GROUND_DEFAULTS };
  /** Body-body contact parameters (null: off); the same soft model as the ground's. */
  bodyContact: GroupValues<'bodyContact'> | null = { ...BODY_CONTACT_DEFAULTS };
  walls: { normal: Vec3; offset: number }[] = [];
  terrain: { grid: TerrainGrid; heights: number[]; ke: number[]; kd: number[]; mu: number[]; kf: number } | null = null;
  particleQ: number[] = [];
  particleQd: number[] = [];
  particleMass: number[] = [];
  particleRadius: number[] = [];
  particleWorld: number[] = [];
  springIndices: number[] = [];
  springKe: number[] = [];
  springKd: number[] = [];
  springRest: number[] = [];
  bodies: BodyRec[] = [];
  contactBody: number[] = [];
  contactPoint: number[] = [];
  contactRadius: number[] = [];
  contactTrack: number[] = [];
  trackBody: number[] = [];
  trackDir: number[] = [];
  worldCount = 1;
  private currentWorld = 0;

  constructor(
    opts: {
      gravity?: readonly number[];
      particleDrag?: number;
      frictionEps?: number;
      /**
       * Smooth the contact model for gradient-based planning: `damping` (m/s) replaces
       * min(vn, 0) in kd*min(vn, 0) by a smooth minimum of that width; `friction` (an exponent
       * p, e.g. 4) replaces min(kf |vt|, mu |fn|) by the p-norm soft minimum. 0 (default): exact.
       */
      contactSmoothing?: Partial<ContactSmoothing>;
    } = {},
  ) {
    if (opts.gravity) this.gravity = vec3(opts.gravity, 'gravity');
    if (opts.particleDrag !== undefined) this.particleDrag = nonNegative(opts.particleDrag, 'particleDrag');
    if (opts.frictionEps !== undefined) this.frictionEps = positive(opts.frictionEps, 'frictionEps');
    if (opts.contactSmoothing) {
      this.contactSmoothing = {
        damping: nonNegative(opts.contactSmoothing.damping ?? 0, 'contactSmoothing.damping'),
        friction: nonNegative(opts.contactSmoothing.friction ?? 0, 'contactSmoothing.friction'),
      };
      if (opts.contactSmoothing.penetration !== undefined)
        this.contactSmoothing.penetration = nonNegative(opts.contactSmoothing.penetration, 'contactSmoothing.penetration');
      if (opts.contactSmoothing.terrain !== undefined) {
        const t = opts.contactSmoothing.terrain;
        if (t !== 'bilinear' && t !== 'spline')
          throw new ModelError(`contactSmoothing.terrain = ${String(t)} must be 'bilinear' or 'spline'`, 'contactSmoothing.terrain');
        this.contactSmoothing.terrain = t;
      }
    }
  }

  /**
   * Sets the body-body contact parameters (per contact point, the ground's soft model; default
   * ke 1e4, kd 100, kf 100, mu 0.5); `false` turns body-body contact off.
   */
  setBodyContact(c: BodyContactOptions | false): this {
    if (c === false) {
      this.bodyContact = null;
      return this;
    }
    this.bodyContact = groupValues('bodyContact', c, this.bodyContact ?? BODY_CONTACT_DEFAULTS);
    return this;
  }

  /** Sets the ground plane z = height and the plane-contact parameters; `false` removes the ground. */
  setGround(g: GroundOptions | false): this {
    if (g === false) {
      this.ground = null;
      return this;
    }
    const d = this.ground ?? { height: 0, ...GROUND_DEFAULTS };
    this.ground = { height: fin(g.height ?? d.height, 'ground.height'), ...groupValues('ground', g, d) };
    return this;
  }

  /** Adds a wall: the half-space n . x >= offset is free, contact uses the ground parameters. */
  addWall(normal: readonly number[], offset: number): this {
    const n = vec3(normal, `walls[${this.walls.length}].normal`);
    const l = Math.hypot(...n);
    if (!(l > 0)) throw new ModelError(`walls[${this.walls.length}].normal must be non-zero`, `walls[${this.walls.length}].normal`);
    this.walls.push({ normal: [n[0] / l, n[1] / l, n[2] / l], offset: fin(offset, `walls[${this.walls.length}].offset`) });
    return this;
  }

  /** Sets the heightmap terrain; map sizes must match the heights grid. */
  setTerrain(t: TerrainOptions): this {
    const ny = t.heights.length;
    const nx = t.heights[0]?.length ?? 0;
    if (nx < 2 || ny < 2) throw new ModelError(`terrain.heights must be at least 2 x 2, got ${ny} x ${nx}`, 'terrain.heights');
    positive(t.cellSize, 'terrain.cellSize');
    const flat = (m: number | readonly (readonly number[])[] | undefined, def: number, name: string, nonNeg: boolean): number[] => {
      if (m === undefined) return new Array<number>(nx * ny).fill(def);
      if (typeof m === 'number') return new Array<number>(nx * ny).fill(nonNeg ? nonNegative(m, `terrain.${name}`) : fin(m, `terrain.${name}`));
      if (m.length !== ny) throw new ModelError(`terrain.${name} has ${m.length} rows, expected ${ny} (as terrain.heights)`, `terrain.${name}`);
      const out: number[] = [];
      m.forEach((row, j) => {
        if (row.length !== nx) throw new ModelError(`terrain.${name}[${j}] has ${row.length} entries, expected ${nx}`, `terrain.${name}[${j}]`);
        row.forEach((v, i) => out.push(nonNeg ? nonNegative(v, `terrain.${name}[${j}][${i}]`) : fin(v, `terrain.${name}[${j}][${i}]`)));
      });
      return out;
    };
    this.terrain = {
      grid: { nx, ny, origin: [fin(t.origin[0], 'terrain.origin[0]'), fin(t.origin[1], 'terrain.origin[1]')], cellSize: t.cellSize },
      heights: flat(t.heights, 0, 'heights', false),
      ke: flat(t.ke, TERRAIN_DEFAULTS.ke, 'ke', true),
      kd: flat(t.kd, TERRAIN_DEFAULTS.kd, 'kd', true),
      mu: flat(t.mu, TERRAIN_DEFAULTS.mu, 'mu', true),
      kf: nonNegative(t.kf ?? TERRAIN_DEFAULTS.kf, 'terrain.kf'),
    };
    return this;
  }

  /** Adds a particle; returns its index. */
  addParticle(pos: readonly number[], vel: readonly number[], mass: number, radius = 0): number {
    const i = this.particleMass.length;
    this.particleQ.push(...vec3(pos, `particle ${i} position`));
    this.particleQd.push(...vec3(vel, `particle ${i} velocity`));
    this.particleMass.push(positive(mass, `particle ${i} mass`));
    this.particleRadius.push(nonNegative(radius, `particle ${i} radius`));
    this.particleWorld.push(this.currentWorld);
    return i;
  }

  /** Adds a damped spring between particles i and j; rest length defaults to their current distance. */
  addSpring(i: number, j: number, ke: number, kd: number, rest?: number): number {
    const s = this.springKe.length;
    const n = this.particleMass.length;
    for (const [v, name] of [
      [i, 'i'],
      [j, 'j'],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= n)
        throw new ModelError(`spring ${s}: particle index ${name} = ${v} is out of range [0, ${n})`, `springs[${s}].${name}`);
    }
    if (i === j) throw new ModelError(`spring ${s}: both ends are particle ${i}`, `springs[${s}]`);
    const d = Math.hypot(
      this.particleQ[3 * i]! - this.particleQ[3 * j]!,
      this.particleQ[3 * i + 1]! - this.particleQ[3 * j + 1]!,
      this.particleQ[3 * i + 2]! - this.particleQ[3 * j + 2]!,
    );
    const l = rest ?? d;
    if (!(l > 0)) throw new ModelError(`spring ${s}: rest length ${l} must be > 0`, `springs[${s}].rest`);
    this.springIndices.push(i, j);
    this.springKe.push(nonNegative(ke, `springs[${s}].ke`));
    this.springKd.push(nonNegative(kd, `springs[${s}].kd`));
    this.springRest.push(l);
    return s;
  }

  /** Adds a spring-mass cloth grid; returns the index of its first particle (row-major, x fastest). */
  addClothGrid(c: ClothOptions): number {
    if (!Number.isInteger(c.nx) || !Number.isInteger(c.ny) || c.nx < 2 || c.ny < 2)
      throw new ModelError(`cloth dims ${c.nx} x ${c.ny} must be integers >= 2`, 'cloth.dims');
    positive(c.cellSize, 'cloth.cellSize');
    const o = vec3(c.origin, 'cloth.origin');
    const v = c.vel ? vec3(c.vel, 'cloth.vel') : ([0, 0, 0] as Vec3);
    const first = this.particleMass.length;
    for (let j = 0; j < c.ny; j++)
      for (let i = 0; i < c.nx; i++) this.addParticle([o[0] + i * c.cellSize, o[1] + j * c.cellSize, o[2]], v, c.mass, c.radius ?? 0);
    const id = (i: number, j: number): number => first + j * c.nx + i;
    for (let j = 0; j < c.ny; j++) {
      for (let i = 0; i < c.nx; i++) {
        if (i + 1 < c.nx) this.addSpring(id(i, j), id(i + 1, j), c.ke, c.kd);
        if (j + 1 < c.ny) this.addSpring(id(i, j), id(i, j + 1), c.ke, c.kd);
        if ((c.shear ?? true) && i + 1 < c.nx && j + 1 < c.ny) {
          this.addSpring(id(i, j), id(i + 1, j + 1), c.ke, c.kd);
          this.addSpring(id(i + 1, j), id(i, j + 1), c.ke, c.kd);
        }
        if (c.bend) {
          if (i + 2 < c.nx) this.addSpring(id(i, j), id(i + 2, j), c.ke, c.kd);
          if (j + 2 < c.ny) this.addSpring(id(i, j), id(i, j + 2), c.ke, c.kd);
        }
      }
    }
    return first;
  }

  /** Adds a rigid body; returns its index. Its contact points come from its shape. */
  addBody(desc: BodyDesc): number {
    const bi = this.bodies.length;
    const sh = desc.shape;
    const mass = desc.mass ?? (desc.density !== null && sh.volume > 0 ? desc.density * sh.volume : 1);
    positive(mass, `body ${bi} mass`);
    const I = desc.inertia ?? sh.unitInertia.map((v) => v * mass);
    // the centre of mass of a point set sits at the centroid: move it to world coordinates
    const [qx, qy, qz, qw] = desc.rotation;
    const c = sh.com;
    const tx = 2 * (qy * c[2] - qz * c[1]);
    const ty = 2 * (qz * c[0] - qx * c[2]);
    const tz = 2 * (qx * c[1] - qy * c[0]);
    const rc: Vec3 = [c[0] + qw * tx + (qy * tz - qz * ty), c[1] + qw * ty + (qz * tx - qx * tz), c[2] + qw * tz + (qx * ty - qy * tx)];
    const pos: Vec3 = [desc.translation[0] + rc[0], desc.translation[1] + rc[1], desc.translation[2] + rc[2]];
    this.bodies.push({
      mass,
      inertia: I,
      pos,
      rot: [...desc.rotation],
      vel: [...desc.linvel],
      angvel: [...desc.angvel],
      world: this.currentWorld,
      shape: sh.kind === 'box' ? 1 : sh.kind === 'capsule' ? 2 : 0,
      half: sh.half ?? [0, 0, 0],
      shapeRadius: sh.kind === 'capsule' ? sh.radii[0]! : 0,
    });
    sh.points.forEach((p, k) => {
      this.contactBody.push(bi);
      this.contactPoint.push(...p);
      this.contactRadius.push(sh.radii[k]!);
      this.contactTrack.push(-1);
    });
    return bi;
  }

  /** Contact point indices (global) of body `body`, in shape order. */
  bodyContacts(body: number): number[] {
    const out: number[] = [];
    this.contactBody.forEach((b, k) => {
      if (b === body) out.push(k);
    });
    return out;
  }

  /**
   * Declares a track of `body`: its contact points `points` (indices into the body's own
   * contact points) are driven along body-frame `direction` by Control.trackF. Returns the track index.
   */
  addTrack(body: number, points: readonly number[], direction: readonly number[] = [1, 0, 0]): number {
    if (!Number.isInteger(body) || body < 0 || body >= this.bodies.length)
      throw new ModelError(`addTrack: body ${body} is out of range [0, ${this.bodies.length})`, 'track.body');
    const own = this.bodyContacts(body);
    const t = this.trackBody.length;
    const d = vec3(direction, `tracks[${t}].direction`);
    const l = Math.hypot(...d);
    if (!(l > 0)) throw new ModelError(`tracks[${t}].direction must be non-zero`, `tracks[${t}].direction`);
    points.forEach((p, i) => {
      const k = own[p];
      if (!Number.isInteger(p) || k === undefined)
        throw new ModelError(`tracks[${t}].points[${i}] = ${p} is out of range [0, ${own.length})`, `tracks[${t}].points[${i}]`);
      if (this.contactTrack[k] !== -1)
        throw new ModelError(`tracks[${t}].points[${i}] = ${p} already belongs to track ${this.contactTrack[k]}`, `tracks[${t}].points[${i}]`);
      this.contactTrack[k] = t;
    });
    this.trackBody.push(body);
    this.trackDir.push(d[0] / l, d[1] / l, d[2] / l);
    return t;
  }

  /**
   * Copies every particle, spring, body and track of `other` into this builder as a new
   * world (Warp's add_builder), shifted by `offset`. Ground, walls and terrain are shared.
   */
  addBuilder(other: ModelBuilder, offset: readonly number[] = [0, 0, 0]): this {
    const o = vec3(offset, 'addBuilder offset');
    const world = this.particleMass.length === 0 && this.bodies.length === 0 && this.worldCount === 1 ? 0 : this.worldCount++;
    const p0 = this.particleMass.length;
    const b0 = this.bodies.length;
    const t0 = this.trackBody.length;
    for (let i = 0; i < other.particleMass.length; i++) {
      this.particleQ.push(other.particleQ[3 * i]! + o[0], other.particleQ[3 * i + 1]! + o[1], other.particleQ[3 * i + 2]! + o[2]);
      this.particleQd.push(other.particleQd[3 * i]!, other.particleQd[3 * i + 1]!, other.particleQd[3 * i + 2]!);
      this.particleMass.push(other.particleMass[i]!);
      this.particleRadius.push(other.particleRadius[i]!);
      this.particleWorld.push(world);
    }
    other.springIndices.forEach((v) => this.springIndices.push(v + p0));
    this.springKe.push(...other.springKe);
    this.springKd.push(...other.springKd);
    this.springRest.push(...other.springRest);
    for (const b of other.bodies) this.bodies.push({ ...b, pos: [b.pos[0] + o[0], b.pos[1] + o[1], b.pos[2] + o[2]], world });
    other.contactBody.forEach((b) => this.contactBody.push(b + b0));
    this.contactPoint.push(...other.contactPoint);
    this.contactRadius.push(...other.contactRadius);
    other.contactTrack.forEach((t) => this.contactTrack.push(t < 0 ? -1 : t + t0));
    other.trackBody.forEach((b) => this.trackBody.push(b + b0));
    this.trackDir.push(...other.trackDir);
    this.currentWorld = this.worldCount - 1;
    return this;
  }

  /** Builds the Model (parameters as float64 leaves) and validates it. */
  finalize(): Model {
    const np = this.particleMass.length;
    const nb = this.bodies.length;
    const nc = this.contactBody.length;
    const ns = this.springKe.length;
    const planes: { normal: Vec3; offset: number }[] = [];
    if (this.ground) planes.push({ normal: [0, 0, 1], offset: this.ground.height });
    planes.push(...this.walls);
    const g = this.ground ?? { height: 0, ...GROUND_DEFAULTS };
    const T = this.terrain;
    const bc = this.bodyContact ?? BODY_CONTACT_DEFAULTS;
    // each table parameter's values (flat); shapes come from the table
    const values: Partial<Record<ModelParamName, readonly number[]>> = {
      particleMass: this.particleMass,
      particleRadius: this.particleRadius,
      springKe: this.springKe,
      springKd: this.springKd,
      springRest: this.springRest,
      gravity: this.gravity,
      particleDrag: [this.particleDrag],
      planeOffset: planes.map((p) => p.offset),
      terrainHeights: T ? T.heights : [],
      terrainKe: T ? T.ke : [],
      terrainKd: T ? T.kd : [],
      terrainMu: T ? T.mu : [],
      terrainKf: [T ? T.kf : 0],
      bodyMass: this.bodies.map((b) => b.mass),
      bodyInertia: this.bodies.flatMap((b) => b.inertia),
      contactPoint: this.contactPoint,
      contactRadius: this.contactRadius,
    };
    // the scalar parameters of the ground and body-contact groups, by their table scene keys
    for (const [f, k] of groupParams('ground')) values[k] = [g[f]];
    for (const [f, k] of groupParams('bodyContact')) values[k] = [bc[f]];
    const counts: ParamCounts = { particleCount: np, springCount: ns, bodyCount: nb, contactCount: nc, planeCount: planes.length, terrain: T ? T.grid : null };
    const params = {} as Record<ModelParamName, Tensor>;
    for (const k of MODEL_PARAMS) {
      const v = values[k];
      if (!v) throw new ModelError(`finalize: no values for parameter ${k} (params.ts entry without a source in the builder)`, k);
      params[k] = new Tensor(Float64Array.from(v), PARAMS[k].shape(counts));
    }
    const model = new Model({
      particleCount: np,
      springCount: ns,
      bodyCount: nb,
      contactCount: nc,
      trackCount: this.trackBody.length,
      planeCount: planes.length,
      worldCount: this.worldCount,
      particleWorld: Int32Array.from(this.particleWorld),
      bodyWorld: Int32Array.from(this.bodies.map((b) => b.world)),
      springIndices: Int32Array.from(this.springIndices),
      planeNormal: Float64Array.from(planes.flatMap((p) => p.normal)),
      terrain: T ? T.grid : null,
      contactBody: Int32Array.from(this.contactBody),
      contactTrack: Int32Array.from(this.contactTrack),
      trackBody: Int32Array.from(this.trackBody),
      trackDir: Float64Array.from(this.trackDir),
      frictionEps: this.frictionEps,
      contactSmoothing: { ...this.contactSmoothing },
      bodyContact: this.bodyContact !== null,
      bodyShape: Int32Array.from(this.bodies.map((b) => b.shape)),
      bodyShapeHalf: Float64Array.from(this.bodies.flatMap((b) => b.half)),
      bodyShapeRadius: Float64Array.from(this.bodies.map((b) => b.shapeRadius)),
      params,
      initial: {
        particleQ: Float64Array.from(this.particleQ),
        particleQd: Float64Array.from(this.particleQd),
        bodyPos: Float64Array.from(this.bodies.flatMap((b) => b.pos)),
        bodyRot: Float64Array.from(this.bodies.flatMap((b) => b.rot)),
        bodyVel: Float64Array.from(this.bodies.flatMap((b) => b.vel)),
        bodyAngVel: Float64Array.from(this.bodies.flatMap((b) => b.angvel)),
      },
    });
    model.validate();
    return model;
  }
}
