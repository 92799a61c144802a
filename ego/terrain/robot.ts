// The tracked robot of the terrain dataset (ego/terrain): a ~40 kg point-set body with two
// tracks of five contact points each and four body-corner points, and the track-speed
// controller that turns a commanded velocity (v, omega) into track drive forces. Both the
// Rapier ground truth and the engine's model use exactly these points and this controller.

/** Geometry, mass and controller constants of the robot (SI units, body frame: x forward, z up). */
export const ROBOT = {
  /** Total mass (kg), spread equally over the points. */
  mass: 40,
  /** Half the distance between the two tracks (m). */
  trackHalfWidth: 0.22,
  /** x of the five contact points along each track (m). */
  trackX: [-0.36, -0.18, 0, 0.18, 0.36],
  /** Contact sphere radius of every point (m). */
  radius: 0.05,
  /** Height of the body-corner points above the track points (m). */
  bodyHeight: 0.3,
  /** Track speed controller: gain (N per m/s) and saturation (N per track). */
  kp: 1500,
  fMax: 300,
} as const;

/**
 * Contact points in the body frame, re-centred on their centroid (which is the centre of
 * mass): indices 0-4 the right track (y < 0), 5-9 the left track, 10-13 the body corners.
 */
export function robotPoints(): [number, number, number][] {
  const R = ROBOT;
  const pts: [number, number, number][] = [];
  for (const y of [-R.trackHalfWidth, R.trackHalfWidth]) for (const x of R.trackX) pts.push([x, y, 0]);
  for (const x of [-0.3, 0.3]) for (const y of [-0.2, 0.2]) pts.push([x, y, R.bodyHeight]);
  const c = [0, 1, 2].map((k) => pts.reduce((s, p) => s + p[k]!, 0) / pts.length);
  return pts.map((p) => [p[0] - c[0]!, p[1] - c[1]!, p[2] - c[2]!]);
}

/** Indices (into robotPoints) of the right and left track points. */
export const TRACKS = { right: [0, 1, 2, 3, 4], left: [5, 6, 7, 8, 9] } as const;

/** Height of the centre of mass above the track points' centres (m). */
export function comHeight(): number {
  return -robotPoints()[0]![2];
}

/** Commanded speeds of the (right, left) tracks for body velocity v (m/s) and yaw rate omega (rad/s). */
export function trackTargets(v: number, omega: number): [number, number] {
  return [v + omega * ROBOT.trackHalfWidth, v - omega * ROBOT.trackHalfWidth];
}

/**
 * Measured (right, left) track speeds: the forward component of the velocity of each track's
 * centre, v_side = f.v + zc (w . l) -/+ b (w . u)... written out for a rotation matrix whose
 * columns are the body's forward f, left l and up u axes (world frame), with zc the track
 * centre's height below the centre of mass (negative) and b the half track width.
 */
export function trackSpeeds(f: ArrayLike<number>, l: ArrayLike<number>, u: ArrayLike<number>, vel: ArrayLike<number>, w: ArrayLike<number>): [number, number] {
  const zc = -comHeight();
  const b = ROBOT.trackHalfWidth;
  const vf = f[0]! * vel[0]! + f[1]! * vel[1]! + f[2]! * vel[2]!;
  const wl = w[0]! * l[0]! + w[1]! * l[1]! + w[2]! * l[2]!;
  const wu = w[0]! * u[0]! + w[1]! * u[1]! + w[2]! * u[2]!;
  return [vf + zc * wl + b * wu, vf + zc * wl - b * wu];
}

/** Saturated proportional drive force of one track (N): fMax tanh(kp (target - measured) / fMax). */
export function trackForce(target: number, measured: number): number {
  return ROBOT.fMax * Math.tanh((ROBOT.kp * (target - measured)) / ROBOT.fMax);
}
