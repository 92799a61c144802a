// Fixtures of the browser tests and the app bench: an impulse.predictions file of constant-velocity
// predictions made from a ground-truth trajectory (the baseline every predictor must beat), and the
// Chromium launch the tests use (Debian's /usr/bin/chromium, software WebGL, no network).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatGridJson, formatPredictionsJson, type PredictionsJson, type Trajectory } from '../data/index.ts';

/** Options of {@link constantVelocityPredictions}. */
export interface CvOptions {
  /** Make a prediction every `every` frames (default 10). */
  every?: number;
  /** Steps per prediction (default 15). */
  steps?: number;
  /** Frame period (s) when the trajectory has no timestamps (default 0.1, KITTI). */
  dt?: number;
  /** Extra labelled predictions per set, each with its velocity scaled by the factor (default none). */
  variants?: { label: string; speedScale: number; yawRate?: number }[];
  /** At most this many sets (default all). */
  maxSets?: number;
}

/**
 * Constant-velocity predictions from a trajectory: at every `every`-th frame t0, the velocity of the
 * last frame step is held for `steps` steps; the ground truth is the trajectory's next positions.
 */
export function constantVelocityPredictions(gt: Trajectory, opts: CvOptions = {}): PredictionsJson {
  const every = opts.every ?? 10,
    steps = opts.steps ?? 15,
    dt = opts.dt ?? 0.1;
  const n = gt.length;
  const time = (i: number): number => (gt.timestamps ? gt.timestamps[i]! : i * dt);
  const sets: PredictionsJson['sets'] = [];
  for (let i = 1; i + steps < n; i += every) {
    if (opts.maxSets && sets.length >= opts.maxSets) break;
    const p0 = gt.position(i),
      pm = gt.position(i - 1);
    const h = time(i) - time(i - 1) || dt;
    const v = [0, 1, 2].map((k) => (p0[k]! - pm[k]!) / h);
    const times: number[] = [],
      truth: number[][] = [];
    for (let k = 1; k <= steps; k++) {
      times.push(time(i + k) - time(i));
      truth.push(gt.position(i + k));
    }
    const predict = (scale: number, yawRate = 0): number[][] =>
      times.map((t) => {
        const c = Math.cos(yawRate * t),
          s = Math.sin(yawRate * t);
        const vx = (c * v[0]! - s * v[2]!) * scale,
          vz = (s * v[0]! + c * v[2]!) * scale;
        return [p0[0]! + vx * t, p0[1]! + v[1]! * scale * t, p0[2]! + vz * t];
      });
    sets.push({
      t0: time(i),
      frame: i,
      times,
      gt: truth,
      predictions: [
        { label: 'constant-velocity', positions: predict(1) },
        ...(opts.variants ?? []).map((x) => ({ label: x.label, positions: predict(x.speedScale, x.yawRate) })),
      ],
    });
  }
  return { format: 'impulse.predictions', version: 1, name: 'constant-velocity baseline', sets };
}

/** The prediction file's text (validated by the data layer's writer). */
export function predictionsText(p: PredictionsJson): string {
  return formatPredictionsJson(p);
}

/** Debian's Chromium (override with IMPULSE_CHROMIUM). */
export const CHROMIUM = process.env.IMPULSE_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests can run. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Launch arguments: headless, software WebGL (SwiftShader), no network services (the profile folder is given separately). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Starts Chromium with a fresh profile in a temporary folder (removed by `close`). */
export async function launchChromium(viewport = { width: 1400, height: 850 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'impulse-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport });
    return {
      context,
      async close() {
        await context.close().catch(() => {});
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
}

/** A Foxglove Grid JSON of float32 layers (the data layer's Grid JSON), row-major from the grid origin. */
export function gridJson(columns: number, rows: number, cell: number, layers: { name: string; values: ArrayLike<number> }[], origin = [0, 0, 0]): string {
  return formatGridJson(
    {
      columns,
      rows,
      cellSize: [cell, cell],
      origin: { position: origin, orientation: [0, 0, 0, 1] },
      layers: layers.map((l) => ({ name: l.name, values: Float64Array.from(l.values) })),
    },
    'map',
  );
}

/**
 * A terrain run folder (docs/RUNS.md layout) for viewer tests: terrain/maps.json with height,
 * friction, stiffness and the gradient of a loss w.r.t. friction on a W x W grid of hills, a
 * history.json of `epochs` epochs, and a predictions.json of a robot circling on the terrain.
 */
export function writeTerrainRun(dir: string, W = 48, epochs = 12): void {
  mkdirSync(join(dir, 'terrain'), { recursive: true });
  const cell = 0.25;
  const height = new Float32Array(W * W),
    friction = new Float32Array(W * W),
    stiffness = new Float32Array(W * W),
    grad = new Float32Array(W * W);
  for (let r = 0; r < W; r++)
    for (let c = 0; c < W; c++) {
      const x = c * cell,
        y = r * cell,
        i = r * W + c;
      height[i] = 0.4 * Math.sin(x * 0.8) * Math.cos(y * 0.6);
      friction[i] = 0.3 + 0.5 * (0.5 + 0.5 * Math.sin(0.5 * x + 0.3 * y));
      stiffness[i] = 1e4 * (1 + 0.5 * Math.cos(0.4 * y));
      grad[i] = Math.exp(-((x - 6) ** 2 + (y - 6) ** 2) / 4) * Math.sin(x - y);
    }
  writeFileSync(
    join(dir, 'terrain', 'maps.json'),
    gridJson(W, W, cell, [
      { name: 'height', values: height },
      { name: 'friction', values: friction },
      { name: 'stiffness', values: stiffness },
      { name: 'grad_friction', values: grad },
    ]),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'ego-terrain', seed: 0 }));
  writeFileSync(
    join(dir, 'history.json'),
    JSON.stringify({
      epochs: Array.from({ length: epochs }, (_, e) => ({ model: 'gru', epoch: e + 1, trainLoss: 1 / (e + 1) + 0.05, valAde: 0.4, valFde: 0.8, seconds: 1 })),
    }),
  );
  const path = (t: number): number[] => {
    const x = 6 + 4 * Math.cos(0.3 * t),
      y = 6 + 4 * Math.sin(0.3 * t);
    return [x, y, 0.4 * Math.sin(x * 0.8) * Math.cos(y * 0.6)];
  };
  const sets: PredictionsJson['sets'] = [];
  for (let k = 0; k < 40; k++) {
    const t0 = k * 0.5;
    const times = Array.from({ length: 20 }, (_, j) => 0.1 * (j + 1));
    const p0 = path(t0),
      p1 = path(t0 + 0.1);
    sets.push({
      t0,
      times,
      gt: times.map((t) => path(t0 + t)),
      predictions: [{ label: 'learned', positions: times.map((t) => [p0[0]! + (p1[0]! - p0[0]!) * t * 10, p0[1]! + (p1[1]! - p0[1]!) * t * 10, p0[2]!]) }],
    });
  }
  writeFileSync(
    join(dir, 'predictions.json'),
    formatPredictionsJson({
      format: 'impulse.predictions',
      version: 1,
      name: 'terrain run',
      ground_truth: { times: Array.from({ length: 220 }, (_, i) => i * 0.1), positions: Array.from({ length: 220 }, (_, i) => path(i * 0.1)) },
      sets,
    }),
  );
}
