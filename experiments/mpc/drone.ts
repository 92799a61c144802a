// The `drone` experiment of the MPC layer (mpc/), after Warp's drone example: a rigid-body
// quadrotor in the physics engine (sim/physics) flies through waypoints under receding-horizon
// MPC. The MPC linearises the simulator through its adjoint on the tape (gradients through the
// simulator); the closed-loop trajectory and the reference are written as Impulse JSON
// trajectories (data layer format) for the data tools and the app.
import { Tensor, gradients, matmul, quatRotate, tensor, mul, ones } from '../../sim/core/index.ts';
import { BodyDesc, Control, ModelBuilder } from '../../sim/physics/index.ts';
import { Trajectory, writeTrajectory } from '../../data/index.ts';
import { bodyDynamics, bodyState, BODY_NX, quadCost, mpc, shiftControls } from '../../mpc/index.ts';

/** Constants of the quadrotor: '+' configuration, rotors on the body x and y axes. */
export const DRONE = { mass: 1.0, arm: 0.15, km: 0.02, halfExtents: [0.15, 0.15, 0.04] as const, uMax: 5, dt: 0.05, substeps: 4, T: 15, speed: 0.6 } as const;

/** Waypoints of the course (m); the drone starts hovering at the first. */
export const DRONE_WAYPOINTS: readonly (readonly [number, number, number])[] = [
  [0, 0, 1],
  [1.5, 0, 1.5],
  [1.5, 1.5, 1],
  [0, 1.5, 1.5],
  [0, 0, 1],
];

/** One world: the drone (a box) in free flight (no ground: it never gets near it). */
export function droneWorld(): ModelBuilder {
  const b = new ModelBuilder().setGround(false);
  const [hx, hy, hz] = DRONE.halfExtents;
  const p = DRONE_WAYPOINTS[0]!;
  b.addBody(BodyDesc.box(hx, hy, hz).setMass(DRONE.mass).setTranslation(p[0], p[1], p[2]));
  return b;
}

/** Rotor thrusts u [N, 4] (N, along body z) -> world-frame force and torque on the body. */
export function thrustControl(u: Tensor, rot: Tensor): Control {
  const L = DRONE.arm;
  const km = DRONE.km;
  const Mf = tensor([
    [0, 0, 1],
    [0, 0, 1],
    [0, 0, 1],
    [0, 0, 1],
  ]);
  const Mt = tensor([
    [0, -L, km],
    [L, 0, -km],
    [0, L, km],
    [-L, 0, -km],
  ]);
  return new Control({ bodyF: quatRotate(rot, matmul(u, Mf)), bodyT: quatRotate(rot, matmul(u, Mt)) });
}

/** The drone dynamics with its mass as parameter theta = [m]. */
export function droneDynamics(mass: Tensor = tensor([DRONE.mass])) {
  return bodyDynamics({
    name: 'drone',
    world: droneWorld,
    nu: 4,
    dt: DRONE.dt,
    substeps: DRONE.substeps,
    control: thrustControl,
    params: [{ name: 'bodyMass', value: mass, expand: (th, N) => mul(ones([N]), th) }],
  });
}

/** Reference position at time t: along the waypoint polyline at DRONE.speed, then holding the last. */
export function droneReference(t: number): [number, number, number] {
  let s = t * DRONE.speed;
  for (let i = 0; i + 1 < DRONE_WAYPOINTS.length; i++) {
    const a = DRONE_WAYPOINTS[i]!;
    const b = DRONE_WAYPOINTS[i + 1]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
    if (s <= len) {
      const f = s / len;
      return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
    }
    s -= len;
  }
  const e = DRONE_WAYPOINTS[DRONE_WAYPOINTS.length - 1]!;
  return [e[0], e[1], e[2]];
}

/** Length of the course (s) at DRONE.speed. */
export function droneCourseTime(): number {
  let L = 0;
  for (let i = 0; i + 1 < DRONE_WAYPOINTS.length; i++) {
    const a = DRONE_WAYPOINTS[i]!;
    const b = DRONE_WAYPOINTS[i + 1]!;
    L += Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
  }
  return L / DRONE.speed;
}

const NU = 4;
const NT = BODY_NX + NU;
const W_POS = 20;
const W_TILT = 2;
const W_VEL = 0.5;
const W_ANG = 0.05;
const W_U = 0.02;

/** Tracking cost over a horizon starting at time t0: C [T, 17, 17] (constant), c [T, 17] (reference-dependent). */
export function droneCost(t0: number, T: number = DRONE.T): { C: Tensor; c: Tensor } {
  const w = new Float64Array(NT);
  w.fill(W_POS, 0, 3);
  w.fill(W_TILT, 3, 6); // qx, qy, qz (qw free)
  w.fill(W_VEL, 7, 10);
  w.fill(W_ANG, 10, 13);
  w.fill(W_U, 13, 17);
  const C = new Float64Array(T * NT * NT);
  const c = new Float64Array(T * NT);
  const hover = (DRONE.mass * 9.81) / 4;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < NT; i++) C[(t * NT + i) * NT + i] = w[i]!;
    const r = droneReference(t0 + t * DRONE.dt);
    for (let i = 0; i < 3; i++) c[t * NT + i] = -W_POS * r[i]!;
    for (let i = 0; i < NU; i++) c[t * NT + 13 + i] = -W_U * hover;
  }
  return { C: new Tensor(C, [T, NT, NT]), c: new Tensor(c, [T, NT]) };
}

/** Report of the drone experiment. */
export interface DroneReport {
  experiment: 'drone';
  steps: number;
  dt: number;
  horizon: number;
  rmsPositionError: number;
  maxPositionError: number;
  /** Closest approach (m) of the closed loop to each waypoint. */
  waypointMiss: number[];
  meanIterations: number;
  nonConverged: number;
  /** Gradient of the first plan's objective with respect to the drone mass (implicit backward through the simulator). */
  dObjective_dMass: number;
  files: { trajectory: string | null; reference: string | null };
  timeMs: number;
}

/**
 * Runs the closed loop: at each step solve the MPC (warm-started from the shifted previous
 * plan), apply u_0, advance the simulator one step. Writes `out` (closed loop) and
 * `out` with `.reference.json` (reference) when given.
 */
export async function runDrone(opts: { out?: string; maxIter?: number; log?: (line: string) => void } = {}): Promise<DroneReport> {
  const t0 = performance.now();
  const dyn = droneDynamics();
  const model1 = dyn.modelFor(1);
  let x = bodyState(model1);
  const T = DRONE.T;
  const steps = Math.ceil(droneCourseTime() / DRONE.dt) + 20;
  const bounds = { u_lower: 0, u_upper: DRONE.uMax };
  const pos: number[] = [];
  const quat: number[] = [];
  const ref: number[] = [];
  const times: number[] = [];
  const iters: number[] = [];
  let nonConverged = 0;
  let uPrev: Tensor | undefined;
  let dMass = NaN;
  const record = (k: number, xs: Tensor): void => {
    times.push(Math.round(k * DRONE.dt * 1e9) / 1e9);
    pos.push(...xs.data.subarray(0, 3));
    quat.push(...xs.data.subarray(3, 7));
    ref.push(...droneReference(k * DRONE.dt));
  };
  record(0, x);
  for (let k = 0; k < steps; k++) {
    const { C, c } = droneCost(k * DRONE.dt, T);
    const mass = tensor([DRONE.mass]);
    if (k === 0) mass.requireGrad();
    const d = k === 0 ? droneDynamics(mass) : dyn;
    const r = mpc(
      { dynamics: d, cost: quadCost(C, c), x_init: x, T, ...bounds },
      { u_init: uPrev ?? new Tensor(new Float64Array(T * NU).fill((DRONE.mass * 9.81) / 4), [1, T, NU]), maxIter: opts.maxIter ?? 20 },
    );
    if (k === 0) dMass = gradients(r.objective, [mass])[0]!.item();
    iters.push(r.iterations[0]!);
    if (!r.converged[0]) nonConverged++;
    uPrev = shiftControls(r.u.detach());
    const u0 = new Tensor(r.u.data.slice(0, NU), [1, NU]);
    x = dyn.step(x, u0, dyn.params, { rows: 1, times: new Int32Array(1), items: new Int32Array(1), T, B: 1 }).detach();
    record(k + 1, x);
    if (opts.log && k % 20 === 0)
      opts.log(
        `drone step ${k}/${steps}: pos (${Array.from(x.data.subarray(0, 3), (v) => v.toFixed(3)).join(', ')}), iLQR iterations ${r.iterations[0]}${r.converged[0] ? '' : ' (not converged)'}`,
      );
  }
  const n = times.length;
  let se = 0;
  let maxE = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.hypot(pos[3 * i]! - ref[3 * i]!, pos[3 * i + 1]! - ref[3 * i + 1]!, pos[3 * i + 2]! - ref[3 * i + 2]!);
    se += e * e;
    maxE = Math.max(maxE, e);
  }
  const miss = DRONE_WAYPOINTS.map((w) => {
    let best = Infinity;
    for (let i = 0; i < n; i++) best = Math.min(best, Math.hypot(pos[3 * i]! - w[0], pos[3 * i + 1]! - w[1], pos[3 * i + 2]! - w[2]));
    return best;
  });
  const files = { trajectory: null as string | null, reference: null as string | null };
  if (opts.out) {
    // drone.json -> drone.reference.json (any extension the data layer writes)
    const refOut = opts.out.replace(/(\.[^./\\]+)?$/, '.reference$1');
    const closed = Trajectory.fromPositionsQuaternions(pos, quat, {
      timestamps: Float64Array.from(times),
      name: 'drone closed loop (MPC)',
      frameId: 'world',
      childFrameId: 'drone',
    });
    const ident: number[] = [];
    for (let i = 0; i < n; i++) ident.push(0, 0, 0, 1);
    const reference = Trajectory.fromPositionsQuaternions(ref, ident, {
      timestamps: Float64Array.from(times),
      name: 'drone reference',
      frameId: 'world',
      childFrameId: 'reference',
    });
    await writeTrajectory(opts.out, closed);
    await writeTrajectory(refOut, reference);
    files.trajectory = opts.out;
    files.reference = refOut;
  }
  return {
    experiment: 'drone',
    steps,
    dt: DRONE.dt,
    horizon: T,
    rmsPositionError: Math.sqrt(se / n),
    maxPositionError: maxE,
    waypointMiss: miss,
    meanIterations: iters.reduce((a, b) => a + b, 0) / iters.length,
    nonConverged,
    dObjective_dMass: dMass,
    files,
    timeMs: performance.now() - t0,
  };
}
