// Tests of the ego-motion training CLI layer (ego/run.ts, train.ts, predict.ts) on a small synthetic
// drive: the run folder layout, config validation, resume after an interruption (same result as an
// uninterrupted run), NaN detection, run folders of other tasks, logs without the topic, predictions.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTf } from '../models/tf/index.ts';
import { parsePredictionsJson } from '../data/index.ts';
import { ConfigError, parseEgoConfig, readEgoConfig } from './config.ts';
import { runEgo, evaluateRun, type RunInput } from './run.ts';
import { TrainingInterruptedError, TrainingNaNError } from './train.ts';
import { predictAlong } from './predict.ts';
import { EgoError, loadTrack } from './windows.ts';

let dir: string;
let input: RunInput;
const small = { models: ['nn', 'physics', 'mpc'], hidden: [8], epochs: 2, batchSize: 32, mpc: { maxIter: 15, tol: 1e-4 } };

before(async () => {
  await initTf();
  dir = mkdtempSync(join(tmpdir(), 'ego-train-'));
  // a synthetic drive at 10 Hz: speed and yaw rate vary smoothly (TUM: t x y z qx qy qz qw)
  const lines: string[] = [];
  let x = 0,
    y = 0,
    psi = 0;
  for (let k = 0; k < 300; k++) {
    const t = 0.1 * k;
    lines.push(`${t.toFixed(3)} ${x} ${y} 0 0 0 ${Math.sin(psi / 2)} ${Math.cos(psi / 2)}`);
    const v = 4 + 2 * Math.sin(0.03 * k);
    const w = 0.3 * Math.sin(0.05 * k);
    x += v * 0.1 * Math.cos(psi + 0.05 * w);
    y += v * 0.1 * Math.sin(psi + 0.05 * w);
    psi += 0.1 * w;
  }
  writeFileSync(join(dir, 'drive.tum'), lines.join('\n') + '\n');
  input = { path: join(dir, 'drive.tum'), plane: 'xy' };
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('config: defaults out of the box; unknown and invalid keys are named errors', () => {
  const c = parseEgoConfig({});
  assert.deepEqual(c.models, ['nn', 'physics', 'mpc']);
  assert.equal(c.epochs, 20);
  assert.throws(
    () => parseEgoConfig({ epoch: 3 }, 'cfg.json'),
    (e: Error) => e instanceof ConfigError && /cfg\.json/.test(e.message) && /epoch/.test(e.message),
  );
  assert.throws(() => parseEgoConfig({ models: ['lstm'] }, 'cfg.json'), /models\.0/);
  assert.throws(() => parseEgoConfig({ limits: { accel: -1, yawRate: 1, steer: 0.5, wheelbase: 2 } }), /limits/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "epochs": ');
  assert.throws(() => readEgoConfig(bad), /bad\.json: invalid JSON/);
  assert.throws(() => readEgoConfig(join(dir, 'none.json')), /none\.json: cannot read/);
});

test('a run writes the documented folder; eval and predict read it; an existing folder is not overwritten', async () => {
  const out = join(dir, 'run');
  const r = await runEgo({ task: 'ego', input, config: small, out });
  for (const f of ['config.json', 'history.json', 'metrics.json', 'predictions.json', 'checkpoints/latest.json']) assert.ok(existsSync(join(out, f)), f);
  const latest = JSON.parse(readFileSync(join(out, 'checkpoints/latest.json'), 'utf8'));
  assert.equal(latest.path, 'epoch-0002');
  for (const m of ['pure-nn', 'physics-unicycle', 'mpc-unicycle']) assert.ok(existsSync(join(out, 'checkpoints/epoch-0002', m, 'weights.bin')), m);
  assert.ok(readdirSync(join(out, 'checkpoints')).every((d) => !d.endsWith('.tmp')));
  const hist = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  assert.equal(hist.epochs.length, 6);
  assert.deepEqual(
    r.metrics.models.map((m) => m.name),
    ['cv', 'ctrv', 'pure-nn', 'physics-unicycle', 'mpc-unicycle'],
  );
  const preds = parsePredictionsJson(readFileSync(join(out, 'predictions.json'), 'utf8'));
  assert.equal(preds.sets.length, r.metrics.split.testWindows);
  const again = await evaluateRun(out);
  again.models.forEach((m, i) => assert.ok(Math.abs(m.ade - r.metrics.models[i]!.ade) < 1e-6, m.name));
  const pj = join(dir, 'pred.json');
  const s = await predictAlong({ model: out, input: input.path, out: pj });
  assert.equal(s.windows, 300 - 20);
  assert.equal(parsePredictionsJson(readFileSync(pj, 'utf8')).sets.length, 280);
  await assert.rejects(predictAlong({ model: out, input: input.path, out: join(dir, 'pred.txt') }), /\.json.*\.mcap/);
  await assert.rejects(runEgo({ task: 'ego', input, config: small, out }), /already exists.*--resume/);
});

test('an interrupted run resumes from its last checkpoint and ends as the uninterrupted run does', async () => {
  const cfg = { ...small, models: ['physics'], epochs: 3 };
  const full = await runEgo({ task: 'ego', input, config: cfg, out: join(dir, 'full') });
  const ctl = new AbortController();
  await assert.rejects(
    runEgo({ task: 'ego', input, config: cfg, out: join(dir, 'cut'), signal: ctl.signal, onEpoch: (_r, e) => e === 2 && ctl.abort() }),
    (e: Error) => e instanceof TrainingInterruptedError && e.lastEpoch === 2,
  );
  assert.equal(JSON.parse(readFileSync(join(dir, 'cut/checkpoints/latest.json'), 'utf8')).epoch, 2);
  mkdirSync(join(dir, 'cut/checkpoints/.epoch-0003.999.tmp/physics-unicycle'), { recursive: true }); // as a kill mid-checkpoint leaves it
  const resumed = await runEgo({ task: 'ego', input, out: join(dir, 'cut'), resume: true });
  assert.ok(!existsSync(join(dir, 'cut/checkpoints/.epoch-0003.999.tmp')), 'half-written checkpoint removed');
  const a = full.metrics.models.find((m) => m.name === 'physics-unicycle')!;
  const b = resumed.metrics.models.find((m) => m.name === 'physics-unicycle')!;
  assert.ok(Math.abs(a.ade - b.ade) < 1e-4, `${a.ade} vs ${b.ade}`);
  const h = JSON.parse(readFileSync(join(dir, 'cut/history.json'), 'utf8')).epochs;
  assert.deepEqual(
    h.map((r: { epoch: number }) => r.epoch),
    [1, 2, 3],
  );
});

test('NaN in training stops with the model, epoch and batch, and keeps the last good checkpoint', async () => {
  const out = join(dir, 'nan');
  await runEgo({ task: 'ego', input, config: { ...small, models: ['nn'], epochs: 1 }, out });
  writeFileSync(
    join(out, 'config.json'),
    JSON.stringify({
      ...JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')),
      config: { ...small, models: ['nn'], epochs: 3, learningRate: 1e30, schedule: 'constant' },
    }),
  );
  await assert.rejects(
    runEgo({ task: 'ego', input, out, resume: true }),
    (e: Error) => e instanceof TrainingNaNError && /model pure-nn, epoch 2, batch \d+/.test(e.message),
  );
  assert.equal(JSON.parse(readFileSync(join(out, 'checkpoints/latest.json'), 'utf8')).epoch, 1);
  assert.ok(existsSync(join(out, 'checkpoints/epoch-0001/pure-nn/weights.bin')));
});

test('bad input: a run folder of another task, a folder without a run, an MCAP log without the topic', async () => {
  const other = join(dir, 'terrain');
  mkdirSync(other);
  writeFileSync(join(other, 'config.json'), JSON.stringify({ task: 'ego-terrain' }));
  await assert.rejects(evaluateRun(other), /task 'ego-terrain' is not an ego-motion run/);
  await assert.rejects(evaluateRun(join(dir, 'nothing')), /config\.json: cannot read/);
  const mcap = fileURLToPath(new URL('../examples/data/nav2_turtlebot.mcap', import.meta.url));
  await assert.rejects(loadTrack(mcap, { topic: '/nope', plane: 'xy' }), (e: Error) => /\/nope/.test(e.message));
  await assert.rejects(runEgo({ task: 'ego', input: { ...input, path: join(dir, 'missing.tum') }, out: join(dir, 'x') }), /missing\.tum/);
  assert.ok(EgoError);
});

test('--seeds and --data-efficiency: mean ± std over seeds and the 10% / 30% / 100% curve in metrics.json', async () => {
  const out = join(dir, 'exp');
  const r = await runEgo({ task: 'ego', input, config: { ...small, models: ['nn', 'physics'] }, out, seeds: 2, dataEfficiency: true });
  const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(
    m.seeds.map((s: { name: string; seeds: number[] }) => [s.name, s.seeds]),
    [
      ['pure-nn', [0, 1]],
      ['physics-unicycle', [0, 1]],
    ],
  );
  const own = r.metrics.models.find((x) => x.name === 'physics-unicycle')!;
  assert.equal(m.seeds[1].fde15.values[0], own.fde['1.5']);
  assert.ok(m.seeds[1].fde15.std >= 0);
  const curve = m.dataEfficiency as { fraction: number; name: string; trainWindows: number; epochs: number }[];
  assert.deepEqual([...new Set(curve.map((c) => c.fraction))], [0.1, 0.3, 1]);
  const tenth = curve.find((c) => c.fraction === 0.1 && c.name === 'physics-unicycle')!;
  const all = curve.find((c) => c.fraction === 1 && c.name === 'physics-unicycle')!;
  assert.equal(tenth.trainWindows, Math.round(0.1 * all.trainWindows));
  assert.equal(tenth.epochs, 20);
});
