// Procedural terrains of the terrain dataset (ego/terrain): heightmaps built from hills,
// steps and ditches (the training distribution) or ramps, boulders and pillars (the
// out-of-distribution set), per-patch friction and stiffness maps, a commanded velocity
// sequence and the noisy, partial "sensor" heightmap a network sees. Everything is a pure
// function of the seed.
import { Rng } from '../../sim/core/index.ts';
import { ROBOT, comHeight } from './robot.ts';

/** Grid of every terrain: nx x ny points, point (i, j) at origin + (i, j) cellSize; maps are row-major [ny][nx]. */
export interface TerrainGridSpec {
  nx: number;
  ny: number;
  cellSize: number;
  origin: [number, number];
}

/** Dataset-wide settings; the manifest stores them. */
export interface TerrainSpec {
  grid: TerrainGridSpec;
  /** Patches of constant friction and stiffness: the grid is cut into patches x patches blocks. */
  patches: number;
  /** Trajectory length (s), recording interval (s) and command interval (s). */
  duration: number;
  recordDt: number;
  commandDt: number;
  /** Sensor: height noise standard deviation (m), sensor height above the start pose (m), range (m). */
  sensorNoise: number;
  sensorHeight: number;
  sensorRange: number;
}

/** The default dataset settings: 72 x 72 grid at 0.16 m (11.4 m square), 4 x 4 patches, 5 s at 10 Hz. */
export const DEFAULT_SPEC: TerrainSpec = {
  grid: { nx: 72, ny: 72, cellSize: 0.16, origin: [-5.68, -5.68] },
  patches: 4,
  duration: 5,
  recordDt: 0.1,
  commandDt: 0.1,
  sensorNoise: 0.02,
  sensorHeight: 1.0,
  sensorRange: 5,
};

/** Obstacle kinds: in-distribution (hills, steps, ditches) and out-of-distribution (ramps, boulders, pillars). */
export const ID_KINDS = ['hills', 'step', 'ditch'] as const;
export const OOD_KINDS = ['ramp', 'boulders', 'pillars'] as const;
export type ObstacleKind = (typeof ID_KINDS)[number] | (typeof OOD_KINDS)[number];

/** One generated terrain with its commands and sensor view (float64 here; stored as float32). */
export interface TerrainSample {
  /** Sample id, e.g. `train-000012`. */
  id: string;
  /** The seed the sample was generated from. */
  seed: number;
  /** Obstacle kinds on the terrain. */
  kinds: ObstacleKind[];
  heights: Float64Array;
  friction: Float64Array;
  /** Contact stiffness per point of the robot (N/m). */
  stiffness: Float64Array;
  /** Sensor heightmap: true height + noise where visible, 0 where not. */
  sensorHeights: Float64Array;
  /** 1 where the sensor sees the ground, 0 where it is occluded or out of range. */
  sensorMask: Float64Array;
  /** Start pose: x, y, yaw. */
  start: [number, number, number];
  /** Commands [duration / commandDt][2]: (v m/s, omega rad/s), each held for commandDt. */
  commands: Float64Array;
}

/** Bilinear height (clamped to the border) of a [ny][nx] map at (x, y). */
export function bilinearAt(g: TerrainGridSpec, map: ArrayLike<number>, x: number, y: number): number {
  const u = Math.min(Math.max((x - g.origin[0]) / g.cellSize, 0), g.nx - 1);
  const v = Math.min(Math.max((y - g.origin[1]) / g.cellSize, 0), g.ny - 1);
  const i = Math.min(Math.floor(u), g.nx - 2);
  const j = Math.min(Math.floor(v), g.ny - 2);
  const fx = u - i;
  const fy = v - j;
  const k = j * g.nx + i;
  return (1 - fx) * (1 - fy) * map[k]! + fx * (1 - fy) * map[k + 1]! + (1 - fx) * fy * map[k + g.nx]! + fx * fy * map[k + g.nx + 1]!;
}

const smoothstep = (e0: number, e1: number, x: number): number => {
  const t = Math.min(Math.max((x - e0) / (e1 - e0), 0), 1);
  return t * t * (3 - 2 * t);
};

/** A random line near the origin: unit normal n and offset d (points with n.p = d). */
function lineNearOrigin(rng: Rng): { n: [number, number]; d: number } {
  const a = rng.range(0, 2 * Math.PI);
  return { n: [Math.cos(a), Math.sin(a)], d: rng.range(0.8, 3) };
}

/** Adds one obstacle of `kind` to `h` (heights at grid points). */
function addObstacle(kind: ObstacleKind, g: TerrainGridSpec, h: Float64Array, rng: Rng): void {
  const at = (f: (x: number, y: number) => number): void => {
    for (let j = 0; j < g.ny; j++)
      for (let i = 0; i < g.nx; i++) h[j * g.nx + i] = h[j * g.nx + i]! + f(g.origin[0] + i * g.cellSize, g.origin[1] + j * g.cellSize);
  };
  switch (kind) {
    case 'hills': {
      const n = 4 + rng.int(6);
      for (let k = 0; k < n; k++) {
        const cx = rng.range(-4.5, 4.5);
        const cy = rng.range(-4.5, 4.5);
        const s = rng.range(0.6, 1.5);
        const a = rng.range(-0.25, 0.3);
        at((x, y) => a * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s)));
      }
      return;
    }
    case 'step': {
      const { n, d } = lineNearOrigin(rng);
      const height = rng.range(0.05, 0.14) * (rng.uniform() < 0.5 ? -1 : 1);
      at((x, y) => height * smoothstep(-0.08, 0.08, n[0] * x + n[1] * y - d));
      return;
    }
    case 'ditch': {
      const { n, d } = lineNearOrigin(rng);
      const depth = rng.range(0.08, 0.2);
      const w = rng.range(0.25, 0.6);
      at((x, y) => -depth * (1 - smoothstep(w / 2 - 0.1, w / 2 + 0.1, Math.abs(n[0] * x + n[1] * y - d))));
      return;
    }
    case 'ramp': {
      // an inclined plane up to a plateau: slope 8-18 degrees, rising over 1-2 m
      const { n, d } = lineNearOrigin(rng);
      const slope = Math.tan((rng.range(8, 18) * Math.PI) / 180);
      const len = rng.range(1, 2);
      at((x, y) => slope * Math.min(Math.max(n[0] * x + n[1] * y - d, 0), len));
      return;
    }
    case 'boulders': {
      const m = 3 + rng.int(5);
      for (let k = 0; k < m; k++) {
        const r = rng.range(0.25, 0.5);
        const a = rng.range(0, 2 * Math.PI);
        const dist = rng.range(0.8, 4);
        const cx = dist * Math.cos(a);
        const cy = dist * Math.sin(a);
        const top = rng.range(0.12, 0.3);
        at((x, y) => {
          const q = ((x - cx) ** 2 + (y - cy) ** 2) / (r * r);
          return q < 1 ? top * Math.sqrt(1 - q) : 0;
        });
      }
      return;
    }
    case 'pillars': {
      const m = 2 + rng.int(4);
      for (let k = 0; k < m; k++) {
        const a = rng.range(0, 2 * Math.PI);
        const dist = rng.range(1, 4);
        const cx = dist * Math.cos(a);
        const cy = dist * Math.sin(a);
        const r = rng.range(0.15, 0.3);
        const top = rng.range(0.4, 0.8);
        at((x, y) => top * (1 - smoothstep(r - 0.08, r + 0.08, Math.hypot(x - cx, y - cy))));
      }
      return;
    }
  }
}

/** Which patch a grid point belongs to (patch index, row-major over patches x patches). */
export function patchOf(spec: TerrainSpec, i: number, j: number): number {
  const P = spec.patches;
  const pi = Math.min(Math.floor((i * P) / (spec.grid.nx - 1)), P - 1);
  const pj = Math.min(Math.floor((j * P) / (spec.grid.ny - 1)), P - 1);
  return pj * P + pi;
}

/** Friction range of the patches, and stiffness range (log-uniform, N/m per contact point). */
export const MATERIAL = { mu: [0.25, 1.0] as [number, number], ke: [3000, 20000] as [number, number], defaultMu: 0.6, defaultKe: 8000 };

/**
 * Generates sample `index` of a dataset with `seed`: terrain (obstacle kinds from the
 * in-distribution or, with `ood`, the out-of-distribution list), patch materials, start pose,
 * commands and sensor view. Deterministic in (seed, index, ood).
 */
export function generateTerrain(spec: TerrainSpec, seed: number, index: number, ood = false): TerrainSample {
  const rng = new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b) ^ (ood ? 0x5bd1e995 : 0)) >>> 0);
  const g = spec.grid;
  const N = g.nx * g.ny;
  const heights = new Float64Array(N);
  const kinds: ObstacleKind[] = [];
  const pool = ood ? OOD_KINDS : ID_KINDS;
  // gentle background undulation, then one to three obstacles
  addObstacle('hills', g, heights, rng);
  if (!ood) kinds.push('hills');
  const count = 1 + rng.int(ood ? 2 : 3);
  for (let k = 0; k < count; k++) {
    const kind = pool[rng.int(pool.length)]!;
    addObstacle(kind, g, heights, rng);
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  // per-patch materials
  const P = spec.patches;
  const muP = Array.from({ length: P * P }, () => rng.range(MATERIAL.mu[0], MATERIAL.mu[1]));
  const keP = Array.from({ length: P * P }, () => Math.exp(rng.range(Math.log(MATERIAL.ke[0]), Math.log(MATERIAL.ke[1]))));
  const friction = new Float64Array(N);
  const stiffness = new Float64Array(N);
  for (let j = 0; j < g.ny; j++)
    for (let i = 0; i < g.nx; i++) {
      const p = patchOf(spec, i, j);
      friction[j * g.nx + i] = muP[p]!;
      stiffness[j * g.nx + i] = keP[p]!;
    }
  // start at the origin with a random heading; commands: 1 s segments, piecewise constant
  const start: [number, number, number] = [rng.range(-0.3, 0.3), rng.range(-0.3, 0.3), rng.range(-Math.PI, Math.PI)];
  const nCmd = Math.round(spec.duration / spec.commandDt);
  const commands = new Float64Array(2 * nCmd);
  const perSeg = Math.max(1, Math.round(1 / spec.commandDt));
  let v = 0;
  let w = 0;
  for (let k = 0; k < nCmd; k++) {
    if (k % perSeg === 0) {
      v = rng.range(0.2, 1.0);
      w = rng.range(-0.5, 0.5);
    }
    commands[2 * k] = v;
    commands[2 * k + 1] = w;
  }
  const { sensorHeights, sensorMask } = sensorView(spec, heights, start, rng);
  const id = `${ood ? 'ood' : 'train'}-${String(index).padStart(6, '0')}`;
  return { id, seed, kinds, heights, friction, stiffness, sensorHeights, sensorMask, start, commands };
}

/**
 * The sensor's view from `sensorHeight` above the start pose: a grid point is seen when it is
 * within `sensorRange` and the straight line from the sensor to it clears the terrain
 * (sampled every half cell); seen heights get Gaussian noise, unseen ones are 0 with mask 0.
 */
export function sensorView(
  spec: TerrainSpec,
  heights: Float64Array,
  start: [number, number, number],
  rng: Rng,
): { sensorHeights: Float64Array; sensorMask: Float64Array } {
  const g = spec.grid;
  const N = g.nx * g.ny;
  const sensorHeights = new Float64Array(N);
  const sensorMask = new Float64Array(N);
  const sx = start[0];
  const sy = start[1];
  const sz = bilinearAt(g, heights, sx, sy) + comHeight() + ROBOT.radius + spec.sensorHeight;
  for (let j = 0; j < g.ny; j++)
    for (let i = 0; i < g.nx; i++) {
      const k = j * g.nx + i;
      const x = g.origin[0] + i * g.cellSize;
      const y = g.origin[1] + j * g.cellSize;
      const dist = Math.hypot(x - sx, y - sy);
      let seen = dist <= spec.sensorRange;
      if (seen) {
        const n = Math.ceil(dist / (0.5 * g.cellSize));
        for (let s = 1; s < n && seen; s++) {
          const t = s / n;
          const ray = sz + t * (heights[k]! - sz);
          if (bilinearAt(g, heights, sx + t * (x - sx), sy + t * (y - sy)) > ray + 0.01) seen = false;
        }
      }
      const noise = rng.normal() * spec.sensorNoise;
      if (seen) {
        sensorHeights[k] = heights[k]! + noise;
        sensorMask[k] = 1;
      }
    }
  return { sensorHeights, sensorMask };
}
