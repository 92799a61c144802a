// Running a scene file end to end (sim/physics, layer sim): load, build, roll out, write the
// trajectory JSON and return a summary. Used by `impulse sim run`.
import { writeFileSync } from 'node:fs';
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
}

/**
 * Simulates a scene file; `steps`/`dt`/`substeps` override the file's values. Writes the
 * trajectory (every kept state) to `out` when given.
 */
export function runSceneFile(file: string, opts: { steps?: number; dt?: number; substeps?: number; out?: string } = {}): SimRunResult {
  const built = buildScene(loadScene(file), file);
  const dt = opts.dt ?? built.dt;
  const steps = opts.steps ?? built.steps;
  const substeps = opts.substeps ?? built.substeps;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`--dt ${dt}: must be a finite number > 0`, 'dt');
  if (!Number.isInteger(steps) || steps < 0) throw new ModelError(`--steps ${steps}: must be an integer >= 0`, 'steps');
  if (!Number.isInteger(substeps) || substeps < 1) throw new ModelError(`--substeps ${substeps}: must be an integer >= 1`, 'substeps');
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
  if (opts.out) writeFileSync(opts.out, JSON.stringify(trajectoryOf(r, dt)));
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
  };
}
