// Ground truth of the terrain dataset (ego/terrain) from Rapier (@dimforge/rapier3d-compat,
// constraint-based contact, an engine independent of Impulse's): the robot is a dynamic body
// with one ball collider per point, the terrain one heightfield collider per friction patch.
// Rapier gives a heightfield a single friction coefficient, and its JavaScript bindings do not
// expose contact modification (`ActiveHooks` has no MODIFY_SOLVER_CONTACTS in JS), so per-patch
// friction is a collider per patch; neighbouring patches share their border row of points.
// Rapier's contact is rigid: a patch's stiffness k enters as the static sinkage of the robot,
// the patch's surface being lowered by m g / (10 k) (the robot's weight on its 10 track points).
import RAPIER from '@dimforge/rapier3d-compat';
import { bilinearAt, patchOf, type TerrainSample, type TerrainSpec } from './generate.ts';
import { RolloutNonFiniteError } from './errors.ts';
import { ROBOT, TRACKS, robotPoints, trackForce, trackSpeeds, trackTargets } from './robot.ts';

let ready: Promise<void> | null = null;

/** Initialises Rapier's WebAssembly module once. */
export function initRapier(): Promise<void> {
  ready ??= RAPIER.init();
  return ready;
}

/** Rapier's step (s), the settling time before t = 0 (s). */
export const RAPIER_DT = 0.01;
export const SETTLE_TIME = 0.5;
const G = 9.81;

/** Ground-truth trajectory: poses at t = 0, recordDt, ..., duration and the initial velocities. */
export interface GroundTruth {
  /** [T + 1][7]: x, y, z (centre of mass), qx, qy, qz, qw. */
  poses: Float64Array;
  /** Initial linear and angular velocity (world frame) at t = 0: [6]. */
  velocity0: Float64Array;
}

/** The heights Rapier collides with: the terrain lowered by the robot's static sinkage on each point's stiffness. */
export function rapierHeights(sample: TerrainSample): Float64Array {
  const out = new Float64Array(sample.heights.length);
  for (let k = 0; k < out.length; k++) out[k] = sample.heights[k]! - (ROBOT.mass * G) / (10 * sample.stiffness[k]!);
  return out;
}

/** Quaternion [x, y, z, w] of a yaw rotation. */
export function yawQuat(yaw: number): [number, number, number, number] {
  return [0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)];
}

/** Rotation-matrix columns (forward, left, up) of a unit quaternion. */
export function quatAxes(q: ArrayLike<number>): { f: number[]; l: number[]; u: number[] } {
  const x = q[0]!;
  const y = q[1]!;
  const z = q[2]!;
  const w = q[3]!;
  return {
    f: [1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w)],
    l: [2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w)],
    u: [2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)],
  };
}

/**
 * Height of the centre of mass that puts the lowest track sphere just on the terrain `h` for
 * a robot at (x, y) with the given yaw.
 */
export function startHeight(spec: TerrainSpec, h: ArrayLike<number>, x: number, y: number, yaw: number): number {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  let z = -Infinity;
  for (const p of robotPoints()) z = Math.max(z, bilinearAt(spec.grid, h, x + c * p[0] - s * p[1], y + s * p[0] + c * p[1]) - p[2]);
  return z + ROBOT.radius;
}

/** Adds one heightfield collider per patch to `world`, each with its patch's friction; `h` are the heights to use (see rapierHeights). */
export function addTerrain(world: RAPIER.World, spec: TerrainSpec, sample: TerrainSample, h: Float64Array): void {
  const g = spec.grid;
  const P = spec.patches;
  const bounds = (n: number, axis: 'i' | 'j'): [number, number][] => {
    const out: [number, number][] = [];
    for (let p = 0; p < P; p++) {
      let lo = -1;
      let hi = -1;
      for (let k = 0; k < n; k++) {
        const q = axis === 'i' ? patchOf(spec, k, 0) % P : Math.floor(patchOf(spec, 0, k) / P);
        if (q === p) {
          if (lo < 0) lo = k;
          hi = k;
        }
      }
      out.push([lo, Math.min(hi + 1, n - 1)]);
    }
    return out;
  };
  const bi = bounds(g.nx, 'i');
  const bj = bounds(g.ny, 'j');
  const s45 = Math.SQRT1_2;
  for (let pj = 0; pj < P; pj++)
    for (let pi = 0; pi < P; pi++) {
      const [i0, i1] = bi[pi]!;
      const [j0, j1] = bj[pj]!;
      const ncols = i1 - i0 + 1;
      const nrows = j1 - j0 + 1;
      // local frame: x = world x, local y (height) = world z, local z = -world y; row r is j1 - r
      const hs = new Float32Array(nrows * ncols);
      for (let c = 0; c < ncols; c++) for (let r = 0; r < nrows; r++) hs[c * nrows + r] = h[(j1 - r) * g.nx + i0 + c]!;
      const sx = (ncols - 1) * g.cellSize;
      const sz = (nrows - 1) * g.cellSize;
      const cx = g.origin[0] + (i0 + (ncols - 1) / 2) * g.cellSize;
      const cy = g.origin[1] + (j0 + (nrows - 1) / 2) * g.cellSize;
      const mu = sample.friction[j0 * g.nx + i0]!;
      const body = world.createRigidBody(RAPIER.RigidBodyDesc.fixed().setTranslation(cx, cy, 0).setRotation({ x: s45, y: 0, z: 0, w: s45 }));
      world.createCollider(
        RAPIER.ColliderDesc.heightfield(nrows - 1, ncols - 1, hs, { x: sx, y: 1, z: sz }, RAPIER.HeightFieldFlags.FIX_INTERNAL_EDGES)
          .setFriction(mu)
          .setRestitution(0),
        body,
      );
    }
}

/**
 * Simulates the sample's commands in Rapier and returns the poses every `recordDt` from
 * t = 0 (after `SETTLE_TIME` s at rest) to `duration`. Throws RolloutNonFiniteError naming
 * the sample, robot 0 and the step if the state stops being finite.
 */
export async function rapierGroundTruth(spec: TerrainSpec, sample: TerrainSample): Promise<GroundTruth> {
  await initRapier();
  const h = rapierHeights(sample);
  const world = new RAPIER.World({ x: 0, y: 0, z: -G });
  world.timestep = RAPIER_DT;
  try {
    addTerrain(world, spec, sample, h);
    const [sx, sy, yaw] = sample.start;
    const q0 = yawQuat(yaw);
    const z0 = startHeight(spec, h, sx, sy, yaw) + 0.005;
    const body = world.createRigidBody(
      RAPIER.RigidBodyDesc.dynamic().setTranslation(sx, sy, z0).setRotation({ x: q0[0], y: q0[1], z: q0[2], w: q0[3] }).setCanSleep(false),
    );
    const pts = robotPoints();
    const pm = ROBOT.mass / pts.length;
    for (const p of pts)
      world.createCollider(
        RAPIER.ColliderDesc.ball(ROBOT.radius)
          .setTranslation(p[0], p[1], p[2])
          .setMass(pm)
          .setFriction(10)
          .setFrictionCombineRule(RAPIER.CoefficientCombineRule.Min)
          .setRestitution(0),
        body,
      );
    const settle = Math.round(SETTLE_TIME / RAPIER_DT);
    const steps = Math.round(spec.duration / RAPIER_DT);
    const every = Math.round(spec.recordDt / RAPIER_DT);
    const perCmd = Math.round(spec.commandDt / RAPIER_DT);
    const poses = new Float64Array(7 * (Math.floor(steps / every) + 1));
    const velocity0 = new Float64Array(6);
    const record = (k: number): void => {
      const t = body.translation();
      const q = body.rotation();
      poses.set([t.x, t.y, t.z, q.x, q.y, q.z, q.w], 7 * k);
    };
    for (let s = -settle; s < steps; s++) {
      if (s === 0) {
        record(0);
        const v = body.linvel();
        const w = body.angvel();
        velocity0.set([v.x, v.y, v.z, w.x, w.y, w.z]);
      }
      // let timers run now and then (a queue worker renews its job lock meanwhile)
      if ((s + settle) % 100 === 0) await new Promise((r) => setImmediate(r));
      if (s >= 0) drive(spec, body, h, sample.commands, Math.floor(s / perCmd));
      world.step();
      const t = body.translation();
      if (!Number.isFinite(t.x) || !Number.isFinite(t.y) || !Number.isFinite(t.z))
        throw new RolloutNonFiniteError('Rapier', sample.id, 0, s + 1, 'body position');
      if (s >= 0 && (s + 1) % every === 0) record((s + 1) / every);
    }
    return { poses, velocity0 };
  } finally {
    world.free();
  }
}

/** Applies one step's track drive impulses at the track points that touch the terrain. */
function drive(spec: TerrainSpec, body: RAPIER.RigidBody, h: Float64Array, commands: Float64Array, k: number): void {
  const q = body.rotation();
  const { f, l, u } = quatAxes([q.x, q.y, q.z, q.w]);
  const v = body.linvel();
  const w = body.angvel();
  const [tr, tl] = trackTargets(commands[2 * k]!, commands[2 * k + 1]!);
  const [mr, ml] = trackSpeeds(f, l, u, [v.x, v.y, v.z], [w.x, w.y, w.z]);
  const forces = [trackForce(tr, mr), trackForce(tl, ml)];
  const c = body.translation();
  const pts = robotPoints();
  [TRACKS.right, TRACKS.left].forEach((track, side) => {
    const touching: number[][] = [];
    for (const idx of track) {
      const p = pts[idx]!;
      const x = c.x + f[0]! * p[0] + l[0]! * p[1] + u[0]! * p[2];
      const y = c.y + f[1]! * p[0] + l[1]! * p[1] + u[1]! * p[2];
      const z = c.z + f[2]! * p[0] + l[2]! * p[1] + u[2]! * p[2];
      if (z - ROBOT.radius - bilinearAt(spec.grid, h, x, y) < 0.01) touching.push([x, y, z]);
    }
    if (touching.length === 0) return;
    const J = (forces[side]! * RAPIER_DT) / touching.length;
    for (const p of touching) body.applyImpulseAtPoint({ x: J * f[0]!, y: J * f[1]!, z: J * f[2]! }, { x: p[0]!, y: p[1]!, z: p[2]! }, true);
  });
}
