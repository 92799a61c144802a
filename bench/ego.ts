// Benchmark of the ego-motion predictors (`npm run bench -- ego`): on KITTI 00 windows, for each
// learned model (pure NN, physics-informed model A, MPC model B) the time of one training step
// (forward, backward through the dynamics / MPC, Adam update) at the default batch size, and the
// inference latency per window (batch 1) and per batch (batch 256, reported also per window).
// Args: --reps N (timing repetitions, default 5), --batch B (training batch, default 64).
// Then the terrain predictor (bench/terrain.ts): batched five-second robot rollouts forward and
// forward + backward (trajectories/s, one thread and worker threads), the terrain CNN's training
// step and its inference latency (maps, and maps + rollout of one trajectory). Args:
// --terrain-robots B (default 1024), --terrain-grad-robots G (default 64), --terrain 0 to skip.
import { getTf, initTf } from '../models/tf/index.ts';
import { loadKitti } from '../ego/kitti.ts';
import { prepareDataset } from '../ego/dataset.ts';
import { parseEgoConfig } from '../ego/config.ts';
import { FEATURES, normalise, subsetWindows } from '../ego/features.ts';
import { buildMlp } from '../ego/net.ts';
import { EgoPredictor, MODEL_KINDS, adeLoss, modelLabel, outputCount } from '../ego/predictors.ts';
import { predictorSpec } from '../ego/train.ts';
import { HORIZON } from '../ego/windows.ts';
import { round, timeMsAsync } from './_util.ts';
import { run as runTerrainBench } from './terrain.ts';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { backend } = await initTf();
  const tf = getTf();
  const reps = arg(args, 'reps', 5);
  const bs = arg(args, 'batch', 64);
  const config = parseEgoConfig({});
  const data = prepareDataset(await loadKitti(), { rateHz: config.rateHz, trainFraction: 1, seed: 0, limits: config.limits, wheelbase: config.wheelbase });
  const meta = { normaliser: data.normaliser, limits: data.limits, speedScale: data.speedScale, period: data.period };
  const X = normalise(data.train, data.normaliser);
  const tensors = (n: number, from = 0) => {
    const idx = Array.from({ length: n }, (_, k) => from + k);
    const s = subsetWindows(data.train, idx);
    return {
      x: tf.tensor2d(X.subarray(from * FEATURES, (from + n) * FEATURES), [n, FEATURES]),
      v: tf.tensor1d(Float32Array.from(s.speed)),
      dt: tf.tensor2d(Float32Array.from(s.dt), [n, HORIZON]),
      y: tf.tensor3d(Float32Array.from(s.target), [n, HORIZON, 2]),
    };
  };
  const models: Record<string, unknown>[] = [];
  for (const kind of MODEL_KINDS) {
    const spec = predictorSpec(kind, config, meta);
    const p = new EgoPredictor(spec, buildMlp(FEATURES, config.hidden, outputCount(kind), 0, kind !== 'nn'));
    const opt = tf.train.adam(1e-3);
    const tb = tensors(bs);
    const step = async (): Promise<void> => {
      const l = opt.minimize(() => adeLoss(p.forward(tb.x, tb.v, tb.dt), tb.y) as never, true);
      await l?.data();
      l?.dispose();
    };
    const trainMs = await timeMsAsync(step, reps, 1);
    const one = tensors(1, 100);
    const big = tensors(256, 200);
    const infer = (t: ReturnType<typeof tensors>) => async (): Promise<void> => {
      const y = tf.tidy(() => p.forward(t.x, t.v, t.dt));
      await y.data();
      y.dispose();
    };
    const oneMs = await timeMsAsync(infer(one), reps * 4, 2);
    const bigMs = await timeMsAsync(infer(big), reps, 1);
    models.push({
      model: modelLabel(spec),
      trainStepMs: round(trainMs, 3),
      trainBatch: bs,
      inferBatch1Ms: round(oneMs, 3),
      inferBatch256Ms: round(bigMs, 3),
      inferPerWindowBatchedMs: round(bigMs / 256, 4),
    });
    opt.dispose();
    tf.dispose([tb.x, tb.v, tb.dt, tb.y, one.x, one.v, one.dt, one.y, big.x, big.v, big.dt, big.y]);
  }
  const terrain =
    arg(args, 'terrain', 1) === 0
      ? null
      : await runTerrainBench([
          '--robots',
          String(arg(args, 'terrain-robots', 1024)),
          '--grad-robots',
          String(arg(args, 'terrain-grad-robots', 64)),
          '--samples',
          '0',
          '--reps',
          '1',
          '--model-batch',
          '4',
        ]);
  return { bench: 'ego', backend, data: 'KITTI 00 training windows', hidden: config.hidden, horizon: HORIZON, reps, models, terrain };
}
