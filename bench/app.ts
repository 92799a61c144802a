// App renderer benchmark (bench/, run by `npm run bench -- app`): 1k and 10k predicted
// trajectories of 150 points each plus the KITTI 00 ground truth, opened in the app's web mode in
// headless Chromium with software WebGL (SwiftShader). Reports per size: draw calls, frame time
// (ms per frame over N animation frames while the camera orbits, and Babylon's own render time),
// time from open to drawn, bytes on the wire, and the page's JS heap. `--sizes 1000,10000`,
// `--frames 120` (`--sizes none`: no browser), `--lod N` (most prediction vertices drawn; 0 draws all). `--log-mb N` also
// opens a generated N MB MCAP through the app's backend (summary + density timeline, then the
// /odom trajectory) and reports the times and the resident memory growth. Returns a JSON object; asserts nothing. Needs /usr/bin/chromium (or IMPULSE_CHROMIUM).

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrajectory } from '../data/index.ts';
import { startWebServer } from '../app/server/index.ts';
import { CHROMIUM, chromiumAvailable, constantVelocityPredictions, launchChromium, predictionsText } from '../e2e/fixtures.ts';
import { argNum, argString, median, round } from './_util.ts';
import { generateLog } from './data.ts';
import { createApiBackend } from '../app/api/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GT = join(ROOT, 'examples', 'data', 'KITTI_00_gt.txt');
const POINTS = 150;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  if (argString(args, 'sizes') !== 'none' && !chromiumAvailable())
    throw new Error(`bench app: Chromium not found at ${CHROMIUM} (install chromium or set IMPULSE_CHROMIUM)`);
  const sizesArg = argString(args, 'sizes') ?? '1000,10000';
  const sizes = (sizesArg === 'none' ? [] : sizesArg.split(',')).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench app: --sizes needs positive integers, got '${s}'`);
    return n;
  });
  const frames = argNum(args, 'frames', 120, { bench: 'app' });
  // --lod N: most prediction vertices drawn before thinning (0: draw all; default: the app's own choice)
  const lodArg = argString(args, 'lod');
  const lod = lodArg === undefined ? undefined : argNum(args, 'lod', 0, { bench: 'app', allowZero: true });
  const logMb = argNum(args, 'log-mb', 0, { bench: 'app', allowZero: true });
  const gt = await readTrajectory(GT);
  const dir = mkdtempSync(join(tmpdir(), 'impulse-bench-app-'));
  const browser = sizes.length > 0 ? await launchChromium({ width: 1280, height: 800 }) : null;
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of sizes) {
      // n predicted trajectories: sets along the sequence, several labelled predictions per set beyond 2500 sets
      const labels = Math.max(1, Math.ceil(n / 2500));
      const setsWanted = Math.ceil(n / labels);
      const every = Math.max(1, Math.floor((gt.length - POINTS - 2) / setsWanted));
      const variants = Array.from({ length: labels - 1 }, (_, k) => ({ label: `variant-${k + 1}`, speedScale: 1 + 0.05 * (k + 1), yawRate: 0.01 * (k + 1) }));
      const preds = constantVelocityPredictions(gt, { every, steps: POINTS, variants, maxSets: setsWanted });
      const file = join(dir, `predictions-${n}.json`);
      writeFileSync(file, predictionsText(preds));
      const server = await startWebServer({ backend: { runsDir: join(dir, 'runs') } });
      const page = await browser!.context.newPage();
      try {
        await page.goto(lod === undefined ? server.urlWithToken : `${server.urlWithToken}&lod=${lod}`);
        await page.waitForFunction(() => window.__impulseTest?.facts().ready === true, null, { timeout: 120000 });
        const t0 = performance.now();
        await page.evaluate((p) => window.__impulseTest.openPath(p), GT);
        await page.evaluate((p) => window.__impulseTest.openPath(p), file);
        await page.waitForFunction(() => window.__impulseTest.facts().ready === true, null, { timeout: 300000 });
        const loadMs = performance.now() - t0;
        const stats = await page.evaluate(async (nf) => {
          const hook = window.__impulseTest;
          const canvas = document.querySelector('#view') as HTMLCanvasElement;
          const r = canvas.getBoundingClientRect();
          const dt: number[] = [];
          let last = performance.now();
          for (let i = 0; i < nf; i++) {
            // orbit: drag-like camera motion so every frame redraws everything
            canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + 10 + i, clientY: r.top + 10 }));
            await new Promise((res) => requestAnimationFrame(res));
            const now = performance.now();
            dt.push(now - last);
            last = now;
          }
          const f = hook.facts() as Record<string, unknown>;
          const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
          return { dt, renderMs: hook.frameTimeMs(), facts: f, heap: mem?.usedJSHeapSize ?? null };
        }, frames);
        const f = stats.facts as {
          drawCalls: number;
          predictedTrajectoryCount: number;
          pointCount: number;
          trajectoryCount: number;
          predictionVerticesDrawn: number;
          lodStep: number;
        };
        const sorted = [...stats.dt].sort((a, b) => a - b);
        results.push({
          predictedTrajectories: f.predictedTrajectoryCount,
          pointsPerTrajectory: POINTS,
          totalPoints: f.pointCount,
          groundTruthTrajectories: f.trajectoryCount,
          drawCalls: f.drawCalls,
          predictionVerticesDrawn: f.predictionVerticesDrawn,
          lodStep: f.lodStep,
          frameMsMean: round(stats.dt.reduce((a, b) => a + b, 0) / stats.dt.length, 2),
          frameMsMedian: round(median(stats.dt), 2),
          frameMsP95: round(sorted[Math.floor(0.95 * (sorted.length - 1))]!, 2),
          babylonRenderMs: round(stats.renderMs, 2),
          frames,
          openToDrawnMs: round(loadMs, 0),
          predictionFileBytes: statSync(file).size,
          pageJsHeapMB: stats.heap === null ? null : round(stats.heap / 2 ** 20, 1),
        });
      } finally {
        await page.close();
        await server.close();
      }
    }
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  let log: Record<string, unknown> | null = null;
  if (logMb > 0) {
    const ldir = mkdtempSync(join(tmpdir(), 'impulse-bench-app-log-'));
    const b = createApiBackend({ runsDir: join(ldir, 'runs') });
    try {
      const file = join(ldir, 'big.mcap');
      const gen = await generateLog(file, logMb * 1024 * 1024);
      const rss0 = process.memoryUsage().rss;
      let t = performance.now();
      const f = (await b.call({ method: 'openFile', path: file })) as { id: string };
      const s = (await b.call({ method: 'summarize', id: f.id, bins: 400 })) as { messageCount: number; density: { method: string } };
      const openMs = performance.now() - t;
      const rssOpen = process.memoryUsage().rss;
      t = performance.now();
      const tr = (await b.call({ method: 'trajectory', ref: { id: f.id, source: '/odom' }, maxPoints: 100000 })) as { count: number };
      const trajMs = performance.now() - t;
      log = {
        bytes: statSync(file).size,
        messages: s.messageCount,
        generatedMessages: gen.messages,
        openSummaryDensityMs: round(openMs, 1),
        densityMethod: s.density.method,
        rssGrowthOpenMB: round((rssOpen - rss0) / 2 ** 20, 1),
        odomExtractMs: round(trajMs, 0),
        odomPosesDrawn: tr.count,
        rssGrowthAfterExtractMB: round((process.memoryUsage().rss - rss0) / 2 ** 20, 1),
      };
    } finally {
      await b.close();
      rmSync(ldir, { recursive: true, force: true });
    }
  }
  return { log, browser: CHROMIUM, webgl: 'SwiftShader (software)', lod: lod ?? 'default (400k vertices on software WebGL)', results };
}
