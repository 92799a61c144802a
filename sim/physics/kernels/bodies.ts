// Rigid-body kernels of the physics engine (sim/physics, layer sim): soft contact of body
// contact points with the planes and the heightmap, track drive forces, and semi-implicit
// integration with quaternion renormalisation; each with its hand-written adjoint.
// Forward kernels add into the body force f and torque t ([Nb, 3], world frame, about the
// centre of mass); adjoints add into the adjoints of their inputs. Rotation enters through
// R = R(q) ([Nb, 9]); its adjoint adjR is mapped back to the quaternion by adjQuatToMat.
import { adjContactForce, contactForce } from '../contact.ts';
import type { ModelData, ParamGrads } from '../data.ts';
import { adjIntegratePointMasses, integratePointMasses } from '../euler.ts';
import { addOuter3, inv3 } from '../math.ts';
import { adjTerrainContact, terrainContact, terrainGeometry } from '../terrain.ts';

type F64 = Float64Array;

// Scratch: each kernel reads its work arrays from the named records of its ModelData
// (contactScratch, bodyScratch, terrain.scratch), held in locals for the inner loops.

/** Writes M.bodyScratch.rp = R_b p_k, the offset of contact point k from its body's centre. */
function rotatePoint(M: ModelData, R: F64, k: number): void {
  const RPL = M.bodyScratch.rp;
  const o = 9 * M.contactBody[k]!;
  const px = M.contactPoint[3 * k]!;
  const py = M.contactPoint[3 * k + 1]!;
  const pz = M.contactPoint[3 * k + 2]!;
  RPL[0] = R[o]! * px + R[o + 1]! * py + R[o + 2]! * pz;
  RPL[1] = R[o + 3]! * px + R[o + 4]! * py + R[o + 5]! * pz;
  RPL[2] = R[o + 6]! * px + R[o + 7]! * py + R[o + 8]! * pz;
}

/** Adjoint of R p (RPL of `rotatePoint`) given its adjoint a: adds outer(a, p) into adjR and R^T a into G.contactPoint. */
function adjRotatePoint(M: ModelData, R: F64, k: number, ax: number, ay: number, az: number, adjR: F64, G: ParamGrads): void {
  const o = 9 * M.contactBody[k]!;
  addOuter3(adjR, o, ax, ay, az, M.contactPoint[3 * k]!, M.contactPoint[3 * k + 1]!, M.contactPoint[3 * k + 2]!);
  const g = G.contactPoint;
  g[3 * k] = g[3 * k]! + R[o]! * ax + R[o + 3]! * ay + R[o + 6]! * az;
  g[3 * k + 1] = g[3 * k + 1]! + R[o + 1]! * ax + R[o + 4]! * ay + R[o + 7]! * az;
  g[3 * k + 2] = g[3 * k + 2]! + R[o + 2]! * ax + R[o + 5]! * ay + R[o + 8]! * az;
}

/**
 * Contact points (spheres of radius r at body-frame points p) against the contact planes:
 * c = n . (x + R p) - offset - r; the force acts at the touching point x + R p - r n, so it
 * also applies the torque a x f with arm a = R p - r n. Ground parameters ke, kd, kf, mu.
 */
export function eval_body_ground_contacts(M: ModelData, pos: F64, R: F64, vel: F64, angVel: F64, f: F64, t: F64): void {
  const RPL = M.bodyScratch.rp;
  const N = M.planeNormal;
  for (let k = 0; k < M.nc; k++) {
    const b = 3 * M.contactBody[k]!;
    const r = M.contactRadius[k]!;
    rotatePoint(M, R, k);
    const px = pos[b]! + RPL[0]!;
    const py = pos[b + 1]! + RPL[1]!;
    const pz = pos[b + 2]! + RPL[2]!;
    for (let p = 0; p < M.npl; p++) {
      const nx = N[3 * p]!;
      const ny = N[3 * p + 1]!;
      const nz = N[3 * p + 2]!;
      const c = nx * px + ny * py + nz * pz - M.planeOffset[p]! - r;
      if (!(c < M.contactCutoff)) continue;
      applyContact(M, b, nx, ny, nz, c, r, vel, angVel, M.groundKe, M.groundKd, M.groundKf, M.groundMu, f, t);
    }
  }
}

/** The touching point of a contact with normal n on body b (bodyScratch.rp holds R p): writes bodyScratch.arm = [a (3), v (3)], the arm a = R p - r n and the velocity v + w x a. */
function touchingPoint(M: ModelData, b: number, nx: number, ny: number, nz: number, r: number, vel: F64, angVel: F64): void {
  const RPL = M.bodyScratch.rp;
  const AV = M.bodyScratch.arm;
  const ax = RPL[0]! - r * nx;
  const ay = RPL[1]! - r * ny;
  const az = RPL[2]! - r * nz;
  const wx = angVel[b]!;
  const wy = angVel[b + 1]!;
  const wz = angVel[b + 2]!;
  AV[0] = ax;
  AV[1] = ay;
  AV[2] = az;
  AV[3] = vel[b]! + wy * az - wz * ay;
  AV[4] = vel[b + 1]! + wz * ax - wx * az;
  AV[5] = vel[b + 2]! + wx * ay - wy * ax;
}

/** Adds the contact force at arm a = R p - r n (RPL holds R p) to body b's force and torque. */
function applyContact(
  M: ModelData,
  b: number,
  nx: number,
  ny: number,
  nz: number,
  c: number,
  r: number,
  vel: F64,
  angVel: F64,
  ke: number,
  kd: number,
  kf: number,
  mu: number,
  f: F64,
  t: F64,
): void {
  const AV = M.bodyScratch.arm;
  const CF = M.contactScratch.force;
  touchingPoint(M, b, nx, ny, nz, r, vel, angVel);
  contactForce(nx, ny, nz, c, AV[3]!, AV[4]!, AV[5]!, ke, kd, kf, mu, M, M.contactScratch);
  const ax = AV[0]!;
  const ay = AV[1]!;
  const az = AV[2]!;
  const fx = CF[0]!;
  const fy = CF[1]!;
  const fz = CF[2]!;
  f[b] = f[b]! + fx;
  f[b + 1] = f[b + 1]! + fy;
  f[b + 2] = f[b + 2]! + fz;
  t[b] = t[b]! + ay * fz - az * fy;
  t[b + 1] = t[b + 1]! + az * fx - ax * fz;
  t[b + 2] = t[b + 2]! + ax * fy - ay * fx;
}

/** Adjoint of applyContact (bodyScratch.rp holds R p): writes bodyScratch.adjContact = adjoints of [a (3), nx, ny, nz, c, ke, kd, kf, mu], adds into adjVel, adjAngVel. */
function adjApplyContact(
  M: ModelData,
  b: number,
  nx: number,
  ny: number,
  nz: number,
  c: number,
  r: number,
  vel: F64,
  angVel: F64,
  ke: number,
  kd: number,
  kf: number,
  mu: number,
  adjF: F64,
  adjT: F64,
  adjVel: F64,
  adjAngVel: F64,
): void {
  const AV = M.bodyScratch.arm;
  const AC = M.bodyScratch.adjContact;
  const CF = M.contactScratch.force;
  const CA = M.contactScratch.adj;
  touchingPoint(M, b, nx, ny, nz, r, vel, angVel);
  const ax = AV[0]!;
  const ay = AV[1]!;
  const az = AV[2]!;
  const aFx = adjF[b]!;
  const aFy = adjF[b + 1]!;
  const aFz = adjF[b + 2]!;
  const aTx = adjT[b]!;
  const aTy = adjT[b + 1]!;
  const aTz = adjT[b + 2]!;
  // t += a x f: adj f += aT x a, adj a += f x aT (adjContactForce also writes f into CF)
  const afx = aFx + aTy * az - aTz * ay;
  const afy = aFy + aTz * ax - aTx * az;
  const afz = aFz + aTx * ay - aTy * ax;
  adjContactForce(nx, ny, nz, c, AV[3]!, AV[4]!, AV[5]!, ke, kd, kf, mu, M, M.contactScratch, afx, afy, afz);
  let aax = CF[1]! * aTz - CF[2]! * aTy;
  let aay = CF[2]! * aTx - CF[0]! * aTz;
  let aaz = CF[0]! * aTy - CF[1]! * aTx;
  const avx = CA[4]!;
  const avy = CA[5]!;
  const avz = CA[6]!;
  // vel = v + w x a
  adjVel[b] = adjVel[b]! + avx;
  adjVel[b + 1] = adjVel[b + 1]! + avy;
  adjVel[b + 2] = adjVel[b + 2]! + avz;
  adjAngVel[b] = adjAngVel[b]! + ay * avz - az * avy;
  adjAngVel[b + 1] = adjAngVel[b + 1]! + az * avx - ax * avz;
  adjAngVel[b + 2] = adjAngVel[b + 2]! + ax * avy - ay * avx;
  aax += avy * angVel[b + 2]! - avz * angVel[b + 1]!;
  aay += avz * angVel[b]! - avx * angVel[b + 2]!;
  aaz += avx * angVel[b + 1]! - avy * angVel[b]!;
  AC[0] = aax;
  AC[1] = aay;
  AC[2] = aaz;
  // a = R p - r n: adjoint of n from the arm; the caller handles R p and r
  AC[3] = CA[0]! - r * aax;
  AC[4] = CA[1]! - r * aay;
  AC[5] = CA[2]! - r * aaz;
  AC[6] = CA[3]!;
  AC[7] = CA[7]!;
  AC[8] = CA[8]!;
  AC[9] = CA[9]!;
  AC[10] = CA[10]!;
}

/** Adjoint of `eval_body_ground_contacts`. */
export function adj_eval_body_ground_contacts(
  M: ModelData,
  pos: F64,
  R: F64,
  vel: F64,
  angVel: F64,
  adjF: F64,
  adjT: F64,
  adjPos: F64,
  adjR: F64,
  adjVel: F64,
  adjAngVel: F64,
  G: ParamGrads,
): void {
  const RPL = M.bodyScratch.rp;
  const AC = M.bodyScratch.adjContact;
  const N = M.planeNormal;
  let ake = 0;
  let akd = 0;
  let akf = 0;
  let amu = 0;
  for (let k = 0; k < M.nc; k++) {
    const b = 3 * M.contactBody[k]!;
    const r = M.contactRadius[k]!;
    rotatePoint(M, R, k);
    const px = pos[b]! + RPL[0]!;
    const py = pos[b + 1]! + RPL[1]!;
    const pz = pos[b + 2]! + RPL[2]!;
    let aRx = 0;
    let aRy = 0;
    let aRz = 0;
    let ar = 0;
    for (let p = 0; p < M.npl; p++) {
      const nx = N[3 * p]!;
      const ny = N[3 * p + 1]!;
      const nz = N[3 * p + 2]!;
      const c = nx * px + ny * py + nz * pz - M.planeOffset[p]! - r;
      if (!(c < M.contactCutoff)) continue;
      adjApplyContact(M, b, nx, ny, nz, c, r, vel, angVel, M.groundKe, M.groundKd, M.groundKf, M.groundMu, adjF, adjT, adjVel, adjAngVel);
      const ac = AC[6]!;
      // a = R p - r n (n constant), c = n . (x + R p) - offset - r
      aRx += AC[0]! + ac * nx;
      aRy += AC[1]! + ac * ny;
      aRz += AC[2]! + ac * nz;
      ar -= AC[0]! * nx + AC[1]! * ny + AC[2]! * nz + ac;
      adjPos[b] = adjPos[b]! + ac * nx;
      adjPos[b + 1] = adjPos[b + 1]! + ac * ny;
      adjPos[b + 2] = adjPos[b + 2]! + ac * nz;
      G.planeOffset[p] = G.planeOffset[p]! - ac;
      ake += AC[7]!;
      akd += AC[8]!;
      akf += AC[9]!;
      amu += AC[10]!;
    }
    if (aRx !== 0 || aRy !== 0 || aRz !== 0) adjRotatePoint(M, R, k, aRx, aRy, aRz, adjR, G);
    G.contactRadius[k] = G.contactRadius[k]! + ar;
  }
  G.groundKe[0] = G.groundKe[0]! + ake;
  G.groundKd[0] = G.groundKd[0]! + akd;
  G.groundKf[0] = G.groundKf[0]! + akf;
  G.groundMu[0] = G.groundMu[0]! + amu;
}

/**
 * Contact points against the heightmap: normal and penetration from terrainGeometry at the
 * point's world position, ke, kd, mu from the bilinear maps there, kf = terrainKf.
 */
export function eval_body_terrain_contacts(M: ModelData, pos: F64, R: F64, vel: F64, angVel: F64, f: F64, t: F64): void {
  const RPL = M.bodyScratch.rp;
  const T = M.terrain;
  if (!T) return;
  // the terrain's scratch record (terrain.ts): geometry, material and their adjoints
  const S = T.scratch;
  const TG = S.geom;
  const TM = S.material;
  for (let k = 0; k < M.nc; k++) {
    const b = 3 * M.contactBody[k]!;
    const r = M.contactRadius[k]!;
    rotatePoint(M, R, k);
    if (!terrainContact(T, S, pos[b]! + RPL[0]!, pos[b + 1]! + RPL[1]!, pos[b + 2]! + RPL[2]!, r)) continue;
    applyContact(M, b, TG[0]!, TG[1]!, TG[2]!, TG[3]!, r, vel, angVel, TM[0]!, TM[1]!, T.kf, TM[2]!, f, t);
  }
}

/** Adjoint of `eval_body_terrain_contacts`. */
export function adj_eval_body_terrain_contacts(
  M: ModelData,
  pos: F64,
  R: F64,
  vel: F64,
  angVel: F64,
  adjF: F64,
  adjT: F64,
  adjPos: F64,
  adjR: F64,
  adjVel: F64,
  adjAngVel: F64,
  G: ParamGrads,
): void {
  const RPL = M.bodyScratch.rp;
  const AC = M.bodyScratch.adjContact;
  const T = M.terrain;
  if (!T) return;
  // the terrain's scratch record (terrain.ts): geometry, material and their adjoints
  const S = T.scratch;
  const TG = S.geom;
  const TM = S.material;
  const TGA = S.adjGeom;
  let akf = 0;
  for (let k = 0; k < M.nc; k++) {
    const b = 3 * M.contactBody[k]!;
    const r = M.contactRadius[k]!;
    rotatePoint(M, R, k);
    const px = pos[b]! + RPL[0]!;
    const py = pos[b + 1]! + RPL[1]!;
    const pz = pos[b + 2]! + RPL[2]!;
    if (!terrainContact(T, S, px, py, pz, r)) continue;
    const nx = TG[0]!;
    const ny = TG[1]!;
    const nz = TG[2]!;
    adjApplyContact(M, b, nx, ny, nz, TG[3]!, r, vel, angVel, TM[0]!, TM[1]!, T.kf, TM[2]!, adjF, adjT, adjVel, adjAngVel);
    const aax = AC[0]!;
    const aay = AC[1]!;
    const aaz = AC[2]!;
    akf += AC[9]!;
    // a = R p - r n
    let ar = -(aax * nx + aay * ny + aaz * nz);
    adjTerrainContact(T, S, px, py, pz, AC[3]!, AC[4]!, AC[5]!, AC[6]!, AC[7]!, AC[8]!, AC[10]!, G);
    const apx = TGA[0]!;
    const apy = TGA[1]!;
    const apz = TGA[2]!;
    ar += TGA[3]!;
    adjPos[b] = adjPos[b]! + apx;
    adjPos[b + 1] = adjPos[b + 1]! + apy;
    adjPos[b + 2] = adjPos[b + 2]! + apz;
    adjRotatePoint(M, R, k, aax + apx, aay + apy, aaz + apz, adjR, G);
    G.contactRadius[k] = G.contactRadius[k]! + ar;
  }
  G.terrainKf[0] = G.terrainKf[0]! + akf;
}

/** Whether contact point k (world position px, py, pz) touches a plane or the terrain. */
function touches(M: ModelData, k: number, px: number, py: number, pz: number): boolean {
  const r = M.contactRadius[k]!;
  const N = M.planeNormal;
  for (let p = 0; p < M.npl; p++) {
    if (N[3 * p]! * px + N[3 * p + 1]! * py + N[3 * p + 2]! * pz - M.planeOffset[p]! - r < 0) return true;
  }
  if (M.terrain) {
    terrainGeometry(M.terrain, M.terrain.scratch, px, py, pz, r);
    if (M.terrain.scratch.geom[3]! < 0) return true; // tracks drive through points that touch (c < 0), in either contact model
  }
  return false;
}

/** Number of touching contact points of each track ([Nt]) and a touching flag per contact point. */
function trackContacts(M: ModelData, pos: F64, R: F64): { count: Int32Array; on: Uint8Array } {
  const RPL = M.bodyScratch.rp;
  const count = new Int32Array(M.nt);
  const on = new Uint8Array(M.nc);
  for (let k = 0; k < M.nc; k++) {
    const tr = M.contactTrack[k]!;
    if (tr < 0) continue;
    const b = 3 * M.contactBody[k]!;
    rotatePoint(M, R, k);
    if (touches(M, k, pos[b]! + RPL[0]!, pos[b + 1]! + RPL[1]!, pos[b + 2]! + RPL[2]!)) {
      on[k] = 1;
      count[tr] = count[tr]! + 1;
    }
  }
  return { count, on };
}

/**
 * Track drive (MonoForce-like tracked robot): the drive force trackF[t] of track t is shared
 * equally by its contact points that touch the ground; each pushes along the track's
 * direction d = R dir_t at its point R p, adding force s d and torque (R p) x (s d). A track
 * with no point on the ground transmits nothing (the on/off switch has zero derivative).
 */
export function eval_track_drive(M: ModelData, pos: F64, R: F64, trackF: F64, f: F64, t: F64): void {
  const RPL = M.bodyScratch.rp;
  if (M.nt === 0) return;
  const { count, on } = trackContacts(M, pos, R);
  for (let k = 0; k < M.nc; k++) {
    if (!on[k]) continue;
    const tr = M.contactTrack[k]!;
    const bi = M.contactBody[k]!;
    const b = 3 * bi;
    const o = 9 * bi;
    const s = trackF[tr]! / count[tr]!;
    const ex = M.trackDir[3 * tr]!;
    const ey = M.trackDir[3 * tr + 1]!;
    const ez = M.trackDir[3 * tr + 2]!;
    const dx = R[o]! * ex + R[o + 1]! * ey + R[o + 2]! * ez;
    const dy = R[o + 3]! * ex + R[o + 4]! * ey + R[o + 5]! * ez;
    const dz = R[o + 6]! * ex + R[o + 7]! * ey + R[o + 8]! * ez;
    rotatePoint(M, R, k);
    const ax = RPL[0]!;
    const ay = RPL[1]!;
    const az = RPL[2]!;
    f[b] = f[b]! + s * dx;
    f[b + 1] = f[b + 1]! + s * dy;
    f[b + 2] = f[b + 2]! + s * dz;
    t[b] = t[b]! + s * (ay * dz - az * dy);
    t[b + 1] = t[b + 1]! + s * (az * dx - ax * dz);
    t[b + 2] = t[b + 2]! + s * (ax * dy - ay * dx);
  }
}

/** Adjoint of `eval_track_drive` (to R, the drive forces and the contact points). */
export function adj_eval_track_drive(M: ModelData, pos: F64, R: F64, trackF: F64, adjF: F64, adjT: F64, adjR: F64, adjTrackF: F64, G: ParamGrads): void {
  const RPL = M.bodyScratch.rp;
  if (M.nt === 0) return;
  const { count, on } = trackContacts(M, pos, R);
  for (let k = 0; k < M.nc; k++) {
    if (!on[k]) continue;
    const tr = M.contactTrack[k]!;
    const bi = M.contactBody[k]!;
    const b = 3 * bi;
    const o = 9 * bi;
    const s = trackF[tr]! / count[tr]!;
    const ex = M.trackDir[3 * tr]!;
    const ey = M.trackDir[3 * tr + 1]!;
    const ez = M.trackDir[3 * tr + 2]!;
    const dx = R[o]! * ex + R[o + 1]! * ey + R[o + 2]! * ez;
    const dy = R[o + 3]! * ex + R[o + 4]! * ey + R[o + 5]! * ez;
    const dz = R[o + 6]! * ex + R[o + 7]! * ey + R[o + 8]! * ez;
    rotatePoint(M, R, k);
    const ax = RPL[0]!;
    const ay = RPL[1]!;
    const az = RPL[2]!;
    const aFx = adjF[b]!;
    const aFy = adjF[b + 1]!;
    const aFz = adjF[b + 2]!;
    const aTx = adjT[b]!;
    const aTy = adjT[b + 1]!;
    const aTz = adjT[b + 2]!;
    const as = aFx * dx + aFy * dy + aFz * dz + aTx * (ay * dz - az * dy) + aTy * (az * dx - ax * dz) + aTz * (ax * dy - ay * dx);
    adjTrackF[tr] = adjTrackF[tr]! + as / count[tr]!;
    // d: s aF + s (aT x a); a: s (d x aT)
    const adx = s * (aFx + aTy * az - aTz * ay);
    const ady = s * (aFy + aTz * ax - aTx * az);
    const adz = s * (aFz + aTx * ay - aTy * ax);
    addOuter3(adjR, o, adx, ady, adz, ex, ey, ez);
    adjRotatePoint(M, R, k, s * (dy * aTz - dz * aTy), s * (dz * aTx - dx * aTz), s * (dx * aTy - dy * aTx), adjR, G);
  }
}

/**
 * The angular part of `integrate_bodies` for body `bi`, shared by the kernel and its adjoint
 * (which replays it, as Warp's adjoints replay their forward). Writes bodyScratch.iInv = I^-1 and bodyScratch.ang:
 * [0..2] wb = R^T w, [3..5] I wb, [6..8] tb = R^T t - wb x (I wb), [9..11] w1b = wb + I^-1 tb dt,
 * [12..14] w1 = R w1b, [15..18] r = q + 0.5 dt (w1, 0) (x) q (before normalising), [19] |r|.
 */
function angularForward(M: ModelData, I: F64, R: F64, rot: F64, angVel: F64, t: F64, bi: number, dt: number): void {
  const IINV = M.bodyScratch.iInv;
  const ANG = M.bodyScratch.ang;
  const b = 3 * bi;
  const o = 9 * bi;
  const q = 4 * bi;
  const r0 = R[o]!;
  const r1 = R[o + 1]!;
  const r2 = R[o + 2]!;
  const r3 = R[o + 3]!;
  const r4 = R[o + 4]!;
  const r5 = R[o + 5]!;
  const r6 = R[o + 6]!;
  const r7 = R[o + 7]!;
  const r8 = R[o + 8]!;
  const wx = angVel[b]!;
  const wy = angVel[b + 1]!;
  const wz = angVel[b + 2]!;
  const tx = t[b]!;
  const ty = t[b + 1]!;
  const tz = t[b + 2]!;
  // body frame
  const wbx = r0 * wx + r3 * wy + r6 * wz;
  const wby = r1 * wx + r4 * wy + r7 * wz;
  const wbz = r2 * wx + r5 * wy + r8 * wz;
  const Iwx = I[o]! * wbx + I[o + 1]! * wby + I[o + 2]! * wbz;
  const Iwy = I[o + 3]! * wbx + I[o + 4]! * wby + I[o + 5]! * wbz;
  const Iwz = I[o + 6]! * wbx + I[o + 7]! * wby + I[o + 8]! * wbz;
  const tbx = r0 * tx + r3 * ty + r6 * tz - (wby * Iwz - wbz * Iwy);
  const tby = r1 * tx + r4 * ty + r7 * tz - (wbz * Iwx - wbx * Iwz);
  const tbz = r2 * tx + r5 * ty + r8 * tz - (wbx * Iwy - wby * Iwx);
  inv3(I, o, IINV);
  const w1bx = wbx + (IINV[0]! * tbx + IINV[1]! * tby + IINV[2]! * tbz) * dt;
  const w1by = wby + (IINV[3]! * tbx + IINV[4]! * tby + IINV[5]! * tbz) * dt;
  const w1bz = wbz + (IINV[6]! * tbx + IINV[7]! * tby + IINV[8]! * tbz) * dt;
  const w1x = r0 * w1bx + r1 * w1by + r2 * w1bz;
  const w1y = r3 * w1bx + r4 * w1by + r5 * w1bz;
  const w1z = r6 * w1bx + r7 * w1by + r8 * w1bz;
  const qx = rot[q]!;
  const qy = rot[q + 1]!;
  const qz = rot[q + 2]!;
  const qw = rot[q + 3]!;
  const h = 0.5 * dt;
  const rx = qx + h * (qw * w1x + w1y * qz - w1z * qy);
  const ry = qy + h * (qw * w1y + w1z * qx - w1x * qz);
  const rz = qz + h * (qw * w1z + w1x * qy - w1y * qx);
  const rw = qw - h * (w1x * qx + w1y * qy + w1z * qz);
  ANG[0] = wbx;
  ANG[1] = wby;
  ANG[2] = wbz;
  ANG[3] = Iwx;
  ANG[4] = Iwy;
  ANG[5] = Iwz;
  ANG[6] = tbx;
  ANG[7] = tby;
  ANG[8] = tbz;
  ANG[9] = w1bx;
  ANG[10] = w1by;
  ANG[11] = w1bz;
  ANG[12] = w1x;
  ANG[13] = w1y;
  ANG[14] = w1z;
  ANG[15] = rx;
  ANG[16] = ry;
  ANG[17] = rz;
  ANG[18] = rw;
  ANG[19] = Math.sqrt(rx * rx + ry * ry + rz * rz + rw * rw);
}

/**
 * Semi-implicit Euler for rigid bodies (as Warp's integrate_bodies):
 *   v1 = v + (f / m + g) dt,  x1 = x + v1 dt,
 *   wb = R^T w,  tb = R^T t - wb x (I wb),  w1 = R (wb + I^-1 tb dt),
 *   q1 = normalize(q + 0.5 dt (w1, 0) (x) q).
 * Writes the fresh arrays posOut, rotOut, velOut, angVelOut.
 */
export function integrate_bodies(
  M: ModelData,
  pos: F64,
  rot: F64,
  R: F64,
  vel: F64,
  angVel: F64,
  f: F64,
  t: F64,
  dt: number,
  posOut: F64,
  rotOut: F64,
  velOut: F64,
  angVelOut: F64,
): void {
  const ANG = M.bodyScratch.ang;
  integratePointMasses(M.nb, M.bodyMass, M.gravity, pos, vel, f, dt, posOut, velOut);
  for (let bi = 0; bi < M.nb; bi++) {
    angularForward(M, M.bodyInertia, R, rot, angVel, t, bi, dt);
    const b = 3 * bi;
    const q = 4 * bi;
    angVelOut[b] = ANG[12]!;
    angVelOut[b + 1] = ANG[13]!;
    angVelOut[b + 2] = ANG[14]!;
    const inv = 1 / ANG[19]!;
    rotOut[q] = ANG[15]! * inv;
    rotOut[q + 1] = ANG[16]! * inv;
    rotOut[q + 2] = ANG[17]! * inv;
    rotOut[q + 3] = ANG[18]! * inv;
  }
}

/**
 * Adjoint of `integrate_bodies`: from the adjoints of the outputs to those of pos, rot
 * (directly; the R part goes into adjR), vel, angVel, f, t, mass, inertia and gravity.
 */
export function adj_integrate_bodies(
  M: ModelData,
  rot: F64,
  R: F64,
  angVel: F64,
  f: F64,
  t: F64,
  dt: number,
  adjPosOut: F64,
  adjRotOut: F64,
  adjVelOut: F64,
  adjAngVelOut: F64,
  adjPos: F64,
  adjRot: F64,
  adjR: F64,
  adjVel: F64,
  adjAngVel: F64,
  adjF: F64,
  adjT: F64,
  G: ParamGrads,
): void {
  const IINV = M.bodyScratch.iInv;
  const AII = M.bodyScratch.adjIInv;
  const ANG = M.bodyScratch.ang;
  adjIntegratePointMasses(M.nb, M.bodyMass, f, dt, adjPosOut, adjVelOut, adjPos, adjVel, adjF, G.bodyMass, G.gravity);
  const I = M.bodyInertia;
  const GI = G.bodyInertia;
  for (let bi = 0; bi < M.nb; bi++) {
    const b = 3 * bi;
    const o = 9 * bi;
    const q = 4 * bi;
    // replay the angular part
    angularForward(M, I, R, rot, angVel, t, bi, dt);
    const r0 = R[o]!;
    const r1 = R[o + 1]!;
    const r2 = R[o + 2]!;
    const r3 = R[o + 3]!;
    const r4 = R[o + 4]!;
    const r5 = R[o + 5]!;
    const r6 = R[o + 6]!;
    const r7 = R[o + 7]!;
    const r8 = R[o + 8]!;
    const wx = angVel[b]!;
    const wy = angVel[b + 1]!;
    const wz = angVel[b + 2]!;
    const tx = t[b]!;
    const ty = t[b + 1]!;
    const tz = t[b + 2]!;
    const qx = rot[q]!;
    const qy = rot[q + 1]!;
    const qz = rot[q + 2]!;
    const qw = rot[q + 3]!;
    const wbx = ANG[0]!;
    const wby = ANG[1]!;
    const wbz = ANG[2]!;
    const Iwx = ANG[3]!;
    const Iwy = ANG[4]!;
    const Iwz = ANG[5]!;
    const tbx = ANG[6]!;
    const tby = ANG[7]!;
    const tbz = ANG[8]!;
    const w1bx = ANG[9]!;
    const w1by = ANG[10]!;
    const w1bz = ANG[11]!;
    const w1x = ANG[12]!;
    const w1y = ANG[13]!;
    const w1z = ANG[14]!;
    const rx = ANG[15]!;
    const ry = ANG[16]!;
    const rz = ANG[17]!;
    const rw = ANG[18]!;
    const len = ANG[19]!;
    const h = 0.5 * dt;
    const ux = rx / len;
    const uy = ry / len;
    const uz = rz / len;
    const uw = rw / len;
    // q1 = r / |r|
    const a1x = adjRotOut[q]!;
    const a1y = adjRotOut[q + 1]!;
    const a1z = adjRotOut[q + 2]!;
    const a1w = adjRotOut[q + 3]!;
    const ud = ux * a1x + uy * a1y + uz * a1z + a1w * uw;
    const arx = (a1x - ux * ud) / len;
    const ary = (a1y - uy * ud) / len;
    const arz = (a1z - uz * ud) / len;
    const arw = (a1w - uw * ud) / len;
    // r = q + h ((w1,0) (x) q): xyz = q + h (qw w1 + w1 x qv), w = qw - h w1.qv
    const aqx = arx + h * (ary * w1z - arz * w1y) - h * arw * w1x;
    const aqy = ary + h * (arz * w1x - arx * w1z) - h * arw * w1y;
    const aqz = arz + h * (arx * w1y - ary * w1x) - h * arw * w1z;
    const aqw = arw + h * (w1x * arx + w1y * ary + w1z * arz);
    const aw1x = adjAngVelOut[b]! + h * (qw * arx + qy * arz - qz * ary) - h * arw * qx;
    const aw1y = adjAngVelOut[b + 1]! + h * (qw * ary + qz * arx - qx * arz) - h * arw * qy;
    const aw1z = adjAngVelOut[b + 2]! + h * (qw * arz + qx * ary - qy * arx) - h * arw * qz;
    adjRot[q] = adjRot[q]! + aqx;
    adjRot[q + 1] = adjRot[q + 1]! + aqy;
    adjRot[q + 2] = adjRot[q + 2]! + aqz;
    adjRot[q + 3] = adjRot[q + 3]! + aqw;
    // w1 = R w1b
    let ar0 = aw1x * w1bx;
    let ar1 = aw1x * w1by;
    let ar2 = aw1x * w1bz;
    let ar3 = aw1y * w1bx;
    let ar4 = aw1y * w1by;
    let ar5 = aw1y * w1bz;
    let ar6 = aw1z * w1bx;
    let ar7 = aw1z * w1by;
    let ar8 = aw1z * w1bz;
    const aw1bx = r0 * aw1x + r3 * aw1y + r6 * aw1z;
    const aw1by = r1 * aw1x + r4 * aw1y + r7 * aw1z;
    const aw1bz = r2 * aw1x + r5 * aw1y + r8 * aw1z;
    // w1b = wb + Iinv tb dt
    let awbx = aw1bx;
    let awby = aw1by;
    let awbz = aw1bz;
    const atbx = (IINV[0]! * aw1bx + IINV[3]! * aw1by + IINV[6]! * aw1bz) * dt;
    const atby = (IINV[1]! * aw1bx + IINV[4]! * aw1by + IINV[7]! * aw1bz) * dt;
    const atbz = (IINV[2]! * aw1bx + IINV[5]! * aw1by + IINV[8]! * aw1bz) * dt;
    // adj Iinv = outer(aw1b, tb) dt; adj I -= Iinv^T (adj Iinv) Iinv^T
    const aIi = AII;
    aIi[0] = aw1bx * tbx * dt;
    aIi[1] = aw1bx * tby * dt;
    aIi[2] = aw1bx * tbz * dt;
    aIi[3] = aw1by * tbx * dt;
    aIi[4] = aw1by * tby * dt;
    aIi[5] = aw1by * tbz * dt;
    aIi[6] = aw1bz * tbx * dt;
    aIi[7] = aw1bz * tby * dt;
    aIi[8] = aw1bz * tbz * dt;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) s += IINV[3 * k + i]! * aIi[3 * k + l]! * IINV[3 * j + l]!;
        GI[o + 3 * i + j] = GI[o + 3 * i + j]! - s;
      }
    }
    // tb = R^T t - wb x Iw
    ar0 += tx * atbx;
    ar1 += tx * atby;
    ar2 += tx * atbz;
    ar3 += ty * atbx;
    ar4 += ty * atby;
    ar5 += ty * atbz;
    ar6 += tz * atbx;
    ar7 += tz * atby;
    ar8 += tz * atbz;
    adjT[b] = adjT[b]! + r0 * atbx + r1 * atby + r2 * atbz;
    adjT[b + 1] = adjT[b + 1]! + r3 * atbx + r4 * atby + r5 * atbz;
    adjT[b + 2] = adjT[b + 2]! + r6 * atbx + r7 * atby + r8 * atbz;
    // cr = wb x Iw, adj cr = -atb: adj wb += Iw x acr, adj Iw += acr x wb
    const acx = -atbx;
    const acy = -atby;
    const acz = -atbz;
    awbx += Iwy * acz - Iwz * acy;
    awby += Iwz * acx - Iwx * acz;
    awbz += Iwx * acy - Iwy * acx;
    const aIwx = acy * wbz - acz * wby;
    const aIwy = acz * wbx - acx * wbz;
    const aIwz = acx * wby - acy * wbx;
    // Iw = I wb
    addOuter3(GI, o, aIwx, aIwy, aIwz, wbx, wby, wbz);
    awbx += I[o]! * aIwx + I[o + 3]! * aIwy + I[o + 6]! * aIwz;
    awby += I[o + 1]! * aIwx + I[o + 4]! * aIwy + I[o + 7]! * aIwz;
    awbz += I[o + 2]! * aIwx + I[o + 5]! * aIwy + I[o + 8]! * aIwz;
    // wb = R^T w
    ar0 += wx * awbx;
    ar1 += wx * awby;
    ar2 += wx * awbz;
    ar3 += wy * awbx;
    ar4 += wy * awby;
    ar5 += wy * awbz;
    ar6 += wz * awbx;
    ar7 += wz * awby;
    ar8 += wz * awbz;
    adjAngVel[b] = adjAngVel[b]! + r0 * awbx + r1 * awby + r2 * awbz;
    adjAngVel[b + 1] = adjAngVel[b + 1]! + r3 * awbx + r4 * awby + r5 * awbz;
    adjAngVel[b + 2] = adjAngVel[b + 2]! + r6 * awbx + r7 * awby + r8 * awbz;
    adjR[o] = adjR[o]! + ar0;
    adjR[o + 1] = adjR[o + 1]! + ar1;
    adjR[o + 2] = adjR[o + 2]! + ar2;
    adjR[o + 3] = adjR[o + 3]! + ar3;
    adjR[o + 4] = adjR[o + 4]! + ar4;
    adjR[o + 5] = adjR[o + 5]! + ar5;
    adjR[o + 6] = adjR[o + 6]! + ar6;
    adjR[o + 7] = adjR[o + 7]! + ar7;
    adjR[o + 8] = adjR[o + 8]! + ar8;
  }
}
