// Tests of the run reports: a KITTI 00 run folder (baseline predictions computed from the bundled
// ground truth, made-up learned model and history) becomes report/index.html with the metrics and
// data-efficiency tables and four inline SVG plots, PNG copies that decode and hold a drawing, and
// a page that headless Chromium shows without errors; runs with files missing still get a report,
// malformed files are errors naming the file and the field.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { RunFileError, writeReport, type RunMetrics } from './index.ts';
import { pngStats } from './png-pixels.ts';
import { writeFixtureRun } from './test-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
let tmp: string;
let run: string;
let metrics: RunMetrics;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'impulse-report-'));
  run = join(tmp, 'ego-kitti-run');
  ({ metrics } = await writeFixtureRun(run));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('writeReport builds index.html with the metrics tables, four inline SVG plots and their PNG copies', async () => {
  const r = await writeReport(run);
  assert.equal(r.html, join(run, 'report', 'index.html'));
  assert.ok(r.url.startsWith('file://') && r.url.endsWith('/report/index.html'));
  assert.deepEqual(r.missing, []);
  assert.deepEqual(
    r.plots.map((p) => p.name),
    ['paths', 'error-vs-horizon', 'loss', 'data-efficiency'],
  );
  const html = readFileSync(r.html, 'utf8');
  // table values: each baseline rounded to 3 significant digits, the learned model as mean ± sd
  const cv = metrics.models.find((m) => m.name === 'CV')!;
  const ctrv = metrics.models.find((m) => m.name === 'CTRV')!;
  for (const v of [cv.ade!, cv.fde['0.5']!, cv.fde['1.0']!, cv.fde['1.5']!, ctrv.fde['1.5']!])
    assert.ok(html.includes(`>${v.toPrecision(3)}<`), `table holds ${v.toPrecision(3)}`);
  assert.ok(html.includes(`>${(100 * cv.missRate!).toFixed(1)} %<`));
  // seeds 0, 1, 2 scale CTRV by 0.82, 0.85, 0.88: mean 0.85 x, sample sd 0.03 x
  const f = ctrv.fde['1.5']!;
  assert.ok(html.includes(`${(0.85 * f).toFixed(2)} ± ${(0.03 * f).toFixed(2)}`), 'mean ± sd over seeds');
  for (const h of ['ADE@1.5 s (m)', 'FDE@0.5 s (m)', 'FDE@1 s (m)', 'FDE@1.5 s (m)', 'miss rate (FDE@1.5 s &gt; 2 m)', 'seeds'])
    assert.ok(html.includes(`<th>${h}</th>`), h);
  assert.ok(html.includes('Data efficiency') && html.includes('<th>10 % (283 windows)</th>'));
  assert.ok(html.includes('<td>physics-informed (fixture)</td><td>0, 1, 2</td>'), 'over-seeds table');
  assert.ok(html.includes('<td>physics-informed (fixture)</td><td class="num">11</td><td class="num">0.710</td>'), 'model selection table');
  assert.ok(html.includes('<td>input.plane</td><td>xz</td>') && html.includes('<td>config.learningRate</td>'), 'config flattened');
  // self-contained: inline SVG, no scripts, no external resources
  assert.equal((html.match(/<svg[\s>]/g) ?? []).length, 4);
  for (const id of ['paths', 'error-vs-horizon', 'loss', 'data-efficiency']) assert.ok(html.includes(`id="plot-${id}"`));
  assert.ok(!/<script/i.test(html));
  assert.ok(!/(src|href)\s*=\s*"(https?:)?\/\//i.test(html));
  assert.ok(html.includes('task ego-kitti · seed 0'));
  // seed 0 of the learned model is 0.82 x CTRV
  assert.ok(
    html.includes(
      `physics-informed (fixture), ${(0.82 * ctrv.fde['1.5']!).toPrecision(3)} m, 0.82 × the best baseline (CTRV, ${ctrv.fde['1.5']!.toPrecision(3)} m)`,
    ),
  );
  // PNG copies decode and are drawings, not blank pages
  for (const p of r.plots) {
    const s = pngStats(readFileSync(p.png!));
    assert.ok(s.width >= 600 && s.height >= 300, `${p.name}.png is ${s.width} x ${s.height}`);
    assert.ok(s.inkFraction > 0.01 && s.inkFraction < 0.9, `${p.name}.png ink ${s.inkFraction}`);
    assert.ok(s.colors > 8, `${p.name}.png has ${s.colors} colours`);
  }
  assert.deepEqual(
    readdirSync(r.dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('the report opens in headless Chromium without console errors, with sized plots and a non-blank screenshot', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed: browser check skipped`);
    return;
  }
  const r = await writeReport(run, { png: false });
  // the profile lives in the suite's temporary folder, removed after the tests even if the launch fails
  const profile = mkdtempSync(join(tmp, 'chromium-'));
  // playwright passes the profile folder to Chromium as --user-data-dir
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(r.url, { waitUntil: 'load' });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
    );
    const sizes = await page.$$eval('figure.plot svg', (els) => els.map((e) => e.getBoundingClientRect()).map((b) => [b.width, b.height]));
    assert.equal(sizes.length, 4);
    for (const [w, h] of sizes) assert.ok(w! > 200 && h! > 200, `plot of ${w} x ${h} px`);
    assert.equal(await page.title(), 'Impulse run report: ego-kitti-run');
    const shot = pngStats(await page.screenshot({ fullPage: true }));
    assert.ok(shot.inkFraction > 0.02 && shot.colors > 8, `screenshot ink ${shot.inkFraction}, ${shot.colors} colours`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('a run without history and predictions still gets a report that says what is missing', async () => {
  const dir = join(tmp, 'partial');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), readFileSync(join(run, 'config.json')));
  // a model whose ADE could not be computed (null) is shown as n/a
  const m = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as RunMetrics;
  m.models[0]!.ade = null;
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(m));
  // an older report of the folder had a loss plot: it must not survive
  mkdirSync(join(dir, 'report'));
  writeFileSync(join(dir, 'report', 'loss.png'), 'old');
  const r = await writeReport(dir);
  assert.deepEqual(r.missing, ['history.json', 'predictions.json']);
  assert.deepEqual(
    r.plots.map((p) => p.name),
    ['error-vs-horizon', 'data-efficiency'],
  );
  assert.ok(!existsSync(join(dir, 'report', 'loss.png')));
  const html = readFileSync(r.html, 'utf8');
  assert.match(html, /history\.json is missing: no loss curves/);
  assert.match(html, /predictions\.json is missing: no paths plot/);
  assert.equal((html.match(/<svg[\s>]/g) ?? []).length, 2);
  assert.match(html, /<td>CV<\/td><td>baseline<\/td><td class="num">n\/a<\/td>/);
});

test('a run with predictions only gets its metrics table computed from them', async () => {
  const dir = join(tmp, 'predictions-only');
  mkdirSync(dir);
  writeFileSync(join(dir, 'predictions.json'), readFileSync(join(run, 'predictions.json')));
  const r = await writeReport(dir, { png: false });
  assert.deepEqual(r.missing, ['config.json', 'metrics.json', 'history.json']);
  const html = readFileSync(r.html, 'utf8');
  assert.match(html, /Computed from predictions\.json/);
  const cv = metrics.models.find((m) => m.name === 'CV')!;
  assert.ok(html.includes(`>${cv.fde['1.5']!.toPrecision(3)}<`));
  assert.equal(r.plots.length, 2);
  assert.ok(!existsSync(join(dir, 'report', 'paths.png')));
});

test('bad run folders and malformed files are RunFileErrors naming the file and the field', async () => {
  const expectError = async (dir: string, re: RegExp): Promise<void> => {
    await assert.rejects(writeReport(dir), (e: unknown) => {
      assert.ok(e instanceof RunFileError, String(e));
      assert.match((e as Error).message, re);
      return true;
    });
  };
  await expectError(join(tmp, 'nope'), /nope: run folder not found/);
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await expectError(empty, /empty: not a run folder: it holds none of config\.json/);
  const bad = join(tmp, 'bad');
  mkdirSync(bad);
  const m = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { models: Record<string, unknown>[] };
  delete m.models[1]!.missRate;
  writeFileSync(join(bad, 'metrics.json'), JSON.stringify(m));
  await expectError(bad, /bad[/\\]metrics\.json, field 'models\[1\]\.missRate'/);
  m.models[1]!.missRate = 1.5;
  writeFileSync(join(bad, 'metrics.json'), JSON.stringify(m));
  await expectError(bad, /field 'models\[1\]\.missRate': must be between 0 and 1/);
  m.models[1]!.missRate = 0.5;
  delete (m as unknown as { dataEfficiency: Record<string, unknown>[] }).dataEfficiency[4]!.fde15;
  writeFileSync(join(bad, 'metrics.json'), JSON.stringify(m));
  await expectError(bad, /metrics\.json, field 'dataEfficiency\[4\]\.fde15'/);
  rmSync(join(bad, 'metrics.json'));
  writeFileSync(join(bad, 'history.json'), '{"epochs": [{"model": "x", "epoch": 1, "trainLoss": "high"}]}');
  await expectError(bad, /history\.json, field 'epochs\[0\]\.trainLoss'/);
  writeFileSync(join(bad, 'history.json'), '{"epochs": [');
  await expectError(bad, /history\.json: invalid JSON/);
  rmSync(join(bad, 'history.json'));
  const p = JSON.parse(readFileSync(join(run, 'predictions.json'), 'utf8')) as { sets: { gt: unknown[] }[] };
  p.sets[3]!.gt.pop();
  writeFileSync(join(bad, 'predictions.json'), JSON.stringify(p));
  await expectError(bad, /predictions\.json, field 'sets\[3\]\.gt': ground truth has 14 positions for 15 times/);
  rmSync(join(bad, 'predictions.json'));
  mkdirSync(join(bad, 'config.json'));
  await expectError(bad, /config\.json: is a directory/);
  assert.ok(!existsSync(join(bad, 'report')), 'nothing written for a bad run');
  // a report folder that cannot be made is named, not a temporary file
  await assert.rejects(writeReport(run, { out: join(run, 'config.json', 'report') }), /config\.json[/\\]report: cannot create the report folder/);
});
