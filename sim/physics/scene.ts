// Scene files (sim/physics, layer sim): a JSON description of a world (ground, walls,
// terrain, particles, springs, cloth, bodies with tracks, constant controls, time step),
// validated with zod, then built into a Model. Every error names the file and the JSON path
// of the field at fault (`springs[2].j: particle index 7 is out of range [0, 4)`).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { tensor } from '../core/index.ts';
import { BodyDesc, ModelBuilder } from './builder.ts';
import { ModelError, SceneError } from './errors.ts';
import { Control, type Model } from './model.ts';
import { PARAMS, groupParams, type GroupField, type ParamConstraint, type ParamOfField, type ParamSpec } from './params.ts';

const num = z.number();
const nonNeg = z.number().min(0);
const pos = z.number().positive();
const int = z.number().int();
const vec3 = z.tuple([num, num, num]);

/** The zod number schema of a table constraint (params.ts). */
const ZOD_OF: Record<ParamConstraint, z.ZodNumber> = { finite: num, positive: pos, nonNegative: nonNeg };

/** Zod schema of a per-cell map: rows of numbers. */
type CellMap = z.ZodArray<z.ZodArray<z.ZodNumber>>;

/**
 * Zod schema of table parameter K in its scene group: a per-cell map is rows of numbers
 * (required where the table has no default, else optional and also one number for every
 * cell); any other is an optional number.
 */
type TableField<K extends keyof typeof PARAMS> = (typeof PARAMS)[K] extends { perCell: true }
  ? (typeof PARAMS)[K] extends { default: number }
    ? z.ZodOptional<z.ZodUnion<[z.ZodNumber, CellMap]>>
    : CellMap
  : z.ZodOptional<z.ZodNumber>;

/** The fields of scene group `group` (e.g. terrain.heights, terrain.mu, terrain.kf), one per table parameter with that scene key, with its constraint. */
function tableFields<G extends string>(group: G): { [F in GroupField<G>]: TableField<ParamOfField<G, F>> } {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const [f, k] of groupParams(group)) {
    const spec: ParamSpec = PARAMS[k];
    const n = ZOD_OF[spec.constraint];
    if (!spec.perCell) shape[f] = n.optional();
    else shape[f] = spec.default === undefined ? z.array(z.array(n)) : z.union([n, z.array(z.array(n))]).optional();
  }
  return shape as { [F in GroupField<G>]: TableField<ParamOfField<G, F>> };
}

const ShapeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sphere'), radius: pos }).strict(),
  z.object({ type: z.literal('box'), halfExtents: z.tuple([pos, pos, pos]) }).strict(),
  z.object({ type: z.literal('capsule'), halfHeight: pos, radius: pos }).strict(),
  z.object({ type: z.literal('points'), points: z.array(vec3).min(1), radius: nonNeg.optional() }).strict(),
]);

/** The zod schema of a scene file. */
export const SceneSchema = z
  .object({
    name: z.string().optional(),
    /** Step length (s), default 1/60. */
    dt: pos.optional(),
    /** Number of steps, default 100. */
    steps: int.min(0).optional(),
    /** Substeps per step; default: chosen from the stability bound (stability.ts). */
    substeps: int.min(1).optional(),
    /** Keep every K-th state only (checkpointed rollout). */
    checkpointEvery: int.min(1).optional(),
    gravity: vec3.optional(),
    particleDrag: ZOD_OF[PARAMS.particleDrag.constraint].optional(),
    frictionEps: pos.optional(),
    /** Contact smoothing for planning: damping width (m/s), friction soft-min power (e.g. 4), softplus penetration width (m), terrain 'spline'; default exact. */
    contactSmoothing: z
      .object({ damping: nonNeg.optional(), friction: nonNeg.optional(), penetration: nonNeg.optional(), terrain: z.enum(['bilinear', 'spline']).optional() })
      .strict()
      .optional(),
    ground: z.union([z.literal(false), z.object({ height: num.optional(), ...tableFields('ground') }).strict()]).optional(),
    /** Body-body contact parameters (default ke 1e4, kd 100, kf 100, mu 0.5), or false to turn it off. */
    bodyContact: z.union([z.literal(false), z.object(tableFields('bodyContact')).strict()]).optional(),
    walls: z.array(z.object({ normal: vec3, offset: num }).strict()).optional(),
    terrain: z
      .object({ origin: z.tuple([num, num]), cellSize: pos, ...tableFields('terrain') })
      .strict()
      .optional(),
    particles: z.array(z.object({ pos: vec3, vel: vec3.optional(), mass: pos, radius: nonNeg.optional() }).strict()).optional(),
    springs: z.array(z.object({ i: int.min(0), j: int.min(0), ke: nonNeg, kd: nonNeg.optional(), rest: pos.optional() }).strict()).optional(),
    cloth: z
      .array(
        z
          .object({
            origin: vec3,
            dims: z.tuple([int.min(2), int.min(2)]),
            cellSize: pos,
            mass: pos,
            radius: nonNeg.optional(),
            ke: nonNeg,
            kd: nonNeg,
            vel: vec3.optional(),
            shear: z.boolean().optional(),
            bend: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    bodies: z
      .array(
        z
          .object({
            shape: ShapeSchema,
            mass: pos.optional(),
            density: pos.optional(),
            pos: vec3.optional(),
            rot: z.tuple([num, num, num, num]).optional(),
            vel: vec3.optional(),
            angVel: vec3.optional(),
            tracks: z.array(z.object({ points: z.array(int.min(0)).min(1), direction: vec3.optional() }).strict()).optional(),
          })
          .strict(),
      )
      .optional(),
    /** Constant controls applied at every step. */
    control: z
      .object({
        particleF: z.array(vec3).optional(),
        bodyF: z.array(vec3).optional(),
        bodyT: z.array(vec3).optional(),
        trackF: z.array(num).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A validated scene. */
export type Scene = z.infer<typeof SceneSchema>;

function fmtPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s || '(root)';
}

/** The value at `path` inside `root` (undefined where the path leaves it). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

interface FlatIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * The most specific issue behind a zod issue: a union (`ground` is `false` or an object, a
 * map is a number or a grid) reports only "Invalid input" at its own path; the branch that
 * got deepest into the value names the actual field.
 */
function deepest(issue: z.core.$ZodIssue, base: readonly PropertyKey[] = []): FlatIssue {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    let best: FlatIssue | null = null;
    for (const branch of issue.errors) {
      if (branch.length === 0) continue;
      const d = deepest(branch[0]!, path);
      if (!best || d.path.length > best.path.length) best = d;
    }
    if (best && best.path.length > path.length) return best;
  }
  return { path, message: issue.message };
}

/** A reason for a non-number where a number belongs (JSON has no NaN or Infinity; 1e999 parses as Infinity). */
function numberReason(v: unknown): string | null {
  if (typeof v === 'number' && !Number.isFinite(v)) return `is ${v} (out of the float64 range), expected a finite number`;
  if (typeof v === 'string' && /^\s*[-+]?(nan|inf|infinity)\s*$/i.test(v))
    return `is the string "${v}", expected a finite number (JSON has no NaN or Infinity)`;
  return null;
}

/** Validates a parsed JSON value as a scene; throws a SceneError naming the first bad field and why. */
export function parseScene(value: unknown, file?: string): Scene {
  const r = SceneSchema.safeParse(value);
  if (!r.success) {
    const issue = deepest(r.error.issues[0]!);
    const path = fmtPath(issue.path);
    const message = numberReason(valueAt(value, issue.path)) ?? issue.message;
    throw new SceneError(`${file ? `${file}: ` : ''}${path}: ${message}`, path, file);
  }
  return r.data;
}

/** Reads and validates a scene file. */
export function loadScene(file: string): Scene {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SceneError(`${file}: cannot read scene file (${(e as Error).message})`, '(file)', file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SceneError(`${file}: invalid JSON (${(e as Error).message})`, '(file)', file);
  }
  return parseScene(json, file);
}

/** A scene built into a model, with its constant control and time settings. */
export interface BuiltScene {
  model: Model;
  control: Control | null;
  dt: number;
  steps: number;
  /** Substeps per step from the file (null: not given, chosen from the stability bound by `sim run`). */
  substeps: number | null;
  checkpointEvery: number | undefined;
}

function fail(file: string | undefined, path: string, msg: string): never {
  throw new SceneError(`${file ? `${file}: ` : ''}${path}: ${msg}`, path, file);
}

function checkMap(file: string | undefined, m: number | readonly (readonly number[])[] | undefined, ny: number, nx: number, path: string): void {
  if (m === undefined || typeof m === 'number') return;
  if (m.length !== ny) fail(file, path, `has ${m.length} rows, expected ${ny} (the rows of terrain.heights)`);
  m.forEach((row, j) => {
    if (row.length !== nx) fail(file, `${path}[${j}]`, `has ${row.length} entries, expected ${nx} (the columns of terrain.heights)`);
  });
}

/** Builds a validated scene into a Model (and its constant Control); errors name the scene path. */
export function buildScene(scene: Scene, file?: string): BuiltScene {
  const b = new ModelBuilder({
    gravity: scene.gravity,
    particleDrag: scene.particleDrag,
    frictionEps: scene.frictionEps,
    contactSmoothing: scene.contactSmoothing,
  });
  try {
    if (scene.bodyContact !== undefined) b.setBodyContact(scene.bodyContact);
    if (scene.ground === false) b.setGround(false);
    else if (scene.ground) b.setGround(scene.ground);
    scene.walls?.forEach((w, i) => {
      if (Math.hypot(...w.normal) === 0) fail(file, `walls[${i}].normal`, 'must be non-zero');
      b.addWall(w.normal, w.offset);
    });
    if (scene.terrain) {
      const t = scene.terrain;
      const ny = t.heights.length;
      const nx = t.heights[0]?.length ?? 0;
      if (ny < 2 || nx < 2) fail(file, 'terrain.heights', `must be at least 2 x 2, got ${ny} x ${nx}`);
      checkMap(file, t.heights, ny, nx, 'terrain.heights');
      checkMap(file, t.ke, ny, nx, 'terrain.ke');
      checkMap(file, t.kd, ny, nx, 'terrain.kd');
      checkMap(file, t.mu, ny, nx, 'terrain.mu');
      b.setTerrain(t);
    }
    scene.particles?.forEach((p) => b.addParticle(p.pos, p.vel ?? [0, 0, 0], p.mass, p.radius ?? 0));
    scene.cloth?.forEach((c) => b.addClothGrid({ ...c, nx: c.dims[0], ny: c.dims[1] }));
    const np = b.particleMass.length;
    scene.springs?.forEach((s, k) => {
      if (s.i >= np) fail(file, `springs[${k}].i`, `particle index ${s.i} is out of range [0, ${np})`);
      if (s.j >= np) fail(file, `springs[${k}].j`, `particle index ${s.j} is out of range [0, ${np})`);
      if (s.i === s.j) fail(file, `springs[${k}]`, `both ends are particle ${s.i}`);
      b.addSpring(s.i, s.j, s.ke, s.kd ?? 0, s.rest);
    });
    scene.bodies?.forEach((bd, k) => {
      const sh = bd.shape;
      const d =
        sh.type === 'sphere'
          ? BodyDesc.sphere(sh.radius)
          : sh.type === 'box'
            ? BodyDesc.box(...sh.halfExtents)
            : sh.type === 'capsule'
              ? BodyDesc.capsule(sh.halfHeight, sh.radius)
              : BodyDesc.points(sh.points, sh.radius ?? 0);
      if (bd.mass !== undefined) d.setMass(bd.mass);
      if (bd.density !== undefined) d.setDensity(bd.density);
      if (bd.pos) d.setTranslation(...bd.pos);
      if (bd.rot) {
        if (Math.hypot(...bd.rot) === 0) fail(file, `bodies[${k}].rot`, 'is the zero quaternion');
        d.setRotation(...bd.rot);
      }
      if (bd.vel) d.setLinvel(...bd.vel);
      if (bd.angVel) d.setAngvel(...bd.angVel);
      const bi = b.addBody(d);
      const nPts = d.shape.points.length;
      bd.tracks?.forEach((tr, t) => {
        tr.points.forEach((p, i) => {
          if (p >= nPts) fail(file, `bodies[${k}].tracks[${t}].points[${i}]`, `contact point ${p} is out of range [0, ${nPts})`);
        });
        b.addTrack(bi, tr.points, tr.direction ?? [1, 0, 0]);
      });
    });
  } catch (e) {
    if (e instanceof ModelError) fail(file, e.field, e.message);
    throw e;
  }
  const model = b.finalize();
  let control: Control | null = null;
  if (scene.control) {
    const c = scene.control;
    const check = (rows: readonly unknown[] | undefined, n: number, path: string): void => {
      if (rows && rows.length !== n) fail(file, path, `has ${rows.length} entries, expected ${n}`);
    };
    check(c.particleF, model.particleCount, 'control.particleF');
    check(c.bodyF, model.bodyCount, 'control.bodyF');
    check(c.bodyT, model.bodyCount, 'control.bodyT');
    check(c.trackF, model.trackCount, 'control.trackF');
    control = new Control({
      particleF: c.particleF ? tensor(c.particleF.flat(), [model.particleCount, 3]) : null,
      bodyF: c.bodyF ? tensor(c.bodyF.flat(), [model.bodyCount, 3]) : null,
      bodyT: c.bodyT ? tensor(c.bodyT.flat(), [model.bodyCount, 3]) : null,
      trackF: c.trackF ? tensor(c.trackF, [model.trackCount]) : null,
    });
  }
  return { model, control, dt: scene.dt ?? 1 / 60, steps: scene.steps ?? 100, substeps: scene.substeps ?? null, checkpointEvery: scene.checkpointEvery };
}
