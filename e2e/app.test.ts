// Browser tests of the app (e2e/): `impulse app --web`'s server started in-process on a free port,
// Debian's Chromium driven by playwright-core with software WebGL. Opens the bundled KITTI 00
// ground truth, the ORB-SLAM estimate and a constant-velocity prediction file made here, and
// checks through `window.__impulseTest` what the scene holds, that the canvas is not blank, that
// scrubbing moves the vehicle, that plots render and a click seeks, that the metrics panel shows
// the APE of `impulse eval ape --align se3` (1.303 m), that a malformed file shows an error, and
// that requests without the token are refused. A second server checks an MCAP log (density strip,
// pose topics) and a run started and one cancelled from the UI. Screenshots go to e2e/screenshots/.
// Skipped, with a message, when /usr/bin/chromium (or IMPULSE_CHROMIUM) is missing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { readTrajectory } from '../data/index.ts';
import { startWebServer, type WebServer } from '../app/server/index.ts';
import { chromiumAvailable, constantVelocityPredictions, launchChromium, predictionsText, writeTerrainRun, CHROMIUM } from './fixtures.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'examples', 'data');
const SHOTS = join(ROOT, 'e2e', 'screenshots');
const skip = chromiumAvailable() ? false : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set IMPULSE_CHROMIUM): browser tests skipped`;
if (skip) console.log(`# e2e: ${skip}`);

type Facts = Record<string, unknown> & {
  ready: boolean;
  trajectoryCount: number;
  predictedTrajectoryCount: number;
  pointCount: number;
  bbox: { min: number[]; max: number[] } | null;
  drawCalls: number;
  marker: number[] | null;
  cursorTime: number;
  timeline: { start: number; end: number; playing: boolean; speed: number; loop: boolean };
  plotCount: number;
  plotsRendered: string[];
  errors: string[];
  metrics: Record<string, number | string> | null;
  predictionMetrics: Record<string, number | string> | null;
  camera: string;
  terrain: { grid: string; layer: string } | null;
  runs: { runId: string; state: string }[];
};

const facts = (page: Page): Promise<Facts> => page.evaluate(() => window.__impulseTest.facts() as Facts);
async function until(page: Page, what: string, pred: (f: Facts) => boolean, timeoutMs = 30000): Promise<Facts> {
  const t0 = Date.now();
  let f = await facts(page);
  while (!pred(f)) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}; facts: ${JSON.stringify({ ...f, files: undefined }).slice(0, 1500)}`);
    await page.waitForTimeout(100);
    f = await facts(page);
  }
  return f;
}

/** Pixel statistics of the 3D canvas: fraction of pixels unlike the background, distinct colours. */
async function canvasStats(page: Page): Promise<{ nonBackground: number; colours: number }> {
  return page.evaluate(() => {
    const src = document.querySelector('#view') as HTMLCanvasElement;
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const g = c.getContext('2d')!;
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const bg = [d[0]!, d[1]!, d[2]!];
    let other = 0;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i]! - bg[0]!) + Math.abs(d[i + 1]! - bg[1]!) + Math.abs(d[i + 2]! - bg[2]!) > 24) other++;
      if (colours.size < 5000) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    }
    return { nonBackground: other / (d.length / 4), colours: colours.size };
  });
}

async function openByPath(page: Page, path: string): Promise<void> {
  await page.fill('[data-testid=open-path]', path);
  await page.click('[data-testid=open-button]');
}

describe('app in Chromium (web mode)', { skip }, () => {
  let dir: string;
  let server: WebServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageErrors: string[] = [];
  let predPath: string, badPath: string, sets: number, steps: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'impulse-e2e-'));
    mkdirSync(SHOTS, { recursive: true });
    const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
    const preds = constantVelocityPredictions(gt, { every: 10, steps: 15 });
    sets = preds.sets.length;
    steps = 15;
    predPath = join(dir, 'kitti00_cv_predictions.json');
    writeFileSync(predPath, predictionsText(preds));
    badPath = join(dir, 'broken.tum');
    writeFileSync(badPath, '0.0 1 2 3 0 0 0 1\n0.1 1 2 3 0 0 0 1\n0.2 1 2 oops 0 0 0 1\n');
    server = await startWebServer({ backend: { runsDir: join(dir, 'runs') } });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(server.urlWithToken);
    await page.waitForFunction(() => window.__impulseTest?.facts().ready === true, null, { timeout: 60000 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('requests without the token are refused (HTTP and WebSocket)', async () => {
    const base = server.url;
    assert.equal((await fetch(base)).status, 403);
    assert.equal((await fetch(`${base}app.js`)).status, 403);
    assert.equal((await fetch(`${base}?token=wrong${'0'.repeat(58)}`)).status, 403);
    const r = await fetch(`${base}api/call`, { method: 'POST', body: JSON.stringify({ method: 'listOpen' }) });
    assert.equal(r.status, 403);
    const status = await new Promise<number>((res) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
      ws.on('unexpected-response', (_req, resp) => res(resp.statusCode ?? 0));
      ws.on('open', () => res(101));
      ws.on('error', () => res(-1));
    });
    assert.equal(status, 403);
    const ok = await fetch(`${base}api/call`, { method: 'POST', headers: { 'x-impulse-token': server.token }, body: JSON.stringify({ method: 'listOpen' }) });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${base}api/call`, {
      method: 'POST',
      headers: { 'x-impulse-token': server.token },
      body: JSON.stringify({ method: 'metrics', ref: { id: 'f1' } }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /est/);
  });

  test('KITTI ground truth, ORB estimate and predictions: scene facts, canvas, metrics', async () => {
    await openByPath(page, join(DATA, 'KITTI_00_gt.txt'));
    await until(page, 'the ground truth', (f) => f.trajectoryCount === 1);
    await openByPath(page, join(DATA, 'KITTI_00_ORB.txt'));
    await openByPath(page, predPath);
    const f = await until(page, 'all layers', (x) => x.ready && x.trajectoryCount === 2 && x.predictedTrajectoryCount === sets && x.predictionMetrics !== null);
    assert.equal(f.pointCount, 2 * 4541 + sets * steps);
    // KITTI 00 in its camera frame: x in [-274, 292] m, z in [-19, 479] m (ground truth and ORB)
    assert.ok(f.bbox!.min[0]! < -250 && f.bbox!.max[0]! > 270, `bbox x ${f.bbox!.min[0]}..${f.bbox!.max[0]}`);
    assert.ok(f.bbox!.min[2]! < -10 && f.bbox!.max[2]! > 470, `bbox z ${f.bbox!.min[2]}..${f.bbox!.max[2]}`);
    await page.waitForTimeout(300);
    const g = await facts(page);
    assert.ok(g.drawCalls > 0 && g.drawCalls <= 10, `${sets} predictions + 2 trajectories drawn in ${g.drawCalls} draw calls`);
    const st = await canvasStats(page);
    assert.ok(st.nonBackground > 0.02, `canvas is nearly blank: ${(100 * st.nonBackground).toFixed(2)}% non-background pixels`);
    assert.ok(st.colours > 20, `only ${st.colours} colours on the canvas`);
    // metrics panel: APE with SE(3) alignment, as `impulse eval ape --align se3`
    await page.selectOption('[data-testid=metrics-ref]', { label: 'KITTI_00_gt.txt' });
    await page.selectOption('[data-testid=metrics-est]', { label: 'KITTI_00_ORB.txt' });
    await page.selectOption('[data-testid=metrics-kind]', 'ape');
    await page.selectOption('[data-testid=metrics-align]', 'se3');
    await page.click('[data-testid=metrics-compute]');
    await until(page, 'APE', (x) => x.metrics !== null && x.metrics.est === 'KITTI_00_ORB.txt' && x.metrics.align === 'se3');
    const headline = await page.textContent('[data-testid=metrics-headline]');
    assert.match(headline ?? '', /APE 1\.303 m/);
    const cli = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'impulse.js'), 'eval', 'ape', join(DATA, 'KITTI_00_gt.txt'), join(DATA, 'KITTI_00_ORB.txt'), '--align', 'se3', '--json'],
      {
        encoding: 'utf8',
        cwd: ROOT,
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const rmse = (JSON.parse(cli.stdout) as { stats: { rmse: number } }).stats.rmse;
    assert.equal(rmse.toFixed(3), '1.303');
    assert.match(headline ?? '', new RegExp(`APE ${rmse.toFixed(3).replace('.', '\\.')} m`));
    const pm = (await facts(page)).predictionMetrics!;
    assert.equal(pm.label, 'constant-velocity');
    assert.ok(Number(pm.minFde) > 0 && Number(pm.minFde) < 10, `FDE ${pm.minFde}`);
    assert.match((await page.textContent('[data-testid=pred-result]')) ?? '', /ADE/);
    await page.screenshot({ path: join(SHOTS, 'kitti-orb-predictions.png') });
  });

  test('scrubbing moves the vehicle; keyboard shortcuts', async () => {
    await page.evaluate(() => window.__impulseTest.seek(0));
    const a = await facts(page);
    const box = (await page.locator('[data-testid=density]').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    const b = await facts(page);
    assert.ok(Math.abs(b.cursorTime - (b.timeline.start + b.timeline.end) / 2) < 0.02 * (b.timeline.end - b.timeline.start), `cursor ${b.cursorTime}`);
    const moved = Math.hypot(b.marker![0]! - a.marker![0]!, b.marker![1]! - a.marker![1]!, b.marker![2]! - a.marker![2]!);
    assert.ok(moved > 10, `the marker moved ${moved} m`);
    await page.locator('#view').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('ArrowRight');
    const c = await facts(page);
    assert.ok(c.cursorTime > b.cursorTime, 'ArrowRight steps forward');
    await page.keyboard.press(']');
    await page.keyboard.press('l');
    await page.keyboard.press('f');
    await page.keyboard.press('Space');
    const d = await facts(page);
    assert.equal(d.timeline.speed, 2);
    assert.equal(d.timeline.loop, false);
    assert.equal(d.camera, 'follow');
    assert.equal(d.timeline.playing, true);
    await page.waitForTimeout(400);
    await page.keyboard.press('Space');
    const e = await facts(page);
    assert.equal(e.timeline.playing, false);
    assert.ok(e.cursorTime > c.cursorTime, 'playing advanced the cursor');
    await page.keyboard.press('f');
  });

  test('plots render and a click on the error plot seeks the timeline', async () => {
    const f = await facts(page);
    assert.equal(f.plotCount, 3);
    assert.ok(f.plotsRendered.includes('error-time') && f.plotsRendered.includes('error-horizon'), `rendered: ${f.plotsRendered}`);
    const area = (await page.evaluate(() => window.__impulseTest.plotArea('error-time')))!;
    await page.mouse.click(area.left + area.width * 0.25, area.top + area.height / 2);
    const g = await facts(page);
    const span = g.timeline.end - g.timeline.start;
    assert.ok(Math.abs(g.cursorTime - f.cursorTime) > 0.05 * span, `click seek: ${f.cursorTime} -> ${g.cursorTime}`);
    assert.ok(g.cursorTime > g.timeline.start + 0.1 * span && g.cursorTime < g.timeline.start + 0.4 * span, `cursor at ${g.cursorTime} of ${span}`);
  });

  test('a malformed file shows a readable error naming the file and line', async () => {
    const before = (await facts(page)).errors.length;
    await openByPath(page, badPath);
    const f = await until(page, 'the error', (x) => x.errors.length > before);
    const msg = f.errors[f.errors.length - 1]!;
    assert.match(msg, /broken\.tum/);
    assert.match(msg, /line 3/);
    assert.ok(await page.locator('[data-testid=error]').last().isVisible());
    await page.screenshot({ path: join(SHOTS, 'error-panel.png') });
    assert.deepEqual(
      pageErrors.filter((e) => !/Failed to load resource/.test(e)),
      [],
    );
  });
});

describe('app in Chromium: MCAP log and runs from the UI', { skip }, () => {
  let dir: string;
  let server: WebServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'impulse-e2e-'));
    server = await startWebServer({ backend: { runsDir: join(dir, 'runs') } });
    await server.api.call({ method: 'openFile', path: join(DATA, 'nav2_turtlebot.mcap') });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(server.urlWithToken);
    await page.waitForFunction(() => window.__impulseTest?.facts().ready === true, null, { timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the log opens with its pose topics and the timeline spans it', async () => {
    const f = await until(page, 'the log', (x) => x.ready && x.trajectoryCount === 2);
    assert.ok(Math.abs(f.timeline.end - f.timeline.start - 97.355) < 1, `timeline ${f.timeline.end - f.timeline.start} s`);
    assert.equal(f.pointCount, 2639 + 135);
    const st = await canvasStats(page);
    assert.ok(st.nonBackground > 0.01);
    await page.evaluate(() => window.__impulseTest.seek((window.__impulseTest.facts().timeline as { start: number }).start + 40));
    await page.screenshot({ path: join(SHOTS, 'mcap-log.png') });
  });

  test('a simulation run started from the UI finishes and opens its trajectory; a long run is cancelled', async () => {
    await page.selectOption('[data-testid=run-kind]', 'sim');
    await page.selectOption('[data-testid=run-choice]', 'box-slide');
    await page.fill('[data-testid=run-n]', '60');
    await page.click('[data-testid=run-start]');
    const f = await until(page, 'the run to finish', (x) => x.runs.length === 1 && x.runs[0]!.state !== 'running', 60000);
    assert.equal(f.runs[0]!.state, 'done', JSON.stringify(f.errors));
    await until(page, 'the run trajectory', (x) => x.ready && x.trajectoryCount === 3, 20000);
    await page.waitForTimeout(500);
    assert.equal((await facts(page)).trajectoryCount, 3, 'the run opens once, as its folder');
    await page.selectOption('[data-testid=run-kind]', 'mpc');
    await page.selectOption('[data-testid=run-choice]', 'imitate-cartpole');
    await page.fill('[data-testid=run-n]', '5000');
    await page.click('[data-testid=run-start]');
    await until(page, 'the second run', (x) => x.runs.length === 2, 20000);
    const runs = (await server.api.call({ method: 'listRuns' })) as { runs: { runId: string; state: string; argv: string[] }[] };
    const long = runs.runs.find((r) => r.argv.includes('imitate-cartpole'))!;
    await page.waitForTimeout(500);
    await page.locator('[data-testid=run][data-state=running] [data-testid=run-cancel]').click();
    const g = await until(page, 'the cancel', (x) => x.runs.some((r) => r.runId === long.runId && r.state === 'cancelled'), 20000);
    assert.ok(g.runs.some((r) => r.state === 'cancelled'));
    const after = (await server.api.call({ method: 'listRuns' })) as { runs: { runId: string; state: string }[] };
    assert.equal(after.runs.find((r) => r.runId === long.runId)!.state, 'cancelled');
  });
});

describe('app in Chromium: a terrain run folder', { skip }, () => {
  let dir: string;
  let server: WebServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'impulse-e2e-'));
    writeTerrainRun(join(dir, 'ego-terrain-run'));
    server = await startWebServer({ backend: { runsDir: join(dir, 'runs') } });
    await server.api.call({ method: 'openFile', path: join(dir, 'ego-terrain-run') });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(server.urlWithToken);
    await page.waitForFunction(() => window.__impulseTest?.facts().ready === true, null, { timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('terrain coloured by a map, the gradient heatmap, predictions and the loss curve', async () => {
    const f = await until(page, 'the run', (x) => x.ready && x.terrain !== null && x.predictedTrajectoryCount === 40);
    assert.deepEqual(f.terrain, { grid: 'maps', layer: 'height' });
    assert.ok(f.plotsRendered.includes('loss') && f.plotsRendered.includes('error-horizon'), `rendered: ${f.plotsRendered}`);
    await page.selectOption('[data-testid=terrain-layer]', 'maps/friction');
    assert.deepEqual((await facts(page)).terrain, { grid: 'maps', layer: 'friction' });
    await page.selectOption('[data-testid=terrain-layer]', 'maps/grad_friction');
    const g = await facts(page);
    assert.deepEqual(g.terrain, { grid: 'maps', layer: 'grad_friction' });
    await page.evaluate(() => window.__impulseTest.seek(6));
    await page.waitForTimeout(300);
    const st = await canvasStats(page);
    assert.ok(st.nonBackground > 0.05 && st.colours > 50, JSON.stringify(st));
    await page.screenshot({ path: join(SHOTS, 'terrain-gradient.png') });
  });
});
