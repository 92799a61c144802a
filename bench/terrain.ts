// Benchmark of the terrain robot (`npm run bench -- terrain [--robots B] [--threads N]
// [--grad-robots G] [--samples S] [--reps R] [--warmup W]`): batched five-second rollouts of the engine's tracked
// robot on heightmap terrain (ego/terrain/engine.ts), in trajectories per second, forward and
// forward + backward (gradient of the time-weighted trajectory loss with respect to the
// height, friction and stiffness maps), in this thread and over N worker threads; and the
// dataset generation rate (terrain + Rapier ground truth + encoding) in samples per second;
// and the CNN terrain model's training step (batch `--model-batch`, truth from the engine's own
// rollouts on the true maps) and inference latency.
import { backward, noGrad } from '../sim/core/index.ts';
import { DEFAULT_SPEC, MATERIAL, generateTerrain, type TerrainSample } from '../ego/terrain/index.ts';
import { ENGINE, buildBatch, robotPath, rolloutBatch, tiledTensor, trajectoryLoss, type RobotRun } from '../ego/terrain/engine.ts';
import { RolloutPool } from '../ego/terrain/parallel.ts';
import { startHeight, yawQuat } from '../ego/terrain/rapier-truth.ts';
import { generateSampleBytes } from '../ego/terrain/dataset.ts';
import { createTerrainNet, networkInput } from '../ego/terrain/model.ts';
import { cnnLossAndGrads, predictMaps, robotsOf } from '../ego/terrain/train.ts';
import type { StoredSample } from '../ego/terrain/format.ts';
import { initTf } from '../models/index.ts';
import { loadavg } from 'node:os';
import { argNum, gc, median, round } from './_util.ts';

function robotsOn(tiles: TerrainSample[], B: number): RobotRun[] {
  const spec = DEFAULT_SPEC;
  return Array.from({ length: B }, (_, i) => {
    const t = tiles[i % tiles.length]!;
    const s = generateTerrain(spec, 1000, i);
    const q = yawQuat(s.start[2]);
    return {
      tile: i % tiles.length,
      pose0: [s.start[0], s.start[1], startHeight(spec, t.heights, s.start[0], s.start[1], s.start[2]), ...q],
      velocity0: [0, 0, 0, 0, 0, 0],
      commands: s.commands,
      label: `bench-${i}`,
    };
  });
}

function argInt(args: string[], name: string, dflt: number, min: number): number {
  const v = argNum(args, name, dflt, { bench: 'terrain', allowZero: min === 0 });
  if (!Number.isInteger(v)) throw new Error(`bench terrain: --${name} needs an integer, got ${v}`);
  return v;
}

/** Median wall and CPU (whole process, all threads) milliseconds of `fn` over `reps` runs, each after a GC. */
async function timeIt(fn: () => unknown | Promise<unknown>, reps: number): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    gc();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Trajectories per second of wall time and per CPU-second (the latter is what a core gives when the machine is not shared). */
function rates(n: number, t: { wall: number; cpu: number }): { perSecond: number; perCpuSecond: number } {
  return { perSecond: round((n / t.wall) * 1000, 1), perCpuSecond: round((n / t.cpu) * 1000, 1) };
}

/** Runs the benchmark and returns its JSON. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const spec = DEFAULT_SPEC;
  const B = argInt(args, 'robots', 1024, 1);
  const G = argInt(args, 'grad-robots', 256, 1);
  const threads = argInt(args, 'threads', 2, 1);
  const nSamples = argInt(args, 'samples', 4, 0);
  const reps = argInt(args, 'reps', 3, 1);
  // each worker thread is its own V8 isolate with its own JIT: it needs a few runs of its own
  // before it runs optimised code (one warm-up run left the threaded figures 30-40% low)
  const warmup = argInt(args, 'warmup', 3, 1);
  const warm = async (fn: () => unknown): Promise<void> => {
    for (let i = 0; i < warmup; i++) await fn();
  };
  const tiles = Array.from({ length: 8 }, (_, i) => generateTerrain(spec, 999, i));
  const robots = robotsOn(tiles, B);
  const gRobots = robots.slice(0, G);
  const steps = Math.round(spec.duration / ENGINE.dt);

  // this thread
  const w = buildBatch(spec, tiles, robots);
  await warm(() => noGrad(() => rolloutBatch(w)));
  const fwdMs = await timeIt(() => noGrad(() => rolloutBatch(w)), reps);
  const wg = buildBatch(spec, tiles, gRobots);
  const truth = (() => {
    const r = noGrad(() => rolloutBatch(wg));
    return gRobots.map((_, i) => robotPath(r, i).map((v, k) => v + (k % 3 === 0 ? 0.05 : 0)));
  })();
  const fwdBwd = (): void => {
    const h = tiledTensor(
      wg,
      tiles.map((t) => t.heights),
      0,
    ).requireGrad();
    const mu = tiledTensor(
      wg,
      tiles.map((t) => t.friction),
      MATERIAL.defaultMu,
    ).requireGrad();
    const ke = tiledTensor(
      wg,
      tiles.map((t) => t.stiffness),
      MATERIAL.defaultKe,
    ).requireGrad();
    const r = rolloutBatch(wg, { maps: { terrainHeights: h, terrainMu: mu, terrainKe: ke } });
    backward(trajectoryLoss(r, truth, spec.recordDt));
  };
  await warm(fwdBwd);
  const fwdBwdMs = await timeIt(fwdBwd, reps);

  // worker threads
  const pool = new RolloutPool(threads);
  let threaded: Record<string, unknown>;
  try {
    await warm(() => pool.run({ spec, terrains: tiles, robots, mode: 'forward' })); // thread start, JIT
    const tFwd = await timeIt(() => pool.run({ spec, terrains: tiles, robots, mode: 'forward' }), reps);
    await warm(() => pool.run({ spec, terrains: tiles, robots: gRobots, mode: 'grad', truth }));
    const tGrad = await timeIt(() => pool.run({ spec, terrains: tiles, robots: gRobots, mode: 'grad', truth }), reps);
    threaded = {
      threads: pool.size,
      forward: rates(B, tFwd),
      forwardBackward: rates(G, tGrad),
      // wall-time speed-up over this thread (the world build and the thread messages count on the threads' side)
      speedup: { forward: round(fwdMs.wall / tFwd.wall, 2), forwardBackward: round(fwdBwdMs.wall / tGrad.wall, 2) },
    };
  } finally {
    await pool.close();
  }

  // dataset generation (terrain, sensor view, Rapier ground truth, encoding)
  let generation: Record<string, unknown> | null = null;
  if (nSamples > 0) {
    await generateSampleBytes(spec, 1, 0, false); // Rapier init + warm-up
    const t0 = performance.now();
    for (let i = 1; i <= nSamples; i++) await generateSampleBytes(spec, 1, i, false);
    const s = (performance.now() - t0) / 1000;
    generation = { samples: nSamples, samplesPerSecond: round(nSamples / s, 2), unit: 'samples/s in one process (workers of impulse worker add up)' };
  }

  // the CNN terrain model: one training step (forward, engine rollouts, backward, Adam) and inference
  let model: Record<string, unknown> | null = null;
  const modelBatch = argInt(args, 'model-batch', 4, 0);
  if (modelBatch > 0) {
    const { tf } = await initTf('cpu'); // the wasm backend has no Conv2DBackpropFilter kernel
    const items: StoredSample[] = tiles.slice(0, modelBatch).map((t, i) => {
      const r = robots[i]!;
      const w1 = buildBatch(spec, [t], [{ ...r, tile: 0 }]);
      const path = robotPath(
        noGrad(() => rolloutBatch(w1)),
        0,
      );
      const poses = new Float64Array((path.length / 3) * 7);
      for (let k = 0; k < path.length / 3; k++) poses.set([path[3 * k]!, path[3 * k + 1]!, path[3 * k + 2]!, 0, 0, 0, 1], 7 * k);
      poses.set(Array.from(r.pose0).slice(3, 7), 3);
      return {
        record: { id: t.id, index: i, kinds: t.kinds, start: t.start, file: '', bytes: 1, sha256: '0'.repeat(64) },
        sample: { ...t, commands: Float64Array.from(r.commands) },
        truth: { poses, velocity0: Float64Array.from(r.velocity0) },
      };
    });
    const net = createTerrainNet(tf, spec);
    const opt = tf.train.adam(1e-3);
    const mpool = new RolloutPool(threads);
    // the training step of impulse train ego-terrain: CNN forward, engine forward + backward over the threads, CNN backward, Adam
    const step = async (): Promise<void> => {
      const r = await cnnLossAndGrads(tf, net, mpool, spec, items, 1);
      opt.applyGradients(r.grads as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(Object.values(r.grads));
    };
    let stepT: { wall: number; cpu: number };
    try {
      await step();
      stepT = await timeIt(step, Math.min(reps, 2));
    } finally {
      await mpool.close();
    }
    const { input, base } = networkInput(tf, spec, items.slice(0, 1));
    const infer = (): void => tf.dispose(net.predict(input) as never);
    infer();
    const inferT = await timeIt(infer, 5);
    tf.dispose([input, base]);
    // inference of one trajectory: CNN maps, then one five-second engine rollout on them (this thread)
    const one = items.slice(0, 1);
    const predict = async (): Promise<void> => {
      const maps = await predictMaps(tf, net, spec, one);
      noGrad(() => rolloutBatch(buildBatch(spec, maps, robotsOf(one))));
    };
    await predict();
    const predictT = await timeIt(predict, 3);
    model = {
      batch: modelBatch,
      threads,
      trainStepMs: round(stepT.wall, 1),
      trainStepCpuMs: round(stepT.cpu, 1),
      inferenceMs: round(inferT.wall, 2),
      predictTrajectoryMs: round(predictT.wall, 1),
      backend: 'cpu',
    };
  }

  return {
    model,
    unit: `five-second trajectories per second (${1 / ENGINE.dt} Hz steps x ${ENGINE.substeps} substeps, 14 contact points per robot, ${spec.grid.nx} x ${spec.grid.ny} terrain tiles)`,
    robots: B,
    gradRobots: G,
    stepsPerTrajectory: steps,
    singleThread: { forward: rates(B, fwdMs), forwardBackward: rates(G, fwdBwdMs) },
    loadAverage: loadavg().map((x) => round(x, 2)),
    workerThreads: threaded,
    generation,
  };
}
