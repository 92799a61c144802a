// Raw views of a Model for the kernels (sim/physics, layer sim): every parameter as a plain
// Float64Array, plus the matching gradient accumulators the adjoint kernels add into.
import type { Tensor } from '../core/index.ts';
import { MODEL_PARAMS, type Model, type ModelParamName } from './model.ts';
import { PARAMS, type ParamViews } from './params.ts';
import { terrainScratch, type TerrainScratch } from './terrain.ts';
import { contactScratch, type ContactScratch } from './contact.ts';

type F64 = Float64Array;

/** Heightmap data read by the terrain kernels. */
export interface TerrainData {
  nx: number;
  ny: number;
  ox: number;
  oy: number;
  /** Cell size. */
  cs: number;
  heights: F64;
  ke: F64;
  kd: F64;
  mu: F64;
  /** Friction stiffness (scalar). */
  kf: number;
  /** Maps interpolated by the C2 cubic B-spline (C1 contact model) instead of bilinearly. */
  spline: boolean;
  /** A point touches where its penetration is below this (0 exact; 30 x the activation width). */
  cutoff: number;
  /** Scratch record of the terrain functions run on this data (terrain.ts), passed to them explicitly. */
  scratch: TerrainScratch;
}

/**
 * Everything a kernel reads from the Model: counts, topology, and every table parameter
 * (params.ts) under its own name (`ParamViews`: scalars as numbers, the others as arrays).
 */
export interface ModelData extends ParamViews {
  np: number;
  ns: number;
  nb: number;
  nc: number;
  nt: number;
  npl: number;
  springIndices: Int32Array;
  planeNormal: F64;
  terrain: TerrainData | null;
  contactBody: Int32Array;
  contactTrack: Int32Array;
  trackBody: Int32Array;
  trackDir: F64;
  /** Body-body contact: on, parameters, shapes (model.ts), and each body's contact points as [start, end) into bodyContactList. */
  bodyContact: boolean;
  bodyShape: Int32Array;
  bodyShapeHalf: F64;
  bodyShapeRadius: F64;
  bodyWorld: Int32Array;
  bodyContactStart: Int32Array;
  bodyContactList: Int32Array;
  /** Bounding-sphere radius of each body about its centre (its contact points' reach), [Nb]. */
  bodyBound: F64;
  /** Verlet list of the body-body broad phase (`bodyPairsCached`): positions it was built at, its pairs, its skin (m). */
  pairCache: { pos: F64; pairs: Int32Array; skin: number } | null;
  frictionEps: number;
  /** Contact smoothing (contact.ts): damping width (m/s), friction soft-min power; 0 = exact. */
  smoothDamping: number;
  smoothFriction: number;
  /** Softplus activation width (m) of the C1 contact model; 0: exact. */
  smoothPenetration: number;
  /** Contacts are evaluated for c < contactCutoff (0 exact; 30 x the activation width). */
  contactCutoff: number;
  /** Scratch record of the contact force run on this data (contact.ts), passed to it explicitly. */
  contactScratch: ContactScratch;
  /** Scratch record of the body kernels run on this data (kernels/bodies.ts). */
  bodyScratch: BodyScratch;
}

/** Work arrays of the body kernels (kernels/bodies.ts), named; one record per ModelData. */
export interface BodyScratch {
  /** R_b p_k: a contact point's offset from its body's centre (`rotatePoint`). */
  rp: F64;
  /** The touching point's arm [ax, ay, az] and velocity [vx, vy, vz] (`touchingPoint`). */
  arm: F64;
  /** Adjoints of a body contact: [arm x, y, z, n x, y, z, c, ke, kd, kf, mu] (`adjApplyContact`). */
  adjContact: F64;
  /** I^-1 (row-major 3x3) and its adjoint (the angular update). */
  iInv: F64;
  adjIInv: F64;
  /** The angular update's intermediates for its adjoint (`angularForward`): 20 values. */
  ang: F64;
}

function bodyScratch(): BodyScratch {
  return {
    rp: new Float64Array(3),
    arm: new Float64Array(6),
    adjContact: new Float64Array(11),
    iInv: new Float64Array(9),
    adjIInv: new Float64Array(9),
    ang: new Float64Array(20),
  };
}

/** Gradient accumulators, one per differentiable Model tensor (same sizes). */
export type ParamGrads = Record<ModelParamName, F64>;

/** Kernel view of `model`, reading parameters from `params` (MODEL_PARAMS order) when given. */
export function modelData(model: Model, params?: readonly Tensor[]): ModelData {
  const p = (k: ModelParamName): F64 => (params ? params[MODEL_PARAMS.indexOf(k)]!.data : model.params[k].data);
  const g = model.terrain;
  const bci = bodyContactIndex(model, p('contactPoint'), p('contactRadius'));
  const md = {
    np: model.particleCount,
    ns: model.springCount,
    nb: model.bodyCount,
    nc: model.contactCount,
    nt: model.trackCount,
    npl: model.planeCount,
    springIndices: model.springIndices,
    planeNormal: model.planeNormal,
    terrain: g
      ? {
          nx: g.nx,
          ny: g.ny,
          ox: g.origin[0],
          oy: g.origin[1],
          cs: g.cellSize,
          heights: p('terrainHeights'),
          ke: p('terrainKe'),
          kd: p('terrainKd'),
          mu: p('terrainMu'),
          kf: p('terrainKf')[0]!,
          spline: model.contactSmoothing.terrain === 'spline',
          cutoff: 30 * (model.contactSmoothing.penetration ?? 0),
          scratch: terrainScratch(),
        }
      : null,
    contactBody: model.contactBody,
    contactTrack: model.contactTrack,
    trackBody: model.trackBody,
    trackDir: model.trackDir,
    bodyContact: model.bodyContact && model.bodyCount > 1,
    bodyShape: model.bodyShape,
    bodyShapeHalf: model.bodyShapeHalf,
    bodyShapeRadius: model.bodyShapeRadius,
    bodyWorld: model.bodyWorld,
    bodyContactStart: bci.bodyContactStart,
    bodyContactList: bci.bodyContactList,
    bodyBound: bci.bodyBound,
    pairCache: null,
    frictionEps: model.frictionEps,
    smoothDamping: model.contactSmoothing.damping,
    smoothFriction: model.contactSmoothing.friction,
    smoothPenetration: model.contactSmoothing.penetration ?? 0,
    contactCutoff: 30 * (model.contactSmoothing.penetration ?? 0),
    contactScratch: contactScratch(),
    bodyScratch: bodyScratch(),
  } as ModelData;
  // every table parameter under its own name: scalars copied as numbers, the others viewed
  const views = md as unknown as Record<ModelParamName, F64 | number>;
  for (const k of MODEL_PARAMS) views[k] = PARAMS[k].shape(model).length === 0 ? p(k)[0]! : p(k);
  return md;
}

/** Each body's contact points (CSR: start offsets into a list) and its bounding radius. */
function bodyContactIndex(model: Model, P: F64, r: F64): { bodyContactStart: Int32Array; bodyContactList: Int32Array; bodyBound: F64 } {
  const nb = model.bodyCount;
  const start = new Int32Array(nb + 1);
  for (let k = 0; k < model.contactCount; k++) start[model.contactBody[k]! + 1]!++;
  for (let b = 0; b < nb; b++) start[b + 1] = start[b + 1]! + start[b]!;
  const fill = start.slice(0, nb);
  const list = new Int32Array(model.contactCount);
  const bound = new Float64Array(nb);
  for (let k = 0; k < model.contactCount; k++) {
    const b = model.contactBody[k]!;
    list[fill[b]!++] = k;
    bound[b] = Math.max(bound[b]!, Math.hypot(P[3 * k]!, P[3 * k + 1]!, P[3 * k + 2]!) + r[k]!);
  }
  for (let b = 0; b < nb; b++) {
    const h = model.bodyShapeHalf;
    bound[b] = Math.max(bound[b]!, Math.hypot(h[3 * b]!, h[3 * b + 1]!, h[3 * b + 2]!) + model.bodyShapeRadius[b]!);
  }
  return { bodyContactStart: start, bodyContactList: list, bodyBound: bound };
}

let sink = new Float64Array(64);

/**
 * Zeroed gradient accumulators matching the model's parameter sizes. With `need` (indices
 * into MODEL_PARAMS, ascending), the parameters not needed share one scratch buffer whose
 * content is never read: the adjoint kernels may add into it, nothing is allocated for them.
 */
export function zeroParamGrads(model: Model, need?: readonly number[]): ParamGrads {
  if (!need)
    return paramGradsIn(
      model,
      MODEL_PARAMS.map((_, i) => i),
      new Float64Array(paramGradsSize(model)),
      0,
    );
  return paramGradsIn(model, need, new Float64Array(paramGradsSize(model, need)), 0);
}

/** Total size of the gradient accumulators of the parameters `need` (indices into MODEL_PARAMS; default all). */
export function paramGradsSize(model: Model, need?: readonly number[]): number {
  let n = 0;
  if (!need) for (const k of MODEL_PARAMS) n += model.params[k].size;
  else for (const i of need) n += model.params[MODEL_PARAMS[i]!].size;
  return n;
}

/**
 * Gradient accumulators of the parameters `need` (indices into MODEL_PARAMS, ascending) as
 * consecutive views of `buf` from `offset` (which the caller has zeroed; `paramGradsSize`
 * entries); the others share the never-read scratch buffer as in `zeroParamGrads`. Lets a
 * step take its gradients and its other outputs from one allocation.
 */
export function paramGradsIn(model: Model, need: readonly number[], buf: F64, offset: number): ParamGrads {
  let o = offset;
  return paramGradsWith(
    model,
    need,
    need.map((i) => buf.subarray(o, (o += model.params[MODEL_PARAMS[i]!].size))),
  );
}

/**
 * Gradient accumulators of the parameters `need` (indices into MODEL_PARAMS, ascending) in
 * the given buffers (`bufs[j]` for `need[j]`, of the parameter's size; the kernels add into
 * them); the others share the never-read scratch buffer as in `zeroParamGrads`.
 */
export function paramGradsWith(model: Model, need: readonly number[], bufs: readonly F64[]): ParamGrads {
  const out = {} as ParamGrads;
  let j = 0;
  for (let i = 0; i < MODEL_PARAMS.length; i++) {
    const k = MODEL_PARAMS[i]!;
    const n = model.params[k].size;
    if (need[j] === i) {
      out[k] = bufs[j++]!;
      continue;
    }
    if (sink.length < n) sink = new Float64Array(Math.max(n, 2 * sink.length));
    out[k] = sink;
  }
  return out;
}

let cache: { model: Model; data: Float64Array[]; scalars: Float64Array; md: ModelData } | null = null;

/** Whether the cached ModelData still views exactly these parameter arrays and scalar values. */
function cacheHolds(model: Model, params: readonly Tensor[]): boolean {
  if (!cache || cache.model !== model) return false;
  for (let i = 0; i < params.length; i++) {
    const d = params[i]!.data;
    if (d !== cache.data[i] || (d.length === 1 && d[0] !== cache.scalars[i])) return false;
  }
  return true;
}

/**
 * `modelData`, reusing the last result when the model and parameter arrays are the same
 * (scalar parameters are copied into ModelData, so their values are compared too: an
 * optimiser may update a parameter's array in place).
 */
export function modelDataCached(model: Model, params: readonly Tensor[]): ModelData {
  if (cacheHolds(model, params)) return cache!.md;
  const md = modelData(model, params);
  cache = { model, data: params.map((t) => t.data), scalars: Float64Array.from(params, (t) => (t.size === 1 ? t.data[0]! : 0)), md };
  return md;
}
