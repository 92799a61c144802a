// Worker thread of RolloutPool (ego/terrain/parallel.ts): runs one part of a batch on its own
// batched Model, forward or forward + backward of the time-weighted trajectory loss.
import { parentPort } from 'node:worker_threads';
import { backward, noGrad } from '../../sim/core/index.ts';
import { buildBatch, robotPath, rolloutBatch, tiledTensor, trajectoryLoss } from './engine.ts';
import { MATERIAL } from './generate.ts';
import type { RolloutTask, RolloutTaskResult } from './parallel.ts';

function untile(full: Float64Array, cols: number, nx: number, ny: number, tile: number): Float64Array {
  const out = new Float64Array(nx * ny);
  const tx = tile % cols;
  const ty = Math.floor(tile / cols);
  const W = cols * nx;
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[j * nx + i] = full[(ty * ny + j) * W + tx * nx + i]!;
  return out;
}

function run(task: RolloutTask): RolloutTaskResult {
  const t0 = performance.now();
  const w = buildBatch(task.spec, task.terrains, task.robots);
  if (task.mode === 'forward') {
    const r = noGrad(() => rolloutBatch(w));
    return { paths: task.robots.map((_, i) => robotPath(r, i)), ms: performance.now() - t0 };
  }
  const h = tiledTensor(
    w,
    task.terrains.map((t) => t.heights),
    0,
  ).requireGrad();
  const mu = tiledTensor(
    w,
    task.terrains.map((t) => t.friction),
    MATERIAL.defaultMu,
  ).requireGrad();
  const ke = tiledTensor(
    w,
    task.terrains.map((t) => t.stiffness),
    MATERIAL.defaultKe,
  ).requireGrad();
  const r = rolloutBatch(w, { maps: { terrainHeights: h, terrainMu: mu, terrainKe: ke } });
  const loss = trajectoryLoss(r, task.truth!, task.spec.recordDt);
  backward(loss);
  const { nx, ny } = task.spec.grid;
  const grads = task.terrains.map((_, t) => ({
    heights: untile(h.grad!.data, w.cols, nx, ny, t),
    friction: untile(mu.grad!.data, w.cols, nx, ny, t),
    stiffness: untile(ke.grad!.data, w.cols, nx, ny, t),
  }));
  return { paths: task.robots.map((_, i) => robotPath(r, i)), loss: loss.data[0], grads, ms: performance.now() - t0 };
}

parentPort!.on('message', (task: RolloutTask) => {
  try {
    parentPort!.postMessage({ ok: true, result: run(task) });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ ok: false, error: { name: err.name, message: err.message } });
  }
});
