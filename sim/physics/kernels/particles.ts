// Particle kernels of the physics engine (sim/physics, layer sim), one per physical effect,
// each a plain Float64Array loop with its hand-written adjoint (`adj_` prefix, as in Warp).
// Forward kernels add forces into f; adjoint kernels read the force adjoint adjF and add
// into the adjoints of their inputs (adjQ, adjQd and the Model parameters in G).
import { adjContactForce, contactForce } from '../contact.ts';
import type { ModelData, ParamGrads } from '../data.ts';
import { adjIntegratePointMasses, integratePointMasses } from '../euler.ts';
import { adjTerrainContact, terrainContact } from '../terrain.ts';

type F64 = Float64Array;

// Scratch: each kernel reads its work arrays from the named records of its ModelData
// (contactScratch, bodyScratch, terrain.scratch), held in locals for the inner loops.

/** Linear drag: f -= drag * qd. */
export function eval_particle_drag(M: ModelData, qd: F64, f: F64): void {
  const drag = M.particleDrag;
  if (drag === 0) return;
  for (let i = 0; i < 3 * M.np; i++) f[i] = f[i]! - drag * qd[i]!;
}

/** Adjoint of `eval_particle_drag`. */
export function adj_eval_particle_drag(M: ModelData, qd: F64, adjF: F64, adjQd: F64, G: ParamGrads): void {
  const drag = M.particleDrag;
  let adrag = 0;
  for (let i = 0; i < 3 * M.np; i++) {
    adjQd[i] = adjQd[i]! - drag * adjF[i]!;
    adrag -= qd[i]! * adjF[i]!;
  }
  G.particleDrag[0] = G.particleDrag[0]! + adrag;
}

/**
 * Damped springs between particle pairs: with xij = xi - xj, l = |xij|, dir = xij / l,
 * c = l - rest and dcdt = dir . (vi - vj), the force on i is -dir (ke c + kd dcdt), on j the opposite.
 */
export function eval_springs(M: ModelData, q: F64, qd: F64, f: F64): void {
  // the model's arrays read once into locals (not per spring through M's property store)
  const idx = M.springIndices;
  const ns = M.ns;
  const rest = M.springRest;
  const kes = M.springKe;
  const kds = M.springKd;
  for (let s = 0; s < ns; s++) {
    const i = 3 * idx[2 * s]!;
    const j = 3 * idx[2 * s + 1]!;
    const xx = q[i]! - q[j]!;
    const xy = q[i + 1]! - q[j + 1]!;
    const xz = q[i + 2]! - q[j + 2]!;
    const vx = qd[i]! - qd[j]!;
    const vy = qd[i + 1]! - qd[j + 1]!;
    const vz = qd[i + 2]! - qd[j + 2]!;
    const l = Math.sqrt(xx * xx + xy * xy + xz * xz);
    const linv = 1 / l;
    const dx = xx * linv;
    const dy = xy * linv;
    const dz = xz * linv;
    const c = l - rest[s]!;
    const dcdt = dx * vx + dy * vy + dz * vz;
    const fs = kes[s]! * c + kds[s]! * dcdt;
    f[i] = f[i]! - dx * fs;
    f[i + 1] = f[i + 1]! - dy * fs;
    f[i + 2] = f[i + 2]! - dz * fs;
    f[j] = f[j]! + dx * fs;
    f[j + 1] = f[j + 1]! + dy * fs;
    f[j + 2] = f[j + 2]! + dz * fs;
  }
}

/** Adjoint of `eval_springs`. */
export function adj_eval_springs(M: ModelData, q: F64, qd: F64, adjF: F64, adjQ: F64, adjQd: F64, G: ParamGrads): void {
  const idx = M.springIndices;
  const ns = M.ns;
  const rest = M.springRest;
  const kes = M.springKe;
  const kds = M.springKd;
  const gke = G.springKe;
  const gkd = G.springKd;
  const grest = G.springRest;
  for (let s = 0; s < ns; s++) {
    const i = 3 * idx[2 * s]!;
    const j = 3 * idx[2 * s + 1]!;
    const xx = q[i]! - q[j]!;
    const xy = q[i + 1]! - q[j + 1]!;
    const xz = q[i + 2]! - q[j + 2]!;
    const vx = qd[i]! - qd[j]!;
    const vy = qd[i + 1]! - qd[j + 1]!;
    const vz = qd[i + 2]! - qd[j + 2]!;
    const l = Math.sqrt(xx * xx + xy * xy + xz * xz);
    const linv = 1 / l;
    const dx = xx * linv;
    const dy = xy * linv;
    const dz = xz * linv;
    const ke = kes[s]!;
    const kd = kds[s]!;
    const c = l - rest[s]!;
    const dcdt = dx * vx + dy * vy + dz * vz;
    const fs = ke * c + kd * dcdt;
    // force on j is +dir fs, on i -dir fs
    const gx = adjF[j]! - adjF[i]!;
    const gy = adjF[j + 1]! - adjF[i + 1]!;
    const gz = adjF[j + 2]! - adjF[i + 2]!;
    let adx = gx * fs;
    let ady = gy * fs;
    let adz = gz * fs;
    const afs = gx * dx + gy * dy + gz * dz;
    const ac = afs * ke;
    const adcdt = afs * kd;
    gke[s] = gke[s]! + afs * c;
    gkd[s] = gkd[s]! + afs * dcdt;
    grest[s] = grest[s]! - ac;
    adx += adcdt * vx;
    ady += adcdt * vy;
    adz += adcdt * vz;
    const avx = adcdt * dx;
    const avy = adcdt * dy;
    const avz = adcdt * dz;
    // dir = xij / l, l = |xij|
    const ddot = adx * dx + ady * dy + adz * dz;
    const axx = (adx - dx * ddot) * linv + ac * dx;
    const axy = (ady - dy * ddot) * linv + ac * dy;
    const axz = (adz - dz * ddot) * linv + ac * dz;
    adjQ[i] = adjQ[i]! + axx;
    adjQ[i + 1] = adjQ[i + 1]! + axy;
    adjQ[i + 2] = adjQ[i + 2]! + axz;
    adjQ[j] = adjQ[j]! - axx;
    adjQ[j + 1] = adjQ[j + 1]! - axy;
    adjQ[j + 2] = adjQ[j + 2]! - axz;
    adjQd[i] = adjQd[i]! + avx;
    adjQd[i + 1] = adjQd[i + 1]! + avy;
    adjQd[i + 2] = adjQd[i + 2]! + avz;
    adjQd[j] = adjQd[j]! - avx;
    adjQd[j + 1] = adjQd[j + 1]! - avy;
    adjQd[j + 2] = adjQd[j + 2]! - avz;
  }
}

/**
 * Soft contact of particles (spheres of their radius) with the contact planes (the ground
 * and walls, n . x = offset): c = n . x - offset - r, with the ground parameters ke, kd, kf, mu.
 */
export function eval_particle_ground_contacts(M: ModelData, q: F64, qd: F64, f: F64): void {
  const CF = M.contactScratch.force;
  const N = M.planeNormal;
  // the model's values read once into locals (not per particle through M's property store)
  const S = M.contactScratch;
  const np = M.np;
  const radius = M.particleRadius;
  const cutoff = M.contactCutoff;
  const ke = M.groundKe;
  const kd = M.groundKd;
  const kf = M.groundKf;
  const mu = M.groundMu;
  for (let p = 0; p < M.npl; p++) {
    const nx = N[3 * p]!;
    const ny = N[3 * p + 1]!;
    const nz = N[3 * p + 2]!;
    const off = M.planeOffset[p]!;
    for (let i = 0; i < np; i++) {
      const k = 3 * i;
      const c = nx * q[k]! + ny * q[k + 1]! + nz * q[k + 2]! - off - radius[i]!;
      if (!(c < cutoff)) continue;
      contactForce(nx, ny, nz, c, qd[k]!, qd[k + 1]!, qd[k + 2]!, ke, kd, kf, mu, M, S);
      f[k] = f[k]! + CF[0]!;
      f[k + 1] = f[k + 1]! + CF[1]!;
      f[k + 2] = f[k + 2]! + CF[2]!;
    }
  }
}

/** Adjoint of `eval_particle_ground_contacts`. */
export function adj_eval_particle_ground_contacts(M: ModelData, q: F64, qd: F64, adjF: F64, adjQ: F64, adjQd: F64, G: ParamGrads): void {
  const CA = M.contactScratch.adj;
  const N = M.planeNormal;
  const S = M.contactScratch;
  const np = M.np;
  const radius = M.particleRadius;
  const gradius = G.particleRadius;
  const cutoff = M.contactCutoff;
  const ke = M.groundKe;
  const kd = M.groundKd;
  const kf = M.groundKf;
  const mu = M.groundMu;
  let ake = 0;
  let akd = 0;
  let akf = 0;
  let amu = 0;
  for (let p = 0; p < M.npl; p++) {
    const nx = N[3 * p]!;
    const ny = N[3 * p + 1]!;
    const nz = N[3 * p + 2]!;
    const off = M.planeOffset[p]!;
    let aoff = 0;
    for (let i = 0; i < np; i++) {
      const k = 3 * i;
      const c = nx * q[k]! + ny * q[k + 1]! + nz * q[k + 2]! - off - radius[i]!;
      if (!(c < cutoff)) continue;
      adjContactForce(nx, ny, nz, c, qd[k]!, qd[k + 1]!, qd[k + 2]!, ke, kd, kf, mu, M, S, adjF[k]!, adjF[k + 1]!, adjF[k + 2]!);
      const ac = CA[3]!;
      adjQ[k] = adjQ[k]! + ac * nx;
      adjQ[k + 1] = adjQ[k + 1]! + ac * ny;
      adjQ[k + 2] = adjQ[k + 2]! + ac * nz;
      aoff -= ac;
      gradius[i] = gradius[i]! - ac;
      adjQd[k] = adjQd[k]! + CA[4]!;
      adjQd[k + 1] = adjQd[k + 1]! + CA[5]!;
      adjQd[k + 2] = adjQd[k + 2]! + CA[6]!;
      ake += CA[7]!;
      akd += CA[8]!;
      akf += CA[9]!;
      amu += CA[10]!;
    }
    G.planeOffset[p] = G.planeOffset[p]! + aoff;
  }
  G.groundKe[0] = G.groundKe[0]! + ake;
  G.groundKd[0] = G.groundKd[0]! + akd;
  G.groundKf[0] = G.groundKf[0]! + akf;
  G.groundMu[0] = G.groundMu[0]! + amu;
}

/**
 * Soft contact of particles with the heightmap: normal and penetration from the bilinear
 * height (see terrainGeometry), ke, kd, mu from the bilinear maps, kf = terrainKf.
 */
export function eval_particle_terrain_contacts(M: ModelData, q: F64, qd: F64, f: F64): void {
  const CF = M.contactScratch.force;
  const T = M.terrain;
  if (!T) return;
  // the terrain's scratch record (terrain.ts): geometry, material and their adjoints
  const S = T.scratch;
  const TG = S.geom;
  const TM = S.material;
  for (let i = 0; i < M.np; i++) {
    const k = 3 * i;
    if (!terrainContact(T, S, q[k]!, q[k + 1]!, q[k + 2]!, M.particleRadius[i]!)) continue;
    contactForce(TG[0]!, TG[1]!, TG[2]!, TG[3]!, qd[k]!, qd[k + 1]!, qd[k + 2]!, TM[0]!, TM[1]!, T.kf, TM[2]!, M, M.contactScratch);
    f[k] = f[k]! + CF[0]!;
    f[k + 1] = f[k + 1]! + CF[1]!;
    f[k + 2] = f[k + 2]! + CF[2]!;
  }
}

/** Adjoint of `eval_particle_terrain_contacts`. */
export function adj_eval_particle_terrain_contacts(M: ModelData, q: F64, qd: F64, adjF: F64, adjQ: F64, adjQd: F64, G: ParamGrads): void {
  const CA = M.contactScratch.adj;
  const T = M.terrain;
  if (!T) return;
  // the terrain's scratch record (terrain.ts): geometry, material and their adjoints
  const S = T.scratch;
  const TG = S.geom;
  const TM = S.material;
  const TGA = S.adjGeom;
  let akf = 0;
  for (let i = 0; i < M.np; i++) {
    const k = 3 * i;
    const x = q[k]!;
    const y = q[k + 1]!;
    const z = q[k + 2]!;
    if (!terrainContact(T, S, x, y, z, M.particleRadius[i]!)) continue;
    adjContactForce(
      TG[0]!,
      TG[1]!,
      TG[2]!,
      TG[3]!,
      qd[k]!,
      qd[k + 1]!,
      qd[k + 2]!,
      TM[0]!,
      TM[1]!,
      T.kf,
      TM[2]!,
      M,
      M.contactScratch,
      adjF[k]!,
      adjF[k + 1]!,
      adjF[k + 2]!,
    );
    adjQd[k] = adjQd[k]! + CA[4]!;
    adjQd[k + 1] = adjQd[k + 1]! + CA[5]!;
    adjQd[k + 2] = adjQd[k + 2]! + CA[6]!;
    akf += CA[9]!;
    adjTerrainContact(T, S, x, y, z, CA[0]!, CA[1]!, CA[2]!, CA[3]!, CA[7]!, CA[8]!, CA[10]!, G);
    adjQ[k] = adjQ[k]! + TGA[0]!;
    adjQ[k + 1] = adjQ[k + 1]! + TGA[1]!;
    adjQ[k + 2] = adjQ[k + 2]! + TGA[2]!;
    G.particleRadius[i] = G.particleRadius[i]! + TGA[3]!;
  }
  G.terrainKf[0] = G.terrainKf[0]! + akf;
}

/**
 * Semi-implicit (symplectic) Euler: qd1 = qd + (f / m + g) dt, q1 = q + qd1 dt. Writes the
 * fresh arrays qOut, qdOut.
 */
export function integrate_particles(M: ModelData, q: F64, qd: F64, f: F64, dt: number, qOut: F64, qdOut: F64): void {
  integratePointMasses(M.np, M.particleMass, M.gravity, q, qd, f, dt, qOut, qdOut);
}

/** Adjoint of `integrate_particles`: from adjoints of (q1, qd1) to those of q, qd, f, mass and gravity. */
export function adj_integrate_particles(M: ModelData, f: F64, dt: number, adjQOut: F64, adjQdOut: F64, adjQ: F64, adjQd: F64, adjF: F64, G: ParamGrads): void {
  adjIntegratePointMasses(M.np, M.particleMass, f, dt, adjQOut, adjQdOut, adjQ, adjQd, adjF, G.particleMass, G.gravity);
}
