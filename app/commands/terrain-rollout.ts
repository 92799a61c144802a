// `impulse sim terrain-rollout DATASET` (layer app): rolls the terrain dataset's robots out on
// the engine (track-speed controller closed each step, as in training), computes MonoForce's
// time-weighted trajectory loss against the recorded ground truth, and prints the loss and its
// gradient with respect to the height, friction and stiffness maps: on the float64 CPU engine
// or, with `--device gpu|auto`, on the GPU (float32 WGSL kernels with their adjoints).
import { InvalidArgumentError, type Command } from 'commander';
import { DEVICE_HELP, rerunForSoftwareGpuIfNeeded } from './backend.ts';

/** Maps the rollout starts from (the baselines of ego/terrain). */
const MAPS = ['physics-default', 'physics-true-heights', 'physics-oracle'] as const;
type MapsName = (typeof MAPS)[number];

/** Options of {@link terrainRolloutGradient}. */
export interface TerrainRolloutOptions {
  /** Samples from the start of the dataset (default 8; at most the dataset's size). */
  samples?: number;
  maps?: MapsName;
  device?: 'cpu' | 'gpu';
}

/** Gradient summary of one map. */
export interface MapGradient {
  /** L2 norm over all cells of all terrains. */
  norm: number;
  /** Largest |gradient|, its sample id and grid cell (row, column). */
  maxAbs: number;
  sample: string;
  row: number;
  col: number;
}

/** What `sim terrain-rollout` reports. */
export interface TerrainRolloutResult {
  dataset: string;
  samples: number;
  maps: MapsName;
  device: 'cpu' | 'gpu';
  /** The GPU adapter (vendor device, kind), with --device gpu. */
  adapter?: string;
  steps: number;
  loss: number;
  /** Mean distance between predicted and true positions over all recorded times (m). */
  ade: number;
  gradient: Record<'heights' | 'friction' | 'stiffness', MapGradient>;
  /** Wall time of the rollout plus its backward pass (ms). */
  ms: number;
}

/** Rolls the first `samples` robots of the dataset out and differentiates the trajectory loss w.r.t. the maps. */
export async function terrainRolloutGradient(dataset: string, o: TerrainRolloutOptions = {}): Promise<TerrainRolloutResult> {
  const { backward } = await import('../../sim/core/index.ts');
  const T = await import('../../ego/terrain/index.ts');
  const ds = T.openTerrainDataset(dataset);
  const n = Math.min(o.samples ?? 8, ds.size);
  const mapsName = o.maps ?? 'physics-default';
  const items = Array.from({ length: n }, (_, i) => ds.load(i));
  const spec = ds.spec;
  const maps = items.map((s) => T.baselineMaps(spec, s, mapsName));
  const w = T.buildBatch(
    spec,
    maps,
    items.map((s, i) => ({ tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: s.sample.commands, label: s.record.id })),
  );
  const tensors = {
    terrainHeights: T.tiledTensor(
      w,
      maps.map((m) => m.heights),
      0,
    ).requireGrad(),
    terrainMu: T.tiledTensor(
      w,
      maps.map((m) => m.friction),
      T.MATERIAL.defaultMu,
    ).requireGrad(),
    terrainKe: T.tiledTensor(
      w,
      maps.map((m) => m.stiffness),
      T.MATERIAL.defaultKe,
    ).requireGrad(),
  };
  const device = o.device ?? 'cpu';
  let adapter: string | undefined;
  const t0 = performance.now();
  let r: { positions: import('../../sim/core/index.ts').Tensor[] };
  if (device === 'gpu') {
    const { gpuInfoSync } = await import('../../sim/gpu/index.ts');
    const info = gpuInfoSync();
    adapter = `${info.vendor} ${info.device}`.trim() + ` (${info.kind}${info.kind === 'software' ? ': right but slow' : ''})`;
    r = T.rolloutBatchGpu(w, { maps: tensors, grad: true });
  } else r = T.rolloutBatch(w, { maps: tensors, grad: true });
  const truth = items.map((s) => T.truthPath(s));
  const loss = T.trajectoryLoss(r, truth, spec.recordDt);
  backward(loss);
  const ms = performance.now() - t0;
  let ade = 0;
  let cnt = 0;
  r.positions.forEach((p, k) => {
    for (let i = 0; i < n; i++) {
      const t = truth[i]!;
      ade += Math.hypot(p.data[3 * i]! - t[3 * k]!, p.data[3 * i + 1]! - t[3 * k + 1]!, p.data[3 * i + 2]! - t[3 * k + 2]!);
      cnt++;
    }
  });
  const { nx, ny } = spec.grid;
  const summary = (g: Float64Array): MapGradient => {
    let norm = 0;
    let best = -1;
    let maxAbs = -1;
    for (let k = 0; k < g.length; k++) {
      norm += g[k]! * g[k]!;
      if (Math.abs(g[k]!) > maxAbs) {
        maxAbs = Math.abs(g[k]!);
        best = k;
      }
    }
    // the tiled map is [rows * ny][cols * nx]: tile (J / ny, I / nx), cell (J % ny, I % nx)
    const W = w.cols * nx;
    const J = Math.floor(best / W);
    const I = best % W;
    const tile = Math.floor(J / ny) * w.cols + Math.floor(I / nx);
    return { norm: Math.sqrt(norm), maxAbs, sample: items[tile]?.record.id ?? `tile ${tile}`, row: J % ny, col: I % nx };
  };
  const grad = (t: { grad: { data: Float64Array } | null }): Float64Array => t.grad?.data ?? new Float64Array(0);
  return {
    dataset,
    samples: n,
    maps: mapsName,
    device,
    ...(adapter ? { adapter } : {}),
    steps: Math.round(spec.duration / T.ENGINE.dt),
    loss: loss.data[0]!,
    ade: ade / Math.max(cnt, 1),
    gradient: {
      heights: summary(grad(tensors.terrainHeights)),
      friction: summary(grad(tensors.terrainMu)),
      stiffness: summary(grad(tensors.terrainKe)),
    },
    ms,
  };
}

function printResult(r: TerrainRolloutResult): void {
  const g = (name: string, m: MapGradient): string =>
    `d loss / d ${name.padEnd(9)} |g| ${m.norm.toExponential(3)}, largest ${m.maxAbs.toExponential(3)} at sample ${m.sample} cell (${m.row}, ${m.col})`;
  const lines = [
    `dataset    ${r.dataset}: ${r.samples} robots, ${r.steps} steps, ${r.maps} maps`,
    `device     ${r.device === 'gpu' ? `gpu: ${r.adapter}` : 'cpu (float64)'}`,
    `loss       ${r.loss.toExponential(4)} (time-weighted squared position error; ADE ${r.ade.toFixed(3)} m)`,
    g('heights', r.gradient.heights),
    g('friction', r.gradient.friction),
    g('stiffness', r.gradient.stiffness),
    `time       ${(r.ms / 1000).toFixed(2)} s (rollout + gradient)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** Registers `sim terrain-rollout` on the `sim` command. */
export function registerTerrainRollout(sim: Command): void {
  sim
    .command('terrain-rollout')
    .description(
      "roll a terrain dataset's robots out on the engine and print the trajectory loss and its gradient w.r.t. the height, friction and stiffness maps",
    )
    .argument('<dataset>', 'terrain dataset folder (impulse dataset terrain)')
    .option('--samples <n>', 'robots: the first n samples (default 8)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--samples ${v}: expected an integer >= 1`);
      return n;
    })
    .option(
      '--maps <name>',
      `maps to start from: ${MAPS.join(', ')} (default physics-default: the sensed heights, default friction and stiffness)`,
      (v: string) => {
        if (!(MAPS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--maps ${v}: expected one of ${MAPS.join(', ')}`);
        return v;
      },
    )
    .option('--device <d>', DEVICE_HELP)
    .option('--json', 'print the result as JSON')
    .action(async (dataset: string, opts: { samples?: number; maps?: MapsName; device?: string; json?: boolean }) => {
      try {
        const { parseDeviceRequest, resolveDevice, closeGpuThread, GpuDeviceLostError } = await import('../../sim/gpu/index.ts');
        const req = parseDeviceRequest(opts.device);
        let device: 'cpu' | 'gpu' = 'cpu';
        if (req !== 'cpu') {
          await rerunForSoftwareGpuIfNeeded();
          const c = await resolveDevice(req);
          if (c.note) process.stderr.write(`${c.note}\n`);
          device = c.device;
        }
        let r: TerrainRolloutResult;
        try {
          r = await terrainRolloutGradient(dataset, { samples: opts.samples, maps: opts.maps, device });
        } catch (e) {
          // a lost device (driver reset, out of memory): the run starts again on the CPU
          if (!(e instanceof GpuDeviceLostError)) throw e;
          process.stderr.write(`${e.name}: ${e.message}; running on the CPU instead\n`);
          r = await terrainRolloutGradient(dataset, { samples: opts.samples, maps: opts.maps, device: 'cpu' });
        } finally {
          if (device === 'gpu') await closeGpuThread();
        }
        if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
        else printResult(r);
      } catch (e) {
        process.stderr.write(`impulse: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
