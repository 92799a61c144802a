// Body-body contact of the physics engine (sim/physics, layer sim): a sweep-and-prune broad
// phase over bounding spheres, and soft contact (the ground's model, contact.ts) of each
// body's contact points against the other body's shape, with its hand-written adjoint.
//
// A body's shape, as a contact target, is a "core" (a point, a segment or a box, in its body
// frame) inflated by a radius: a sphere or a point set is the union of its contact spheres
// (each a core point at the contact point, radius its contact radius: differentiable); a box
// is its box (radius 0); a capsule is its axis segment (0, 0, +-halfHeight) with its radius
// (box and capsule geometry are constants). For a contact point P (radius r) of body X and a
// core of body Y (centre C, half extents h, radius rho), with q = R_Y^T (P - C):
//   outside the core: e = q - clamp(q, -h, h), n = R_Y e / |e|, c = |e| - rho - r;
//   inside a box:     the face of largest |q_i| - h_i, n = R_Y sign(q_i) e_i, c = |q_i| - h_i - rho - r.
// For c < 0 the force f = contactForce(n, c, v) (bodyKe, bodyKd, bodyKf, bodyMu) acts on X at
// the touching point T = P - r n and -f on Y at T, where v is the velocity of X's material
// point at T minus Y's. Which pairs count (each touching geometry once): the points of X
// against Y's shape whenever Y is a box or a capsule (whose points do not describe its
// surface), and for two spheres/point sets the points of the lower-indexed body against the
// other's spheres. Box-box and capsule-capsule contact therefore comes from the corners and
// cap centres of each against the other: edge-edge crossings without a corner inside are
// not seen. Bodies of different worlds (batched copies) never touch. Broad phase: a uniform
// grid in (x, y) (`bodyPairs`).
import { adjContactForce, contactForce } from '../contact.ts';
import type { ModelData, ParamGrads } from '../data.ts';
import { addOuter3 } from '../math.ts';

type F64 = Float64Array;

/**
 * Candidate pairs [a0, b0, a1, b1, ...] (a < b) of bodies in the same world whose bounding
 * spheres overlap. Broad phase: a uniform grid in (x, y) with cells at least twice the largest
 * bounding radius wide (and at most about 2 n cells), filled by a counting sort (O(n)); a body
 * can only touch bodies of its own cell and the 8 around it, which get the bounding-sphere test.
 */
export function bodyPairs(M: ModelData, pos: F64, margin = 0): Int32Array {
  const nb = M.nb;
  if (!M.bodyContact || nb < 2) return EMPTY_PAIRS;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  let maxR = 0;
  for (let b = 0; b < nb; b++) {
    const x = pos[3 * b]!;
    const y = pos[3 * b + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (M.bodyBound[b]! > maxR) maxR = M.bodyBound[b]!;
  }
  if (!(maxR > 0) || !Number.isFinite(maxX - minX + maxY - minY)) return EMPTY_PAIRS;
  const w = Math.max(2 * maxR + margin, Math.sqrt(((maxX - minX) * (maxY - minY)) / nb), (maxX - minX) / nb, (maxY - minY) / nb) * (1 + 1e-9);
  const gx = Math.floor((maxX - minX) / w) + 1;
  const gy = Math.floor((maxY - minY) / w) + 1;
  const nCells = gx * gy;
  const start = new Int32Array(nCells + 1);
  const cell = new Int32Array(nb);
  for (let b = 0; b < nb; b++) {
    const c = Math.floor((pos[3 * b]! - minX) / w) + gx * Math.floor((pos[3 * b + 1]! - minY) / w);
    cell[b] = c;
    start[c + 1]!++;
  }
  for (let c = 0; c < nCells; c++) start[c + 1] = start[c + 1]! + start[c]!;
  const fill = start.slice(0, nCells);
  const order = new Int32Array(nb);
  for (let b = 0; b < nb; b++) order[fill[cell[b]!]!++] = b;
  let out = new Int32Array(64);
  let n = 0;
  const test = (a: number, b: number): void => {
    const rr = M.bodyBound[a]! + M.bodyBound[b]! + margin;
    const dx = pos[3 * a]! - pos[3 * b]!;
    const dy = pos[3 * a + 1]! - pos[3 * b + 1]!;
    const dz = pos[3 * a + 2]! - pos[3 * b + 2]!;
    if (dx * dx + dy * dy + dz * dz >= rr * rr || M.bodyWorld[a] !== M.bodyWorld[b]) return;
    if (n + 2 > out.length) {
      const grown = new Int32Array(2 * out.length);
      grown.set(out);
      out = grown;
    }
    out[n++] = a < b ? a : b;
    out[n++] = a < b ? b : a;
  };
  for (let cy = 0; cy < gy; cy++) {
    for (let cx = 0; cx < gx; cx++) {
      const c = cx + gx * cy;
      for (let i = start[c]!; i < start[c + 1]!; i++) {
        const a = order[i]!;
        for (let j = i + 1; j < start[c + 1]!; j++) test(a, order[j]!);
        // half of the 8 neighbours, (+1, 0), (-1, +1), (0, +1), (+1, +1) (the other half visits this cell)
        for (let q = 0; q < 4; q++) {
          const nx = cx + (q === 0 || q === 3 ? 1 : q === 1 ? -1 : 0);
          const ny = cy + (q === 0 ? 0 : 1);
          if (nx < 0 || nx >= gx || ny >= gy) continue;
          const d = nx + gx * ny;
          for (let j = start[d]!; j < start[d + 1]!; j++) test(a, order[j]!);
        }
      }
    }
  }
  return out.subarray(0, n);
}

const EMPTY_PAIRS = new Int32Array(0);

/**
 * `bodyPairs` with a Verlet skin: the pairs are found with the bounding spheres grown by a
 * skin (a fifth of the largest bounding radius) and kept in `M.pairCache` until some body has
 * moved by more than half the skin since, so most substeps only check displacements (O(n),
 * no allocation). The list is a superset of the touching pairs; a pair that does not touch
 * contributes nothing, so forces and gradients are those of `bodyPairs`.
 */
export function bodyPairsCached(M: ModelData, pos: F64): Int32Array {
  if (!M.bodyContact || M.nb < 2) return EMPTY_PAIRS;
  const c = M.pairCache;
  if (c && c.pos.length === pos.length) {
    const lim = 0.25 * c.skin * c.skin;
    let ok = true;
    for (let i = 0; i < pos.length; i += 3) {
      const dx = pos[i]! - c.pos[i]!;
      const dy = pos[i + 1]! - c.pos[i + 1]!;
      const dz = pos[i + 2]! - c.pos[i + 2]!;
      if (!(dx * dx + dy * dy + dz * dz < lim)) {
        ok = false;
        break;
      }
    }
    if (ok) return c.pairs;
  }
  let maxR = 0;
  for (let b = 0; b < M.nb; b++) maxR = Math.max(maxR, M.bodyBound[b]!);
  const skin = 0.2 * maxR;
  const pairs = bodyPairs(M, pos, skin);
  M.pairCache = { pos: pos.slice(), pairs, skin };
  return pairs;
}

/** Whether the points of body x are tested against the shape of body y (see the file header). */
function directed(M: ModelData, x: number, y: number): boolean {
  return M.bodyShape[y] !== 0 || (M.bodyShape[x] === 0 && x < y);
}

/** The intermediate values of one point-core contact, shared by the kernel and its adjoint. */
export interface PairScratch {
  /** Contact point P (world), its offset R_X p, its radius. */
  P: F64;
  rp: F64;
  /** Core centre C (world) and centre offset R_Y c. */
  C: F64;
  /** d = P - C, q = R_Y^T d, e (core-local). */
  d: F64;
  q: F64;
  e: F64;
  /** Core-local and world normal. */
  nl: F64;
  n: F64;
  /** Arms T - x_X and T - x_Y, relative velocity at T. */
  aX: F64;
  aY: F64;
  v: F64;
  /** Penetration, |e| (outside) or the face index (inside, as -1 - i). */
  c: number;
  dist: number;
  face: number;
}

/** Fresh scratch for `pointCore` (one per kernel call: no module-level state). */
export function pairScratch(): PairScratch {
  const z = (): F64 => new Float64Array(3);
  return { P: z(), rp: z(), C: z(), d: z(), q: z(), e: z(), nl: z(), n: z(), aX: z(), aY: z(), v: z(), c: 0, dist: 0, face: -1 };
}

/**
 * Geometry of contact point k (of body X) against the core of body Y with body-frame centre
 * cc (3 values at offset co), half extents h (at ho), radius rho: fills S; returns whether it
 * penetrates (c < 0).
 */
function pointCore(
  M: ModelData,
  pos: F64,
  R: F64,
  vel: F64,
  angVel: F64,
  X: number,
  k: number,
  Y: number,
  cc: F64,
  co: number,
  h: F64,
  ho: number,
  rho: number,
  S: PairScratch,
): boolean {
  const ox = 9 * X;
  const oy = 9 * Y;
  const px = M.contactPoint[3 * k]!;
  const py = M.contactPoint[3 * k + 1]!;
  const pz = M.contactPoint[3 * k + 2]!;
  const r = M.contactRadius[k]!;
  S.rp[0] = R[ox]! * px + R[ox + 1]! * py + R[ox + 2]! * pz;
  S.rp[1] = R[ox + 3]! * px + R[ox + 4]! * py + R[ox + 5]! * pz;
  S.rp[2] = R[ox + 6]! * px + R[ox + 7]! * py + R[ox + 8]! * pz;
  for (let a = 0; a < 3; a++) S.P[a] = pos[3 * X + a]! + S.rp[a]!;
  const cx = cc[co]!;
  const cy = cc[co + 1]!;
  const cz = cc[co + 2]!;
  for (let a = 0; a < 3; a++) {
    S.C[a] = pos[3 * Y + a]! + R[oy + 3 * a]! * cx + R[oy + 3 * a + 1]! * cy + R[oy + 3 * a + 2]! * cz;
    S.d[a] = S.P[a]! - S.C[a]!;
  }
  for (let i = 0; i < 3; i++) S.q[i] = R[oy + i]! * S.d[0]! + R[oy + 3 + i]! * S.d[1]! + R[oy + 6 + i]! * S.d[2]!;
  let inside = true;
  for (let i = 0; i < 3; i++) {
    const hi = h[ho + i]!;
    const qi = S.q[i]!;
    const u = qi > hi ? hi : qi < -hi ? -hi : qi;
    S.e[i] = qi - u;
    if (!(Math.abs(qi) < hi)) inside = false;
  }
  if (!inside) {
    const dist = Math.hypot(S.e[0]!, S.e[1]!, S.e[2]!);
    if (!(dist > 1e-12)) return false;
    S.dist = dist;
    S.face = -1;
    for (let i = 0; i < 3; i++) S.nl[i] = S.e[i]! / dist;
    S.c = dist - rho - r;
  } else {
    let best = 0;
    let bv = -Infinity;
    for (let i = 0; i < 3; i++) {
      const g = Math.abs(S.q[i]!) - h[ho + i]!;
      if (g > bv) {
        bv = g;
        best = i;
      }
    }
    S.face = best;
    S.dist = 0;
    S.nl.fill(0);
    const sg = S.q[best]! >= 0 ? 1 : -1;
    S.nl[best] = sg;
    S.c = sg * S.q[best]! - h[ho + best]! - rho - r;
  }
  if (!(S.c < M.contactCutoff)) return false;
  for (let a = 0; a < 3; a++) S.n[a] = R[oy + 3 * a]! * S.nl[0]! + R[oy + 3 * a + 1]! * S.nl[1]! + R[oy + 3 * a + 2]! * S.nl[2]!;
  for (let a = 0; a < 3; a++) {
    const T = S.P[a]! - r * S.n[a]!;
    S.aX[a] = T - pos[3 * X + a]!;
    S.aY[a] = T - pos[3 * Y + a]!;
  }
  const bX = 3 * X;
  const bY = 3 * Y;
  const [ax, ay, az] = [S.aX[0]!, S.aX[1]!, S.aX[2]!];
  const [yx, yy, yz] = [S.aY[0]!, S.aY[1]!, S.aY[2]!];
  S.v[0] = vel[bX]! + angVel[bX + 1]! * az - angVel[bX + 2]! * ay - (vel[bY]! + angVel[bY + 1]! * yz - angVel[bY + 2]! * yy);
  S.v[1] = vel[bX + 1]! + angVel[bX + 2]! * ax - angVel[bX]! * az - (vel[bY + 1]! + angVel[bY + 2]! * yx - angVel[bY]! * yz);
  S.v[2] = vel[bX + 2]! + angVel[bX]! * ay - angVel[bX + 1]! * ax - (vel[bY + 2]! + angVel[bY]! * yy - angVel[bY + 1]! * yx);
  return true;
}

const ZERO3 = new Float64Array(3);

/** Calls `visit(X, k, Y, cc, co, h, ho, rho, j)` for every point-core test of the pairs (j: Y's contact point for sphere cores, else -1). */
function forEachTest(
  M: ModelData,
  pairs: Int32Array,
  visit: (X: number, k: number, Y: number, cc: F64, co: number, h: F64, ho: number, rho: number, j: number) => void,
): void {
  const st = M.bodyContactStart;
  const L = M.bodyContactList;
  for (let p = 0; p < pairs.length; p += 2) {
    for (let dir = 0; dir < 2; dir++) {
      const X = pairs[p + dir]!;
      const Y = pairs[p + 1 - dir]!;
      if (!directed(M, X, Y)) continue;
      for (let i = st[X]!; i < st[X + 1]!; i++) {
        const k = L[i]!;
        if (M.bodyShape[Y] === 0) {
          for (let jj = st[Y]!; jj < st[Y + 1]!; jj++) {
            const j = L[jj]!;
            visit(X, k, Y, M.contactPoint, 3 * j, ZERO3, 0, M.contactRadius[j]!, j);
          }
        } else visit(X, k, Y, ZERO3, 0, M.bodyShapeHalf, 3 * Y, M.bodyShapeRadius[Y]!, -1);
      }
    }
  }
}

/**
 * Body-body soft contact forces and torques of the candidate `pairs` (from `bodyPairs`): adds
 * into f and t ([Nb, 3], world frame, about the centres of mass).
 */
export function eval_body_body_contacts(M: ModelData, pos: F64, R: F64, vel: F64, angVel: F64, pairs: Int32Array, f: F64, t: F64): void {
  const CF = M.contactScratch.force;
  if (pairs.length === 0) return;
  const S = pairScratch();
  forEachTest(M, pairs, (X, k, Y, cc, co, h, ho, rho) => {
    if (!pointCore(M, pos, R, vel, angVel, X, k, Y, cc, co, h, ho, rho, S)) return;
    contactForce(S.n[0]!, S.n[1]!, S.n[2]!, S.c, S.v[0]!, S.v[1]!, S.v[2]!, M.bodyKe, M.bodyKd, M.bodyKf, M.bodyMu, M, M.contactScratch);
    const fx = CF[0]!;
    const fy = CF[1]!;
    const fz = CF[2]!;
    const bX = 3 * X;
    const bY = 3 * Y;
    const a = S.aX;
    const b = S.aY;
    f[bX] = f[bX]! + fx;
    f[bX + 1] = f[bX + 1]! + fy;
    f[bX + 2] = f[bX + 2]! + fz;
    t[bX] = t[bX]! + a[1]! * fz - a[2]! * fy;
    t[bX + 1] = t[bX + 1]! + a[2]! * fx - a[0]! * fz;
    t[bX + 2] = t[bX + 2]! + a[0]! * fy - a[1]! * fx;
    f[bY] = f[bY]! - fx;
    f[bY + 1] = f[bY + 1]! - fy;
    f[bY + 2] = f[bY + 2]! - fz;
    t[bY] = t[bY]! - (b[1]! * fz - b[2]! * fy);
    t[bY + 1] = t[bY + 1]! - (b[2]! * fx - b[0]! * fz);
    t[bY + 2] = t[bY + 2]! - (b[0]! * fy - b[1]! * fx);
  });
}

/** Adjoint of `eval_body_body_contacts` (the same pairs): adds into the adjoints of pos, R, vel, angVel and the parameters. */
export function adj_eval_body_body_contacts(
  M: ModelData,
  pos: F64,
  R: F64,
  vel: F64,
  angVel: F64,
  pairs: Int32Array,
  adjF: F64,
  adjT: F64,
  adjPos: F64,
  adjR: F64,
  adjVel: F64,
  adjAngVel: F64,
  G: ParamGrads,
): void {
  const CF = M.contactScratch.force;
  const CA = M.contactScratch.adj;
  if (pairs.length === 0) return;
  const S = pairScratch();
  let ake = 0;
  let akd = 0;
  let akf = 0;
  let amu = 0;
  forEachTest(M, pairs, (X, k, Y, cc, co, h, ho, rho, j) => {
    if (!pointCore(M, pos, R, vel, angVel, X, k, Y, cc, co, h, ho, rho, S)) return;
    const bX = 3 * X;
    const bY = 3 * Y;
    const ox = 9 * X;
    const oy = 9 * Y;
    const r = M.contactRadius[k]!;
    const aX = S.aX;
    const aY = S.aY;
    const tX0 = adjT[bX]!;
    const tX1 = adjT[bX + 1]!;
    const tX2 = adjT[bX + 2]!;
    const tY0 = adjT[bY]!;
    const tY1 = adjT[bY + 1]!;
    const tY2 = adjT[bY + 2]!;
    // f_X += F, t_X += aX x F, f_Y -= F, t_Y -= aY x F: adj F = aF_X + aT_X x aX - aF_Y - aT_Y x aY
    const aF0 = adjF[bX]! + tX1 * aX[2]! - tX2 * aX[1]! - adjF[bY]! - (tY1 * aY[2]! - tY2 * aY[1]!);
    const aF1 = adjF[bX + 1]! + tX2 * aX[0]! - tX0 * aX[2]! - adjF[bY + 1]! - (tY2 * aY[0]! - tY0 * aY[2]!);
    const aF2 = adjF[bX + 2]! + tX0 * aX[1]! - tX1 * aX[0]! - adjF[bY + 2]! - (tY0 * aY[1]! - tY1 * aY[0]!);
    adjContactForce(S.n[0]!, S.n[1]!, S.n[2]!, S.c, S.v[0]!, S.v[1]!, S.v[2]!, M.bodyKe, M.bodyKd, M.bodyKf, M.bodyMu, M, M.contactScratch, aF0, aF1, aF2);
    const F0 = CF[0]!;
    const F1 = CF[1]!;
    const F2 = CF[2]!;
    // adj aX = F x aT_X, adj aY = -(F x aT_Y)
    let aaX0 = F1 * tX2 - F2 * tX1;
    let aaX1 = F2 * tX0 - F0 * tX2;
    let aaX2 = F0 * tX1 - F1 * tX0;
    let aaY0 = -(F1 * tY2 - F2 * tY1);
    let aaY1 = -(F2 * tY0 - F0 * tY2);
    let aaY2 = -(F0 * tY1 - F1 * tY0);
    let an0 = CA[0]!;
    let an1 = CA[1]!;
    let an2 = CA[2]!;
    const ac = CA[3]!;
    const av0 = CA[4]!;
    const av1 = CA[5]!;
    const av2 = CA[6]!;
    ake += CA[7]!;
    akd += CA[8]!;
    akf += CA[9]!;
    amu += CA[10]!;
    // v = vX + wX x aX - vY - wY x aY
    adjVel[bX] = adjVel[bX]! + av0;
    adjVel[bX + 1] = adjVel[bX + 1]! + av1;
    adjVel[bX + 2] = adjVel[bX + 2]! + av2;
    adjVel[bY] = adjVel[bY]! - av0;
    adjVel[bY + 1] = adjVel[bY + 1]! - av1;
    adjVel[bY + 2] = adjVel[bY + 2]! - av2;
    adjAngVel[bX] = adjAngVel[bX]! + aX[1]! * av2 - aX[2]! * av1;
    adjAngVel[bX + 1] = adjAngVel[bX + 1]! + aX[2]! * av0 - aX[0]! * av2;
    adjAngVel[bX + 2] = adjAngVel[bX + 2]! + aX[0]! * av1 - aX[1]! * av0;
    adjAngVel[bY] = adjAngVel[bY]! - (aY[1]! * av2 - aY[2]! * av1);
    adjAngVel[bY + 1] = adjAngVel[bY + 1]! - (aY[2]! * av0 - aY[0]! * av2);
    adjAngVel[bY + 2] = adjAngVel[bY + 2]! - (aY[0]! * av1 - aY[1]! * av0);
    const wX0 = angVel[bX]!;
    const wX1 = angVel[bX + 1]!;
    const wX2 = angVel[bX + 2]!;
    const wY0 = angVel[bY]!;
    const wY1 = angVel[bY + 1]!;
    const wY2 = angVel[bY + 2]!;
    aaX0 += av1 * wX2 - av2 * wX1;
    aaX1 += av2 * wX0 - av0 * wX2;
    aaX2 += av0 * wX1 - av1 * wX0;
    aaY0 -= av1 * wY2 - av2 * wY1;
    aaY1 -= av2 * wY0 - av0 * wY2;
    aaY2 -= av0 * wY1 - av1 * wY0;
    // aX = T - xX, aY = T - xY with T = P - r n, P = xX + R_X p: adj T = aaX + aaY
    const aT0 = aaX0 + aaY0;
    const aT1 = aaX1 + aaY1;
    const aT2 = aaX2 + aaY2;
    adjPos[bX] = adjPos[bX]! - aaX0;
    adjPos[bX + 1] = adjPos[bX + 1]! - aaX1;
    adjPos[bX + 2] = adjPos[bX + 2]! - aaX2;
    adjPos[bY] = adjPos[bY]! - aaY0;
    adjPos[bY + 1] = adjPos[bY + 1]! - aaY1;
    adjPos[bY + 2] = adjPos[bY + 2]! - aaY2;
    let aP0 = aT0;
    let aP1 = aT1;
    let aP2 = aT2;
    let ar = -(aT0 * S.n[0]! + aT1 * S.n[1]! + aT2 * S.n[2]!);
    an0 -= r * aT0;
    an1 -= r * aT1;
    an2 -= r * aT2;
    // n = R_Y nl
    addOuter3(adjR, oy, an0, an1, an2, S.nl[0]!, S.nl[1]!, S.nl[2]!);
    const anl0 = R[oy]! * an0 + R[oy + 3]! * an1 + R[oy + 6]! * an2;
    const anl1 = R[oy + 1]! * an0 + R[oy + 4]! * an1 + R[oy + 7]! * an2;
    const anl2 = R[oy + 2]! * an0 + R[oy + 5]! * an1 + R[oy + 8]! * an2;
    // c = |e| - rho - r (outside) or sign(q_i) q_i - h_i - rho - r (inside face i)
    ar -= ac;
    const arho = -ac;
    let aq0 = 0;
    let aq1 = 0;
    let aq2 = 0;
    if (S.face < 0) {
      const dist = S.dist;
      const nl = S.nl;
      const dot = nl[0]! * anl0 + nl[1]! * anl1 + nl[2]! * anl2;
      // nl = e / |e|, |e|: adj e = (anl - nl (nl . anl)) / |e| + ac nl
      const ae0 = (anl0 - nl[0]! * dot) / dist + ac * nl[0]!;
      const ae1 = (anl1 - nl[1]! * dot) / dist + ac * nl[1]!;
      const ae2 = (anl2 - nl[2]! * dot) / dist + ac * nl[2]!;
      // e = q - clamp(q, -h, h): de/dq = 1 where clamped (|q_i| >= h_i), 0 inside the slab
      aq0 = Math.abs(S.q[0]!) < h[ho]! ? 0 : ae0;
      aq1 = Math.abs(S.q[1]!) < h[ho + 1]! ? 0 : ae1;
      aq2 = Math.abs(S.q[2]!) < h[ho + 2]! ? 0 : ae2;
    } else {
      const i = S.face;
      const sg = S.nl[i]!;
      if (i === 0) aq0 = sg * ac;
      else if (i === 1) aq1 = sg * ac;
      else aq2 = sg * ac;
    }
    // q = R_Y^T d: adj d = R_Y aq, adj R_Y += outer(d, aq)
    addOuter3(adjR, oy, S.d[0]!, S.d[1]!, S.d[2]!, aq0, aq1, aq2);
    const ad0 = R[oy]! * aq0 + R[oy + 1]! * aq1 + R[oy + 2]! * aq2;
    const ad1 = R[oy + 3]! * aq0 + R[oy + 4]! * aq1 + R[oy + 5]! * aq2;
    const ad2 = R[oy + 6]! * aq0 + R[oy + 7]! * aq1 + R[oy + 8]! * aq2;
    // d = P - C, C = xY + R_Y c
    aP0 += ad0;
    aP1 += ad1;
    aP2 += ad2;
    adjPos[bY] = adjPos[bY]! - ad0;
    adjPos[bY + 1] = adjPos[bY + 1]! - ad1;
    adjPos[bY + 2] = adjPos[bY + 2]! - ad2;
    if (j >= 0) {
      const c0 = cc[co]!;
      const c1 = cc[co + 1]!;
      const c2 = cc[co + 2]!;
      addOuter3(adjR, oy, -ad0, -ad1, -ad2, c0, c1, c2);
      const g = G.contactPoint;
      g[3 * j] = g[3 * j]! - (R[oy]! * ad0 + R[oy + 3]! * ad1 + R[oy + 6]! * ad2);
      g[3 * j + 1] = g[3 * j + 1]! - (R[oy + 1]! * ad0 + R[oy + 4]! * ad1 + R[oy + 7]! * ad2);
      g[3 * j + 2] = g[3 * j + 2]! - (R[oy + 2]! * ad0 + R[oy + 5]! * ad1 + R[oy + 8]! * ad2);
      G.contactRadius[j] = G.contactRadius[j]! + arho;
    }
    // P = xX + R_X p
    adjPos[bX] = adjPos[bX]! + aP0;
    adjPos[bX + 1] = adjPos[bX + 1]! + aP1;
    adjPos[bX + 2] = adjPos[bX + 2]! + aP2;
    const px = M.contactPoint[3 * k]!;
    const py = M.contactPoint[3 * k + 1]!;
    const pz = M.contactPoint[3 * k + 2]!;
    addOuter3(adjR, ox, aP0, aP1, aP2, px, py, pz);
    const g = G.contactPoint;
    g[3 * k] = g[3 * k]! + R[ox]! * aP0 + R[ox + 3]! * aP1 + R[ox + 6]! * aP2;
    g[3 * k + 1] = g[3 * k + 1]! + R[ox + 1]! * aP0 + R[ox + 4]! * aP1 + R[ox + 7]! * aP2;
    g[3 * k + 2] = g[3 * k + 2]! + R[ox + 2]! * aP0 + R[ox + 5]! * aP1 + R[ox + 8]! * aP2;
    G.contactRadius[k] = G.contactRadius[k]! + ar;
  });
  G.bodyKe[0] = G.bodyKe[0]! + ake;
  G.bodyKd[0] = G.bodyKd[0]! + akd;
  G.bodyKf[0] = G.bodyKf[0]! + akf;
  G.bodyMu[0] = G.bodyMu[0]! + amu;
}

/** One overlapping pair: bodies a < b and the deepest penetration (m) among their point-core tests. */
export interface BodyOverlap {
  a: number;
  b: number;
  depth: number;
}

/**
 * Pairs of bodies whose shapes overlap deeper than `tolerance(a, b)` (m) at the given poses:
 * the deepest penetration of any contact point of one into the other's shape.
 */
export function bodyOverlaps(M: ModelData, pos: F64, R: F64, tolerance: (a: number, b: number) => number): BodyOverlap[] {
  const pairs = bodyPairs(M, pos);
  const S = pairScratch();
  const zero = new Float64Array(3 * M.nb);
  const deepest = new Map<number, BodyOverlap>();
  forEachTest(M, pairs, (X, k, Y, cc, co, h, ho, rho) => {
    if (!pointCore(M, pos, R, zero, zero, X, k, Y, cc, co, h, ho, rho, S)) return;
    const a = Math.min(X, Y);
    const b = Math.max(X, Y);
    const key = a * M.nb + b;
    const cur = deepest.get(key);
    if (!cur || -S.c > cur.depth) deepest.set(key, { a, b, depth: -S.c });
  });
  return [...deepest.values()].filter((o) => o.depth > tolerance(o.a, o.b)).sort((x, y) => y.depth - x.depth);
}
