// Heightmap terrain (sim/physics, layer sim): bilinear (or, in the C1 contact model, cubic
// B-spline) height and analytic normal at any point, material maps (ke, kd, mu) interpolated
// the same way, the contact of a sphere with both, and their
// hand-written adjoints with respect to the query point and to every map value. Outside
// the grid the maps are clamped to the border (constant along the clamped axis, so the
// derivative along that axis is zero).
import type { ParamGrads, TerrainData } from './data.ts';

// Located cell of the last query: flat index of corner (i0, j0), fractions and clamp flags.
let k00 = 0;
let fx = 0;
let fy = 0;
let cx = 1;
let cy = 1;

/** Finds the cell of (x, y); later `bilinear` / `adjBilinear` calls use it. */
export function locate(T: TerrainData, x: number, y: number): void {
  let u = (x - T.ox) / T.cs;
  let v = (y - T.oy) / T.cs;
  cx = 1;
  cy = 1;
  if (!(u > 0)) {
    u = 0;
    cx = 0;
  } else if (u >= T.nx - 1) {
    u = T.nx - 1;
    cx = 0;
  }
  if (!(v > 0)) {
    v = 0;
    cy = 0;
  } else if (v >= T.ny - 1) {
    v = T.ny - 1;
    cy = 0;
  }
  const i0 = Math.min(Math.floor(u), T.nx - 2);
  const j0 = Math.min(Math.floor(v), T.ny - 2);
  fx = u - i0;
  fy = v - j0;
  k00 = j0 * T.nx + i0;
}

/** Output of `bilinear`: [value, d/dx, d/dy]. */
export const BL = new Float64Array(3);

/** Bilinear value of `map` ([ny, nx] row-major) and its x, y derivatives at the located point. */
export function bilinear(T: TerrainData, map: Float64Array): void {
  const a = map[k00]!;
  const b = map[k00 + 1]!;
  const c = map[k00 + T.nx]!;
  const d = map[k00 + T.nx + 1]!;
  BL[0] = (1 - fx) * (1 - fy) * a + fx * (1 - fy) * b + (1 - fx) * fy * c + fx * fy * d;
  BL[1] = (cx * ((1 - fy) * (b - a) + fy * (d - c))) / T.cs;
  BL[2] = (cy * ((1 - fx) * (c - a) + fx * (d - b))) / T.cs;
}

/** Output of `adjBilinear`: adjoints of the query point [x, y]. */
export const BA = new Float64Array(2);

/**
 * Adjoint of `bilinear` at the located point: adds the map's adjoint into `adjMap` and
 * writes the query point's adjoint into BA, given adjoints of value, d/dx and d/dy.
 */
export function adjBilinear(T: TerrainData, map: Float64Array, adjMap: Float64Array, aval: number, avx: number, avy: number): void {
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
  BA[0] = (afx * cx) / T.cs;
  BA[1] = (afy * cy) / T.cs;
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
 * (a plane is reproduced exactly). Writes BL = [value, d/dx, d/dy] (zero along a clamped
 * axis, outside the grid) and returns the second derivatives [hxx, hxy, hyy] through `second`
 * when given (per world unit). Stateless: computes its stencil itself.
 */
export function splineSample(T: TerrainData, map: Float64Array, x: number, y: number, second?: Float64Array): void {
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
  BL[0] = h;
  BL[1] = (cx * hx) / c;
  BL[2] = (cy * hy) / c;
  if (second) {
    second[0] = (cx * hxx) / (c * c);
    second[1] = (cx * cy * hxy) / (c * c);
    second[2] = (cy * hyy) / (c * c);
  }
}

/**
 * Adjoint of `splineSample`: given the adjoints of [value, d/dx, d/dy], adds the map's
 * adjoint into `adjMap` and writes the adjoint of (x, y) into BA.
 */
export function adjSplineSample(T: TerrainData, map: Float64Array, adjMap: Float64Array, x: number, y: number, aval: number, avx: number, avy: number): void {
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
  BA[0] = (cx * (aval * hx + ax * hxx + ay * hxy)) / c;
  BA[1] = (cy * (aval * hy + ax * hxy + ay * hyy)) / c;
}

/** `map` at (x, y), bilinear or (C1 model) cubic B-spline: writes BL = [value, d/dx, d/dy]. */
export function sampleMap(T: TerrainData, map: Float64Array, x: number, y: number): void {
  if (T.spline) splineSample(T, map, x, y);
  else {
    locate(T, x, y);
    bilinear(T, map);
  }
}

/** Adjoint of `sampleMap`: adds into `adjMap`, writes the adjoint of (x, y) into BA. */
export function adjSampleMap(T: TerrainData, map: Float64Array, adjMap: Float64Array, x: number, y: number, aval: number, avx: number, avy: number): void {
  if (T.spline) adjSplineSample(T, map, adjMap, x, y, aval, avx, avy);
  else {
    locate(T, x, y);
    adjBilinear(T, map, adjMap, aval, avx, avy);
  }
}

/** Output of `terrainGeometry`: [nx, ny, nz, c, h]. */
export const TG = new Float64Array(5);

/**
 * Contact geometry of a sphere of radius r at (x, y, z) against the terrain: unit normal
 * n = (-hx, -hy, 1) / sqrt(1 + hx^2 + hy^2) and penetration c = (z - h) * n_z - r (the
 * distance to the tangent plane at (x, y, h)). Writes TG.
 */
export function terrainGeometry(T: TerrainData, x: number, y: number, z: number, r: number): void {
  sampleMap(T, T.heights, x, y);
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

/** Output of `adjTerrainGeometry`: adjoints of [x, y, z, r]. */
export const TGA = new Float64Array(4);

/**
 * Adjoint of `terrainGeometry`: given adjoints of n and c, adds the heights' adjoint into
 * `adjHeights` and writes the adjoints of (x, y, z, r) into TGA.
 */
export function adjTerrainGeometry(
  T: TerrainData,
  x: number,
  y: number,
  z: number,
  anx: number,
  any: number,
  anz: number,
  ac: number,
  adjHeights: Float64Array,
): void {
  sampleMap(T, T.heights, x, y);
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
  // the cell is located (bilinear) by sampleMap above
  if (T.spline) adjSplineSample(T, T.heights, adjHeights, x, y, ah, ahx, ahy);
  else adjBilinear(T, T.heights, adjHeights, ah, ahx, ahy);
  TGA[0] = BA[0]!;
  TGA[1] = BA[1]!;
  TGA[2] = az;
  TGA[3] = -ac;
}

/** Output of `terrainMaterial`: [ke, kd, mu] at the queried point. */
export const TM = new Float64Array(3);

/** Bilinear contact stiffness, damping and friction coefficient at (x, y); writes TM. */
export function terrainMaterial(T: TerrainData, x: number, y: number): void {
  if (T.spline) {
    splineSample(T, T.ke, x, y);
    TM[0] = BL[0]!;
    splineSample(T, T.kd, x, y);
    TM[1] = BL[0]!;
    splineSample(T, T.mu, x, y);
    TM[2] = BL[0]!;
    return;
  }
  locate(T, x, y);
  bilinear(T, T.ke);
  TM[0] = BL[0]!;
  bilinear(T, T.kd);
  TM[1] = BL[0]!;
  bilinear(T, T.mu);
  TM[2] = BL[0]!;
}

/**
 * Adjoint of `terrainMaterial`: adds the maps' adjoints and writes the adjoint of (x, y)
 * into BA.
 */
export function adjTerrainMaterial(
  T: TerrainData,
  x: number,
  y: number,
  ake: number,
  akd: number,
  amu: number,
  adjKe: Float64Array,
  adjKd: Float64Array,
  adjMu: Float64Array,
): void {
  let gx = 0;
  let gy = 0;
  if (T.spline) {
    adjSplineSample(T, T.ke, adjKe, x, y, ake, 0, 0);
    gx = BA[0]!;
    gy = BA[1]!;
    adjSplineSample(T, T.kd, adjKd, x, y, akd, 0, 0);
    gx += BA[0]!;
    gy += BA[1]!;
    adjSplineSample(T, T.mu, adjMu, x, y, amu, 0, 0);
  } else {
    locate(T, x, y);
    adjBilinear(T, T.ke, adjKe, ake, 0, 0);
    gx = BA[0]!;
    gy = BA[1]!;
    adjBilinear(T, T.kd, adjKd, akd, 0, 0);
    gx += BA[0]!;
    gy += BA[1]!;
    adjBilinear(T, T.mu, adjMu, amu, 0, 0);
  }
  BA[0] = gx + BA[0]!;
  BA[1] = gy + BA[1]!;
}

/**
 * Contact of a sphere of radius r at (x, y, z) with the terrain, as the particle and body
 * contact kernels use it: the geometry (TG) and, when it touches (c < 0), the material
 * there (TM). Returns whether it touches.
 */
export function terrainContact(T: TerrainData, x: number, y: number, z: number, r: number): boolean {
  terrainGeometry(T, x, y, z, r);
  if (!(TG[3]! < T.cutoff)) return false;
  terrainMaterial(T, x, y);
  return true;
}

/**
 * Adjoint of `terrainContact` (touching): given the adjoints of n, c, ke, kd and mu, adds
 * the maps' adjoints into G (terrainHeights, terrainKe, terrainKd, terrainMu) and writes
 * the adjoints of (x, y, z, r) into TGA.
 */
export function adjTerrainContact(
  T: TerrainData,
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
  adjTerrainMaterial(T, x, y, ake, akd, amu, G.terrainKe, G.terrainKd, G.terrainMu);
  const gx = BA[0]!;
  const gy = BA[1]!;
  adjTerrainGeometry(T, x, y, z, anx, any, anz, ac, G.terrainHeights);
  TGA[0] = gx + TGA[0]!;
  TGA[1] = gy + TGA[1]!;
}
