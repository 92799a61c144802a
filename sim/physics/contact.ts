// The soft contact model shared by particle and body contacts (sim/physics, layer sim), with
// its hand-written adjoint. Warp's model: for penetration c < 0 along the normal n,
//   fn = ke*c + kd*min(vn, 0)                (normal force, fn < 0 pushes along +n)
//   ft = min(kf*|vt|_s, mu*|fn|)             (friction, opposing vt)
//   f  = -n*fn - (vt/|vt|_s)*ft
// where |vt|_s = sqrt(|vt|^2 + eps^2) smooths |vt| near zero so gradients stay finite:
// at vt = 0 the friction is zero and its derivative is min(kf, mu*|fn|/eps) (finite).

/** Output of `contactForce`: the force [fx, fy, fz]. */
export const CF = new Float64Array(3);
/**
 * Output of `adjContactForce`: adjoints of [nx, ny, nz, c, vx, vy, vz, ke, kd, kf, mu]
 * (overwritten on every call).
 */
export const CA = new Float64Array(11);

/**
 * Contact force for normal n (unit), penetration c, relative velocity v of the touching
 * point and contact parameters; writes CF. Returns false (and zero force) when c >= 0.
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
  eps: number,
): boolean {
  if (!(c < 0)) {
    CF[0] = 0;
    CF[1] = 0;
    CF[2] = 0;
    return false;
  }
  const vn = nx * vx + ny * vy + nz * vz;
  const fn = ke * c + kd * Math.min(vn, 0);
  const vtx = vx - nx * vn;
  const vty = vy - ny * vn;
  const vtz = vz - nz * vn;
  const vs = Math.sqrt(vtx * vtx + vty * vty + vtz * vtz + eps * eps);
  const ft = Math.min(kf * vs, mu * Math.abs(fn));
  const g = ft / vs;
  CF[0] = -nx * fn - vtx * g;
  CF[1] = -ny * fn - vty * g;
  CF[2] = -nz * fn - vtz * g;
  return true;
}

/**
 * Adjoint of `contactForce`: given the force's adjoint (ax, ay, az), writes the adjoints of
 * its inputs into CA, and the force itself into CF (as `contactForce` would: callers whose
 * adjoint needs the force need not recompute it). Returns false (CA and CF zeroed) when c >= 0.
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
  eps: number,
  ax: number,
  ay: number,
  az: number,
): boolean {
  CA.fill(0);
  if (!(c < 0)) {
    CF.fill(0);
    return false;
  }
  const vn = nx * vx + ny * vy + nz * vz;
  const fn = ke * c + kd * Math.min(vn, 0);
  const vtx = vx - nx * vn;
  const vty = vy - ny * vn;
  const vtz = vz - nz * vn;
  const vs = Math.sqrt(vtx * vtx + vty * vty + vtz * vtz + eps * eps);
  const afn = Math.abs(fn);
  const viscous = kf * vs < mu * afn;
  const ft = viscous ? kf * vs : mu * afn;
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
  // ft = min(kf vs, mu |fn|)
  if (viscous) {
    CA[9] = aft * vs;
    avs += aft * kf;
  } else {
    CA[10] = aft * afn;
    adjFn += aft * mu * Math.sign(fn);
  }
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
  // fn = ke c + kd min(vn, 0)
  CA[7] = adjFn * c;
  CA[3] = adjFn * ke;
  if (vn < 0) {
    CA[8] = adjFn * vn;
    avn += adjFn * kd;
  }
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
