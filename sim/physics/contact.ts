// The soft contact model shared by particle and body contacts (sim/physics, layer sim), with
// its hand-written adjoint. Warp's model: for penetration c < 0 along the normal n,
//   fn = ke*c + kd*min(vn, 0)                (normal force, fn < 0 pushes along +n)
//   ft = min(kf*|vt|_s, mu*|fn|)             (friction, opposing vt)
//   f  = -n*fn - (vt/|vt|_s)*ft
// where |vt|_s = sqrt(|vt|^2 + eps^2) smooths |vt| near zero so gradients stay finite:
// at vt = 0 the friction is zero and its derivative is min(kf, mu*|fn|/eps) (finite).
//
// Optional smoothing for planning (off by default, exact Warp model): with damping width
// sd > 0 (m/s), min(vn, 0) becomes (vn - sqrt(vn^2 + sd^2)) / 2; with friction power sp > 0,
// min(a, b) of the two friction regimes becomes the p-norm soft minimum a b / (a^p + b^p)^(1/p)
// (zero when either is, between 2^(-1/p) min(a, b) and min(a, b)). Both make the force C1 in
// the velocities and parameters, so Newton-type planners (iLQR) converge where the kinks of
// the exact model stall them.
//
// Smooth activation (C1 contact model, off by default): with width w > 0 (m), the penetration
// enters as the softplus sp(c) = -w log(1 + exp(-c / w)) (-> c deep inside, -> 0 outside) and
// the damping is scaled by the activation a(c) = d sp / dc = 1 / (1 + exp(-c / w)):
//   fn = ke sp(c) + kd a(c) min_s(vn, 0),
// so the force switches on smoothly instead of at c = 0. Contacts are evaluated for
// c < 30 w (beyond, sp and a are below 1e-13 of their scale: the cut is far below roundoff).

type F64 = Float64Array;

/**
 * Scratch of the contact force, passed explicitly (each ModelData owns one, `contactScratch`):
 * the force, the adjoints of the inputs and the two soft minima's derivatives, named.
 */
export interface ContactScratch {
  /** Output of `contactForce` (and `adjContactForce`): the force [fx, fy, fz]. */
  force: F64;
  /** Output of `adjContactForce`: adjoints of [nx, ny, nz, c, vx, vy, vz, ke, kd, kf, mu] (overwritten on every call). */
  adj: F64;
  /** d min_s(vn, 0) / d vn of the last `negPart`. */
  dNeg: number;
  /** d/da, d/db of the last `frictionMin`. */
  dMinA: number;
  dMinB: number;
}

/** A fresh scratch record for the contact force. */
export function contactScratch(): ContactScratch {
  return { force: new Float64Array(3), adj: new Float64Array(11), dNeg: 0, dMinA: 0, dMinB: 0 };
}

/** min(vn, 0), or its smooth version with width sd > 0; writes its derivative into S.dNeg. */
function negPart(vn: number, sd: number, S: ContactScratch): number {
  if (sd > 0) {
    const r = Math.sqrt(vn * vn + sd * sd);
    S.dNeg = 0.5 * (1 - vn / r);
    return 0.5 * (vn - r);
  }
  S.dNeg = vn < 0 ? 1 : 0;
  return Math.min(vn, 0);
}

/** min(a, b) for a, b >= 0, or the p-norm soft minimum with p = sp > 0; writes d/da, d/db into S.dMinA, S.dMinB. */
function frictionMin(a: number, b: number, sp: number, S: ContactScratch): number {
  if (sp > 0) {
    const mx = Math.max(a, b);
    if (!(mx > 0)) {
      S.dMinA = 0;
      S.dMinB = 0;
      return 0;
    }
    const ta = Math.pow(a / mx, sp);
    const tb = Math.pow(b / mx, sp);
    const n = Math.pow(ta + tb, 1 / sp); // (a^p + b^p)^(1/p) / mx
    const f = (a * b) / (mx * n);
    const sum = ta + tb;
    S.dMinA = (b / (mx * n)) * (tb / sum);
    S.dMinB = (a / (mx * n)) * (ta / sum);
    return f;
  }
  const viscous = a < b;
  S.dMinA = viscous ? 1 : 0;
  S.dMinB = viscous ? 0 : 1;
  return viscous ? a : b;
}

/** The contact model's constants (ModelData has them): |vt| smoothing and the optional smoothing for planning. */
export interface ContactModel {
  /** |vt| is taken as sqrt(|vt|^2 + frictionEps^2) (m/s). */
  frictionEps: number;
  /** Width (m/s) of the smooth min(vn, 0); 0: exact. */
  smoothDamping: number;
  /** Power p of the soft min of the friction regimes; 0: exact. */
  smoothFriction: number;
  /** Width (m) of the softplus activation of the penetration; 0: exact (force only for c < 0). */
  smoothPenetration: number;
  /** Contacts are evaluated for c < contactCutoff: 0 for the exact model, 30 w with the smooth activation. */
  contactCutoff: number;
}

/** sp(c) = -w softplus(-c / w) for width w > 0 (computed without overflow); c itself when w = 0. */
function softPen(c: number, w: number): number {
  if (!(w > 0)) return c;
  const t = -c / w;
  return -w * (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));
}

/**
 * Contact force for normal n (unit), penetration c, relative velocity v of the touching
 * point and contact parameters; writes S.force. Returns false (and zero force) when c >= the
 * cutoff (0 for the exact model).
 */
export function contactForce(
  nx: number,
  ny: number,
  nz: number,
  c: number,
  vx: number,
  vy: number,
  vz: number,
  ke: number,
  kd: number,
  kf: number,
  mu: number,
  cm: ContactModel,
  S: ContactScratch,
): boolean {
  const CF = S.force;
  const eps = cm.frictionEps;
  const sd = cm.smoothDamping;
  const sp = cm.smoothFriction;
  if (!(c < cm.contactCutoff)) {
    CF[0] = 0;
    CF[1] = 0;
    CF[2] = 0;
    return false;
  }
  const vn = nx * vx + ny * vy + nz * vz;
  const w = cm.smoothPenetration;
  const act = w > 0 ? 1 / (1 + Math.exp(c / w)) : 1;
  const fn = ke * softPen(c, w) + kd * act * negPart(vn, sd, S);
  const vtx = vx - nx * vn;
  const vty = vy - ny * vn;
  const vtz = vz - nz * vn;
  const vs = Math.sqrt(vtx * vtx + vty * vty + vtz * vtz + eps * eps);
  const ft = frictionMin(kf * vs, mu * Math.abs(fn), sp, S);
  const g = ft / vs;
  CF[0] = -nx * fn - vtx * g;
  CF[1] = -ny * fn - vty * g;
  CF[2] = -nz * fn - vtz * g;
  return true;
}

/**
 * Adjoint of `contactForce`: given the force's adjoint (ax, ay, az), writes the adjoints of
 * its inputs into S.adj, and the force itself into S.force (as `contactForce` would: callers
 * whose adjoint needs the force need not recompute it). Returns false (both zeroed) beyond the cutoff.
 */
export function adjContactForce(
  nx: number,
  ny: number,
  nz: number,
  c: number,
  vx: number,
  vy: number,
  vz: number,
  ke: number,
  kd: number,
  kf: number,
  mu: number,
  cm: ContactModel,
  S: ContactScratch,
  ax: number,
  ay: number,
  az: number,
): boolean {
  const CF = S.force;
  const CA = S.adj;
  const eps = cm.frictionEps;
  const sd = cm.smoothDamping;
  const sp = cm.smoothFriction;
  CA.fill(0);
  if (!(c < cm.contactCutoff)) {
    CF.fill(0);
    return false;
  }
  const vn = nx * vx + ny * vy + nz * vz;
  const mneg = negPart(vn, sd, S);
  const dmneg = S.dNeg;
  const w = cm.smoothPenetration;
  const spc = softPen(c, w);
  const act = w > 0 ? 1 / (1 + Math.exp(c / w)) : 1;
  const dact = w > 0 ? (-act * (1 - act)) / w : 0;
  const fn = ke * spc + kd * act * mneg;
  const vtx = vx - nx * vn;
  const vty = vy - ny * vn;
  const vtz = vz - nz * vn;
  const vs = Math.sqrt(vtx * vtx + vty * vty + vtz * vtz + eps * eps);
  const afn = Math.abs(fn);
  const ft = frictionMin(kf * vs, mu * afn, sp, S);
  const dfa = S.dMinA;
  const dfb = S.dMinB;
  const g = ft / vs;
  CF[0] = -nx * fn - vtx * g;
  CF[1] = -ny * fn - vty * g;
  CF[2] = -nz * fn - vtz * g;
  // f = -n fn - vt g
  let anx = -ax * fn;
  let any = -ay * fn;
  let anz = -az * fn;
  let adjFn = -(ax * nx + ay * ny + az * nz);
  let avtx = -ax * g;
  let avty = -ay * g;
  let avtz = -az * g;
  const ag = -(ax * vtx + ay * vty + az * vtz);
  // g = ft / vs
  const aft = ag / vs;
  let avs = (-ag * ft) / (vs * vs);
  // ft = min(kf vs, mu |fn|) (or its soft version): d ft = dfa d(kf vs) + dfb d(mu |fn|)
  const aa = aft * dfa;
  const ab = aft * dfb;
  CA[9] = aa * vs;
  avs += aa * kf;
  CA[10] = ab * afn;
  adjFn += ab * mu * Math.sign(fn);
  // vs = sqrt(vt.vt + eps^2)
  avtx += (avs * vtx) / vs;
  avty += (avs * vty) / vs;
  avtz += (avs * vtz) / vs;
  // vt = v - n vn
  let avx = avtx;
  let avy = avty;
  let avz = avtz;
  anx -= avtx * vn;
  any -= avty * vn;
  anz -= avtz * vn;
  let avn = -(avtx * nx + avty * ny + avtz * nz);
  // fn = ke sp(c) + kd a(c) mneg (exact: sp(c) = c, a = 1; mneg = min(vn, 0) or its smooth version)
  CA[7] = adjFn * spc;
  CA[3] = adjFn * (ke * act + kd * dact * mneg);
  CA[8] = adjFn * act * mneg;
  avn += adjFn * kd * act * dmneg;
  // vn = n.v
  anx += avn * vx;
  any += avn * vy;
  anz += avn * vz;
  avx += avn * nx;
  avy += avn * ny;
  avz += avn * nz;
  CA[0] = anx;
  CA[1] = any;
  CA[2] = anz;
  CA[4] = avx;
  CA[5] = avy;
  CA[6] = avz;
  return true;
}
