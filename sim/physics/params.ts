// The one table of the engine's physical parameters (sim/physics, layer sim): each parameter
// declared once with its shape, constraint, default, scene key and whether it is
// differentiable. MODEL_PARAMS (the order the fused step takes them), Model's accessors and
// validate(), ModelData's parameter views, the builder's defaults and the scene schema's
// group objects (ground, bodyContact, terrain maps) are all derived from it.

/** Counts a parameter's shape is made of (a Model's, or a builder's before finalize). */
export interface ParamCounts {
  particleCount: number;
  springCount: number;
  bodyCount: number;
  contactCount: number;
  planeCount: number;
  /** Heightmap grid size, or null without a terrain (its maps are then [0, 0]). */
  terrain: { nx: number; ny: number } | null;
}

/** Value constraint of every entry: any finite number, > 0, or >= 0. */
export type ParamConstraint = 'finite' | 'positive' | 'nonNegative';

/** Declaration of one physical parameter. */
export interface ParamSpec {
  /** Shape from the model's counts ([] for a scalar). */
  shape: (c: ParamCounts) => number[];
  /** Constraint on every entry (validate(), the builder and the scene schema check it). */
  constraint: ParamConstraint;
  /** Default of a group or map parameter (builder and scene); undefined where every entity gives its own. */
  default?: number | readonly number[];
  /**
   * Where a scene file sets it: `group.field` for a group parameter (`ground.mu`), a top-level
   * key (`gravity`), or a list path with `[]` (`springs[].ke`) for per-entity values.
   */
  scene: string;
  /** Whether gradients reach it (every table entry is a float64 Tensor of the Model). */
  differentiable: boolean;
  /**
   * A per-cell map of the terrain grid ([ny, nx]): the scene gives it as rows of numbers, or,
   * where the table has a default, as one number for every cell. Absent for other shapes.
   */
  perCell?: true;
  /** Physical meaning and unit. */
  doc: string;
}

const scalar = (): [] => [];
const terrainMap = (c: ParamCounts): number[] => (c.terrain ? [c.terrain.ny, c.terrain.nx] : [0, 0]);

/**
 * The parameter table. Order matters: it is MODEL_PARAMS, the order the fused step and
 * `Model.tensors()` take them in. Adding a parameter: one entry here, its physics in a
 * kernel (and its adjoint), and where it comes from in the builder (docs/ARCHITECTURE.md).
 */
export const PARAMS = {
  particleMass: { shape: (c) => [c.particleCount], constraint: 'positive', scene: 'particles[].mass', differentiable: true, doc: 'particle mass (kg)' },
  particleRadius: {
    shape: (c) => [c.particleCount],
    constraint: 'nonNegative',
    scene: 'particles[].radius',
    differentiable: true,
    doc: 'particle contact radius (m)',
  },
  springKe: { shape: (c) => [c.springCount], constraint: 'nonNegative', scene: 'springs[].ke', differentiable: true, doc: 'spring stiffness (N/m)' },
  springKd: { shape: (c) => [c.springCount], constraint: 'nonNegative', scene: 'springs[].kd', differentiable: true, doc: 'spring damping (N s/m)' },
  springRest: { shape: (c) => [c.springCount], constraint: 'finite', scene: 'springs[].rest', differentiable: true, doc: 'spring rest length (m)' },
  gravity: { shape: () => [3], constraint: 'finite', default: [0, 0, -9.81], scene: 'gravity', differentiable: true, doc: 'gravity (m/s^2)' },
  particleDrag: { shape: scalar, constraint: 'nonNegative', default: 0, scene: 'particleDrag', differentiable: true, doc: 'linear drag of particles (N s/m)' },
  planeOffset: {
    shape: (c) => [c.planeCount],
    constraint: 'finite',
    scene: 'ground.height, walls[].offset',
    differentiable: true,
    doc: 'offset of each contact plane along its normal (m)',
  },
  groundKe: { shape: scalar, constraint: 'nonNegative', default: 1e4, scene: 'ground.ke', differentiable: true, doc: 'ground contact stiffness (N/m)' },
  groundKd: { shape: scalar, constraint: 'nonNegative', default: 100, scene: 'ground.kd', differentiable: true, doc: 'ground contact damping (N s/m)' },
  groundKf: { shape: scalar, constraint: 'nonNegative', default: 100, scene: 'ground.kf', differentiable: true, doc: 'ground friction stiffness (N s/m)' },
  groundMu: { shape: scalar, constraint: 'nonNegative', default: 0.5, scene: 'ground.mu', differentiable: true, doc: 'ground Coulomb friction coefficient' },
  terrainHeights: {
    shape: terrainMap,
    perCell: true,
    constraint: 'finite',
    scene: 'terrain.heights',
    differentiable: true,
    doc: 'heightmap heights (m), [ny, nx]',
  },
  terrainKe: {
    shape: terrainMap,
    perCell: true,
    constraint: 'nonNegative',
    default: 1e4,
    scene: 'terrain.ke',
    differentiable: true,
    doc: 'terrain stiffness map (N/m)',
  },
  terrainKd: {
    shape: terrainMap,
    perCell: true,
    constraint: 'nonNegative',
    default: 100,
    scene: 'terrain.kd',
    differentiable: true,
    doc: 'terrain damping map (N s/m)',
  },
  terrainMu: {
    shape: terrainMap,
    perCell: true,
    constraint: 'nonNegative',
    default: 0.5,
    scene: 'terrain.mu',
    differentiable: true,
    doc: 'terrain friction map',
  },
  terrainKf: { shape: scalar, constraint: 'nonNegative', default: 100, scene: 'terrain.kf', differentiable: true, doc: 'terrain friction stiffness (N s/m)' },
  bodyMass: { shape: (c) => [c.bodyCount], constraint: 'positive', scene: 'bodies[].mass', differentiable: true, doc: 'body mass (kg)' },
  bodyInertia: {
    shape: (c) => [c.bodyCount, 3, 3],
    constraint: 'finite',
    scene: 'bodies[].shape',
    differentiable: true,
    doc: 'body inertia about the centre of mass, body frame (kg m^2)',
  },
  contactPoint: {
    shape: (c) => [c.contactCount, 3],
    constraint: 'finite',
    scene: 'bodies[].shape',
    differentiable: true,
    doc: 'contact points in the body frame (m)',
  },
  contactRadius: { shape: (c) => [c.contactCount], constraint: 'nonNegative', scene: 'bodies[].shape', differentiable: true, doc: 'contact point radius (m)' },
  bodyKe: { shape: scalar, constraint: 'nonNegative', default: 1e4, scene: 'bodyContact.ke', differentiable: true, doc: 'body-body contact stiffness (N/m)' },
  bodyKd: { shape: scalar, constraint: 'nonNegative', default: 100, scene: 'bodyContact.kd', differentiable: true, doc: 'body-body contact damping (N s/m)' },
  bodyKf: {
    shape: scalar,
    constraint: 'nonNegative',
    default: 100,
    scene: 'bodyContact.kf',
    differentiable: true,
    doc: 'body-body friction stiffness (N s/m)',
  },
  bodyMu: {
    shape: scalar,
    constraint: 'nonNegative',
    default: 0.5,
    scene: 'bodyContact.mu',
    differentiable: true,
    doc: 'body-body Coulomb friction coefficient',
  },
} as const satisfies Record<string, ParamSpec>;

/** Name of one differentiable Model tensor. */
export type ModelParamName = keyof typeof PARAMS;

/** Names of the differentiable Model tensors, in the order the fused step takes them (the table's order). */
export const MODEL_PARAMS = Object.keys(PARAMS) as ModelParamName[];

/** Names of the scalar parameters (shape []): the kernels read them as plain numbers. */
export type ScalarParamName = { [K in ModelParamName]: (typeof PARAMS)[K]['shape'] extends typeof scalar ? K : never }[ModelParamName];

/** The kernels' view of every table parameter: a number for a scalar, the tensor's Float64Array otherwise. */
export type ParamViews = { [K in ModelParamName]: K extends ScalarParamName ? number : Float64Array };

/** The declaration of parameter `k`. */
export function paramSpec(k: ModelParamName): ParamSpec {
  return PARAMS[k];
}

/** Parameters a scene group (`ground`, `bodyContact`, `terrain`) sets, by field name: `ground` -> { ke: 'groundKe', ... }. */
type GroupOf<G extends string> = {
  [K in ModelParamName]: (typeof PARAMS)[K]['scene'] extends `${G}.${infer F}` ? (F extends `${string}.${string}` | `${string} ${string}` ? never : F) : never;
}[ModelParamName];

/** Field names of a scene group, e.g. 'ke' | 'kd' | 'kf' | 'mu' for 'ground'. */
export type GroupField<G extends string> = GroupOf<G>;

/** The parameters set by scene group `group` (e.g. 'ground'): [field, parameter] pairs in table order. */
export function groupParams<G extends string>(group: G): [GroupField<G>, ModelParamName][] {
  const out: [GroupField<G>, ModelParamName][] = [];
  for (const k of MODEL_PARAMS) {
    const s = PARAMS[k].scene;
    if (s.startsWith(`${group}.`) && !s.includes(',')) out.push([s.slice(group.length + 1) as GroupField<G>, k]);
  }
  return out;
}

/** The parameter that scene field `group.field` sets, e.g. 'terrainMu' for ('terrain', 'mu'). */
export type ParamOfField<G extends string, F extends string> = {
  [K in ModelParamName]: (typeof PARAMS)[K]['scene'] extends `${G}.${F}` ? K : never;
}[ModelParamName];

/** The table's default of each field of scene group `group` that has a scalar default: { ke: 1e4, kd: 100, ... }. */
export function groupDefaults<G extends string>(group: G): Record<GroupField<G>, number> {
  const out = {} as Record<GroupField<G>, number>;
  for (const [f, k] of groupParams(group)) {
    const d = (PARAMS[k] as ParamSpec).default;
    if (typeof d === 'number') out[f] = d;
  }
  return out;
}

/** Why value `v` breaks `constraint` (null when it holds). */
export function constraintViolation(v: number, constraint: ParamConstraint): string | null {
  if (!Number.isFinite(v)) return `is ${v}, expected a finite number`;
  if (constraint === 'positive' && !(v > 0)) return `= ${v} must be > 0`;
  if (constraint === 'nonNegative' && !(v >= 0)) return `= ${v} must be >= 0`;
  return null;
}

/**
 * Index of the first entry of `d` that breaks `constraint` (as `constraintViolation` judges
 * it), or -1: one loop per constraint, so checking a large parameter stays a plain scan.
 */
export function firstViolation(d: Float64Array, constraint: ParamConstraint): number {
  const n = d.length;
  if (constraint === 'positive') {
    for (let i = 0; i < n; i++) if (!(d[i]! > 0 && d[i]! !== Infinity)) return i;
  } else if (constraint === 'nonNegative') {
    for (let i = 0; i < n; i++) if (!(d[i]! >= 0 && d[i]! !== Infinity)) return i;
  } else {
    for (let i = 0; i < n; i++) if (!(d[i]! - d[i]! === 0)) return i;
  }
  return -1;
}
