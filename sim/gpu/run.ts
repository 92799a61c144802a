// A scene file on the GPU (sim/gpu, layer sim): `impulse sim run --device gpu|auto`. Loads and
// builds the scene as the CPU runner does, chooses the substeps from the stability bound, runs
// the whole rollout on the GPU in one go (no read-back between steps) recording the states to
// write, then streams them to the same outputs as the CPU runner. The scene must use only what
// the GPU kernels simulate (particles without springs, bodies without body-body contact, track
// drive; the exact contact model); otherwise GpuModelError names the feature.
import { Tensor } from '../core/index.ts';
import {
  ModelError,
  State,
  autoSubsteps,
  bodyPoseSink,
  buildScene,
  checkStability,
  energies,
  loadScene,
  sceneJsonSink,
  type SimRunResult,
  type StateSink,
} from '../physics/index.ts';
import { finalSummary } from '../physics/run.ts';
import { GpuModelError, packModel } from './adapter.ts';
import { openGpu, type GpuInfo } from './device.ts';
import { GpuRollout, type BatchState } from './engine.ts';

/** Options of `runSceneFileGpu` (those of the CPU runner that apply). */
export interface GpuSimRunOptions {
  steps?: number;
  dt?: number;
  substeps?: number;
  out?: string;
  body?: number;
  every?: number;
}

/** The CPU runner's summary plus the adapter it ran on. */
export type GpuSimRunResult = SimRunResult & { device: { kind: 'gpu'; adapter: string; adapterKind: GpuInfo['kind'] } };

function asState(s: BatchState, np: number, nb: number): State {
  return new State({
    particleQ: new Tensor(s.particleQ, [np, 3]),
    particleQd: new Tensor(s.particleQd, [np, 3]),
    bodyPos: new Tensor(s.bodyPos, [nb, 3]),
    bodyRot: new Tensor(s.bodyRot, [nb, 4]),
    bodyVel: new Tensor(s.bodyVel, [nb, 3]),
    bodyAngVel: new Tensor(s.bodyAngVel, [nb, 3]),
  });
}

/** Simulates a scene file on the GPU (float32); see `runSceneFile` for the options' meaning. */
export async function runSceneFileGpu(file: string, opts: GpuSimRunOptions = {}): Promise<GpuSimRunResult> {
  const built = buildScene(loadScene(file), file);
  const m = built.model;
  const dt = opts.dt ?? built.dt;
  const steps = opts.steps ?? built.steps;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`--dt ${dt}: must be a finite number > 0`, 'dt');
  if (!Number.isInteger(steps) || steps < 1) throw new ModelError(`--steps ${steps}: must be an integer >= 1 on the GPU`, 'steps');
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new ModelError(`--every ${every}: must be an integer >= 1`, 'every');
  const body = opts.body ?? null;
  if (body !== null && (!Number.isInteger(body) || body < 0 || body >= m.bodyCount))
    throw new ModelError(`--body ${body}: the scene has ${m.bodyCount} bodies (indices 0..${m.bodyCount - 1})`, 'body');
  if (body !== null && !opts.out) throw new ModelError('--body needs --out (the file to write its poses to)', 'body');
  const data = packModel(m);
  const c = built.control;
  for (const k of ['particleF', 'bodyF', 'bodyT'] as const) {
    const t = c?.[k];
    if (t && t.data.some((v) => v !== 0))
      throw new GpuModelError(`gpu: the scene's control ${k} is not applied on the GPU (only track drive forces are)`, `control.${k}`);
  }
  const given = opts.substeps ?? built.substeps ?? undefined;
  const substeps = given ?? autoSubsteps(m, dt);
  const stab = checkStability(m, dt, substeps);
  const kept: number[] = [];
  for (let k = every; k <= steps; k += every) kept.push(k);
  if (kept[kept.length - 1] !== steps) kept.push(steps);
  const gpu = await openGpu();
  const nt = m.trackCount;
  const tf = new Float64Array(steps * nt);
  const tc = c?.trackF?.data;
  if (tc) for (let t = 0; t < steps; t++) tf.set(tc, t * nt);
  const t0 = performance.now();
  const r = new GpuRollout(gpu, data, { batch: 1, steps, dt, substeps, record: kept });
  let rec: BatchState[];
  try {
    rec = await r.forward(m.initial, tf);
  } finally {
    r.destroy();
  }
  const wallMs = performance.now() - t0;
  const s0 = m.state();
  const states = rec.map((s) => asState(s, m.particleCount, m.bodyCount));
  if (opts.out) {
    const sink: StateSink = body === null ? sceneJsonSink(opts.out, dt, [0, ...kept]) : await bodyPoseSink(opts.out, dt, body, `${file} body ${body}`);
    try {
      await sink.write(0, s0);
      for (let i = 0; i < kept.length; i++) await sink.write(kept[i]!, states[i]!);
      await sink.close();
    } catch (e) {
      await sink.abort();
      throw e;
    }
  }
  const s = states[states.length - 1]!;
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
    bodies: m.bodyCount,
    worlds: m.worldCount,
    time: steps * dt,
    wallMs: Math.round(wallMs * 10) / 10,
    energy: { initial: energies(m, s0).total, final: energies(m, s).total, controlWorkBound: Number.NaN },
    particleCom: com,
    bodyPos,
    out: opts.out ?? null,
    body,
    device: { kind: 'gpu', adapter: `${gpu.info.vendor} ${gpu.info.device}`.trim(), adapterKind: gpu.info.kind },
  };
}
