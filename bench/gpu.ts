// Benchmark of the GPU backend (`npm run bench -- gpu [--full | --large] [--particles 1000,10000]
// [--robots 100] [--steps 10] [--traj-robots 16] [--loop-robots 1000] [--no-cpu]`): particle-steps/s
// and body-steps/s of the WGSL kernels (sim/gpu), forward and forward+backward, particles and tracked
// robots on a heightmap; five-second robot trajectories per second, open loop and closed by the
// track-speed controller (1k robots by default, 10k with --large); the ego-motion MLP's tfjs training
// step on the webgpu backend; and the same on the CPU path (the float64 engine, tfjs wasm) for
// the ratio. Every figure is labelled with the adapter: on SwiftShader (a CPU implementation of
// Vulkan) the GPU figures are correctness-only, not the goal. The defaults fit a minute on
// SwiftShader apart from the closed loop's 1k robots (a few minutes there); `--full` runs the sizes (1k and 100k particles, 1k robots, 256 five-second
// trajectories, tfjs batch 4096), `--large` adds 1M particles and 10k robots (a real GPU). The
// CPU reference runs one world on the float64 engine (its per-world cost).
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Tensor, backward, noGrad, sum } from '../sim/core/index.ts';
import { rollout, type Model } from '../sim/physics/index.ts';
import {
  GpuRollout,
  batchInitial,
  closedLoopRollout,
  gpuFixture,
  openGpu,
  packModel,
  probeGpu,
  rerunWithSoftwareGpu,
  softwareGpuNeedsRerun,
  trackForces,
  type BatchState,
  type Gpu,
} from '../sim/gpu/index.ts';
import { initTf } from '../models/index.ts';
import { buildMlp } from '../ego/net.ts';
import { FEATURES } from '../ego/features.ts';
import { HORIZON } from '../ego/windows.ts';
import { argNum, argString, round } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'GPU (WebGPU) particle-steps/s, body-steps/s, 5 s robot trajectories/s and the tfjs webgpu train step, against the CPU path';

const DT = 0.01;
const SUBSTEPS = 2;

function list(args: string[], name: string, dflt: number[]): number[] {
  const s = argString(args, name);
  if (s === undefined) return dflt;
  const v = s.split(',').map(Number);
  if (v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`bench gpu: --${name} needs positive integers separated by commas, got '${s}'`);
  return v;
}

/** Ones-weighted gradient seed of a recorded state. */
function ones(s: BatchState): BatchState {
  const o = (a: Float64Array): Float64Array => new Float64Array(a.length).fill(1);
  return {
    particleQ: o(s.particleQ),
    particleQd: o(s.particleQd),
    bodyPos: o(s.bodyPos),
    bodyRot: o(s.bodyRot),
    bodyVel: o(s.bodyVel),
    bodyAngVel: o(s.bodyAngVel),
  };
}

/** Median wall time (ms) of GPU forward and forward+backward, after one warm-up (pipeline compilation). */
async function timeGpu(gpu: Gpu, model: Model, B: number, T: number, reps: number, closedLoop = false): Promise<{ fwd: number; fb: number }> {
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: T, dt: DT, substeps: SUBSTEPS, ...(closedLoop ? { controller: LOOP_GAINS } : {}) });
  const init = batchInitial(model, B);
  // closed loop: the rollout's input is the target track speeds
  const tf = closedLoop ? loopTargets(model, B, T) : trackForces(model, B, T);
  try {
    const [out] = await r.forward(init, tf);
    const seed = ones(out!);
    // the warm-up's backward is skipped for the closed loop (its large default batch makes it the longest run)
    if (!closedLoop) await r.backward([seed]);
    const fwd: number[] = [];
    const fb: number[] = [];
    for (let i = 0; i < reps; i++) {
      let t0 = performance.now();
      await r.forward(init, tf);
      fwd.push(performance.now() - t0);
      t0 = performance.now();
      await r.forward(init, tf);
      await r.backward([seed]);
      fb.push(performance.now() - t0);
    }
    return { fwd: Math.min(...fwd), fb: Math.min(...fb) };
  } finally {
    r.destroy();
  }
}

/** Gains of the closed-loop figures (the demo robot: 4 kg). */
const LOOP_GAINS = { kp: 40, fMax: 15 };

/** Target track speeds [T * B * nt] of the closed-loop figures: 0.3-0.5 m/s varying slowly. */
function loopTargets(model: Model, B: number, T: number): Float64Array {
  const nt = model.trackCount;
  return Float64Array.from({ length: T * B * nt }, (_, i) => 0.4 + 0.1 * Math.sin(0.02 * Math.floor(i / (B * nt)) + (i % (B * nt))));
}

/** Wall time (ms) of the float64 CPU engine with the track-speed controller on one world, forward and forward+backward. */
function timeCpuLoop(model: Model, T: number): { fwd: number; fb: number } {
  const nt = model.trackCount;
  const tg = loopTargets(model, 1, T);
  const targets = Array.from({ length: T }, (_, t) => new Tensor(tg.slice(t * nt, (t + 1) * nt), [nt]));
  const o = { steps: T, dt: DT, substeps: SUBSTEPS, targets, ...LOOP_GAINS };
  // warm-up (JIT) on a short run with its backward
  const [w] = closedLoopRollout(model, model.state().requireGrad(), { ...o, steps: Math.min(T, 20) });
  backward(sum(w!.bodyPos));
  let t0 = performance.now();
  noGrad(() => closedLoopRollout(model, model.state(), o));
  const fwd = performance.now() - t0;
  t0 = performance.now();
  const s0 = model.state().requireGrad();
  const [final] = closedLoopRollout(model, s0, o);
  backward(sum(final!.bodyPos));
  return { fwd, fb: performance.now() - t0 };
}

/** Wall time (ms) of the float64 CPU engine on one world of `model`, forward and forward+backward. */
function timeCpu(model: Model, T: number): { fwd: number; fb: number } {
  let t0 = performance.now();
  noGrad(() => rollout(model, model.state(), { steps: T, dt: DT, substeps: SUBSTEPS }));
  const fwd = performance.now() - t0;
  t0 = performance.now();
  const s0 = model.state().requireGrad();
  const { final } = rollout(model, s0, { steps: T, dt: DT, substeps: SUBSTEPS });
  backward(sum(final.particleQ.size ? final.particleQ : final.bodyPos));
  return { fwd, fb: performance.now() - t0 };
}

/** The ego-motion MLP's training step (Adam, batch `batch`) on a tfjs backend: median ms. */
async function tfStep(backend: string, batch: number, reps: number): Promise<{ backend: string; ms: number }> {
  const { tf, backend: got } = await initTf(backend);
  const net = buildMlp(FEATURES, [64, 64], 2 * HORIZON, 0, false);
  const x = tf.randomNormal([batch, FEATURES]);
  const y = tf.randomNormal([batch, 2 * HORIZON]);
  const opt = tf.train.adam(1e-3);
  const step = async (): Promise<number> => {
    const l = opt.minimize(() => tf.losses.meanSquaredError(y, net.apply(x) as typeof y) as ReturnType<typeof tf.scalar>, true)!;
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  };
  await step();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await step();
    ts.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  net.dispose();
  ts.sort((a, b) => a - b);
  return { backend: got, ms: round(ts[Math.floor(ts.length / 2)]!, 2) };
}

/** Runs the benchmark and returns its JSON. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const large = args.includes('--large');
  const full = large || args.includes('--full');
  const noCpu = args.includes('--no-cpu');
  const particles = list(args, 'particles', large ? [1000, 100000, 1000000] : full ? [1000, 100000] : [1000, 10000]);
  const robots = list(args, 'robots', large ? [1000, 10000] : full ? [1000] : [100]);
  const T = argNum(args, 'steps', full ? 20 : 10, { bench: 'gpu', allowZero: false });
  const trajRobots = argNum(args, 'traj-robots', large ? 10000 : full ? 256 : 16, { bench: 'gpu', allowZero: false });
  const loopRobots = argNum(args, 'loop-robots', large ? 10000 : 1000, { bench: 'gpu', allowZero: false });
  const reps = argNum(args, 'reps', 2, { bench: 'gpu', allowZero: false });
  const probe = await probeGpu();
  // SwiftShader's Vulkan loader only in chromium's folder: re-run the command with it on LD_LIBRARY_PATH
  if (!probe.info && softwareGpuNeedsRerun()) process.exit(rerunWithSoftwareGpu());
  if (!probe.info) return { bench: 'gpu', adapter: null, skipped: `no WebGPU adapter: ${probe.reasons.join('; ')}` };
  const gpu = await openGpu();
  const adapter = `${gpu.info.vendor} ${gpu.info.device}`.trim();
  const out: Record<string, unknown> = {
    bench: 'gpu',
    adapter,
    adapterKind: gpu.info.kind,
    note: gpu.info.kind === 'software' ? 'software adapter (SwiftShader on the CPU): GPU figures check that the path runs, they are not GPU speeds' : undefined,
    loadavg: loadavg().map((v) => round(v, 2)),
    dt: DT,
    substeps: SUBSTEPS,
    steps: T,
    cpuReference: 'float64 CPU engine, one world (forward and forward+backward on the tape)',
  };
  // particles on terrain (one world of n particles; the CPU engine on the same world)
  const pRows: Record<string, unknown>[] = [];
  for (const n of particles) {
    const model = gpuFixture({ particles: n, robot: false, grid: 41 });
    const g = await timeGpu(gpu, model, 1, T, reps);
    const steps = n * T;
    const row: Record<string, unknown> = { particles: n, gpuForward: round((steps / g.fwd) * 1000, 0), gpuForwardBackward: round((steps / g.fb) * 1000, 0) };
    if (!noCpu && n <= 100000) {
      const Tc = Math.max(2, Math.min(T, Math.round(2e5 / n)));
      const c = timeCpu(model, Tc);
      row.cpuForward = round(((n * Tc) / c.fwd) * 1000, 0);
      row.cpuForwardBackward = round(((n * Tc) / c.fb) * 1000, 0);
      row.ratioForward = round((row.gpuForward as number) / (row.cpuForward as number), 2);
      row.ratioForwardBackward = round((row.gpuForwardBackward as number) / (row.cpuForwardBackward as number), 2);
    }
    pRows.push(row);
  }
  out.particleStepsPerSecond = pRows;
  // tracked robots on terrain: B worlds of one robot
  const robot = gpuFixture({ particles: 0, robot: true, grid: 41 });
  const bRows: Record<string, unknown>[] = [];
  const cpuRobot = noCpu ? null : timeCpu(robot, 100);
  for (const B of robots) {
    const g = await timeGpu(gpu, robot, B, T, reps);
    const row: Record<string, unknown> = { robots: B, gpuForward: round(((B * T) / g.fwd) * 1000, 0), gpuForwardBackward: round(((B * T) / g.fb) * 1000, 0) };
    if (cpuRobot) {
      row.cpuForward = round((100 / cpuRobot.fwd) * 1000, 0);
      row.cpuForwardBackward = round((100 / cpuRobot.fb) * 1000, 0);
      row.ratioForward = round((row.gpuForward as number) / (row.cpuForward as number), 1);
      row.ratioForwardBackward = round((row.gpuForwardBackward as number) / (row.cpuForwardBackward as number), 1);
    }
    bRows.push(row);
  }
  out.bodyStepsPerSecond = bRows;
  // five-second trajectories of the tracked robot (500 steps of 10 ms, 2 substeps), forward and forward+backward
  const steps5 = Math.round(5 / DT);
  const g5 = await timeGpu(gpu, robot, trajRobots, steps5, 1);
  out.trajectories5s = {
    robots: trajRobots,
    gpuForwardPerSecond: round((trajRobots / g5.fwd) * 1000, 1),
    gpuForwardBackwardPerSecond: round((trajRobots / g5.fb) * 1000, 1),
    cpuForwardPerSecond: cpuRobot ? round(1000 / ((cpuRobot.fwd * steps5) / 100), 2) : undefined,
    cpuForwardBackwardPerSecond: cpuRobot ? round(1000 / ((cpuRobot.fb * steps5) / 100), 2) : undefined,
  };
  // the same trajectories closed-loop: the track-speed controller (WGSL, with its adjoint) each step
  const gl = await timeGpu(gpu, robot, loopRobots, steps5, 1, true);
  const cl = noCpu ? null : timeCpuLoop(robot, steps5);
  out.closedLoopTrajectories5s = {
    robots: loopRobots,
    controller: `track-speed controller each step, kp ${LOOP_GAINS.kp} N/(m/s), fMax ${LOOP_GAINS.fMax} N; input: target track speeds`,
    cpuReference: 'float64 CPU engine with closedLoopRollout, one world on one thread (batched CPU figures: npm run bench -- terrain)',
    gpuForwardPerSecond: round((loopRobots / gl.fwd) * 1000, 1),
    gpuForwardBackwardPerSecond: round((loopRobots / gl.fb) * 1000, 1),
    cpuForwardPerSecond: cl ? round(1000 / cl.fwd, 2) : undefined,
    cpuForwardBackwardPerSecond: cl ? round(1000 / cl.fb, 2) : undefined,
    ratioForward: cl ? round(((loopRobots / gl.fwd) * 1000) / (1000 / cl.fwd), 1) : undefined,
    ratioForwardBackward: cl ? round(((loopRobots / gl.fb) * 1000) / (1000 / cl.fb), 1) : undefined,
  };
  // tfjs: the ego-motion MLP's training step, batch 64 (the training default) and 4096
  const tfRows: Record<string, unknown>[] = [];
  for (const batch of full ? [64, 4096] : [64]) {
    const g = await tfStep('webgpu', batch, 3);
    const row: Record<string, unknown> = { batch, webgpuBackend: g.backend, webgpuMs: g.ms };
    if (!noCpu) {
      const c = await tfStep('wasm', batch, 3);
      row.cpuPathBackend = c.backend;
      row.cpuPathMs = c.ms;
      row.ratio = round(c.ms / g.ms, 2);
    }
    tfRows.push(row);
  }
  out.tfTrainStep = { model: `MLP ${FEATURES}-64-64-${2 * HORIZON} (ego-motion nn predictor)`, rows: tfRows };
  return out;
}

// Run directly (the bundle of a device run, sim/gpu/device-kit.sh): print the JSON
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r, null, 1)),
    (e: Error) => {
      console.error(`bench gpu: ${e.name}: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
