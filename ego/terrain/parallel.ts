// Batched engine rollouts of the terrain robot over worker threads (ego/terrain): the batch
// is split into one part per thread, each part simulated as its own batched Model in its own
// thread (parallel-worker.ts), forward only or forward + backward of the time-weighted
// trajectory loss (returning the gradients of the loss with respect to every terrain map).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { TerrainSpec } from './generate.ts';
import type { RobotRun, TerrainMaps } from './engine.ts';

/** What one thread is asked to do. */
export interface RolloutTask {
  spec: TerrainSpec;
  terrains: TerrainMaps[];
  robots: RobotRun[];
  /** 'forward': paths only; 'grad': also the loss against `truth` and d loss / d maps. */
  mode: 'forward' | 'grad';
  truth?: ArrayLike<number>[];
}

/** What one thread returns. */
export interface RolloutTaskResult {
  paths: Float64Array[];
  loss?: number;
  /** Per terrain of the task: d loss / d (heights, friction, stiffness), [ny * nx] each. */
  grads?: { heights: Float64Array; friction: Float64Array; stiffness: Float64Array }[];
  ms: number;
}

/** A pool of rollout threads. */
export class RolloutPool {
  private workers: Worker[];
  constructor(threads = Math.min(2, availableParallelism())) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads = ${threads}: expected an integer >= 1`);
    // from the sources the thread loads TypeScript through tsx's loader, as the main thread does;
    // from dist/ (the installed package) it imports the compiled JavaScript
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './parallel-worker.ts' : './parallel-worker.js', import.meta.url).href;
    const boot = fromSource
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`
      : `import(${JSON.stringify(entry)});`;
    this.workers = Array.from({ length: threads }, () => new Worker(boot, { eval: true }));
  }

  /** Number of threads. */
  get size(): number {
    return this.workers.length;
  }

  private runOn(w: Worker, task: RolloutTask): Promise<RolloutTaskResult> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: { ok: boolean; result?: RolloutTaskResult; error?: { name: string; message: string } }): void => {
        w.off('error', onErr);
        if (m.ok) resolve(m.result!);
        else {
          const e = new Error(m.error!.message);
          e.name = m.error!.name;
          reject(e);
        }
      };
      const onErr = (e: Error): void => {
        w.off('message', onMsg);
        reject(e);
      };
      w.once('message', onMsg);
      w.once('error', onErr);
      w.postMessage(task);
    });
  }

  /**
   * Splits the robots evenly over the threads, runs them, and joins the results in the original
   * robot order. The robots are grouped by terrain before the split, so that each part keeps
   * only about its share of the terrains: a part's Model holds the tiles its robots use, and the
   * per-step cost of the terrain maps (and of their adjoints) grows with the tiled map's size.
   */
  async run(task: RolloutTask): Promise<RolloutTaskResult & { parts: number }> {
    const B = task.robots.length;
    const n = Math.min(this.workers.length, B);
    const per = Math.ceil(B / n);
    const t0 = performance.now();
    // robot indices sorted by terrain (stable), cut into n runs of `per`
    const order = Array.from({ length: B }, (_, i) => i).sort((a, b) => task.robots[a]!.tile - task.robots[b]!.tile || a - b);
    const jobs = Array.from({ length: n }, (_, k) => {
      const idx = order.slice(k * per, Math.min(B, (k + 1) * per));
      const tiles = [...new Set(idx.map((i) => task.robots[i]!.tile))];
      const remap = new Map(tiles.map((t, j) => [t, j]));
      return {
        idx,
        tiles,
        promise: this.runOn(this.workers[k]!, {
          spec: task.spec,
          mode: task.mode,
          terrains: tiles.map((t) => task.terrains[t]!),
          robots: idx.map((i) => ({ ...task.robots[i]!, tile: remap.get(task.robots[i]!.tile)! })),
          truth: task.truth ? idx.map((i) => task.truth![i]!) : undefined,
        }),
      };
    });
    const outs = await Promise.all(jobs.map((j) => j.promise));
    const paths: Float64Array[] = new Array(B);
    let loss = 0;
    const grads =
      task.mode === 'grad'
        ? task.terrains.map((t) => ({
            heights: new Float64Array(t.heights.length),
            friction: new Float64Array(t.heights.length),
            stiffness: new Float64Array(t.heights.length),
          }))
        : undefined;
    jobs.forEach((j, k) => {
      const o = outs[k]!;
      j.idx.forEach((i, q) => (paths[i] = o.paths[q]!));
      // each part's loss is a mean over its robots: weight by its share
      if (o.loss !== undefined) loss += (o.loss * j.idx.length) / B;
      o.grads?.forEach((g, q) => {
        const G = grads![j.tiles[q]!]!;
        const s = j.idx.length / B;
        for (let m = 0; m < G.heights.length; m++) {
          G.heights[m] = G.heights[m]! + s * g.heights[m]!;
          G.friction[m] = G.friction[m]! + s * g.friction[m]!;
          G.stiffness[m] = G.stiffness[m]! + s * g.stiffness[m]!;
        }
      });
    });
    return { paths, loss: task.mode === 'grad' ? loss : undefined, grads, ms: performance.now() - t0, parts: n };
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
