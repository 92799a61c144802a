// Semi-implicit Euler of point masses (sim/physics, layer sim), with its hand-written
// adjoint: the particles' integration and the linear part of the bodies' (a body's centre
// of mass moves as a point mass under the total force), shared by kernels/particles.ts and
// kernels/bodies.ts.

type F64 = Float64Array;

/**
 * v1 = v + (f / m + g) dt, x1 = x + v1 dt for the n point masses `mass` ([n]) with
 * positions x, velocities v and forces f ([n, 3]); writes the fresh arrays xOut, vOut.
 */
export function integratePointMasses(n: number, mass: F64, gravity: F64, x: F64, v: F64, f: F64, dt: number, xOut: F64, vOut: F64): void {
  const gx = gravity[0]!;
  const gy = gravity[1]!;
  const gz = gravity[2]!;
  for (let i = 0; i < n; i++) {
    const k = 3 * i;
    const minv = 1 / mass[i]!;
    const vx = v[k]! + (f[k]! * minv + gx) * dt;
    const vy = v[k + 1]! + (f[k + 1]! * minv + gy) * dt;
    const vz = v[k + 2]! + (f[k + 2]! * minv + gz) * dt;
    vOut[k] = vx;
    vOut[k + 1] = vy;
    vOut[k + 2] = vz;
    xOut[k] = x[k]! + vx * dt;
    xOut[k + 1] = x[k + 1]! + vy * dt;
    xOut[k + 2] = x[k + 2]! + vz * dt;
  }
}

/**
 * Adjoint of `integratePointMasses`: from the adjoints of (x1, v1) adds those of x, v, f
 * into adjX, adjV, adjF, of the masses into adjMass and of the gravity into adjGravity.
 */
export function adjIntegratePointMasses(
  n: number,
  mass: F64,
  f: F64,
  dt: number,
  adjXOut: F64,
  adjVOut: F64,
  adjX: F64,
  adjV: F64,
  adjF: F64,
  adjMass: F64,
  adjGravity: F64,
): void {
  let agx = 0;
  let agy = 0;
  let agz = 0;
  for (let i = 0; i < n; i++) {
    const k = 3 * i;
    const minv = 1 / mass[i]!;
    const avx = adjVOut[k]! + adjXOut[k]! * dt;
    const avy = adjVOut[k + 1]! + adjXOut[k + 1]! * dt;
    const avz = adjVOut[k + 2]! + adjXOut[k + 2]! * dt;
    adjX[k] = adjX[k]! + adjXOut[k]!;
    adjX[k + 1] = adjX[k + 1]! + adjXOut[k + 1]!;
    adjX[k + 2] = adjX[k + 2]! + adjXOut[k + 2]!;
    adjV[k] = adjV[k]! + avx;
    adjV[k + 1] = adjV[k + 1]! + avy;
    adjV[k + 2] = adjV[k + 2]! + avz;
    adjF[k] = adjF[k]! + avx * minv * dt;
    adjF[k + 1] = adjF[k + 1]! + avy * minv * dt;
    adjF[k + 2] = adjF[k + 2]! + avz * minv * dt;
    adjMass[i] = adjMass[i]! - (avx * f[k]! + avy * f[k + 1]! + avz * f[k + 2]!) * dt * minv * minv;
    agx += avx * dt;
    agy += avy * dt;
    agz += avz * dt;
  }
  adjGravity[0] = adjGravity[0]! + agx;
  adjGravity[1] = adjGravity[1]! + agy;
  adjGravity[2] = adjGravity[2]! + agz;
}
