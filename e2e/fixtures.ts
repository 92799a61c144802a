// Fixtures of the browser tests and the app bench: an impulse.predictions file of constant-velocity
// predictions made from a ground-truth trajectory (the baseline every predictor must beat), and the
// Chromium launch the tests use (Debian's /usr/bin/chromium, software WebGL, no network).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPredictionsJson, type PredictionsJson, type Trajectory } from '../data/index.ts';

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
