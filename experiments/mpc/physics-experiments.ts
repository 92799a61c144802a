// Entry point of the MPC experiments that run through the physics engine (experiments/mpc): `drone` and
// `terrain-robot`, with a human-readable summary for `impulse mpc <experiment>`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDrone, type DroneReport } from './drone.ts';
import { runTerrainRobot, TERRAIN_ROBOT, TERRAIN_ROBOT_SMOOTH_CONTACT, type TerrainRobotReport } from './terrain-robot.ts';

/** Options of `runPhysicsExperiment`. */
export interface PhysicsExperimentOptions {
  /** Trajectory file (default: `runs/mpc-<name>-<date>/<name>.json` under the working directory, see {@link defaultRunOut}). */
  out?: string;
  /** No progress lines. */
  quiet?: boolean;
  log?: (line: string) => void;
  /** terrain-robot: skip the finite-difference check (two more closed loops). */
  noCheck?: boolean;
  /** terrain-robot: smooth the contact model (TERRAIN_ROBOT_SMOOTH_CONTACT). */
  smoothContact?: boolean;
  /** terrain-robot: closed-loop steps and the iLQR options of every solve. */
  steps?: number;
  tol?: number;
  maxIter?: number;
}

/**
 * The default output of an experiment that writes files: a fresh run folder
 * `runs/mpc-<name>-<YYYYMMDD-HHMMSS>/` (created) under `cwd`, never the working directory itself.
 */
export function defaultRunOut(name: string, cwd = process.cwd(), now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  let dir = join(cwd, 'runs', `mpc-${name}-${stamp}`);
  for (let k = 2; ; k++) {
    try {
      mkdirSync(join(cwd, 'runs'), { recursive: true });
      mkdirSync(dir); // fails if it exists: two runs in the same second get -2, -3, ...
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`mpc ${name}: cannot create the run folder ${dir}: ${(e as Error).message}`);
      dir = join(cwd, 'runs', `mpc-${name}-${stamp}-${k}`);
    }
  }
  return join(dir, `${name}.json`);
}

const f = (v: number, d = 4): string => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(d) : v.toExponential(2));

/**
 * Runs `drone` or `terrain-robot` and returns its report plus a `text` summary.
 * @example const r = await runPhysicsExperiment('drone', { out: 'drone.json' }); console.log(r.text);
 */
export async function runPhysicsExperiment(
  name: 'drone' | 'terrain-robot',
  opts: PhysicsExperimentOptions = {},
): Promise<(DroneReport | TerrainRobotReport) & { text: string }> {
  const log = opts.quiet ? undefined : opts.log;
  if (name === 'drone') {
    const out = opts.out ?? defaultRunOut('drone');
    const r = await runDrone({ out, log });
    const text = [
      `drone: ${r.steps} MPC steps of ${r.dt} s, horizon ${r.horizon}, through the physics engine`,
      `tracking error: RMS ${f(r.rmsPositionError)} m, max ${f(r.maxPositionError)} m; closest approach to the waypoints ${r.waypointMiss.map((v) => f(v, 3)).join(', ')} m`,
      `iLQR iterations per step ${f(r.meanIterations, 2)} (warm-started); ${r.nonConverged} steps not converged`,
      `d(first plan's objective)/d(mass) = ${f(r.dObjective_dMass)} (implicit backward through the simulator)`,
      `wrote ${r.files.trajectory} (closed loop) and ${r.files.reference} (reference)${opts.out ? '' : ' (default run folder; --out FILE to choose)'}; impulse eval ape REF EST compares them`,
      `time ${(r.timeMs / 1000).toFixed(1)} s`,
    ].join('\n');
    return { ...r, text };
  }
  const r = await runTerrainRobot({
    out: opts.out ?? defaultRunOut('terrain-robot'),
    check: !opts.noCheck,
    steps: opts.steps,
    solver: { tol: opts.tol, maxIter: opts.maxIter },
    contactSmoothing: opts.smoothContact ? { ...TERRAIN_ROBOT_SMOOTH_CONTACT } : undefined,
    log,
  });
  const R = TERRAIN_ROBOT;
  const rows = r.gradFriction.map(
    (row, j) => `  y=${(R.origin[1] + R.cell * j).toFixed(2).padStart(5)} ` + row.map((v) => (v === 0 ? '0' : v.toExponential(1)).padStart(8)).join(' '),
  );
  const c = r.directionalCheck;
  const o = r.openLoop.check;
  const text = [
    `terrain-robot: ${r.steps} MPC steps through the physics engine, goal (${r.goal.join(', ')}), ${r.contactSmoothing ? `smoothed contact (damping ${r.contactSmoothing.damping} m/s, friction power ${r.contactSmoothing.friction})` : "Warp's exact contact model"}`,
    `distance to the goal ${f(r.initialDistance)} m -> ${f(r.finalDistance)} m (final position ${r.finalPosition.map((v) => f(v, 3)).join(', ')})`,
    `iLQR iterations per step ${f(r.meanIterations, 2)}; ${r.nonConverged} steps not converged to tol (${r.stalled} stalled: contacts make the dynamics piecewise smooth); Gauss-Newton backward fallback on ${r.gaussNewtonFallbacks} steps`,
    `d(final distance)/d(friction map) [ny=${R.ny} x nx=${R.nx}], x from ${R.origin[0]} m in ${R.cell} m cells (|grad| = ${f(r.gradNorm)}; largest ${f(r.gradMax.value)} at (${r.gradMax.x}, ${r.gradMax.y})):`,
    ...rows,
    c
      ? `closed-loop check along the gradient: analytic ${f(c.analytic)}, central difference of the whole loop (eps ${c.eps}) ${f(c.finiteDifference)} (rel. error ${f(c.relErr, 3)})`
      : 'finite-difference checks skipped',
    c && c.relErr > 1e-3
      ? `note: the closed-loop difference is not a clean reference here. It also measures the MPC solves, which stop at tol ${r.solver.tol} N (${r.nonConverged} not converged: ${r.stalled} stalled at kinks of the contact dynamics, ${r.nonConverged - r.stalled} at ${r.solver.maxIter} iterations; error about tol / eps); ${r.gaussNewtonFallbacks} steps used the Gauss-Newton backward, an approximation where the exact reduced Hessian is indefinite; and contacts make the loop only piecewise smooth (--smooth-contact smooths damping and friction). With tight solves on a short loop the two agree: --steps 12 --tol 1e-8 --max-iter 100 gives rel. error 2.4e-3 (mpc/physics.test.ts); the simulator-alone check below isolates the engine's adjoint`
      : '',
    `simulator alone (executed controls fixed): |d(final distance)/d(friction map)| = ${f(r.openLoop.gradNorm)}` +
      (o ? `, central difference (eps ${o.eps}) ${f(o.finiteDifference)} (rel. error ${f(o.relErr, 3)})` : ''),
    `wrote ${r.files.trajectory}${opts.out ? '' : ' (default run folder; --out FILE to choose)'} and ${r.files.terrain} (height, friction and the gradient; open the folder in \`impulse app\` for the gradient view)`,
    `time: forward ${(r.timeMs.forward / 1000).toFixed(1)} s, backward ${(r.timeMs.backward / 1000).toFixed(1)} s, check ${(r.timeMs.check / 1000).toFixed(1)} s`,
  ]
    .filter((l) => l !== '')
    .join('\n');
  return { ...r, text };
}
