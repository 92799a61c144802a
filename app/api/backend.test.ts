// Tests of the app API backend (app/api): request validation (every bad shape names its field),
// opening each kind of input with the data layer's results (APE equal to evaluateApe, log summary
// and density, prediction packing, run folders with history and terrain grids), bad files as
// 'bad-file' errors naming the file, allowed roots, uploads cleaned up on close, the recent list,
// and runs as child processes that finish (result opened) or are cancelled (process gone).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateApe, predictionMetrics, predictionSamples, readTrajectory, parsePredictionsJson } from '../../data/index.ts';
import { constantVelocityPredictions, gridJson, predictionsText } from '../../e2e/fixtures.ts';
import { ApiError, createApiBackend, parseRequest, toRequest, unpack, type ApiEvent, type Packed } from './index.ts';
import { RunLineParser } from './runs.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(ROOT, 'examples', 'data');

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, `not an ApiError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'impulse-api-test-'));
}

test('requests are validated: unknown method, unknown key, wrong types name the field', () => {
  assert.throws(() => parseRequest(null), /must be an object/);
  assert.throws(() => parseRequest({ method: 'rm -rf' }), /unknown method 'rm -rf'/);
  assert.throws(() => parseRequest({ method: 'openFile' }), /openFile: path/);
  assert.throws(() => parseRequest({ method: 'openFile', path: 'a', evil: 1 }), /openFile: evil: unknown field/);
  assert.throws(() => parseRequest({ method: 'metrics', ref: { id: 'f1' }, est: { id: 'f2' }, align: 'bogus' }), /metrics: align/);
  assert.throws(() => parseRequest({ method: 'metrics', ref: { id: 'f1', x: 1 }, est: { id: 'f2' } }), /metrics: ref\.x: unknown field/);
  assert.throws(() => parseRequest({ method: 'summarize', id: 'f1', bins: 1e9 }), /summarize: bins/);
  assert.throws(() => parseRequest({ method: 'startRun', kind: 'shell', args: {} }), /startRun: kind/);
  assert.equal(parseRequest({ method: 'listOpen' }).method, 'listOpen');
  assert.deepEqual(parseRequest(toRequest('summarize', { id: 'f1', method: 'listOpen' })), { method: 'summarize', id: 'f1' });
  assert.throws(() => toRequest('openFile', [1]), /params: must be an object, got an array/);
});

test('trajectories: APE/RPE equal the data layer, positions packed against an origin', async () => {
  const b = createApiBackend({ runsDir: join(tmpdir(), 'impulse-unused-runs') });
  try {
    const g = (await b.call({ method: 'openFile', path: join(DATA, 'KITTI_00_gt.txt') })) as { id: string; kind: string; poses: number };
    const e = (await b.call({ method: 'openFile', path: join(DATA, 'KITTI_00_ORB.txt') })) as { id: string };
    assert.equal(g.kind, 'trajectory');
    assert.equal(g.poses, 4541);
    const again = (await b.call({ method: 'openFile', path: join(DATA, 'KITTI_00_gt.txt') })) as { id: string };
    assert.equal(again.id, g.id, 'the same path opened twice is one file');
    const m = (await b.call({ method: 'metrics', ref: { id: g.id }, est: { id: e.id }, align: 'se3' })) as {
      stats: { rmse: number };
      errors: Packed;
      times: Packed;
    };
    const ref = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
    const est = await readTrajectory(join(DATA, 'KITTI_00_ORB.txt'));
    const direct = evaluateApe(ref, est, { mode: 'se3' });
    assert.equal(m.stats.rmse, direct.stats.rmse);
    assert.equal(m.stats.rmse.toFixed(3), '1.303');
    assert.deepEqual(Array.from(unpack(m.errors)), Array.from(direct.errors));
    assert.equal(unpack(m.times).length, 4541);
    const rpe = (await b.call({ method: 'metrics', ref: { id: g.id }, est: { id: e.id }, metric: 'rpe', delta: 100, deltaUnit: 'm' })) as {
      stats: { rmse: number };
    };
    assert.ok(rpe.stats.rmse > 0);
    const t = (await b.call({ method: 'trajectory', ref: { id: g.id } })) as {
      count: number;
      origin: number[];
      positions: Packed;
      times: Packed;
      timeSource: string;
    };
    assert.equal(t.count, 4541);
    assert.equal(t.timeSource, 'index');
    const pos = unpack(t.positions);
    const p = ref.position(2000);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(pos[3 * 2000 + k]! + t.origin[k]! - p[k]!) < 1e-3);
    const dec = (await b.call({ method: 'trajectory', ref: { id: g.id }, maxPoints: 100 })) as { count: number };
    assert.ok(dec.count <= 101);
    await rejects(b.call({ method: 'metrics', ref: { id: g.id }, est: { id: 'f999' } }), 'not-found', /est\.id: no open file with id 'f999'/);
  } finally {
    await b.close();
  }
});

test('MCAP log: summary from the index, exact density, pose topics on the log clock', async () => {
  const b = createApiBackend({});
  try {
    const f = (await b.call({ method: 'openFile', path: join(DATA, 'nav2_turtlebot.mcap') })) as { id: string; kind: string };
    assert.equal(f.kind, 'mcap');
    const s = (await b.call({ method: 'summarize', id: f.id, bins: 50 })) as {
      messageCount: number;
      poseTopics: string[];
      startTime: number;
      endTime: number;
      density: { counts: Packed; method: string };
    };
    assert.equal(s.messageCount, 8197);
    assert.deepEqual([...s.poseTopics].sort(), ['/amcl_pose', '/odom']);
    assert.equal(s.density.method, 'exact');
    assert.equal(
      Array.from(unpack(s.density.counts)).reduce((a, x) => a + x, 0),
      8197,
    );
    const t = (await b.call({ method: 'trajectory', ref: { id: f.id, source: '/odom' } })) as {
      count: number;
      times: Packed;
      timeSource: string;
      positions: Packed;
    };
    assert.equal(t.count, 2639);
    assert.equal(t.timeSource, 'log');
    const times = unpack(t.times);
    assert.ok(times[0]! >= s.startTime - 1e-6 && times[times.length - 1]! <= s.endTime + 1e-6, 'log-clock times inside the log');
    // thinned while streaming: every k-th message decoded, the last one kept
    const thin = (await b.call({ method: 'trajectory', ref: { id: f.id, source: '/odom' }, maxPoints: 100 })) as {
      count: number;
      positions: Packed;
      origin: number[];
    };
    assert.ok(thin.count >= 90 && thin.count <= 102, `${thin.count} poses`);
    const full = unpack(t.positions as Packed),
      part = unpack(thin.positions);
    for (let k = 0; k < 3; k++)
      assert.ok(Math.abs(part[3 * (thin.count - 1) + k]! + thin.origin[k]! - (full[3 * 2638 + k]! + (t as unknown as { origin: number[] }).origin[k]!)) < 1e-3);
    await rejects(b.call({ method: 'trajectory', ref: { id: f.id, source: '/nope' } }), 'bad-file', /no topic '\/nope'/);
    await rejects(b.call({ method: 'trajectory', ref: { id: f.id, source: '/tf' } }), 'bad-file', /carries no pose/);
  } finally {
    await b.close();
  }
});

test('bad files: missing, empty, truncated MCAP, unknown JSON, malformed text, not a run folder', async () => {
  const dir = tmp();
  const b = createApiBackend({});
  try {
    await rejects(b.call({ method: 'openFile', path: join(dir, 'missing.tum') }), 'not-found', /missing\.tum: no such file/);
    writeFileSync(join(dir, 'empty.tum'), '');
    await rejects(b.call({ method: 'openFile', path: join(dir, 'empty.tum') }), 'bad-file', /empty\.tum: empty file/);
    writeFileSync(join(dir, 'cut.mcap'), readFileSync(join(DATA, 'nav2_turtlebot.mcap')).subarray(0, 4000));
    await rejects(b.call({ method: 'openFile', path: join(dir, 'cut.mcap') }), 'bad-file', /cut\.mcap.*truncated/);
    writeFileSync(join(dir, 'other.json'), '{"hello": 1}');
    await rejects(b.call({ method: 'openFile', path: join(dir, 'other.json') }), 'bad-file', /other\.json: JSON file with format \(none\)/);
    writeFileSync(
      join(dir, 'bad.json'),
      '{"format": "impulse.predictions", "version": 1, "sets": [{"t0": 0, "times": [0.1], "gt": [[0,0]], "predictions": []}]}',
    );
    await rejects(b.call({ method: 'openFile', path: join(dir, 'bad.json') }), 'bad-file', /bad\.json.*sets\[0\]\.gt\[0\]/);
    writeFileSync(join(dir, 'bad.tum'), '0 0 0 0 0 0 0 1\n1 0 0 x 0 0 0 1\n');
    await rejects(b.call({ method: 'openFile', path: join(dir, 'bad.tum') }), 'bad-file', /bad\.tum, line 2/);
    mkdirSync(join(dir, 'notarun'));
    await rejects(b.call({ method: 'openFile', path: join(dir, 'notarun') }), 'bad-file', /not a run folder/);
    const listed = (await b.call({ method: 'listOpen' })) as { files: unknown[] };
    assert.equal(listed.files.length, 0, 'nothing half-opened');
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prediction files: packed sets and ADE/FDE equal the data layer', async () => {
  const dir = tmp();
  const b = createApiBackend({});
  try {
    const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
    const text = predictionsText(constantVelocityPredictions(gt, { every: 50, steps: 15, variants: [{ label: 'fast', speedScale: 1.2 }] }));
    writeFileSync(join(dir, 'p.json'), text);
    const pj = parsePredictionsJson(text);
    const f = (await b.call({ method: 'openFile', path: join(dir, 'p.json') })) as { id: string; kind: string; labels: string[] };
    assert.equal(f.kind, 'predictions');
    assert.deepEqual(f.labels, ['constant-velocity', 'fast']);
    const p = (await b.call({ method: 'predictions', id: f.id })) as {
      setCount: number;
      origin: number[];
      offsets: Packed;
      predictions: { label: string; positions: Packed; fde: Packed }[];
    };
    assert.equal(p.setCount, pj.sets.length);
    const off = unpack(p.offsets);
    assert.equal(off[off.length - 1], 15 * pj.sets.length);
    const pos = unpack(p.predictions[1]!.positions);
    const s3 = pj.sets[3]!;
    const q = s3.predictions[1]!.positions[7]!;
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(pos[3 * (off[3]! + 7) + k]! + p.origin[k]! - q[k]!) < 1e-3);
    const fde = unpack(p.predictions[0]!.fde);
    const g = s3.gt[14]!,
      c = s3.predictions[0]!.positions[14]!;
    assert.ok(Math.abs(fde[3]! - Math.hypot(c[0]! - g[0]!, c[1]! - g[1]!, c[2]! - g[2]!)) < 1e-3);
    const pm = (await b.call({ method: 'predictionMetrics', id: f.id, label: 'fast', horizons: [0.5, 1.5] })) as {
      horizons: { minAde: number; minFde: number }[];
    };
    const direct = predictionMetrics(predictionSamples(pj, 'fast'), { horizons: [0.5, 1.5] });
    assert.equal(pm.horizons[1]!.minFde, direct[1]!.minFde);
    assert.equal(pm.horizons[0]!.minAde, direct[0]!.minAde);
    await rejects(b.call({ method: 'predictionMetrics', id: f.id, label: 'nope' }), 'not-found', /label: no prediction labelled 'nope'/);
    const sub = (await b.call({ method: 'predictions', id: f.id, maxSets: 5 })) as { setCount: number };
    assert.equal(sub.setCount, 5);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run folders: summary, history, terrain grids; bad grids name the field', async () => {
  const dir = tmp();
  const run = join(dir, 'ego-terrain-1');
  mkdirSync(join(run, 'terrain'), { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ task: 'ego-terrain', seed: 1 }));
  writeFileSync(join(run, 'metrics.json'), JSON.stringify({ task: 'ego-terrain', models: [] }));
  writeFileSync(
    join(run, 'history.json'),
    JSON.stringify({ epochs: [1, 2, 3].map((e) => ({ model: 'gru', epoch: e, trainLoss: 1 / e, valAde: 0.5, valFde: 1, seconds: 2 })) }),
  );
  const W = 6,
    H = 4;
  const height = Array.from({ length: W * H }, (_, i) => 0.1 * (i % W));
  const friction = Array.from({ length: W * H }, (_, i) => 0.5 + 0.01 * i);
  const grad = Array.from({ length: W * H }, (_, i) => (i % 2 ? -1 : 1) * 0.001 * i);
  writeFileSync(
    join(run, 'terrain', 'maps.json'),
    gridJson(
      W,
      H,
      0.5,
      [
        { name: 'height', values: height },
        { name: 'friction', values: friction },
        { name: 'grad_friction', values: grad },
      ],
      [1, 2, 0],
    ),
  );
  const b = createApiBackend({});
  try {
    const f = (await b.call({ method: 'openFile', path: run })) as { id: string; kind: string };
    assert.equal(f.kind, 'run');
    const s = (await b.call({ method: 'summarize', id: f.id })) as {
      hasHistory: boolean;
      hasTerrain: boolean;
      hasPredictions: boolean;
      config: { task: string };
    };
    assert.deepEqual([s.hasHistory, s.hasTerrain, s.hasPredictions, s.config.task], [true, true, false, 'ego-terrain']);
    const h = (await b.call({ method: 'history', id: f.id })) as { epochs: { trainLoss: number }[] };
    assert.deepEqual(
      h.epochs.map((e) => e.trainLoss),
      [1, 0.5, 1 / 3],
    );
    const t = (await b.call({ method: 'terrain', id: f.id })) as {
      grids: { columns: number; rows: number; origin: number[]; layers: { name: string; values: Packed; min: number; max: number }[] }[];
    };
    const g = t.grids[0]!;
    assert.deepEqual([g.columns, g.rows, g.origin[0], g.origin[1]], [W, H, 1, 2]);
    assert.deepEqual(
      g.layers.map((l) => l.name),
      ['height', 'friction', 'grad_friction'],
    );
    const fr = unpack(g.layers[1]!.values);
    assert.ok(Math.abs(fr[7]! - friction[7]!) < 1e-6);
    assert.ok(Math.abs(g.layers[2]!.min - Math.min(...grad)) < 1e-9);
    await rejects(b.call({ method: 'predictions', id: f.id }), 'not-found', /no predictions\.json/);
    writeFileSync(join(run, 'terrain', 'maps.json'), JSON.stringify({ column_count: 2 }));
    await rejects(b.call({ method: 'terrain', id: f.id }), 'bad-file', /maps\.json: cell_size/);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('allowed roots, uploads removed on close, recent list saved', async () => {
  const dir = tmp();
  const recentFile = join(dir, 'recent.json');
  const b = createApiBackend({ allowedRoots: [DATA], recentFile });
  let uploadedPath = '';
  try {
    await rejects(b.call({ method: 'openFile', path: join(ROOT, 'package.json') }), 'forbidden', /outside the folders/);
    await b.call({ method: 'openFile', path: join(DATA, 'fr2_desk_ORB.txt') });
    const up = (await b.call({
      method: 'uploadFile',
      name: '../../evil name.tum',
      data: readFileSync(join(DATA, 'freiburg1_xyz-rgbdslam.txt')).toString('base64'),
    })) as {
      path: string;
      name: string;
      kind: string;
    };
    assert.equal(up.kind, 'trajectory');
    assert.equal(up.name, 'evil name.tum');
    uploadedPath = up.path;
    assert.ok(existsSync(uploadedPath));
    await rejects(b.call({ method: 'uploadFile', name: 'x.tum', data: Buffer.from('garbage line\n').toString('base64') }), 'bad-file', /x\.tum/);
    const r = (await b.call({ method: 'listRecent' })) as { recent: string[] };
    assert.deepEqual(r.recent, [join(DATA, 'fr2_desk_ORB.txt')], 'uploads are not recent files');
    assert.deepEqual((JSON.parse(readFileSync(recentFile, 'utf8')) as { recent: string[] }).recent, r.recent);
  } finally {
    await b.close();
  }
  assert.ok(!existsSync(uploadedPath), 'the upload folder is removed on close');
  const b2 = createApiBackend({ recentFile });
  assert.deepEqual(((await b2.call({ method: 'listRecent' })) as { recent: string[] }).recent, [join(DATA, 'fr2_desk_ORB.txt')]);
  await b2.close();
  rmSync(dir, { recursive: true, force: true });
});

test('runs: a simulation finishes and its trajectory opens; a long run is cancelled and its process is gone', async () => {
  const dir = tmp();
  const b = createApiBackend({ runsDir: join(dir, 'runs') });
  const events: ApiEvent[] = [];
  b.onEvent((e) => events.push(e));
  try {
    await rejects(b.call({ method: 'startRun', kind: 'sim', args: { scene: 'box-slide', steps: -1 } }), 'invalid-request', /startRun: args\.steps/);
    await rejects(b.call({ method: 'startRun', kind: 'sim', args: { scene: '../../etc/passwd' } }), 'invalid-request', /args\.scene/);
    const r = (await b.call({ method: 'startRun', kind: 'sim', args: { scene: 'box-slide', steps: 20 } })) as { runId: string; dir: string };
    const done = await new Promise<ApiEvent>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no end event: ${JSON.stringify(events.slice(-5))}`)), 60000);
      const off = b.onEvent((e) => {
        if (e.runId === r.runId && (e.type === 'run-done' || e.type === 'run-error')) {
          clearTimeout(t);
          off();
          res(e);
        }
      });
    });
    assert.equal(done.type, 'run-done', JSON.stringify(done));
    const opened = (done as { opened: { id: string; kind: string; path: string; files: string[] }[] }).opened;
    assert.deepEqual([opened.length, opened[0]!.kind, opened[0]!.path], [1, 'run', r.dir]);
    assert.deepEqual(opened[0]!.files, ['trajectory.json']);
    const tr = (await b.call({ method: 'trajectory', ref: { id: opened[0]!.id, source: 'trajectory.json' } })) as { count: number };
    assert.equal(tr.count, 21, 'initial pose + 20 steps');
    assert.ok(events.some((e) => e.type === 'run-log' && e.runId === r.runId));
    const long = (await b.call({ method: 'startRun', kind: 'mpc', args: { experiment: 'imitate-cartpole', epochs: 5000 } })) as { runId: string; pid: number };
    await new Promise((res) => setTimeout(res, 300));
    const c = (await b.call({ method: 'cancelRun', runId: long.runId })) as { state: string };
    assert.equal(c.state, 'cancelled');
    assert.throws(() => process.kill(long.pid, 0), /ESRCH/, 'the child process is gone');
    assert.ok(events.some((e) => e.type === 'run-error' && e.runId === long.runId && e.cancelled));
    await rejects(b.call({ method: 'cancelRun', runId: 'nope' }), 'not-found', /runId: no run 'nope'/);
    assert.deepEqual(
      readdirSync(join(dir, 'runs')).map((d) => d.split('-')[1]),
      ['mpc', 'sim'].sort(),
    );
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run output lines: progress lines and the epoch / loss table become events', () => {
  const p = new RunLineParser(2);
  assert.deepEqual(p.parse('pendulum imitation: learner MPC from g = 7, m = 1.6'), []);
  assert.deepEqual(p.parse('epoch  train loss   test loss    |theta - theta*|  params'), []);
  assert.deepEqual(p.parse('    1  2.520e-1  1.388e-1  3.693e+0          g=6.33386 m=1.44774'), [
    { type: 'run-loss', series: 'train', epoch: 1, loss: 0.252 },
    { type: 'run-progress', value: 1, total: 2, label: 'epoch 1' },
  ]);
  assert.deepEqual(p.parse('neural-network policy (x_init -> u_0..u_19, same expert data):'), []);
  assert.deepEqual(p.parse('    2  0.5'), [], 'the table ended');
  assert.deepEqual(new RunLineParser().parse('train [3/10] epoch 3'), [{ type: 'run-progress', value: 3, total: 10, label: 'train [3/10] epoch 3' }]);
});
