// Small rigid-body math for the kernels (sim/physics, layer sim): rotation matrices from
// quaternions [x, y, z, w] and the adjoint of that map, 3x3 inverse, outer-product
// accumulation. Row-major 3x3 matrices are stored 9 to a body in flat Float64Arrays.

type F64 = Float64Array;

/** Writes R(q) of body b (quaternion at rot[4b..], [x, y, z, w]) into R[9b..]. Exact rotation for unit q. */
export function quatToMat(rot: F64, b: number, R: F64): void {
  const x = rot[4 * b]!;
  const y = rot[4 * b + 1]!;
  const z = rot[4 * b + 2]!;
  const w = rot[4 * b + 3]!;
  const o = 9 * b;
  R[o] = 1 - 2 * (y * y + z * z);
  R[o + 1] = 2 * (x * y - z * w);
  R[o + 2] = 2 * (x * z + y * w);
  R[o + 3] = 2 * (x * y + z * w);
  R[o + 4] = 1 - 2 * (x * x + z * z);
  R[o + 5] = 2 * (y * z - x * w);
  R[o + 6] = 2 * (x * z - y * w);
  R[o + 7] = 2 * (y * z + x * w);
  R[o + 8] = 1 - 2 * (x * x + y * y);
}

const NO_BODIES = new Float64Array(0);

/** Rotation matrices of all nb bodies: [nb * 9] (one shared empty array when nb = 0). */
export function rotationMatrices(rot: F64, nb: number): F64 {
  if (nb === 0) return NO_BODIES;
  const R = new Float64Array(9 * nb);
  for (let b = 0; b < nb; b++) quatToMat(rot, b, R);
  return R;
}

/** Adjoint of `quatToMat`: adds dR/dq^T adjR[9b..] into adjRot[4b..]. */
export function adjQuatToMat(rot: F64, b: number, adjR: F64, adjRot: F64): void {
  const x = rot[4 * b]!;
  const y = rot[4 * b + 1]!;
  const z = rot[4 * b + 2]!;
  const w = rot[4 * b + 3]!;
  const o = 9 * b;
  const a0 = adjR[o]!;
  const a1 = adjR[o + 1]!;
  const a2 = adjR[o + 2]!;
  const a3 = adjR[o + 3]!;
  const a4 = adjR[o + 4]!;
  const a5 = adjR[o + 5]!;
  const a6 = adjR[o + 6]!;
  const a7 = adjR[o + 7]!;
  const a8 = adjR[o + 8]!;
  const q = 4 * b;
  adjRot[q] = adjRot[q]! + 2 * (y * a1 + z * a2 + y * a3 - 2 * x * a4 - w * a5 + z * a6 + w * a7 - 2 * x * a8);
  adjRot[q + 1] = adjRot[q + 1]! + 2 * (-2 * y * a0 + x * a1 + w * a2 + x * a3 + z * a5 - w * a6 + z * a7 - 2 * y * a8);
  adjRot[q + 2] = adjRot[q + 2]! + 2 * (-2 * z * a0 - w * a1 + x * a2 + w * a3 - 2 * z * a4 + y * a5 + x * a6 + y * a7);
  adjRot[q + 3] = adjRot[q + 3]! + 2 * (-z * a1 + y * a2 + z * a3 - x * a5 - y * a6 + x * a7);
}

/** Inverse of the 3x3 matrix A[o..o+9] into out[0..9]; returns the determinant. */
export function inv3(A: F64, o: number, out: F64): number {
  const a = A[o]!;
  const b = A[o + 1]!;
  const c = A[o + 2]!;
  const d = A[o + 3]!;
  const e = A[o + 4]!;
  const f = A[o + 5]!;
  const g = A[o + 6]!;
  const h = A[o + 7]!;
  const i = A[o + 8]!;
  const c00 = e * i - f * h;
  const c01 = -(d * i - f * g);
  const c02 = d * h - e * g;
  const det = a * c00 + b * c01 + c * c02;
  const s = 1 / det;
  out[0] = c00 * s;
  out[1] = -(b * i - c * h) * s;
  out[2] = (b * f - c * e) * s;
  out[3] = c01 * s;
  out[4] = (a * i - c * g) * s;
  out[5] = -(a * f - c * d) * s;
  out[6] = c02 * s;
  out[7] = -(a * h - b * g) * s;
  out[8] = (a * e - b * d) * s;
  return det;
}

/** Adds the outer product a b^T into the 3x3 matrix A[o..o+9] (how an adjoint of y = M b reaches M). */
export function addOuter3(A: F64, o: number, ax: number, ay: number, az: number, bx: number, by: number, bz: number): void {
  A[o] = A[o]! + ax * bx;
  A[o + 1] = A[o + 1]! + ax * by;
  A[o + 2] = A[o + 2]! + ax * bz;
  A[o + 3] = A[o + 3]! + ay * bx;
  A[o + 4] = A[o + 4]! + ay * by;
  A[o + 5] = A[o + 5]! + ay * bz;
  A[o + 6] = A[o + 6]! + az * bx;
  A[o + 7] = A[o + 7]! + az * by;
  A[o + 8] = A[o + 8]! + az * bz;
}
