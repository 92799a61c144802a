// Heightmap terrain (sim/physics, layer sim): bilinear (or, in the C1 contact model, cubic
// B-spline) height and analytic normal at any point, material maps (ke, kd, mu) interpolated
// the same way, the contact of a sphere with both, and their
// hand-written adjoints with respect to the query point and to every map value. Outside
// the grid the maps are clamped to the border (constant along the clamped axis, so the
// derivative along that axis is zero).
import type { ParamGrads, TerrainData } from './data.ts';

type F64 = Float64Array;

/** A located grid cell (bilinear): flat index of its corner (i0, j0), the fractions in it, 1 inside / 0 clamped per axis. */
export interface Cell {
  k00: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/**
 * Scratch of the terrain functions, passed explicitly (each TerrainData owns one, see
 * data.ts): the located cell and each function's outputs, named.
 */
export interface TerrainScratch {
  /** The cell `locate` found (read by `bilinear` / `adjBilinear` given it). */
  cell: Cell;
  /** Sample of a map: [value, d/dx, d/dy] (`sampleMap`, `splineSample`, `bilinear`). */
  sample: F64;
  /** Adjoint of the query point [x, y] (`adjSampleMap`, `adjTerrainMaterial`). */
  adjXY: F64;
  /** Contact geometry [nx, ny, nz, c, h] (`terrainGeometry`). */
  geom: F64;
  /** Adjoints of [x, y, z, r] (`adjTerrainGeometry`, `adjTerrainContact`). */
  adjGeom: F64;
  /** Material [ke, kd, mu] at the point (`terrainMaterial`). */
  material: F64;
}

/** A fresh scratch record for the terrain functions. */
export function terrainScratch(): TerrainScratch {
  return {
    cell: { k00: 0, fx: 0, fy: 0, cx: 1, cy: 1 },
    sample: new Float64Array(3),
    adjXY: new Float64Array(2),
    geom: new Float64Array(5),
    adjGeom: new Float64Array(4),
    material: new Float64Array(3),
  };
}

/** Finds the cell of (x, y) and writes it into `c`. */
export function locate(T: TerrainData, x: number, y: number, c: Cell): void {
  let u = (x - T.ox) / T.cs;
  let v = (y - T.oy) / T.cs;
  c.cx = 1;
  c.cy = 1;
  if (!(u > 0)) {
    u = 0;
    c.cx = 0;
  } else if (u >= T.nx - 1) {
    u = T.nx - 1;
    c.cx = 0;
  }
  if (!(v > 0)) {
    v = 0;
    c.cy = 0;
  } else if (v >= T.ny - 1) {
    v = T.ny - 1;
    c.cy = 0;
  }
  const i0 = Math.min(Math.floor(u), T.nx - 2);
  const j0 = Math.min(Math.floor(v), T.ny - 2);
  c.fx = u - i0;
  c.fy = v - j0;
  c.k00 = j0 * T.nx + i0;
}

/** Bilinear value of `map` ([ny, nx] row-major) and its x, y derivatives in cell `cell`: writes out = [value, d/dx, d/dy]. */
export function bilinear(T: TerrainData, map: F64, cell: Cell, out: F64): void {
  const { k00, fx, fy } = cell;
  const a = map[k00]!;
  const b = map[k00 + 1]!;
  const c = map[k00 + T.nx]!;
  const d = map[k00 + T.nx + 1]!;
  out[0] = (1 - fx) * (1 - fy) * a + fx * (1 - fy) * b + (1 - fx) * fy * c + fx * fy * d;
  out[1] = (cell.cx * ((1 - fy) * (b - a) + fy * (d - c))) / T.cs;
  out[2] = (cell.cy * ((1 - fx) * (c - a) + fx * (d - b))) / T.cs;
}

/**
 * Adjoint of `bilinear` in cell `cell`: adds the map's adjoint into `adjMap` and writes the
 * query point's adjoint into adjXY, given adjoints of value, d/dx and d/dy.
 */
export function adjBilinear(T: TerrainData, map: F64, adjMap: F64, cell: Cell, aval: number, avx: number, avy: number, adjXY: F64): void {
  const { k00, fx, fy, cx, cy } = cell;
  const a = map[k00]!;
  const b = map[k00 + 1]!;
  const c = map[k00 + T.nx]!;
  const d = map[k00 + T.nx + 1]!;
  const ax = (avx * cx) / T.cs;
  const ay = (avy * cy) / T.cs;
  adjMap[k00] = adjMap[k00]! + aval * (1 - fx) * (1 - fy) - ax * (1 - fy) - ay * (1 - fx);
  adjMap[k00 + 1] = adjMap[k00 + 1]! + aval * fx * (1 - fy) + ax * (1 - fy) - ay * fx;
  adjMap[k00 + T.nx] = adjMap[k00 + T.nx]! + aval * (1 - fx) * fy - ax * fy + ay * (1 - fx);
  adjMap[k00 + T.nx + 1] = adjMap[k00 + T.nx + 1]! + aval * fx * fy + ax * fy + ay * fx;
  const e = a - b - c + d;
  const dfx = (1 - fy) * (b - a) + fy * (d - c);
  const dfy = (1 - fx) * (c - a) + fx * (d - b);
  const afx = aval * dfx + ay * e;
  const afy = aval * dfy + ax * e;
  adjXY[0] = (afx * cx) / T.cs;
  adjXY[1] = (afy * cy) / T.cs;
}

/** Uniform cubic B-spline weight i (0..3, for grid points i0 - 1 .. i0 + 2) at fraction t, and its first and second derivatives. */
function bsw(i: number, t: number): number {
  const s = 1 - t;
  return i === 0 ? (s * s * s) / 6 : i === 1 ? (3 * t * t * t - 6 * t * t + 4) / 6 : i === 2 ? (-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6 : (t * t * t) / 6;
}
function bsd(i: number, t: number): number {
  const s = 1 - t;
  return i === 0 ? (-s * s) / 2 : i === 1 ? (3 * t * t - 4 * t) / 2 : i === 2 ? (-3 * t * t + 2 * t + 1) / 2 : (t * t) / 2;
}
function bsdd(i: number, t: number): number {
  return i === 0 ? 1 - t : i === 1 ? 3 * t - 2 : i === 2 ? 1 - 3 * t : t;
}

/** Grid coordinate of x along an axis of n points: [cell i0, fraction, 1 inside / 0 clamped]. */
function axis(x: number, o: number, cs: number, n: number): [number, number, number] {
  let u = (x - o) / cs;
  let inside = 1;
  if (!(u > 0)) {
    u = 0;
    inside = 0;
  } else if (u >= n - 1) {
    u = n - 1;
    inside = 0;
  }
  const i0 = Math.min(Math.floor(u), n - 2);
  return [i0, u - i0, inside];
}

/**
 * Cubic B-spline of `map` at (x, y) (C1 contact model): the uniform cubic B-spline whose
 * control points are the grid values (the border repeated), C2 in (x, y), smoothing the grid
 * (a plane is reproduced exactly). Writes [value, d/dx, d/dy] (zero along a clamped
 * axis, outside the grid) into `out` and the second derivatives [hxx, hxy, hyy] into `second`
 * when given (per world unit). Stateless: computes its stencil itself.
 */
export function splineSample(T: TerrainData, map: F64, x: number, y: number, out: F64, second?: F64): void {
  const [i0, fx, cx] = axis(x, T.ox, T.cs, T.nx);
  const [j0, fy, cy] = axis(y, T.oy, T.cs, T.ny);
  let h = 0;
  let hx = 0;
  let hy = 0;
  let hxx = 0;
  let hxy = 0;
  let hyy = 0;
  for (let b = 0; b < 4; b++) {
    const j = Math.min(Math.max(j0 - 1 + b, 0), T.ny - 1);
    const wy = bsw(b, fy);
    const dy = bsd(b, fy);
    const ddy = bsdd(b, fy);
    for (let a = 0; a < 4; a++) {
      const i = Math.min(Math.max(i0 - 1 + a, 0), T.nx - 1);
      const v = map[j * T.nx + i]!;
      const wx = bsw(a, fx);
      const dx = bsd(a, fx);
      h += wx * wy * v;
      hx += dx * wy * v;
      hy += wx * dy * v;
      hxx += bsdd(a, fx) * wy * v;
      hxy += dx * dy * v;
      hyy += wx * ddy * v;
    }
  }
  const c = T.cs;
  out[0] = h;
  out[1] = (cx * hx) / c;
  out[2] = (cy * hy) / c;
  if (second) {
    second[0] = (cx * hxx) / (c * c);
    second[1] = (cx * cy * hxy) / (c * c);
    second[2] = (cy * hyy) / (c * c);
  }
}

/**
 * Adjoint of `splineSample`: given the adjoints of [value, d/dx, d/dy], adds the map's
 * adjoint into `adjMap` and writes the adjoint of (x, y) into adjXY.
 */
export function adjSplineSample(T: TerrainData, map: F64, adjMap: F64, x: number, y: number, aval: number, avx: number, avy: number, adjXY: F64): void {
  const [i0, fx, cx] = axis(x, T.ox, T.cs, T.nx);
  const [j0, fy, cy] = axis(y, T.oy, T.cs, T.ny);
  const c = T.cs;
  const ax = (cx * avx) / c;
  const ay = (cy * avy) / c;
  let hx = 0;
  let hy = 0;
  let hxx = 0;
  let hxy = 0;
  let hyy = 0;
  for (let b = 0; b < 4; b++) {
    const j = Math.min(Math.max(j0 - 1 + b, 0), T.ny - 1);
    const wy = bsw(b, fy);
    const dy = bsd(b, fy);
    const ddy = bsdd(b, fy);
    for (let a = 0; a < 4; a++) {
      const i = Math.min(Math.max(i0 - 1 + a, 0), T.nx - 1);
      const k = j * T.nx + i;
      const v = map[k]!;
      const wx = bsw(a, fx);
      const dx = bsd(a, fx);
      adjMap[k] = adjMap[k]! + aval * wx * wy + ax * dx * wy + ay * wx * dy;
      hx += dx * wy * v;
      hy += wx * dy * v;
      hxx += bsdd(a, fx) * wy * v;
      hxy += dx * dy * v;
      hyy += wx * ddy * v;
    }
  }
  // d/dx of (value, cx hx / c, cy hy / c) is cx (hx, cx hxx / c, cy hxy / c) / c
  adjXY[0] = (cx * (aval * hx + ax * hxx + ay * hxy)) / c;
  adjXY[1] = (cy * (aval * hy + ax * hxy + ay * hyy)) / c;
}

/** `map` at (x, y), bilinear or (C1 model) cubic B-spline: writes S.sample = [value, d/dx, d/dy]. */
export function sampleMap(T: TerrainData, S: TerrainScratch, map: F64, x: number, y: number): void {
  if (T.spline) splineSample(T, map, x, y, S.sample);
  else {
    locate(T, x, y, S.cell);
    bilinear(T, map, S.cell, S.sample);
  }
}

/** Adjoint of `sampleMap`: adds into `adjMap`, writes the adjoint of (x, y) into S.adjXY. */
export function adjSampleMap(T: TerrainData, S: TerrainScratch, map: F64, adjMap: F64, x: number, y: number, aval: number, avx: number, avy: number): void {
  if (T.spline) adjSplineSample(T, map, adjMap, x, y, aval, avx, avy, S.adjXY);
  else {
    locate(T, x, y, S.cell);
    adjBilinear(T, map, adjMap, S.cell, aval, avx, avy, S.adjXY);
  }
}

/**
 * Contact geometry of a sphere of radius r at (x, y, z) against the terrain: unit normal
 * n = (-hx, -hy, 1) / sqrt(1 + hx^2 + hy^2) and penetration c = (z - h) * n_z - r (the
 * distance to the tangent plane at (x, y, h)). Writes S.geom = [nx, ny, nz, c, h].
 */
export function terrainGeometry(T: TerrainData, S: TerrainScratch, x: number, y: number, z: number, r: number): void {
  sampleMap(T, S, T.heights, x, y);
  const BL = S.sample;
  const TG = S.geom;
  const h = BL[0]!;
  const hx = BL[1]!;
  const hy = BL[2]!;
  const nn = Math.sqrt(1 + hx * hx + hy * hy);
  TG[0] = -hx / nn;
  TG[1] = -hy / nn;
  TG[2] = 1 / nn;
  TG[3] = (z - h) / nn - r;
  TG[4] = h;
}

/**
 * Adjoint of `terrainGeometry`: given adjoints of n and c, adds the heights' adjoint into
 * `adjHeights` and writes the adjoints of (x, y, z, r) into S.adjGeom.
 */
export function adjTerrainGeometry(
  T: TerrainData,
  S: TerrainScratch,
  x: number,
  y: number,
  z: number,
  anx: number,
  any: number,
  anz: number,
  ac: number,
  adjHeights: F64,
): void {
  sampleMap(T, S, T.heights, x, y);
  const BL = S.sample;
  const h = BL[0]!;
  const hx = BL[1]!;
  const hy = BL[2]!;
  const nn = Math.sqrt(1 + hx * hx + hy * hy);
  // c = (z - h)/nn - r
  const az = ac / nn;
  const ah = -ac / nn;
  let ann = (-ac * (z - h)) / (nn * nn);
  // n = m / nn with m = (-hx, -hy, 1)
  ann -= (-anx * hx - any * hy + anz) / (nn * nn);
  const ahx = (ann * hx) / nn - anx / nn;
  const ahy = (ann * hy) / nn - any / nn;
  // the cell S.cell was located (bilinear) by sampleMap above
  if (T.spline) adjSplineSample(T, T.heights, adjHeights, x, y, ah, ahx, ahy, S.adjXY);
  else adjBilinear(T, T.heights, adjHeights, S.cell, ah, ahx, ahy, S.adjXY);
  const TGA = S.adjGeom;
  TGA[0] = S.adjXY[0]!;
  TGA[1] = S.adjXY[1]!;
  TGA[2] = az;
  TGA[3] = -ac;
}

/** Contact stiffness, damping and friction coefficient at (x, y) (bilinear or spline maps); writes S.material. */
export function terrainMaterial(T: TerrainData, S: TerrainScratch, x: number, y: number): void {
  const TM = S.material;
  const BL = S.sample;
  if (T.spline) {
    splineSample(T, T.ke, x, y, BL);
    TM[0] = BL[0]!;
    splineSample(T, T.kd, x, y, BL);
    TM[1] = BL[0]!;
    splineSample(T, T.mu, x, y, BL);
    TM[2] = BL[0]!;
    return;
  }
  locate(T, x, y, S.cell);
  bilinear(T, T.ke, S.cell, BL);
  TM[0] = BL[0]!;
  bilinear(T, T.kd, S.cell, BL);
  TM[1] = BL[0]!;
  bilinear(T, T.mu, S.cell, BL);
  TM[2] = BL[0]!;
}

/**
 * Adjoint of `terrainMaterial`: adds the maps' adjoints and writes the adjoint of (x, y)
 * into S.adjXY.
 */
export function adjTerrainMaterial(
  T: TerrainData,
  S: TerrainScratch,
  x: number,
  y: number,
  ake: number,
  akd: number,
  amu: number,
  adjKe: F64,
  adjKd: F64,
  adjMu: F64,
): void {
  const BA = S.adjXY;
  let gx = 0;
  let gy = 0;
  if (T.spline) {
    adjSplineSample(T, T.ke, adjKe, x, y, ake, 0, 0, BA);
    gx = BA[0]!;
    gy = BA[1]!;
    adjSplineSample(T, T.kd, adjKd, x, y, akd, 0, 0, BA);
    gx += BA[0]!;
    gy += BA[1]!;
    adjSplineSample(T, T.mu, adjMu, x, y, amu, 0, 0, BA);
  } else {
    locate(T, x, y, S.cell);
    adjBilinear(T, T.ke, adjKe, S.cell, ake, 0, 0, BA);
    gx = BA[0]!;
    gy = BA[1]!;
    adjBilinear(T, T.kd, adjKd, S.cell, akd, 0, 0, BA);
    gx += BA[0]!;
    gy += BA[1]!;
    adjBilinear(T, T.mu, adjMu, S.cell, amu, 0, 0, BA);
  }
  BA[0] = gx + BA[0]!;
  BA[1] = gy + BA[1]!;
}

/**
 * Contact of a sphere of radius r at (x, y, z) with the terrain, as the particle and body
 * contact kernels use it: the geometry (S.geom) and, when it touches (c below T.cutoff), the
 * material there (S.material). Returns whether it touches.
 */
export function terrainContact(T: TerrainData, S: TerrainScratch, x: number, y: number, z: number, r: number): boolean {
  terrainGeometry(T, S, x, y, z, r);
  if (!(S.geom[3]! < T.cutoff)) return false;
  terrainMaterial(T, S, x, y);
  return true;
}

/**
 * Adjoint of `terrainContact` (touching): given the adjoints of n, c, ke, kd and mu, adds
 * the maps' adjoints into G (terrainHeights, terrainKe, terrainKd, terrainMu) and writes
 * the adjoints of (x, y, z, r) into S.adjGeom.
 */
export function adjTerrainContact(
  T: TerrainData,
  S: TerrainScratch,
  x: number,
  y: number,
  z: number,
  anx: number,
  any: number,
  anz: number,
  ac: number,
  ake: number,
  akd: number,
  amu: number,
  G: ParamGrads,
): void {
  adjTerrainMaterial(T, S, x, y, ake, akd, amu, G.terrainKe, G.terrainKd, G.terrainMu);
  const gx = S.adjXY[0]!;
  const gy = S.adjXY[1]!;
  adjTerrainGeometry(T, S, x, y, z, anx, any, anz, ac, G.terrainHeights);
  S.adjGeom[0] = gx + S.adjGeom[0]!;
  S.adjGeom[1] = gy + S.adjGeom[1]!;
}
