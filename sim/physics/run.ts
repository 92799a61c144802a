// Running a scene file end to end (sim/physics, layer sim): load, build, roll out, write the
// trajectory (the whole scene as JSON, or one body's poses in any format of the data layer)
// and return a summary. Used by `impulse sim run`.
import { Trajectory, writeFileAtomicSync, writeTrajectory } from '../../data/index.ts';
import { noGrad } from '../core/index.ts';
import { ModelError } from './errors.ts';
import { rollout, trajectoryOf } from './rollout.ts';
import { buildScene, loadScene } from './scene.ts';

/** Summary of `runSceneFile`. */
export interface SimRunResult {
  scene: string;
  steps: number;
  dt: number;
  substeps: number;
  particles: number;
  springs: number;
  bodies: number;
  worlds: number;
  /** Simulated time (s). */
  time: number;
  wallMs: number;
  /** Final particle centre of mass (null without particles). */
  particleCom: number[] | null;
  /** Final body positions. */
  bodyPos: number[][];
  /** Where the trajectory was written (null when not written). */
  out: string | null;
  /** The body whose poses were written (null: the whole scene). */
  body: number | null;
}

/** Options of `runSceneFile`. */
export interface SimRunOptions {
  /** Override the scene file's step count, step length (s) and substeps. */
  steps?: number;
  dt?: number;
  substeps?: number;
  /** Output file (written atomically). */
  out?: string;
  /**
   * Write only this body's pose trajectory, in the data layer's format chosen by the
   * extension of `out` (.tum/.txt, .kitti, .csv (EuRoC), .json, .mcap), so `impulse eval`,
   * `convert` and Foxglove read it. Without it, `out` gets the whole scene as JSON.
   */
  body?: number;
}

/**
 * Simulates a scene file; `steps`/`dt`/`substeps` override the file's values. Writes the
 * trajectory (every kept state, or one body's poses with `body`) to `out` when given.
 */
export async function runSceneFile(file: string, opts: SimRunOptions = {}): Promise<SimRunResult> {
  const built = buildScene(loadScene(file), file);
  const dt = opts.dt ?? built.dt;
  const steps = opts.steps ?? built.steps;
  const substeps = opts.substeps ?? built.substeps;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`--dt ${dt}: must be a finite number > 0`, 'dt');
  if (!Number.isInteger(steps) || steps < 0) throw new ModelError(`--steps ${steps}: must be an integer >= 0`, 'steps');
  if (!Number.isInteger(substeps) || substeps < 1) throw new ModelError(`--substeps ${substeps}: must be an integer >= 1`, 'substeps');
  const body = opts.body ?? null;
  const nb = built.model.bodyCount;
  if (body !== null && (!Number.isInteger(body) || body < 0 || body >= nb))
    throw new ModelError(`--body ${body}: the scene has ${nb} bodies (indices 0..${nb - 1})`, 'body');
  if (body !== null && !opts.out) throw new ModelError('--body needs --out (the file to write its poses to)', 'body');
  const t0 = performance.now();
  const r = noGrad(() => rollout(built.model, built.model.state(), { steps, dt, substeps, control: built.control }));
  const wallMs = performance.now() - t0;
  const m = built.model;
  const fq = r.final.particleQ.data;
  let com: number[] | null = null;
  if (m.particleCount > 0) {
    const w = m.particleMass.data;
    let W = 0;
    com = [0, 0, 0];
    for (let i = 0; i < m.particleCount; i++) {
      W += w[i]!;
      for (let a = 0; a < 3; a++) com[a]! += w[i]! * fq[3 * i + a]!;
    }
    com = com.map((v) => v / W);
  }
  const bp = r.final.bodyPos.data;
  const bodyPos: number[][] = [];
  for (let b = 0; b < m.bodyCount; b++) bodyPos.push([bp[3 * b]!, bp[3 * b + 1]!, bp[3 * b + 2]!]);
  if (opts.out && body === null) writeFileAtomicSync(opts.out, JSON.stringify(trajectoryOf(r, dt)));
  if (opts.out && body !== null) await writeTrajectory(opts.out, bodyTrajectory(r.states, r.steps, dt, body, file));
  return {
    scene: file,
    steps,
    dt,
    substeps,
    particles: m.particleCount,
    springs: m.springCount,
    bodies: m.bodyCount,
    worlds: m.worldCount,
    time: steps * dt,
    wallMs: Math.round(wallMs * 10) / 10,
    particleCom: com,
    bodyPos,
    out: opts.out ?? null,
    body,
  };
}

/** Body `b`'s poses at the kept states of a rollout, as a data-layer trajectory (times k dt). */
function bodyTrajectory(
  states: readonly { bodyPos: { data: Float64Array }; bodyRot: { data: Float64Array } }[],
  steps: readonly number[],
  dt: number,
  b: number,
  scene: string,
): Trajectory {
  const pos: number[] = [];
  const rot: number[] = [];
  for (const s of states) {
    pos.push(...s.bodyPos.data.subarray(3 * b, 3 * b + 3));
    rot.push(...s.bodyRot.data.subarray(4 * b, 4 * b + 4));
  }
  return Trajectory.fromPositionsQuaternions(pos, rot, {
    timestamps: Float64Array.from(steps, (k) => k * dt),
    name: `${scene} body ${b}`,
    frameId: 'world',
    childFrameId: `body${b}`,
  });
}
