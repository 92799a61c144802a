// The GPU engine's view of a sim/physics Model (sim/gpu, layer sim): reads the Model's public
// data (topology and the parameter tensors, MODEL_PARAMS names) into one packed float32 array
// the WGSL kernels index with compile-time offsets, and refuses what the GPU kernels do not
// simulate, naming it. This file is the only coupling to the CPU engine's data layout.
import { MODEL_PARAMS, type Model, type ModelParamName } from '../physics/index.ts';
import { modelTrackGeometry } from './controller.ts';

/** A Model feature the GPU kernels do not implement (body-body contact, contact smoothing). */
export class GpuModelError extends Error {
  constructor(
    message: string,
    /** The Model field at fault. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'GpuModelError';
  }
}

/** Offsets (in float32 elements) of each block of the packed model array. */
export interface PackedLayout {
  gravity: number;
  drag: number;
  groundKe: number;
  groundKd: number;
  groundKf: number;
  groundMu: number;
  terrainKf: number;
  planeNormal: number;
  planeOffset: number;
  particleMass: number;
  particleRadius: number;
  bodyMass: number;
  bodyInertia: number;
  contactPoint: number;
  contactRadius: number;
  contactTrack: number;
  bodyContactStart: number;
  trackDir: number;
  springKe: number;
  springKd: number;
  springRest: number;
  /** Per particle, its springs as [start, end) into springAdj (np + 1 entries). */
  springStart: number;
  /** Per (particle, spring) entry: the spring index and the other end (2 ns entries each). */
  springAdj: number;
  springOther: number;
  heights: number;
  ke: number;
  kd: number;
  mu: number;
  size: number;
}

/** Everything the GPU engine needs of a Model: counts, constants baked into the kernels, packed parameters. */
export interface GpuModelData {
  np: number;
  ns: number;
  nb: number;
  nc: number;
  nt: number;
  npl: number;
  /** Heightmap grid (0 x 0 without terrain), origin and cell size. */
  nx: number;
  ny: number;
  ox: number;
  oy: number;
  cs: number;
  hasTerrain: boolean;
  frictionEps: number;
  /** Largest number of contact points of one body. */
  maxBodyContacts: number;
  /** Each track's body and body-frame centre (the mean of its contact points): the controller's geometry. */
  tracks: { body: number[]; centre: number[][] };
  layout: PackedLayout;
  /** The packed parameters (float32). */
  packed: Float32Array<ArrayBuffer>;
}

/** Packs `model` for the GPU kernels; throws GpuModelError for features they do not simulate. */
export function packModel(model: Model): GpuModelData {
  const cs = model.contactSmoothing;
  if (cs.damping > 0 || cs.friction > 0 || (cs.penetration ?? 0) > 0 || cs.terrain === 'spline')
    throw new GpuModelError(
      'gpu: contact smoothing (contactSmoothing) is not implemented on the GPU; the GPU kernels use the exact contact model',
      'contactSmoothing',
    );
  if (model.bodyContact && model.bodyCount > 1) {
    // bodies of different worlds never touch; one body per world means no body-body contact
    const perWorld = new Map<number, number>();
    for (const w of model.bodyWorld) perWorld.set(w, (perWorld.get(w) ?? 0) + 1);
    if ([...perWorld.values()].some((n) => n > 1))
      throw new GpuModelError(
        'gpu: body-body contact is not implemented on the GPU; disable it (ModelBuilder.setBodyContact(false)) or keep one body per world',
        'bodyContact',
      );
  }
  const p = (k: ModelParamName): Float64Array => model.params[k].data;
  const np = model.particleCount;
  const ns = model.springCount;
  const nb = model.bodyCount;
  const nc = model.contactCount;
  const nt = model.trackCount;
  const npl = model.planeCount;
  const T = model.terrain;
  const nx = T ? T.nx : 0;
  const ny = T ? T.ny : 0;
  // contact points must be contiguous per body (the builder adds a body's points together)
  const start = new Int32Array(nb + 1);
  for (let k = 0; k < nc; k++) {
    const b = model.contactBody[k]!;
    if (k > 0 && b < model.contactBody[k - 1]!)
      throw new GpuModelError(
        `gpu: contact point ${k} of body ${b} follows a point of body ${model.contactBody[k - 1]}; expected the points grouped by body`,
        'contactBody',
      );
    start[b + 1]!++;
  }
  let maxBodyContacts = 0;
  for (let b = 0; b < nb; b++) {
    maxBodyContacts = Math.max(maxBodyContacts, start[b + 1]!);
    start[b + 1] = start[b + 1]! + start[b]!;
  }
  const sizes: [keyof PackedLayout, number][] = [
    ['gravity', 3],
    ['drag', 1],
    ['groundKe', 1],
    ['groundKd', 1],
    ['groundKf', 1],
    ['groundMu', 1],
    ['terrainKf', 1],
    ['planeNormal', 3 * npl],
    ['planeOffset', npl],
    ['particleMass', np],
    ['particleRadius', np],
    ['bodyMass', nb],
    ['bodyInertia', 9 * nb],
    ['contactPoint', 3 * nc],
    ['contactRadius', nc],
    ['contactTrack', nc],
    ['bodyContactStart', nb + 1],
    ['trackDir', 3 * nt],
    ['springKe', ns],
    ['springKd', ns],
    ['springRest', ns],
    ['springStart', np + 1],
    ['springAdj', 2 * ns],
    ['springOther', 2 * ns],
    ['heights', nx * ny],
    ['ke', nx * ny],
    ['kd', nx * ny],
    ['mu', nx * ny],
  ];
  const layout = {} as PackedLayout;
  let off = 0;
  for (const [k, n] of sizes) {
    layout[k] = off;
    off += n;
  }
  layout.size = Math.max(off, 4);
  const packed = new Float32Array(layout.size);
  const put = (k: keyof PackedLayout, src: ArrayLike<number>): void => {
    for (let i = 0; i < src.length; i++) packed[layout[k] + i] = src[i]!;
  };
  put('gravity', p('gravity'));
  put('drag', p('particleDrag'));
  put('groundKe', p('groundKe'));
  put('groundKd', p('groundKd'));
  put('groundKf', p('groundKf'));
  put('groundMu', p('groundMu'));
  put('planeNormal', model.planeNormal);
  put('planeOffset', p('planeOffset'));
  put('particleMass', p('particleMass'));
  put('particleRadius', p('particleRadius'));
  put('bodyMass', p('bodyMass'));
  put('bodyInertia', p('bodyInertia'));
  put('contactPoint', p('contactPoint'));
  put('contactRadius', p('contactRadius'));
  put('contactTrack', model.contactTrack);
  put('bodyContactStart', start);
  put('trackDir', model.trackDir);
  put('springKe', p('springKe'));
  put('springKd', p('springKd'));
  put('springRest', p('springRest'));
  // each particle's springs (compressed rows): a particle thread sums its own spring forces
  const sStart = new Int32Array(np + 1);
  for (let k = 0; k < 2 * ns; k++) sStart[model.springIndices[k]! + 1]!++;
  for (let i = 0; i < np; i++) sStart[i + 1] = sStart[i + 1]! + sStart[i]!;
  const fill = sStart.slice(0, np);
  const adj = new Int32Array(2 * ns);
  const other = new Int32Array(2 * ns);
  for (let sp = 0; sp < ns; sp++) {
    const a = model.springIndices[2 * sp]!;
    const b = model.springIndices[2 * sp + 1]!;
    adj[fill[a]!] = sp;
    other[fill[a]!++] = b;
    adj[fill[b]!] = sp;
    other[fill[b]!++] = a;
  }
  put('springStart', sStart);
  put('springAdj', adj);
  put('springOther', other);
  if (T) {
    put('terrainKf', p('terrainKf'));
    put('heights', p('terrainHeights'));
    put('ke', p('terrainKe'));
    put('kd', p('terrainKd'));
    put('mu', p('terrainMu'));
  }
  return {
    np,
    ns,
    nb,
    nc,
    nt,
    npl,
    nx,
    ny,
    ox: T ? T.origin[0] : 0,
    oy: T ? T.origin[1] : 0,
    cs: T ? T.cellSize : 1,
    hasTerrain: T !== null,
    frictionEps: model.frictionEps,
    maxBodyContacts,
    tracks: (({ body, centre }) => ({ body, centre }))(modelTrackGeometry(model)),
    layout,
    packed,
  };
}

/** The Model parameters the GPU adjoint kernels produce gradients for (the others get zero). */
export const GPU_GRAD_PARAMS: readonly ModelParamName[] = MODEL_PARAMS.filter(
  (k) => (!k.startsWith('spring') && !k.startsWith('body')) || k === 'bodyMass' || k === 'bodyInertia',
);
