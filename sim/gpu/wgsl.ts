// WGSL source of the GPU physics kernels (sim/gpu, layer sim), generated per model with its
// counts and packed-parameter offsets as constants. One thread per (world, particle) and one
// per (world, body): a substep's forces, contacts and semi-implicit Euler step are fused in one
// kernel, and each forward kernel has a hand-written adjoint kernel that replays its forward
// and maps the adjoint of the output state to that of the input state, the step's controls and
// the parameters. The equations are the CPU engine's (sim/physics: contact.ts, terrain.ts,
// euler.ts, kernels/particles.ts, kernels/bodies.ts), in float32, exact contact model.
//
// Parameter gradients: per-thread accumulators (each thread owns its slots: no races), summed
// over threads in float64 on the CPU after the single read-back; the heightmap maps' gradients,
// shared by all threads, are added with a compare-and-swap loop on their float32 bits.
import type { GpuModelData } from './adapter.ts';

/** Threads per workgroup. */
export const WORKGROUP = 64;
/** Per-thread gradient slots of a particle: drag, ground ke kd kf mu, terrain kf, gravity (3), mass, radius, then one per plane. */
export const PARTICLE_SLOTS = (npl: number): number => 11 + npl;
/** Per-body gradient slots: ground ke kd kf mu, terrain kf, gravity (3), mass, inertia (9), then one per plane. */
export const BODY_SLOTS = (npl: number): number => 18 + npl;
/** Floats of one particle state (q, qd) and one body state (pos, rot, vel, angVel). */
export const PARTICLE_FLOATS = 6;
export const BODY_FLOATS = 13;

function f(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`wgsl: non-finite constant ${x}`);
  const s = Math.fround(x).toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Shared declarations: constants, the step uniform, map sampling, contact force and their adjoints. */
function common(m: GpuModelData, batch: number, substeps: number, h: number): string {
  const L = m.layout;
  return /* wgsl */ `
const NP: u32 = ${m.np}u;
const NB: u32 = ${m.nb}u;
const NT: u32 = ${m.nt}u;
const NPL: u32 = ${m.npl}u;
const BATCH: u32 = ${batch}u;
const SUBSTEPS: u32 = ${substeps}u;
const H: f32 = ${f(h)};
const EPS: f32 = ${f(m.frictionEps)};
const HAS_TERRAIN: bool = ${m.hasTerrain};
const NX: u32 = ${Math.max(m.nx, 2)}u;
const NY: u32 = ${Math.max(m.ny, 2)}u;
const NMAP: u32 = ${m.nx * m.ny}u;
const OX: f32 = ${f(m.ox)};
const OY: f32 = ${f(m.oy)};
const CS: f32 = ${f(m.cs)};
const O_G: u32 = ${L.gravity}u;
const O_DRAG: u32 = ${L.drag}u;
const O_GKE: u32 = ${L.groundKe}u;
const O_TKF: u32 = ${L.terrainKf}u;
const O_PN: u32 = ${L.planeNormal}u;
const O_PO: u32 = ${L.planeOffset}u;
const O_PM: u32 = ${L.particleMass}u;
const O_PR: u32 = ${L.particleRadius}u;
const O_BM: u32 = ${L.bodyMass}u;
const O_BI: u32 = ${L.bodyInertia}u;
const O_CP: u32 = ${L.contactPoint}u;
const O_CR: u32 = ${L.contactRadius}u;
const O_CT: u32 = ${L.contactTrack}u;
const O_CS: u32 = ${L.bodyContactStart}u;
const O_TD: u32 = ${L.trackDir}u;
const NS: u32 = ${m.ns}u;
const O_SKE: u32 = ${L.springKe}u;
const O_SKD: u32 = ${L.springKd}u;
const O_SR: u32 = ${L.springRest}u;
const O_SS: u32 = ${L.springStart}u;
const O_SA: u32 = ${L.springAdj}u;
const O_SO: u32 = ${L.springOther}u;
const O_H: u32 = ${L.heights}u;
const O_KE: u32 = ${L.ke}u;
const O_KD: u32 = ${L.kd}u;
const O_MU: u32 = ${L.mu}u;

struct Step { k: u32, step: u32, pad0: u32, pad1: u32 }

fn v3(o: u32) -> vec3f { return vec3f(M[o], M[o + 1u], M[o + 2u]); }
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn finite3(v: vec3f) -> bool { return finite(v.x) && finite(v.y) && finite(v.z); }

struct Cell { k: u32, fx: f32, fy: f32, cx: f32, cy: f32 }
fn locate(x: f32, y: f32) -> Cell {
  var u = (x - OX) / CS;
  var v = (y - OY) / CS;
  var cx = 1.0;
  var cy = 1.0;
  if (!(u > 0.0)) { u = 0.0; cx = 0.0; } else if (u >= f32(NX - 1u)) { u = f32(NX - 1u); cx = 0.0; }
  if (!(v > 0.0)) { v = 0.0; cy = 0.0; } else if (v >= f32(NY - 1u)) { v = f32(NY - 1u); cy = 0.0; }
  let i0 = min(u32(floor(u)), NX - 2u);
  let j0 = min(u32(floor(v)), NY - 2u);
  return Cell(j0 * NX + i0, u - f32(i0), v - f32(j0), cx, cy);
}
// bilinear value and x, y derivatives of the map at offset o
fn bilinear(c: Cell, o: u32) -> vec3f {
  let a = M[o + c.k];
  let b = M[o + c.k + 1u];
  let cc = M[o + c.k + NX];
  let d = M[o + c.k + NX + 1u];
  let val = (1.0 - c.fx) * (1.0 - c.fy) * a + c.fx * (1.0 - c.fy) * b + (1.0 - c.fx) * c.fy * cc + c.fx * c.fy * d;
  let dx = c.cx * ((1.0 - c.fy) * (b - a) + c.fy * (d - cc)) / CS;
  let dy = c.cy * ((1.0 - c.fx) * (cc - a) + c.fx * (d - b)) / CS;
  return vec3f(val, dx, dy);
}

struct Geo { n: vec3f, c: f32, hx: f32, hy: f32, h: f32, nn: f32 }
fn terrainGeo(x: vec3f, r: f32) -> Geo {
  let s = bilinear(locate(x.x, x.y), O_H);
  let nn = sqrt(1.0 + s.y * s.y + s.z * s.z);
  return Geo(vec3f(-s.y, -s.z, 1.0) / nn, (x.z - s.x) / nn - r, s.y, s.z, s.x, nn);
}

// Warp's soft contact: fn = ke c + kd min(vn, 0), ft = min(kf |vt|_s, mu |fn|), f = -n fn - vt/|vt|_s ft
fn contactForce(n: vec3f, c: f32, v: vec3f, ke: f32, kd: f32, kf: f32, mu: f32) -> vec3f {
  let vn = dot(n, v);
  let fn_ = ke * c + kd * min(vn, 0.0);
  let vt = v - n * vn;
  let vs = sqrt(dot(vt, vt) + EPS * EPS);
  let ft = min(kf * vs, mu * abs(fn_));
  return -n * fn_ - vt * (ft / vs);
}

struct CAdj { f: vec3f, an: vec3f, ac: f32, av: vec3f, ake: f32, akd: f32, akf: f32, amu: f32 }
fn contactAdj(n: vec3f, c: f32, v: vec3f, ke: f32, kd: f32, kf: f32, mu: f32, a: vec3f) -> CAdj {
  let vn = dot(n, v);
  let mneg = min(vn, 0.0);
  let dmneg = select(0.0, 1.0, vn < 0.0);
  let fn_ = ke * c + kd * mneg;
  let vt = v - n * vn;
  let vs = sqrt(dot(vt, vt) + EPS * EPS);
  let afn = abs(fn_);
  let fa = kf * vs;
  let fb = mu * afn;
  let visc = fa < fb;
  let ft = select(fb, fa, visc);
  let g = ft / vs;
  var r: CAdj;
  r.f = -n * fn_ - vt * g;
  var an = -a * fn_;
  var adjFn = -dot(a, n);
  var avt = -a * g;
  let ag = -dot(a, vt);
  let aft = ag / vs;
  var avs = -ag * ft / (vs * vs);
  let aa = select(0.0, aft, visc);
  let ab = select(aft, 0.0, visc);
  r.akf = aa * vs;
  avs += aa * kf;
  r.amu = ab * afn;
  adjFn += ab * mu * sign(fn_);
  avt += avs * vt / vs;
  var av = avt;
  an -= avt * vn;
  var avn = -dot(avt, n);
  r.ake = adjFn * c;
  r.ac = adjFn * ke;
  r.akd = adjFn * mneg;
  avn += adjFn * kd * dmneg;
  an += avn * v;
  av += avn * n;
  r.an = an;
  r.av = av;
  return r;
}
`;
}

/** Declarations of the adjoint kernels: float atomics on the maps' gradient and the terrain contact's adjoint. */
const ADJ_COMMON = /* wgsl */ `
fn atomicAddF(i: u32, v: f32) {
  if (v == 0.0) { return; }
  var old = atomicLoad(&GM[i]);
  loop {
    let nv = bitcast<u32>(bitcast<f32>(old) + v);
    let r = atomicCompareExchangeWeak(&GM[i], old, nv);
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
// adjoint of bilinear (map at offset o, its gradient block at go): returns the adjoint of (x, y)
fn adjBilinear(c: Cell, o: u32, go: u32, aval: f32, avx: f32, avy: f32) -> vec2f {
  let a = M[o + c.k];
  let b = M[o + c.k + 1u];
  let cc = M[o + c.k + NX];
  let d = M[o + c.k + NX + 1u];
  let ax = avx * c.cx / CS;
  let ay = avy * c.cy / CS;
  atomicAddF(go + c.k, aval * (1.0 - c.fx) * (1.0 - c.fy) - ax * (1.0 - c.fy) - ay * (1.0 - c.fx));
  atomicAddF(go + c.k + 1u, aval * c.fx * (1.0 - c.fy) + ax * (1.0 - c.fy) - ay * c.fx);
  atomicAddF(go + c.k + NX, aval * (1.0 - c.fx) * c.fy - ax * c.fy + ay * (1.0 - c.fx));
  atomicAddF(go + c.k + NX + 1u, aval * c.fx * c.fy + ax * c.fy + ay * c.fx);
  let e = a - b - cc + d;
  let dfx = (1.0 - c.fy) * (b - a) + c.fy * (d - cc);
  let dfy = (1.0 - c.fx) * (cc - a) + c.fx * (d - b);
  return vec2f((aval * dfx + ay * e) * c.cx / CS, (aval * dfy + ax * e) * c.cy / CS);
}
// adjoint of a touching terrain contact at x (radius r): adds the maps' gradients, returns the adjoint of (x, r)
fn adjTerrain(x: vec3f, an: vec3f, ac: f32, ake: f32, akd: f32, amu: f32) -> vec4f {
  let cell = locate(x.x, x.y);
  var gxy = adjBilinear(cell, O_KE, NMAP, ake, 0.0, 0.0);
  gxy += adjBilinear(cell, O_KD, 2u * NMAP, akd, 0.0, 0.0);
  gxy += adjBilinear(cell, O_MU, 3u * NMAP, amu, 0.0, 0.0);
  let s = bilinear(cell, O_H);
  let h = s.x;
  let hx = s.y;
  let hy = s.z;
  let nn = sqrt(1.0 + hx * hx + hy * hy);
  let az = ac / nn;
  let ah = -ac / nn;
  var ann = -ac * (x.z - h) / (nn * nn);
  ann -= (-an.x * hx - an.y * hy + an.z) / (nn * nn);
  let ahx = ann * hx / nn - an.x / nn;
  let ahy = ann * hy / nn - an.y / nn;
  gxy += adjBilinear(cell, O_H, 0u, ah, ahx, ahy);
  return vec4f(gxy.x, gxy.y, az, -ac);
}
`;

/** The particle kernels: forward (pstep) and adjoint (padj). */
export function particleShaders(m: GpuModelData, batch: number, substeps: number, h: number): { forward: string; adjoint: string } {
  const PK = PARTICLE_SLOTS(m.npl);
  const head = common(m, batch, substeps, h);
  const forces = /* wgsl */ `
  let m = M[O_PM + i];
  let rad = M[O_PR + i];
  let drag = M[O_DRAG];
  var fo = -drag * qd;
  // springs (Warp's eval_springs): the force on this end is -dir (ke c + kd dcdt), dir from the other end to this one
  let wbase = (gid / NP) * NP;
  let s0 = u32(M[O_SS + i]);
  let s1 = u32(M[O_SS + i + 1u]);
  for (var e = s0; e < s1; e++) {
    let sp = u32(M[O_SA + e]);
    let jg = wbase + u32(M[O_SO + e]);
    let xij = q - vec3f(SI[3u * jg], SI[3u * jg + 1u], SI[3u * jg + 2u]);
    let vij = qd - vec3f(SI[N3 + 3u * jg], SI[N3 + 3u * jg + 1u], SI[N3 + 3u * jg + 2u]);
    let l = length(xij);
    let dir = xij / l;
    fo -= dir * (M[O_SKE + sp] * (l - M[O_SR + sp]) + M[O_SKD + sp] * dot(dir, vij));
  }
  for (var p = 0u; p < NPL; p++) {
    let n = v3(O_PN + 3u * p);
    let c = dot(n, q) - M[O_PO + p] - rad;
    if (c < 0.0) { fo += contactForce(n, c, qd, M[O_GKE], M[O_GKE + 1u], M[O_GKE + 2u], M[O_GKE + 3u]); }
  }
  var tgeo: Geo;
  var touch = false;
  if (HAS_TERRAIN) {
    tgeo = terrainGeo(q, rad);
    touch = tgeo.c < 0.0;
    if (touch) {
      let cell = locate(q.x, q.y);
      fo += contactForce(tgeo.n, tgeo.c, qd, bilinear(cell, O_KE).x, bilinear(cell, O_KD).x, M[O_TKF], bilinear(cell, O_MU).x);
    }
  }`;
  const forward = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read_write> SO: array<f32>;
@group(0) @binding(4) var<storage, read_write> NAN: array<atomic<u32>>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  let gid = gid3.x;
  if (gid >= BATCH * NP) { return; }
  let i = gid % NP;
  let N3 = 3u * BATCH * NP;
  let q = vec3f(SI[3u * gid], SI[3u * gid + 1u], SI[3u * gid + 2u]);
  let qd = vec3f(SI[N3 + 3u * gid], SI[N3 + 3u * gid + 1u], SI[N3 + 3u * gid + 2u]);
  ${forces}
  let v1 = qd + (fo / m + v3(O_G)) * H;
  let q1 = q + v1 * H;
  SO[3u * gid] = q1.x; SO[3u * gid + 1u] = q1.y; SO[3u * gid + 2u] = q1.z;
  SO[N3 + 3u * gid] = v1.x; SO[N3 + 3u * gid + 1u] = v1.y; SO[N3 + 3u * gid + 2u] = v1.z;
  if (!finite3(q1) || !finite3(v1)) { atomicMin(&NAN[0], U.k * BATCH + gid / NP); }
}
`;
  const adjoint = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read> AO: array<f32>;
@group(0) @binding(4) var<storage, read_write> AI: array<f32>;
@group(0) @binding(5) var<storage, read_write> GT: array<f32>;
@group(0) @binding(6) var<storage, read_write> GM: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> NAN: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> GS: array<f32>;
${ADJ_COMMON}
const PK: u32 = ${PK}u;
// the adjoint of a particle's force, af = (adjoint of v1) / m * H, from the output adjoint
fn adjForce(g: u32) -> vec3f {
  let N3 = 3u * BATCH * NP;
  let av = vec3f(AO[N3 + 3u * g], AO[N3 + 3u * g + 1u], AO[N3 + 3u * g + 2u]) + vec3f(AO[3u * g], AO[3u * g + 1u], AO[3u * g + 2u]) * H;
  return av * H / M[O_PM + g % NP];
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  let gid = gid3.x;
  if (gid >= BATCH * NP) { return; }
  let i = gid % NP;
  let N3 = 3u * BATCH * NP;
  let q = vec3f(SI[3u * gid], SI[3u * gid + 1u], SI[3u * gid + 2u]);
  let qd = vec3f(SI[N3 + 3u * gid], SI[N3 + 3u * gid + 1u], SI[N3 + 3u * gid + 2u]);
  ${forces}
  let aq1 = vec3f(AO[3u * gid], AO[3u * gid + 1u], AO[3u * gid + 2u]);
  let av1 = vec3f(AO[N3 + 3u * gid], AO[N3 + 3u * gid + 1u], AO[N3 + 3u * gid + 2u]);
  // v1 = qd + (f / m + g) H, q1 = q + v1 H
  let minv = 1.0 / m;
  let av = av1 + aq1 * H;
  var aq = aq1;
  var aqd = av;
  let af = av * minv * H;
  let o = gid * PK;
  var amass = -dot(av, fo) * H * minv * minv;
  var arad = 0.0;
  GT[o + 6u] += av.x * H;
  GT[o + 7u] += av.y * H;
  GT[o + 8u] += av.z * H;
  if (touch) {
    let cell = locate(q.x, q.y);
    let ca = contactAdj(tgeo.n, tgeo.c, qd, bilinear(cell, O_KE).x, bilinear(cell, O_KD).x, M[O_TKF], bilinear(cell, O_MU).x, af);
    aqd += ca.av;
    GT[o + 5u] += ca.akf;
    let at = adjTerrain(q, ca.an, ca.ac, ca.ake, ca.akd, ca.amu);
    aq += at.xyz;
    arad += at.w;
  }
  for (var p = 0u; p < NPL; p++) {
    let n = v3(O_PN + 3u * p);
    let c = dot(n, q) - M[O_PO + p] - rad;
    if (c < 0.0) {
      let ca = contactAdj(n, c, qd, M[O_GKE], M[O_GKE + 1u], M[O_GKE + 2u], M[O_GKE + 3u], af);
      aq += ca.ac * n;
      GT[o + 11u + p] -= ca.ac;
      arad -= ca.ac;
      aqd += ca.av;
      GT[o + 1u] += ca.ake;
      GT[o + 2u] += ca.akd;
      GT[o + 3u] += ca.akf;
      GT[o + 4u] += ca.amu;
    }
  }
  // springs: this end's share of each spring's adjoint (the other end's thread does its own);
  // the spring's parameters get their gradient from its first end's thread only
  for (var e = s0; e < s1; e++) {
    let sp = u32(M[O_SA + e]);
    let j = u32(M[O_SO + e]);
    let jg = wbase + j;
    let xij = q - vec3f(SI[3u * jg], SI[3u * jg + 1u], SI[3u * jg + 2u]);
    let vij = qd - vec3f(SI[N3 + 3u * jg], SI[N3 + 3u * jg + 1u], SI[N3 + 3u * jg + 2u]);
    let l = length(xij);
    let dir = xij / l;
    let ke = M[O_SKE + sp];
    let kd = M[O_SKD + sp];
    let c = l - M[O_SR + sp];
    let dcdt = dot(dir, vij);
    let fs = ke * c + kd * dcdt;
    let g = adjForce(jg) - af;
    let afs = dot(g, dir);
    let ac = afs * ke;
    let adcdt = afs * kd;
    let ad = g * fs + adcdt * vij;
    aq += (ad - dir * dot(ad, dir)) / l + ac * dir;
    aqd += adcdt * dir;
    if (i < j) {
      let so = 3u * ((gid / NP) * NS + sp);
      GS[so] += afs * c;
      GS[so + 1u] += afs * dcdt;
      GS[so + 2u] -= ac;
    }
  }
  aqd -= drag * af;
  GT[o] -= dot(qd, af);
  GT[o + 9u] += amass;
  GT[o + 10u] += arad;
  AI[3u * gid] = aq.x; AI[3u * gid + 1u] = aq.y; AI[3u * gid + 2u] = aq.z;
  AI[N3 + 3u * gid] = aqd.x; AI[N3 + 3u * gid + 1u] = aqd.y; AI[N3 + 3u * gid + 2u] = aqd.z;
  if (!finite3(aq) || !finite3(aqd)) { atomicMin(&NAN[2], U.k * BATCH + gid / NP); }
}
`;
  return { forward, adjoint };
}

/** The rotation helpers of the body and controller kernels: the quaternion's matrix, the outer product, and the adjoint of the matrix to the quaternion. */
const ROTATION = /* wgsl */ `
fn quatToMat(q: vec4f) -> mat3x3f {
  let x = q.x; let y = q.y; let z = q.z; let w = q.w;
  // columns of the row-major rotation
  return mat3x3f(
    vec3f(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + z * w), 2.0 * (x * z - y * w)),
    vec3f(2.0 * (x * y - z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + x * w)),
    vec3f(2.0 * (x * z + y * w), 2.0 * (y * z - x * w), 1.0 - 2.0 * (x * x + y * y)));
}
fn outer(a: vec3f, b: vec3f) -> mat3x3f { return mat3x3f(a * b.x, a * b.y, a * b.z); }
// the adjoint AR of R = quatToMat(q) mapped to q (as sim/physics/math.ts adjQuatToMat); AR[c][r] is row r, column c
fn adjQuatToMat(q: vec4f, AR: mat3x3f) -> vec4f {
  let x = q.x; let y = q.y; let z = q.z; let qw = q.w;
  let a0 = AR[0][0]; let a1 = AR[1][0]; let a2 = AR[2][0];
  let a3 = AR[0][1]; let a4 = AR[1][1]; let a5 = AR[2][1];
  let a6 = AR[0][2]; let a7 = AR[1][2]; let a8 = AR[2][2];
  return 2.0 * vec4f(
    y * a1 + z * a2 + y * a3 - 2.0 * x * a4 - qw * a5 + z * a6 + qw * a7 - 2.0 * x * a8,
    -2.0 * y * a0 + x * a1 + qw * a2 + x * a3 + z * a5 - qw * a6 + z * a7 - 2.0 * y * a8,
    -2.0 * z * a0 - qw * a1 + x * a2 + qw * a3 - 2.0 * z * a4 + y * a5 + x * a6 + y * a7,
    -z * a1 + y * a2 + z * a3 - x * a5 - y * a6 + x * a7);
}`;

/** The body kernels: forward and adjoint (point contacts on planes and terrain, tracks, integration). */
export function bodyShaders(m: GpuModelData, batch: number, substeps: number, h: number): { forward: string; adjoint: string } {
  const BS = BODY_SLOTS(m.npl);
  const head = common(m, batch, substeps, h);
  const NTA = Math.max(m.nt, 1);
  // loads a body's state and computes its contact and track forces (shared by forward and adjoint)
  const load = /* wgsl */ `
  let gid = gid3.x;
  if (gid >= BATCH * NB) { return; }
  let bi = gid % NB;
  let w = gid / NB;
  let N = BATCH * NB;
  let pos = vec3f(SI[3u * gid], SI[3u * gid + 1u], SI[3u * gid + 2u]);
  let qr = vec4f(SI[3u * N + 4u * gid], SI[3u * N + 4u * gid + 1u], SI[3u * N + 4u * gid + 2u], SI[3u * N + 4u * gid + 3u]);
  let vel = vec3f(SI[7u * N + 3u * gid], SI[7u * N + 3u * gid + 1u], SI[7u * N + 3u * gid + 2u]);
  let om = vec3f(SI[10u * N + 3u * gid], SI[10u * N + 3u * gid + 1u], SI[10u * N + 3u * gid + 2u]);
  let R = quatToMat(qr);
  let k0 = u32(M[O_CS + bi]);
  let k1 = u32(M[O_CS + bi + 1u]);
  var fo = vec3f(0.0);
  var to = vec3f(0.0);
  for (var k = k0; k < k1; k++) {
    let rp = R * v3(O_CP + 3u * k);
    let r = M[O_CR + k];
    let x = pos + rp;
    for (var p = 0u; p < NPL; p++) {
      let n = v3(O_PN + 3u * p);
      let c = dot(n, x) - M[O_PO + p] - r;
      if (c < 0.0) {
        let arm = rp - r * n;
        let fc = contactForce(n, c, vel + cross(om, arm), M[O_GKE], M[O_GKE + 1u], M[O_GKE + 2u], M[O_GKE + 3u]);
        fo += fc;
        to += cross(arm, fc);
      }
    }
    if (HAS_TERRAIN) {
      let g = terrainGeo(x, r);
      if (g.c < 0.0) {
        let cell = locate(x.x, x.y);
        let arm = rp - r * g.n;
        let fc = contactForce(g.n, g.c, vel + cross(om, arm), bilinear(cell, O_KE).x, bilinear(cell, O_KD).x, M[O_TKF], bilinear(cell, O_MU).x);
        fo += fc;
        to += cross(arm, fc);
      }
    }
  }
  // tracks: the drive force is shared by the track's touching points
  var cnt: array<f32, ${NTA}>;
  if (NT > 0u) {
    for (var k = k0; k < k1; k++) {
      let tr = i32(M[O_CT + k]);
      if (tr >= 0 && touches(k, pos + R * v3(O_CP + 3u * k))) { cnt[u32(tr)] += 1.0; }
    }
    for (var k = k0; k < k1; k++) {
      let tr = i32(M[O_CT + k]);
      if (tr < 0) { continue; }
      let rp = R * v3(O_CP + 3u * k);
      if (!touches(k, pos + rp)) { continue; }
      let s = TF[(U.step * BATCH + w) * NT + u32(tr)] / cnt[u32(tr)];
      let d = R * v3(O_TD + 3u * u32(tr));
      fo += s * d;
      to += s * cross(rp, d);
    }
  }
  let mass = M[O_BM + bi];
  let I = transpose(mat3x3f(v3(O_BI + 9u * bi), v3(O_BI + 9u * bi + 3u), v3(O_BI + 9u * bi + 6u)));
  let Ii = inv3(I);
  // angular part of semi-implicit Euler
  let wb = transpose(R) * om;
  let Iw = I * wb;
  let tb = transpose(R) * to - cross(wb, Iw);
  let w1b = wb + Ii * tb * H;
  let w1 = R * w1b;
  let hh = 0.5 * H;
  let qv = qr.xyz;
  let rq = vec4f(qv + hh * (qr.w * w1 + cross(w1, qv)), qr.w - hh * dot(w1, qv));
  let len = length(rq);`;
  const helpers = /* wgsl */ `
${ROTATION}
fn inv3(A: mat3x3f) -> mat3x3f {
  // A[c][r] is row r, column c
  let a = A[0][0]; let b = A[1][0]; let c = A[2][0];
  let d = A[0][1]; let e = A[1][1]; let f = A[2][1];
  let g = A[0][2]; let h = A[1][2]; let i = A[2][2];
  let c00 = e * i - f * h;
  let c01 = -(d * i - f * g);
  let c02 = d * h - e * g;
  let s = 1.0 / (a * c00 + b * c01 + c * c02);
  // rows of the inverse, as in sim/physics/math.ts inv3
  let r0 = vec3f(c00, -(b * i - c * h), b * f - c * e) * s;
  let r1 = vec3f(c01, a * i - c * g, -(a * f - c * d)) * s;
  let r2 = vec3f(c02, -(a * h - b * g), a * e - b * d) * s;
  return transpose(mat3x3f(r0, r1, r2));
}
// whether contact point k at world position x touches a plane or the terrain
fn touches(k: u32, x: vec3f) -> bool {
  let r = M[O_CR + k];
  for (var p = 0u; p < NPL; p++) {
    if (dot(v3(O_PN + 3u * p), x) - M[O_PO + p] - r < 0.0) { return true; }
  }
  if (HAS_TERRAIN) { return terrainGeo(x, r).c < 0.0; }
  return false;
}`;
  const forward = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read_write> SO: array<f32>;
@group(0) @binding(4) var<storage, read> TF: array<f32>;
@group(0) @binding(5) var<storage, read_write> NAN: array<atomic<u32>>;
${helpers}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  ${load}
  let v1 = vel + (fo / mass + v3(O_G)) * H;
  let x1 = pos + v1 * H;
  let q1 = rq / len;
  SO[3u * gid] = x1.x; SO[3u * gid + 1u] = x1.y; SO[3u * gid + 2u] = x1.z;
  SO[3u * N + 4u * gid] = q1.x; SO[3u * N + 4u * gid + 1u] = q1.y; SO[3u * N + 4u * gid + 2u] = q1.z; SO[3u * N + 4u * gid + 3u] = q1.w;
  SO[7u * N + 3u * gid] = v1.x; SO[7u * N + 3u * gid + 1u] = v1.y; SO[7u * N + 3u * gid + 2u] = v1.z;
  SO[10u * N + 3u * gid] = w1.x; SO[10u * N + 3u * gid + 1u] = w1.y; SO[10u * N + 3u * gid + 2u] = w1.z;
  if (!finite3(x1) || !finite3(v1) || !finite3(w1) || !finite(q1.x + q1.y + q1.z + q1.w)) { atomicMin(&NAN[1], U.k * BATCH + w); }
}
`;
  const adjoint = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read> AO: array<f32>;
@group(0) @binding(4) var<storage, read_write> AI: array<f32>;
@group(0) @binding(5) var<storage, read> TF: array<f32>;
@group(0) @binding(6) var<storage, read_write> GT: array<f32>;
@group(0) @binding(7) var<storage, read_write> GM: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> GTF: array<f32>;
@group(0) @binding(9) var<storage, read_write> NAN: array<atomic<u32>>;
${ADJ_COMMON}
${helpers}
const BS: u32 = ${BS}u;
// the adjoint of a contact force applied at arm = rp - r n (adds into avel, aom; returns the arm's adjoint and the contact adjoints)
struct AppAdj { aa: vec3f, ca: CAdj }
fn adjApply(n: vec3f, c: f32, r: f32, rp: vec3f, vel: vec3f, om: vec3f, ke: f32, kd: f32, kf: f32, mu: f32, aF: vec3f, aT: vec3f) -> AppAdj {
  let arm = rp - r * n;
  let afc = aF + cross(aT, arm);
  var ca = contactAdj(n, c, vel + cross(om, arm), ke, kd, kf, mu, afc);
  var aa = cross(ca.f, aT);
  aa += cross(ca.av, om);
  // the arm's n: a = R p - r n
  ca.an -= r * aa;
  return AppAdj(aa, ca);
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  ${load}
  let apos1 = vec3f(AO[3u * gid], AO[3u * gid + 1u], AO[3u * gid + 2u]);
  let arot1 = vec4f(AO[3u * N + 4u * gid], AO[3u * N + 4u * gid + 1u], AO[3u * N + 4u * gid + 2u], AO[3u * N + 4u * gid + 3u]);
  let avel1 = vec3f(AO[7u * N + 3u * gid], AO[7u * N + 3u * gid + 1u], AO[7u * N + 3u * gid + 2u]);
  let aw1o = vec3f(AO[10u * N + 3u * gid], AO[10u * N + 3u * gid + 1u], AO[10u * N + 3u * gid + 2u]);
  let o = w * (NB * BS + 4u * ${m.nc}u) + bi * BS;
  let oc = w * (NB * BS + 4u * ${m.nc}u) + NB * BS;
  // linear part: v1 = v + (f / m + g) H, x1 = x + v1 H
  let minv = 1.0 / mass;
  let avl = avel1 + apos1 * H;
  var apos = apos1;
  var avel = avl;
  let aF = avl * minv * H;
  GT[o + 8u] -= dot(avl, fo) * H * minv * minv;
  GT[o + 5u] += avl.x * H;
  GT[o + 6u] += avl.y * H;
  GT[o + 7u] += avl.z * H;
  // angular part, from q1 = rq / |rq|
  let u = rq / len;
  let arq = (arot1 - u * dot(u, arot1)) / len;
  let arv = arq.xyz;
  let arw = arq.w;
  let aqv = arv + hh * cross(arv, w1) - hh * arw * w1;
  let aqw = arw + hh * dot(w1, arv);
  let aw1 = aw1o + hh * (qr.w * arv + cross(qv, arv)) - hh * arw * qv;
  var arot = vec4f(aqv, aqw);
  var AR = outer(aw1, w1b);
  let aw1b = transpose(R) * aw1;
  var awb = aw1b;
  let atb = transpose(Ii) * aw1b * H;
  let aIi = outer(aw1b, tb) * H;
  var AI_ = (transpose(Ii) * aIi * transpose(Ii)) * -1.0;
  AR += outer(to, atb);
  let aT = R * atb;
  let acr = -atb;
  awb += cross(Iw, acr);
  let aIw = cross(acr, wb);
  AI_ += outer(aIw, wb);
  awb += transpose(I) * aIw;
  AR += outer(om, awb);
  var aom = R * awb;
  // tracks
  if (NT > 0u) {
    for (var k = k0; k < k1; k++) {
      let tr = i32(M[O_CT + k]);
      if (tr < 0) { continue; }
      let p = v3(O_CP + 3u * k);
      let rp = R * p;
      if (!touches(k, pos + rp)) { continue; }
      let ti = (U.step * BATCH + w) * NT + u32(tr);
      let s = TF[ti] / cnt[u32(tr)];
      let e = v3(O_TD + 3u * u32(tr));
      let d = R * e;
      GTF[ti] += (dot(aF, d) + dot(aT, cross(rp, d))) / cnt[u32(tr)];
      AR += outer(s * (aF + cross(aT, rp)), e);
      let arp = s * cross(d, aT);
      AR += outer(arp, p);
      let gp = transpose(R) * arp;
      GT[oc + 4u * k] += gp.x; GT[oc + 4u * k + 1u] += gp.y; GT[oc + 4u * k + 2u] += gp.z;
    }
  }
  // contacts
  for (var k = k0; k < k1; k++) {
    let p = v3(O_CP + 3u * k);
    let rp = R * p;
    let r = M[O_CR + k];
    let x = pos + rp;
    var arp = vec3f(0.0);
    var ar = 0.0;
    if (HAS_TERRAIN) {
      let g = terrainGeo(x, r);
      if (g.c < 0.0) {
        let cell = locate(x.x, x.y);
        let ap = adjApply(g.n, g.c, r, rp, vel, om, bilinear(cell, O_KE).x, bilinear(cell, O_KD).x, M[O_TKF], bilinear(cell, O_MU).x, aF, aT);
        avel += ap.ca.av;
        aom += cross(rp - r * g.n, ap.ca.av);
        GT[o + 4u] += ap.ca.akf;
        ar -= dot(ap.aa, g.n);
        let at = adjTerrain(x, ap.ca.an, ap.ca.ac, ap.ca.ake, ap.ca.akd, ap.ca.amu);
        ar += at.w;
        apos += at.xyz;
        arp += ap.aa + at.xyz;
      }
    }
    for (var pl = 0u; pl < NPL; pl++) {
      let n = v3(O_PN + 3u * pl);
      let c = dot(n, x) - M[O_PO + pl] - r;
      if (c < 0.0) {
        let ap = adjApply(n, c, r, rp, vel, om, M[O_GKE], M[O_GKE + 1u], M[O_GKE + 2u], M[O_GKE + 3u], aF, aT);
        avel += ap.ca.av;
        aom += cross(rp - r * n, ap.ca.av);
        let ac = ap.ca.ac;
        arp += ap.aa + ac * n;
        ar -= dot(ap.aa, n) + ac;
        apos += ac * n;
        GT[o + 18u + pl] -= ac;
        GT[o] += ap.ca.ake;
        GT[o + 1u] += ap.ca.akd;
        GT[o + 2u] += ap.ca.akf;
        GT[o + 3u] += ap.ca.amu;
      }
    }
    AR += outer(arp, p);
    let gp = transpose(R) * arp;
    GT[oc + 4u * k] += gp.x; GT[oc + 4u * k + 1u] += gp.y; GT[oc + 4u * k + 2u] += gp.z;
    GT[oc + 4u * k + 3u] += ar;
  }
  // inertia gradient (row-major), R's adjoint to the quaternion
  for (var r = 0u; r < 3u; r++) { for (var c = 0u; c < 3u; c++) { GT[o + 9u + 3u * r + c] += AI_[c][r]; } }
  arot += adjQuatToMat(qr, AR);
  AI[3u * gid] = apos.x; AI[3u * gid + 1u] = apos.y; AI[3u * gid + 2u] = apos.z;
  AI[3u * N + 4u * gid] = arot.x; AI[3u * N + 4u * gid + 1u] = arot.y; AI[3u * N + 4u * gid + 2u] = arot.z; AI[3u * N + 4u * gid + 3u] = arot.w;
  AI[7u * N + 3u * gid] = avel.x; AI[7u * N + 3u * gid + 1u] = avel.y; AI[7u * N + 3u * gid + 2u] = avel.z;
  AI[10u * N + 3u * gid] = aom.x; AI[10u * N + 3u * gid + 1u] = aom.y; AI[10u * N + 3u * gid + 2u] = aom.z;
  if (!finite3(apos) || !finite3(avel) || !finite3(aom) || !finite(arot.x + arot.y + arot.z + arot.w)) { atomicMin(&NAN[3], U.k * BATCH + w); }
}
`;
  return { forward, adjoint };
}

/** y += x over n floats (injects a recorded output's gradient into the running adjoint). */
export const ADD_SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&Y)) { Y[g.x] += X[g.x]; }
}
`;

/** Per-thread gradient slots of the track-speed controller (one thread per world and body): kp, fMax. */
export const CONTROLLER_SLOTS = 2;

/**
 * The track-speed controller, evaluated once per step (at its first substep) from the state at
 * the step's start, one thread per (world, body): each of the body's tracks gets the drive
 * force F = fMax tanh(kp (target - measured) / fMax), where measured is the forward speed of
 * the track's centre c, d . (v + w x R c) with d = R e the track's world direction. Forward
 * writes the step's track forces; the adjoint maps the forces' adjoint (accumulated by the body
 * adjoint over the step's substeps) to the targets, the gains and the body's state at the
 * step's start (added to the adjoint the body kernel wrote).
 */
export function controllerShaders(m: GpuModelData, batch: number): { forward: string; adjoint: string } {
  const g = m.tracks;
  const NTA = Math.max(m.nt, 1);
  const tb = g.body.length ? g.body.map((b) => `${b}`).join(', ') : '-1';
  const tc = g.centre.length ? g.centre.map((c) => `vec3f(${c.map(f).join(', ')})`).join(', ') : 'vec3f(0.0)';
  const head = /* wgsl */ `
const NB: u32 = ${m.nb}u;
const NT: u32 = ${m.nt}u;
const BATCH: u32 = ${batch}u;
const O_TD: u32 = ${m.layout.trackDir}u;
const TB = array<i32, ${NTA}>(${tb});
const TC = array<vec3f, ${NTA}>(${tc});
struct Step { k: u32, step: u32, pad0: u32, pad1: u32 }
fn v3(o: u32) -> vec3f { return vec3f(M[o], M[o + 1u], M[o + 2u]); }
${ROTATION}
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
// tanh with its argument clamped (|z| > 15 is 1 in float32; avoids exp overflow in some drivers)
fn sat(z: f32) -> f32 { return tanh(clamp(z, -15.0, 15.0)); }`;
  const load = /* wgsl */ `
  let gid = gid3.x;
  if (gid >= BATCH * NB) { return; }
  let bi = gid % NB;
  let w = gid / NB;
  let N = BATCH * NB;
  let qr = vec4f(SI[3u * N + 4u * gid], SI[3u * N + 4u * gid + 1u], SI[3u * N + 4u * gid + 2u], SI[3u * N + 4u * gid + 3u]);
  let vel = vec3f(SI[7u * N + 3u * gid], SI[7u * N + 3u * gid + 1u], SI[7u * N + 3u * gid + 2u]);
  let om = vec3f(SI[10u * N + 3u * gid], SI[10u * N + 3u * gid + 1u], SI[10u * N + 3u * gid + 2u]);
  let R = quatToMat(qr);
  let kp = CG[0];
  let fmax = CG[1];`;
  const forward = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read> TGT: array<f32>;
@group(0) @binding(4) var<storage, read> CG: array<f32>;
@group(0) @binding(5) var<storage, read_write> TF: array<f32>;
@group(0) @binding(6) var<storage, read_write> NAN: array<atomic<u32>>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  ${load}
  for (var tr = 0u; tr < NT; tr++) {
    if (TB[tr] != i32(bi)) { continue; }
    let d = R * v3(O_TD + 3u * tr);
    let c = R * TC[tr];
    let ti = (U.step * BATCH + w) * NT + tr;
    let e = TGT[ti] - dot(d, vel + cross(om, c));
    let F = fmax * sat(kp * e / fmax);
    TF[ti] = F;
    // a non-finite target or state would be hidden by the clamp of sat(): flag the error itself
    if (!finite(e) || !finite(F)) { atomicMin(&NAN[1], U.k * BATCH + w); }
  }
}
`;
  const adjoint = /* wgsl */ `${head}
@group(0) @binding(0) var<uniform> U: Step;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> SI: array<f32>;
@group(0) @binding(3) var<storage, read> TGT: array<f32>;
@group(0) @binding(4) var<storage, read> CG: array<f32>;
@group(0) @binding(5) var<storage, read> GTF: array<f32>;
@group(0) @binding(6) var<storage, read_write> AI: array<f32>;
@group(0) @binding(7) var<storage, read_write> GTGT: array<f32>;
@group(0) @binding(8) var<storage, read_write> GG: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid3: vec3u) {
  ${load}
  var avel = vec3f(0.0);
  var aom = vec3f(0.0);
  var AR = mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0));
  var akp = 0.0;
  var afm = 0.0;
  for (var tr = 0u; tr < NT; tr++) {
    if (TB[tr] != i32(bi)) { continue; }
    let eb = v3(O_TD + 3u * tr);
    let d = R * eb;
    let c = R * TC[tr];
    let ti = (U.step * BATCH + w) * NT + tr;
    let u = vel + cross(om, c);
    let e = TGT[ti] - dot(d, u);
    let z = kp * e / fmax;
    let th = sat(z);
    let dth = select(0.0, 1.0 - th * th, abs(z) < 15.0);
    let aF = GTF[ti];
    // F = fmax tanh(z), z = kp e / fmax
    let ae = aF * dth * kp;
    akp += aF * dth * e;
    afm += aF * (th - dth * z);
    GTGT[ti] = ae;
    // e = target - d . (v + w x c), d = R eb, c = R cb
    let am = -ae;
    avel += am * d;
    aom += am * cross(c, d);
    let ad = am * u;
    let ac = am * cross(d, om);
    AR += outer(ad, eb) + outer(ac, TC[tr]);
  }
  let o = gid * ${CONTROLLER_SLOTS}u;
  GG[o] += akp;
  GG[o + 1u] += afm;
  let arot = adjQuatToMat(qr, AR);
  AI[3u * N + 4u * gid] += arot.x; AI[3u * N + 4u * gid + 1u] += arot.y; AI[3u * N + 4u * gid + 2u] += arot.z; AI[3u * N + 4u * gid + 3u] += arot.w;
  AI[7u * N + 3u * gid] += avel.x; AI[7u * N + 3u * gid + 1u] += avel.y; AI[7u * N + 3u * gid + 2u] += avel.z;
  AI[10u * N + 3u * gid] += aom.x; AI[10u * N + 3u * gid + 1u] += aom.y; AI[10u * N + 3u * gid + 2u] += aom.z;
}
`;
  return { forward, adjoint };
}
