// The `terrain-robot` experiment of the MPC layer (mpc/): a point-set tracked robot
// (MonoForce-like, as sim/physics' terrain-id example) on a heightmap with a friction map
// drives to a goal under receding-horizon MPC through the physics engine. The whole closed
// loop stays on the tape (each MPC solve is a layer with the implicit backward, each
// simulator step the engine's adjoint), so the gradient of the final distance to the goal
// with respect to the terrain's friction map is what a terrain-aware planner needs.
import { Tensor, add, backward, gradients, mul, noGrad, norm, reshape, slice, sub, tensor } from '../../sim/core/index.ts';
import { BodyDesc, Control, ModelBuilder } from '../../sim/physics/index.ts';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Trajectory, writeGridJson, writeTrajectory } from '../../data/index.ts';
import { bodyDynamics, bodyState, BODY_NX, quadCost, type BackwardInfo, mpc, shiftControls } from '../../mpc/index.ts';

/** Terrain grid and robot constants. */
export const TERRAIN_ROBOT = {
  nx: 12,
  ny: 8,
  cell: 0.5,
  origin: [-1, -1.5] as [number, number],
  mass: 10,
  ke: 3000,
  kd: 100,
  kf: 200,
  uMax: 40,
  dt: 0.05,
  substeps: 6,
  T: 20,
  steps: 70,
  goal: [3, 1] as [number, number],
} as const;

/** The terrain's height (m): gentle bumps. */
export function terrainHeightAt(x: number, y: number): number {
  return 0.03 * Math.sin(x / 1.3) * Math.cos(y / 1.7);
}

/** The true friction map: 0.6, with a slippery patch (0.2) around (1.5, 0.4). */
export function terrainFriction(x: number, y: number): number {
  const d = Math.hypot(x - 1.5, y - 0.4);
  return 0.6 - 0.4 / (1 + Math.exp((d - 0.6) / 0.15));
}

function grid<T>(f: (x: number, y: number) => T): T[][] {
  const R = TERRAIN_ROBOT;
  return Array.from({ length: R.ny }, (_, j) => Array.from({ length: R.nx }, (_, i) => f(R.origin[0] + R.cell * i, R.origin[1] + R.cell * j)));
}

/** Contact smoothing of `--smooth-contact` (sim/physics/contact.ts): damping width 0.05 m/s, friction soft-min power 4. */
export const TERRAIN_ROBOT_SMOOTH_CONTACT = { damping: 0.05, friction: 4 } as const;

/**
 * One world: the heightmap (gentle bumps, friction map) and the robot at the origin heading
 * +x; Warp's exact contact model unless `contactSmoothing` is given.
 */
export function terrainRobotWorld(contactSmoothing?: { damping: number; friction: number }): ModelBuilder {
  const R = TERRAIN_ROBOT;
  const b = new ModelBuilder({ contactSmoothing }).setGround(false);
  b.setTerrain({
    origin: R.origin,
    cellSize: R.cell,
    heights: grid(terrainHeightAt),
    ke: R.ke,
    kd: R.kd,
    mu: grid(terrainFriction),
    kf: R.kf,
  });
  const pts: number[][] = [];
  for (const x of [-0.2, 0, 0.2]) for (const y of [-0.15, 0.15]) pts.push([x, y, -0.05]);
  pts.push([0, 0, 0.1]);
  const z0 = 0.05 - (R.mass * 9.81) / (6 * R.ke);
  const robot = b.addBody(BodyDesc.points(pts, 0).setMass(R.mass).setTranslation(0, 0, z0));
  b.addTrack(robot, [0, 2, 4], [1, 0, 0]); // right track (y = -0.15)
  b.addTrack(robot, [1, 3, 5], [1, 0, 0]); // left track (y = +0.15)
  return b;
}

/** The robot's dynamics with the friction map as parameter theta = [terrainMu [ny, nx]]; u = (right, left) track forces. */
export function terrainRobotDynamics(mu: Tensor, contactSmoothing?: { damping: number; friction: number }) {
  const R = TERRAIN_ROBOT;
  return bodyDynamics({
    name: 'terrain-robot',
    world: () => terrainRobotWorld(contactSmoothing),
    nu: 2,
    dt: R.dt,
    substeps: R.substeps,
    control: (u) => new Control({ trackF: reshape(u, [u.size]) }),
    params: [{ name: 'terrainMu', value: mu }],
  });
}

/** The true friction map [ny, nx]. */
export function trueFrictionMap(): Tensor {
  return tensor(grid(terrainFriction));
}

const NU = 2;
const NT = BODY_NX + NU;

/**
 * Solver options of the terrain robot. Contact dynamics on a heightmap are only piecewise
 * smooth (contacts switching, the damping term kd min(vn, 0), bilinear terrain cells), so
 * iLQR reaches a stationary point only to about 1e-3 N. The backward is the exact implicit
 * one; items whose exact reduced Hessian is not positive definite fall back to Gauss-Newton
 * (counted in the report). Newton steps near convergence (second-order term from central
 * differences of the engine's VJPs): on the 70-step loop 2 solves end unconverged instead of
 * 7 with Gauss-Newton alone, in 5.6 iterations per solve instead of 8.6.
 */
export const TERRAIN_ROBOT_SOLVER = { tol: 1e-3, maxIter: 30 } as const;

/** Cost to the goal: position (x, y) weight 1 per step and 30 at the last step, small velocity, rate, tilt and force weights. */
export function terrainRobotCost(T: number = TERRAIN_ROBOT.T, g: readonly [number, number] = TERRAIN_ROBOT.goal): { C: Tensor; c: Tensor } {
  const C = new Float64Array(T * NT * NT);
  const c = new Float64Array(T * NT);
  for (let t = 0; t < T; t++) {
    const wp = t === T - 1 ? 30 : 1;
    const w = new Float64Array(NT);
    w[0] = wp;
    w[1] = wp;
    w[3] = 0.1; // qx, qy tilt
    w[4] = 0.1;
    w.fill(0.01, 7, 13);
    w.fill(1e-4, 13, 15);
    for (let i = 0; i < NT; i++) C[(t * NT + i) * NT + i] = w[i]!;
    c[t * NT] = -wp * g[0];
    c[t * NT + 1] = -wp * g[1];
  }
  return { C: new Tensor(C, [T, NT, NT]), c: new Tensor(c, [T, NT]) };
}

/** Report of the terrain-robot experiment. */
export interface TerrainRobotReport {
  experiment: 'terrain-robot';
  steps: number;
  goal: [number, number];
  finalPosition: number[];
  finalDistance: number;
  initialDistance: number;
  meanIterations: number;
  nonConverged: number;
  /** Of those, solves that stalled (no progress beyond roundoff at a kink of the contact dynamics); the rest hit maxIter. */
  stalled: number;
  /** MPC steps whose implicit backward fell back to Gauss-Newton (exact reduced Hessian not positive definite). */
  gaussNewtonFallbacks: number;
  /** d finalDistance / d terrainMu [ny][nx] through the closed loop (MPC layers + simulator). */
  gradFriction: number[][];
  gradNorm: number;
  /** Grid point with the largest |gradient| and its world position. */
  gradMax: { i: number; j: number; x: number; y: number; value: number };
  /**
   * Check along v = gradient / |gradient|: the analytic |gradient| against a central difference
   * of the whole closed loop. The implicit gradient is that of converged MPC solutions: with
   * solves to tol 1e-8 a 9-step loop agrees to 1e-10 and a 12-step loop (2 solves not
   * converged, 1 of them stalled at a kink) to 2.4e-3 (mpc/physics.test.ts); where the loop's solves stop at
   * `solver.tol` or do not converge, the finite difference also measures the solver's
   * tolerance (error about tol / eps) and need not agree. The engine's contact
   * dynamics are piecewise smooth as well (kd min(vn, 0), friction regimes, bilinear terrain
   * cells, a track's contact count), so differences across kinks differ from the local branch.
   */
  directionalCheck: DirectionalCheck | null;
  /** The closed-loop check at every difference step of `checkEps`. */
  directionalSweep: DirectionalCheck[];
  /**
   * The simulator alone: d finalDistance / d terrainMu with the executed controls held fixed
   * (no re-planning), and its central-difference check. This isolates the engine's adjoint
   * through 70 steps of terrain contact from the MPC solves.
   */
  openLoop: { gradNorm: number; check: DirectionalCheck | null };
  /** iLQR options of every MPC solve of the loop. */
  solver: { tol: number; maxIter: number };
  /** Contact smoothing of the run (null: Warp's exact model). */
  contactSmoothing: { damping: number; friction: number } | null;
  /** Files written: the trajectory (`--out`) and, next to it, terrain/maps.json (height, friction, d final distance / d friction as a Grid). */
  files: { trajectory: string | null; terrain: string | null };
  timeMs: { forward: number; backward: number; check: number };
}

/** A directional derivative: analytic g . v against (f(p + eps v) - f(p - eps v)) / (2 eps), v = g / |g|. */
export interface DirectionalCheck {
  analytic: number;
  finiteDifference: number;
  eps: number;
  relErr: number;
}

/** Central difference of `f` at the true friction map along the unit direction of `g`. */
function directionalCheckOf(g: Tensor, f: (mu: Tensor) => number, eps: number): DirectionalCheck {
  const R = TERRAIN_ROBOT;
  const v = new Float64Array(g.data);
  const vn = Math.hypot(...v);
  for (let i = 0; i < v.length; i++) v[i] = vn > 0 ? v[i]! / vn : 0;
  const at = (s: number): number => noGrad(() => f(add(trueFrictionMap(), mul(s, new Tensor(v, [R.ny, R.nx])))));
  const fd = (at(eps) - at(-eps)) / (2 * eps);
  return { analytic: vn, finiteDifference: fd, eps, relErr: Math.abs(vn - fd) / Math.max(Math.abs(fd), 1e-12) };
}

interface LoopSolver {
  tol: number;
  maxIter: number;
  goal: readonly [number, number];
  contactSmoothing?: { damping: number; friction: number };
}

interface LoopResult {
  xs: Tensor[];
  /** The executed controls u0 of each step (detached). */
  us: Tensor[];
  converged: boolean[];
  final: Tensor;
  iters: number[];
  nonConverged: number;
  stalled: number;
  backwardInfos: BackwardInfo[];
}

/** The closed loop from the start with friction map mu (on the tape when mu requires grad). */
function closedLoop(mu: Tensor, steps: number, solver: LoopSolver, log?: (l: string) => void): LoopResult {
  const R = TERRAIN_ROBOT;
  const dyn = terrainRobotDynamics(mu, solver.contactSmoothing);
  let x = bodyState(dyn.modelFor(1));
  const xs: Tensor[] = [x];
  const us: Tensor[] = [];
  let uPrev: Tensor | undefined;
  const iters: number[] = [];
  const backwardInfos: BackwardInfo[] = [];
  const converged: boolean[] = [];
  let nonConverged = 0;
  let stalled = 0;
  const ctx = { rows: 1, times: new Int32Array(1), items: new Int32Array(1), T: R.T, B: 1 };
  for (let k = 0; k < steps; k++) {
    const r = solveAt(dyn, x, uPrev, solver);
    converged.push(r.converged[0]!);
    iters.push(r.iterations[0]!);
    backwardInfos.push(r.backwardInfo);
    if (!r.converged[0]) nonConverged++;
    if (r.status[0] === 'stalled') stalled++;
    uPrev = shiftControls(r.u.detach());
    const u0 = reshape(slice(r.u, [0, 0, 0], [1, 1, NU]), [1, NU]);
    us.push(u0.detach());
    x = dyn.step(x, u0, [mu], ctx);
    xs.push(x);
    if (log && k % 10 === 0)
      log(
        `terrain-robot step ${k}/${steps}: pos (${Array.from(x.data.subarray(0, 2), (v) => v.toFixed(3)).join(', ')}), iLQR iterations ${r.iterations[0]}${r.converged[0] ? '' : ' (not converged)'}`,
      );
  }
  return { xs, us, final: x, converged, iters, nonConverged, stalled, backwardInfos };
}

/** One MPC solve of the loop at state x with the friction map of `dyn`. */
function solveAt(dyn: ReturnType<typeof terrainRobotDynamics>, x: Tensor, uInit: Tensor | undefined, solver: LoopSolver) {
  const R = TERRAIN_ROBOT;
  const { C, c } = terrainRobotCost(R.T, solver.goal);
  return mpc(
    { dynamics: dyn, cost: quadCost(C, c), x_init: x, T: R.T, u_lower: -R.uMax, u_upper: R.uMax },
    { u_init: uInit, tol: solver.tol, maxIter: solver.maxIter, hessian: 'newton' },
  );
}

/** The robot driven by fixed controls `us` from the start with friction map mu (the simulator alone). */
function openLoop(mu: Tensor, us: readonly Tensor[], contactSmoothing?: { damping: number; friction: number }): Tensor {
  const R = TERRAIN_ROBOT;
  const dyn = terrainRobotDynamics(mu, contactSmoothing);
  let x = bodyState(dyn.modelFor(1));
  const ctx = { rows: 1, times: new Int32Array(1), items: new Int32Array(1), T: R.T, B: 1 };
  for (const u of us) x = dyn.step(x, u, [mu], ctx);
  return x;
}

function distance(x: Tensor, g: readonly [number, number]): Tensor {
  return norm(sub(reshape(slice(x, [0, 0], [1, 2]), [2]), tensor(g)));
}

/**
 * Runs the experiment: closed loop with the true friction map on the tape, the gradient of the
 * final distance with respect to the map, and (unless `check` is false) central-difference
 * checks of that gradient along its own direction: of the closed loop (two more loops) and of
 * the simulator alone with the executed controls fixed.
 */
export async function runTerrainRobot(
  opts: {
    out?: string;
    check?: boolean;
    steps?: number;
    solver?: { tol?: number; maxIter?: number };
    /** Goal (x, y) in m (default TERRAIN_ROBOT.goal). */
    goal?: [number, number];
    /** Smooth the contact model (e.g. TERRAIN_ROBOT_SMOOTH_CONTACT, or the C1 model C1_CONTACT); default Warp's exact model. */
    contactSmoothing?: { damping: number; friction: number };
    /** Difference steps of the closed-loop check (default [1e-4]); the report's directionalCheck is the first, directionalSweep all. */
    checkEps?: readonly number[];
    log?: (line: string) => void;
  } = {},
): Promise<TerrainRobotReport> {
  const R = TERRAIN_ROBOT;
  const steps = opts.steps ?? R.steps;
  const goal = opts.goal ?? [R.goal[0], R.goal[1]];
  const solver: LoopSolver = {
    tol: opts.solver?.tol ?? TERRAIN_ROBOT_SOLVER.tol,
    maxIter: opts.solver?.maxIter ?? TERRAIN_ROBOT_SOLVER.maxIter,
    goal,
    contactSmoothing: opts.contactSmoothing,
  };
  let t0 = performance.now();
  const mu = trueFrictionMap().requireGrad();
  const loop = closedLoop(mu, steps, solver, opts.log);
  const dist = distance(loop.final, goal);
  const tForward = performance.now() - t0;
  t0 = performance.now();
  backward(dist);
  const tBackward = performance.now() - t0;
  const g = mu.grad!;
  const gradFriction = Array.from({ length: R.ny }, (_, j) => Array.from(g.data.subarray(j * R.nx, (j + 1) * R.nx)));
  let best = 0;
  for (let i = 1; i < g.size; i++) if (Math.abs(g.data[i]!) > Math.abs(g.data[best]!)) best = i;
  const bi = best % R.nx;
  const bj = Math.floor(best / R.nx);
  let gn = 0;
  for (const v of g.data) gn += v * v;
  const muOpen = trueFrictionMap().requireGrad();
  const gOpen = gradients(distance(openLoop(muOpen, loop.us, solver.contactSmoothing), goal), [muOpen])[0]!;
  t0 = performance.now();
  let directionalCheck: DirectionalCheck | null = null;
  let sweep: DirectionalCheck[] = [];
  let openCheck: DirectionalCheck | null = null;
  if (opts.check ?? true) {
    sweep = (opts.checkEps ?? [1e-4]).map((e) => directionalCheckOf(g, (m) => distance(closedLoop(m, steps, solver).final, goal).item(), e));
    directionalCheck = sweep[0] ?? null;
    openCheck = directionalCheckOf(gOpen, (m) => distance(openLoop(m, loop.us, solver.contactSmoothing), goal).item(), 1e-6);
  }
  const tCheck = performance.now() - t0;
  const files = { trajectory: null as string | null, terrain: null as string | null };
  if (opts.out) {
    const pos: number[] = [];
    const quat: number[] = [];
    for (const x of loop.xs) {
      pos.push(...x.data.subarray(0, 3));
      quat.push(...x.data.subarray(3, 7));
    }
    const times = Float64Array.from(loop.xs, (_, k) => Math.round(k * R.dt * 1e9) / 1e9);
    await writeTrajectory(
      opts.out,
      Trajectory.fromPositionsQuaternions(pos, quat, { timestamps: times, name: 'terrain robot closed loop (MPC)', frameId: 'world', childFrameId: 'robot' }),
    );
    files.trajectory = opts.out;
    // the maps and the gradient next to the trajectory, as a run folder's terrain/ (docs/RUNS.md) for the app's gradient view
    const terrainFile = join(dirname(opts.out), 'terrain', 'maps.json');
    mkdirSync(dirname(terrainFile), { recursive: true });
    writeGridJson(terrainFile, {
      columns: R.nx,
      rows: R.ny,
      cellSize: [R.cell, R.cell],
      origin: { position: [R.origin[0], R.origin[1], 0], orientation: [0, 0, 0, 1] },
      layers: [
        { name: 'height', values: Float64Array.from(grid((x, y) => terrainHeightAt(x, y)).flat()) },
        { name: 'friction', values: Float64Array.from(grid(terrainFriction).flat()) },
        { name: 'grad_friction', values: g.data },
      ],
    });
    files.terrain = terrainFile;
  }
  const x0 = loop.xs[0]!;
  return {
    experiment: 'terrain-robot',
    steps,
    goal,
    finalPosition: Array.from(loop.final.data.subarray(0, 3)),
    finalDistance: dist.item(),
    initialDistance: distance(x0, goal).item(),
    meanIterations: loop.iters.reduce((a, b) => a + b, 0) / loop.iters.length,
    nonConverged: loop.nonConverged,
    stalled: loop.stalled,
    gaussNewtonFallbacks: loop.backwardInfos.filter((b) => b.gaussNewtonFallback.length > 0).length,
    gradFriction,
    gradNorm: Math.sqrt(gn),
    gradMax: { i: bi, j: bj, x: R.origin[0] + R.cell * bi, y: R.origin[1] + R.cell * bj, value: g.data[best]! },
    directionalCheck,
    directionalSweep: sweep,
    openLoop: { gradNorm: Math.hypot(...gOpen.data), check: openCheck },
    solver: { tol: solver.tol, maxIter: solver.maxIter },
    contactSmoothing: opts.contactSmoothing ?? null,
    files,
    timeMs: { forward: tForward, backward: tBackward, check: tCheck },
  };
}

/** Result of `optimiseFrictionWithC1`: the exact-model loss before and after each step. */
export interface FrictionDescentReport {
  /** Final goal distance (m) of the closed loop on the exact (default) contact model, per iterate (iters + 1 values). */
  exactLoss: number[];
  /** The same loss on the C1 model, per iterate before each step (iters values). */
  c1Loss: number[];
  /** Cosine between the C1 closed-loop gradient and the exact model's analytic one at the start. */
  cosineToExactGradient: number;
  /** Step length in the friction map (Euclidean norm of each step). */
  step: number;
}

/**
 * Descends the exact-model closed-loop loss (final distance to the goal after `steps` MPC
 * steps, Warp's kinked contact model) over the friction map with the gradients of the C1
 * model (C1_CONTACT passed as `c1`): each iterate moves the map by `step` (Euclidean norm)
 * along the negative C1 gradient, kept >= 0. Shows the C1 gradient is a descent direction
 * of the real loss, which has no usable gradient of its own at its kinks.
 */
export function optimiseFrictionWithC1(opts: {
  c1: { damping: number; friction: number; penetration?: number; terrain?: 'bilinear' | 'spline' };
  steps: number;
  iters: number;
  step: number;
  solver?: { tol: number; maxIter: number };
}): FrictionDescentReport {
  const R = TERRAIN_ROBOT;
  const goal: [number, number] = [R.goal[0], R.goal[1]];
  const base = { tol: opts.solver?.tol ?? 1e-8, maxIter: opts.solver?.maxIter ?? 60, goal };
  const exact: LoopSolver = { ...base };
  const c1: LoopSolver = { ...base, contactSmoothing: opts.c1 };
  const lossOf = (mu: Tensor, s: LoopSolver): number => noGrad(() => distance(closedLoop(mu, opts.steps, s).final, goal).item());
  const gradOf = (mu: Tensor, s: LoopSolver): { loss: number; g: Float64Array } => {
    const m = mu.detach().clone().requireGrad();
    const d = distance(closedLoop(m, opts.steps, s).final, goal);
    return { loss: d.item(), g: gradients(d, [m])[0]!.data };
  };
  let mu = trueFrictionMap();
  const exactLoss = [lossOf(mu, exact)];
  const c1Loss: number[] = [];
  let cosine = Number.NaN;
  for (let it = 0; it < opts.iters; it++) {
    const { loss, g } = gradOf(mu, c1);
    c1Loss.push(loss);
    const gn = Math.hypot(...g);
    if (it === 0) {
      const ge = gradOf(mu, exact).g;
      let dot = 0;
      for (let i = 0; i < g.length; i++) dot += g[i]! * ge[i]!;
      cosine = dot / (gn * Math.hypot(...ge));
    }
    const next = new Float64Array(mu.data);
    for (let i = 0; i < next.length; i++) next[i] = Math.max(0, next[i]! - (opts.step * g[i]!) / gn);
    mu = new Tensor(next, [R.ny, R.nx]);
    exactLoss.push(lossOf(mu, exact));
  }
  return { exactLoss, c1Loss, cosineToExactGradient: cosine, step: opts.step };
}
