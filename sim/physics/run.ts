// Running a scene file end to end (sim/physics, layer sim): load, build, choose the substeps
// from the stability bound (or refuse a step the model cannot integrate), simulate while
// watching for divergence, stream the states to the output file (the whole scene as JSON, or
// one body's poses in any format of the data layer) and return a summary. Memory stays flat in
// the number of steps: only the current state is kept. Used by `impulse sim run`.
import { noGrad } from '../core/index.ts';
import { DivergenceMonitor } from './divergence.ts';
import { ModelError, SceneError } from './errors.ts';
import { modelData } from './data.ts';
import { rotationMatrices } from './math.ts';
import { bodyOverlaps } from './kernels/bodybody.ts';
import type { Model, State } from './model.ts';
import { simulate } from './integrator.ts';
import { autoSubsteps, checkStability } from './stability.ts';
import { buildScene, loadScene } from './scene.ts';
import { bodyPoseSink, sceneJsonSink, type StateSink } from './stream.ts';

/** Summary of `runSceneFile`. */
export interface SimRunResult {
  scene: string;
  steps: number;
  dt: number;
  substeps: number;
  /** Whether the substeps were chosen from the stability bound (no --substeps, none in the scene). */
  substepsAuto: boolean;
  /** The sufficient stability bound of the substep (s) and whether dt / substeps is within it. */
  stability: { substep: number; guaranteedBound: number; guaranteed: boolean };
  particles: number;
  springs: number;
  bodies: number;
  worlds: number;
  /** Simulated time (s). */
  time: number;
  wallMs: number;
  /** Energy (kinetic + gravitational + spring, J) at the start and the end; the controls' work bound. */
  energy: { initial: number; final: number; controlWorkBound: number };
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
  /** Substeps per step; default: the scene file's, else chosen from the stability bound. */
  substeps?: number;
  /** Output file (written atomically, streamed as the run goes). */
  out?: string;
  /**
   * Write only this body's pose trajectory, in the data layer's format chosen by the
   * extension of `out` (.tum/.txt, .kitti, .csv (EuRoC), .json or .mcap), so `impulse eval`,
   * `convert` and Foxglove read it. Without it, `out` gets the whole scene as JSON.
   */
  body?: number;
  /** Write every K-th state only (default 1: every state). */
  every?: number;
  /** Called after every step with its index (progress reporting). */
  onStep?: (step: number) => void;
  /** Stops the run (e.g. on SIGINT): the partial output is removed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Simulates a scene file; `steps`/`dt`/`substeps` override the file's values. Without
 * substeps given, they are chosen from the stability bound (stability.ts); a given substep
 * beyond the necessary bound is refused with a StabilityError. Stops with a SimulationError
 * (step, body or particle, quantity) when the run diverges. Streams the states to `out`.
 */
export async function runSceneFile(file: string, opts: SimRunOptions = {}): Promise<SimRunResult> {
  const built = buildScene(loadScene(file), file);
  const dt = opts.dt ?? built.dt;
  const steps = opts.steps ?? built.steps;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`--dt ${dt}: must be a finite number > 0`, 'dt');
  if (!Number.isInteger(steps) || steps < 0) throw new ModelError(`--steps ${steps}: must be an integer >= 0`, 'steps');
  const given = opts.substeps ?? built.substeps ?? undefined;
  if (given !== undefined && (!Number.isInteger(given) || given < 1)) throw new ModelError(`--substeps ${given}: must be an integer >= 1`, 'substeps');
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new ModelError(`--every ${every}: must be an integer >= 1`, 'every');
  const body = opts.body ?? null;
  const m = built.model;
  const nb = m.bodyCount;
  if (body !== null && (!Number.isInteger(body) || body < 0 || body >= nb))
    throw new ModelError(`--body ${body}: the scene has ${nb} bodies (indices 0..${nb - 1})`, 'body');
  if (body !== null && !opts.out) throw new ModelError('--body needs --out (the file to write its poses to)', 'body');
  checkNoOverlaps(m, file);
  const substeps = given ?? autoSubsteps(m, dt);
  const stab = checkStability(m, dt, substeps);
  const kept: number[] = [];
  for (let k = 0; k <= steps; k += every) kept.push(k);
  if (kept[kept.length - 1] !== steps) kept.push(steps);
  let sink: StateSink | null = null;
  if (opts.out) sink = body === null ? sceneJsonSink(opts.out, dt, kept) : await bodyPoseSink(opts.out, dt, body, `${file} body ${body}`);
  const t0 = performance.now();
  let s = m.state();
  const monitor = new DivergenceMonitor(m, s);
  try {
    opts.signal?.throwIfAborted();
    await sink?.write(0, s);
    for (let t = 0; t < steps; t++) {
      s = noGrad(() => simulate(m, s, null, dt, built.control, { substeps, step: t, checkFinite: false }));
      monitor.check(t + 1, s, built.control, dt);
      if (sink && ((t + 1) % every === 0 || t + 1 === steps)) await sink.write(t + 1, s);
      opts.onStep?.(t + 1);
      if (opts.signal && (t & 255) === 255) {
        // let signal handlers run (they are macrotasks), then stop if asked to
        await new Promise((r) => setImmediate(r));
        opts.signal.throwIfAborted();
      }
    }
    await sink?.close();
  } catch (e) {
    await sink?.abort();
    throw e;
  }
  const wallMs = performance.now() - t0;
  const { particleCom: com, bodyPos } = finalSummary(m, s);
  return {
    scene: file,
    steps,
    dt,
    substeps,
    substepsAuto: given === undefined,
    stability: { substep: dt / substeps, guaranteedBound: stab.bound, guaranteed: stab.guaranteed },
    particles: m.particleCount,
    springs: m.springCount,
    bodies: nb,
    worlds: m.worldCount,
    time: steps * dt,
    wallMs: Math.round(wallMs * 10) / 10,
    energy: { initial: monitor.initialEnergy, final: monitor.finalEnergy(s), controlWorkBound: monitor.work },
    particleCom: com,
    bodyPos,
    out: opts.out ?? null,
    body,
  };
}

/** The mass-weighted particle centre (null without particles) and the body positions of a state: the summary of a scene run. */
export function finalSummary(m: Model, s: State): { particleCom: number[] | null; bodyPos: number[][] } {
  const fq = s.particleQ.data;
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
  const bp = s.bodyPos.data;
  const bodyPos: number[][] = [];
  for (let b = 0; b < m.bodyCount; b++) bodyPos.push([bp[3 * b]!, bp[3 * b + 1]!, bp[3 * b + 2]!]);
  return { particleCom: com, bodyPos };
}

/**
 * Refuses bodies that overlap at the start (a soft contact would throw them apart): deeper
 * than 1 mm or 5% of the smaller body's bounding radius, whichever is larger (resting
 * contact sinks by m g / ke, far less). Names both bodies and the depth.
 */
function checkNoOverlaps(m: Model, file: string): void {
  if (!m.bodyContact || m.bodyCount < 2) return;
  const M = modelData(m);
  const s = m.initial;
  const R = rotationMatrices(s.bodyRot, m.bodyCount);
  const tol = (a: number, b: number): number => Math.max(1e-3, 0.05 * Math.min(M.bodyBound[a]!, M.bodyBound[b]!));
  const o = bodyOverlaps(M, s.bodyPos, R, tol);
  if (o.length === 0) return;
  const w = o[0]!;
  const more = o.length > 1 ? ` (and ${o.length - 1} more pair${o.length > 2 ? 's' : ''})` : '';
  throw new SceneError(
    `${file}: bodies[${w.a}] and bodies[${w.b}] overlap by ${(w.depth * 1000).toFixed(1)} mm at the start${more}: move them apart, or turn body-body contact off with "bodyContact": false`,
    `bodies[${w.b}]`,
    file,
  );
}
