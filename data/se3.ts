// Plain float64 SE(3) / SO(3) / quaternion helpers and a 3x3 SVD for the data layer (data/, the
// bottom layer: it imports nothing from sim/models/mpc/app). Poses are 3x4 row-major [R|t] blocks of
// 12 numbers; quaternions are [x, y, z, w] (Hamilton), as in ROS, TUM files and the sim core.

/** A rigid (or similarity) transform as a 3x4 row-major matrix [R | t]: r00 r01 r02 tx r10 r11 r12 ty r20 r21 r22 tz. */
export type Pose12 = Float64Array;

/** The identity pose. */
export function identityPose(): Pose12 {
  return Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
}

/**
 * Rotation matrix of quaternion [x, y, z, w], normalising it first, computed exactly as evo's
 * `transformations.quaternion_matrix` (q scaled by sqrt(2/|q|^2), then the outer product), so that
 * poses read from TUM/EuRoC files are the same float64 matrices evo builds. Writes 9 numbers
 * (row-major) into `out` at `o` with stride `stride` per row (4 for a Pose12, 3 for a plain 3x3).
 * The caller must reject a zero-norm quaternion beforehand.
 */
export function quatToRotation(x: number, y: number, z: number, w: number, out: Float64Array, o = 0, stride = 4): void {
  const n = w * w + x * x + y * y + z * z;
  const k = Math.sqrt(2.0 / n);
  const q0 = w * k,
    q1 = x * k,
    q2 = y * k,
    q3 = z * k;
  // outer product entries q[i,j] = qi * qj (index 0 = w)
  const q11 = q1 * q1,
    q22 = q2 * q2,
    q33 = q3 * q3;
  const q12 = q1 * q2,
    q13 = q1 * q3,
    q23 = q2 * q3;
  const q10 = q1 * q0,
    q20 = q2 * q0,
    q30 = q3 * q0;
  out[o] = 1.0 - q22 - q33;
  out[o + 1] = q12 - q30;
  out[o + 2] = q13 + q20;
  out[o + stride] = q12 + q30;
  out[o + stride + 1] = 1.0 - q11 - q33;
  out[o + stride + 2] = q23 - q10;
  out[o + 2 * stride] = q13 - q20;
  out[o + 2 * stride + 1] = q23 + q10;
  out[o + 2 * stride + 2] = 1.0 - q11 - q22;
}

/**
 * Unit quaternion [x, y, z, w] (w >= 0) of the rotation block of `m` (row stride `stride`), as
 * scipy's `Rotation.from_matrix` computes it: a non-orthonormal block (KITTI text files) is first
 * replaced by its nearest rotation, then Shepperd's method (the largest of trace and diagonal picks
 * the stable formula) gives the quaternion, normalised.
 */
export function rotationToQuat(m: ArrayLike<number>, o = 0, stride = 4): [number, number, number, number] {
  const q: [number, number, number, number] = [0, 0, 0, 0];
  rotationToQuatInto(m, o, stride, q);
  return q;
}

/**
 * {@link rotationToQuat} writing into `out` ([x, y, z, w]) without allocating when the block is
 * already orthonormal (the common case: poses built from quaternions); the same numbers.
 */
export function rotationToQuatInto(m: ArrayLike<number>, o: number, stride: number, out: number[] | Float64Array): void {
  if (orthonormalBlock(m, o, stride)) quatOfRotation(m, o, stride, out);
  else quatOfRotation(nearestRotation(m, o, stride), 0, 3, out);
}

/** The test {@link nearestRotation} uses to return a block unchanged: rows orthonormal to 4 eps and det > 0. */
function orthonormalBlock(m: ArrayLike<number>, o: number, stride: number): boolean {
  const a0 = m[o]!,
    a1 = m[o + 1]!,
    a2 = m[o + 2]!,
    a3 = m[o + stride]!,
    a4 = m[o + stride + 1]!,
    a5 = m[o + stride + 2]!,
    a6 = m[o + 2 * stride]!,
    a7 = m[o + 2 * stride + 1]!,
    a8 = m[o + 2 * stride + 2]!;
  const tol = 4 * Number.EPSILON;
  // the same sums, in the same order, as nearestRotation's check (subtracting 0 off the diagonal changes nothing)
  if (Math.abs(a0 * a0 + a1 * a1 + a2 * a2 - 1) > tol) return false;
  if (Math.abs(a3 * a3 + a4 * a4 + a5 * a5 - 1) > tol) return false;
  if (Math.abs(a6 * a6 + a7 * a7 + a8 * a8 - 1) > tol) return false;
  if (Math.abs(a0 * a3 + a1 * a4 + a2 * a5) > tol) return false;
  if (Math.abs(a0 * a6 + a1 * a7 + a2 * a8) > tol) return false;
  if (Math.abs(a3 * a6 + a4 * a7 + a5 * a8) > tol) return false;
  return a0 * (a4 * a8 - a5 * a7) - a1 * (a3 * a8 - a5 * a6) + a2 * (a3 * a7 - a4 * a6) > 0;
}

/**
 * The rotation nearest to the 3x3 block of `m` in the Frobenius norm (orthogonal Procrustes:
 * U diag(1, 1, det(U V^T)) V^T), as scipy's `Rotation.from_matrix` orthogonalises its input. An
 * already orthonormal block is returned unchanged. Row-major 3x3 result.
 */
export function nearestRotation(m: ArrayLike<number>, o = 0, stride = 4): Float64Array {
  const A = Float64Array.of(
    m[o]!,
    m[o + 1]!,
    m[o + 2]!,
    m[o + stride]!,
    m[o + stride + 1]!,
    m[o + stride + 2]!,
    m[o + 2 * stride]!,
    m[o + 2 * stride + 1]!,
    m[o + 2 * stride + 2]!,
  );
  let err = 0;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const d = A[3 * i]! * A[3 * j]! + A[3 * i + 1]! * A[3 * j + 1]! + A[3 * i + 2]! * A[3 * j + 2]! - (i === j ? 1 : 0);
      if (Math.abs(d) > err) err = Math.abs(d);
    }
  if (err <= 4 * Number.EPSILON && det3(A) > 0) return A;
  const { U, V } = svd3(A);
  const d = det3(U) * det3(V) < 0 ? -1 : 1;
  const R = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) R[3 * i + j] = U[3 * i]! * V[3 * j]! + U[3 * i + 1]! * V[3 * j + 1]! + d * U[3 * i + 2]! * V[3 * j + 2]!;
  return R;
}

function quatOfRotation(m: ArrayLike<number>, o: number, stride: number, out: number[] | Float64Array): void {
  const r00 = m[o]!,
    r01 = m[o + 1]!,
    r02 = m[o + 2]!;
  const r10 = m[o + stride]!,
    r11 = m[o + stride + 1]!,
    r12 = m[o + stride + 2]!;
  const r20 = m[o + 2 * stride]!,
    r21 = m[o + 2 * stride + 1]!,
    r22 = m[o + 2 * stride + 2]!;
  const tr = r00 + r11 + r22;
  let x: number, y: number, z: number, w: number;
  if (tr >= r00 && tr >= r11 && tr >= r22) {
    w = 1 + tr;
    x = r21 - r12;
    y = r02 - r20;
    z = r10 - r01;
  } else if (r00 >= r11 && r00 >= r22) {
    x = 1 - tr + 2 * r00;
    y = r01 + r10;
    z = r02 + r20;
    w = r21 - r12;
  } else if (r11 >= r22) {
    x = r01 + r10;
    y = 1 - tr + 2 * r11;
    z = r12 + r21;
    w = r02 - r20;
  } else {
    x = r02 + r20;
    y = r12 + r21;
    z = 1 - tr + 2 * r22;
    w = r10 - r01;
  }
  let n = Math.sqrt(x * x + y * y + z * z + w * w);
  if (w < 0) n = -n;
  out[0] = x / n;
  out[1] = y / n;
  out[2] = z / n;
  out[3] = w / n;
}

/** Rotation angle in [0, pi] of the rotation block of `m` (the norm of its SO(3) logarithm, as evo's so3_log_angle). */
export function rotationAngle(m: ArrayLike<number>, o = 0, stride = 4): number {
  const [x, y, z, w] = rotationToQuat(m, o, stride);
  return 2 * Math.atan2(Math.sqrt(x * x + y * y + z * z), Math.abs(w));
}

/** Pose from a position and a quaternion [x, y, z, w] (normalised as evo does). */
export function poseFromPositionQuat(p: ArrayLike<number>, q: ArrayLike<number>): Pose12 {
  const out = new Float64Array(12);
  quatToRotation(q[0]!, q[1]!, q[2]!, q[3]!, out, 0, 4);
  out[3] = p[0]!;
  out[7] = p[1]!;
  out[11] = p[2]!;
  return out;
}

/** out = a * b for poses stored at offsets ao, bo, oo (all 12-number blocks). `out` may alias neither input. */
export function composePoses(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, out: Float64Array, oo = 0): void {
  for (let i = 0; i < 3; i++) {
    const ai0 = a[ao + 4 * i]!,
      ai1 = a[ao + 4 * i + 1]!,
      ai2 = a[ao + 4 * i + 2]!,
      ai3 = a[ao + 4 * i + 3]!;
    for (let j = 0; j < 4; j++) {
      let s = ai0 * b[bo + j]! + ai1 * b[bo + 4 + j]! + ai2 * b[bo + 8 + j]!;
      if (j === 3) s += ai3;
      out[oo + 4 * i + j] = s;
    }
  }
}

/** Rigid inverse [R^T | -R^T t] of the pose at `ao` (uses the transpose, as evo's se3_inverse). */
export function invertPose(a: ArrayLike<number>, ao: number, out: Float64Array, oo = 0): void {
  const r00 = a[ao]!,
    r01 = a[ao + 1]!,
    r02 = a[ao + 2]!,
    tx = a[ao + 3]!;
  const r10 = a[ao + 4]!,
    r11 = a[ao + 5]!,
    r12 = a[ao + 6]!,
    ty = a[ao + 7]!;
  const r20 = a[ao + 8]!,
    r21 = a[ao + 9]!,
    r22 = a[ao + 10]!,
    tz = a[ao + 11]!;
  out[oo] = r00;
  out[oo + 1] = r10;
  out[oo + 2] = r20;
  out[oo + 4] = r01;
  out[oo + 5] = r11;
  out[oo + 6] = r21;
  out[oo + 8] = r02;
  out[oo + 9] = r12;
  out[oo + 10] = r22;
  out[oo + 3] = -(r00 * tx + r10 * ty + r20 * tz);
  out[oo + 7] = -(r01 * tx + r11 * ty + r21 * tz);
  out[oo + 11] = -(r02 * tx + r12 * ty + r22 * tz);
}

/** Relative pose inv(a) * b (evo's relative_se3). */
export function relativePose(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, out: Float64Array, oo = 0): void {
  const ia = new Float64Array(12);
  invertPose(a, ao, ia, 0);
  composePoses(ia, 0, b, bo, out, oo);
}

/** Determinant of a row-major 3x3 matrix. */
export function det3(m: ArrayLike<number>): number {
  return m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
}

/** Result of {@link svd3}: A = U diag(S) V^T with U, V orthogonal (row-major 3x3) and S descending, non-negative. */
export interface Svd3 {
  U: Float64Array;
  S: Float64Array;
  V: Float64Array;
}

/**
 * Singular value decomposition of a row-major 3x3 matrix by one-sided Jacobi rotations (Hestenes),
 * which keeps full relative accuracy (no squaring of A). Columns belonging to a zero singular value
 * are completed to an orthonormal basis by cross products, so U and V are always orthogonal.
 */
export function svd3(A: ArrayLike<number>): Svd3 {
  const W = Float64Array.from({ length: 9 }, (_, i) => A[i]!);
  const V = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  const pairs: [number, number][] = [
    [0, 1],
    [0, 2],
    [1, 2],
  ];
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (const [p, q] of pairs) {
      let alpha = 0,
        beta = 0,
        gamma = 0;
      for (let i = 0; i < 3; i++) {
        const wp = W[3 * i + p]!,
          wq = W[3 * i + q]!;
        alpha += wp * wp;
        beta += wq * wq;
        gamma += wp * wq;
      }
      if (gamma === 0 || Math.abs(gamma) <= 2 * Number.EPSILON * Math.sqrt(alpha * beta)) continue;
      rotated = true;
      const zeta = (beta - alpha) / (2 * gamma);
      const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t);
      const s = c * t;
      for (let i = 0; i < 3; i++) {
        const wp = W[3 * i + p]!,
          wq = W[3 * i + q]!;
        W[3 * i + p] = c * wp - s * wq;
        W[3 * i + q] = s * wp + c * wq;
        const vp = V[3 * i + p]!,
          vq = V[3 * i + q]!;
        V[3 * i + p] = c * vp - s * vq;
        V[3 * i + q] = s * vp + c * vq;
      }
    }
    if (!rotated) break;
  }
  const norms = [0, 1, 2].map((k) => Math.hypot(W[k]!, W[3 + k]!, W[6 + k]!));
  const order = [0, 1, 2].sort((a, b) => norms[b]! - norms[a]!);
  const U = new Float64Array(9);
  const Vs = new Float64Array(9);
  const S = new Float64Array(3);
  for (let c = 0; c < 3; c++) {
    const k = order[c]!;
    S[c] = norms[k]!;
    for (let i = 0; i < 3; i++) Vs[3 * i + c] = V[3 * i + k]!;
  }
  const smax = S[0]!;
  const tiny = smax * 1e-13;
  let rank = 0;
  for (let c = 0; c < 3; c++) {
    const k = order[c]!;
    if (S[c]! > tiny && S[c]! > 0) {
      for (let i = 0; i < 3; i++) U[3 * i + c] = W[3 * i + k]! / S[c]!;
      rank++;
    }
  }
  // Complete U for zero singular values (columns rank..2).
  if (rank === 0) {
    U.set([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  } else if (rank === 1) {
    const u0 = [U[0]!, U[3]!, U[6]!];
    const a = Math.abs(u0[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    const u1 = normalize3(cross3(u0, a));
    const u2 = cross3(u0, u1);
    for (let i = 0; i < 3; i++) {
      U[3 * i + 1] = u1[i]!;
      U[3 * i + 2] = u2[i]!;
    }
  } else if (rank === 2) {
    const u2 = cross3([U[0]!, U[3]!, U[6]!], [U[1]!, U[4]!, U[7]!]);
    const k = order[2]!;
    const w2 = [W[k]!, W[3 + k]!, W[6 + k]!];
    const sgn = w2[0]! * u2[0]! + w2[1]! * u2[1]! + w2[2]! * u2[2]! < 0 ? -1 : 1;
    for (let i = 0; i < 3; i++) U[3 * i + 2] = sgn * u2[i]!;
  }
  return { U, S, V: Vs };
}

/** Cross product of two 3-vectors. */
export function cross3(a: ArrayLike<number>, b: ArrayLike<number>): [number, number, number] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

function normalize3(a: ArrayLike<number>): [number, number, number] {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!);
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}

/** Hamilton product of quaternions [x, y, z, w]. */
export function quatMultiply(a: ArrayLike<number>, b: ArrayLike<number>): [number, number, number, number] {
  const [ax, ay, az, aw] = [a[0]!, a[1]!, a[2]!, a[3]!];
  const [bx, by, bz, bw] = [b[0]!, b[1]!, b[2]!, b[3]!];
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

/**
 * Spherical linear interpolation between unit quaternions q0 and q1 at fraction u in [0, 1], along
 * the shorter arc (q1 is negated when the dot product is negative), as tf2's slerp does.
 */
export function quatSlerp(q0: ArrayLike<number>, q1: ArrayLike<number>, u: number): [number, number, number, number] {
  let d = q0[0]! * q1[0]! + q0[1]! * q1[1]! + q0[2]! * q1[2]! + q0[3]! * q1[3]!;
  let s1 = 1;
  if (d < 0) {
    d = -d;
    s1 = -1;
  }
  let k0: number, k1: number;
  if (d > 0.9995) {
    k0 = 1 - u;
    k1 = u;
  } else {
    const th = Math.acos(Math.min(1, d));
    const st = Math.sin(th);
    k0 = Math.sin((1 - u) * th) / st;
    k1 = Math.sin(u * th) / st;
  }
  k1 *= s1;
  const r: [number, number, number, number] = [k0 * q0[0]! + k1 * q1[0]!, k0 * q0[1]! + k1 * q1[1]!, k0 * q0[2]! + k1 * q1[2]!, k0 * q0[3]! + k1 * q1[3]!];
  const n = Math.hypot(r[0], r[1], r[2], r[3]);
  return [r[0] / n, r[1] / n, r[2] / n, r[3] / n];
}
