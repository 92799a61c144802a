// Tests of `impulse train ego`, `impulse eval ego` and `impulse predict` as a user runs them: a short
// training on the bundled TurtleBot log's /odom with --json, eval and predict on its run folder, and
// named errors (unknown config key, run folder of another task, log without the topic) with exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'impulse.js');
const log = join(root, 'examples', 'data', 'nav2_turtlebot.mcap');

function impulse(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('train ego on the TurtleBot /odom (--json), then eval ego and predict to MCAP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ego-cli-'));
  try {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ models: ['physics'], hidden: [16], epochs: 2 }));
    const out = join(dir, 'run');
    const t = impulse('train', 'ego', '--input', log, '--topic', '/odom', '--plane', 'xy', '--config', cfg, '--out', out, '--json');
    assert.equal(t.code, 0, t.stderr);
    const res = JSON.parse(t.stdout) as { report: string; metrics: { models: { name: string; fde: Record<string, number> }[] } };
    assert.equal(res.report, join(out, 'report', 'index.html'));
    assert.ok(existsSync(res.report) && existsSync(join(out, 'report', 'paths.png')), 'training ends with the run report');
    assert.deepEqual(
      res.metrics.models.map((m) => m.name),
      ['cv', 'ctrv', 'physics-unicycle'],
    );
    assert.match(t.stderr, /epoch 2\/2 physics-unicycle: train ADE/);
    const e = impulse('eval', 'ego', '--model', out);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /physics-unicycle\s+learned/);
    const p = impulse('predict', '--model', out, '--input', log, '--topic', '/odom', '--out', join(dir, 'pred.mcap'));
    assert.equal(p.code, 0, p.stderr);
    assert.ok(existsSync(join(dir, 'pred.mcap')));
    const r = impulse('replay', join(dir, 'pred.mcap'), '--summary');
    assert.match(r.stdout, /\/ego\/prediction\s+impulse\.PredictionSet/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train ego --device gpu: a physics config trains on tfjs webgpu (float64 bridge joined asynchronously) and matches the CPU run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ego-cli-'));
  try {
    const cfg = join(dir, 'physics.json');
    // one small epoch of the pure NN and the physics model (model A): the GPU run stays short on a software adapter
    writeFileSync(cfg, JSON.stringify({ models: ['nn', 'physics'], hidden: [16], epochs: 1 }));
    const args = ['train', 'ego', '--input', log, '--topic', '/odom', '--plane', 'xy', '--config', cfg, '--json'];
    const gpu = impulse(...args, '--device', 'gpu', '--out', join(dir, 'gpu'));
    if (gpu.code !== 0 && /no WebGPU adapter|cannot run on the GPU/.test(gpu.stderr))
      return t.skip(`no WebGPU adapter: ${gpu.stderr.trim().split('\n').pop()}`);
    assert.equal(gpu.code, 0, gpu.stderr);
    assert.match(gpu.stderr, /TensorFlow\.js backend: webgpu \(requested webgpu from --device\)/);
    const cpu = impulse(...args, '--out', join(dir, 'cpu'));
    assert.equal(cpu.code, 0, cpu.stderr);
    const ade = (out: string, name: string): number =>
      (JSON.parse(out) as { metrics: { models: { name: string; ade: number }[] } }).metrics.models.find((m) => m.name === name)!.ade;
    // float32 on two backends (different reduction orders) through one epoch of Adam: test ADE within 1e-3 relative
    for (const name of ['pure-nn', 'physics-unicycle']) {
      const [a, b] = [ade(cpu.stdout, name), ade(gpu.stdout, name)];
      assert.ok(Number.isFinite(a) && Math.abs(a - b) < 1e-3 * (1 + a), `${name} test ADE: cpu ${a}, webgpu ${b}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train ego-terrain --device gpu: the terrain CNN trains on tfjs webgpu (float64 rollouts on the CPU) and matches the CPU run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ego-cli-'));
  try {
    const data = join(dir, 'data');
    const d = impulse('dataset', 'terrain', '--n', '10', '--seed', '1', '--out', data);
    assert.equal(d.code, 0, d.stderr);
    const cfg = join(dir, 'terrain.json');
    // one batch of the CNN (so its training loss is taken before any update) and one pure-NN epoch
    writeFileSync(cfg, JSON.stringify({ models: ['terrain-cnn', 'pure-nn'], epochs: 1, batchSize: 8, channels: 4, nnHidden: [16], nnEpochs: 1, threads: 1 }));
    const args = ['train', 'ego-terrain', '--data', data, '--config', cfg, '--json'];
    const gpu = impulse(...args, '--device', 'gpu', '--out', join(dir, 'gpu'));
    if (gpu.code !== 0 && /no WebGPU adapter|cannot run on the GPU/.test(gpu.stderr))
      return t.skip(`no WebGPU adapter: ${gpu.stderr.trim().split('\n').pop()}`);
    assert.equal(gpu.code, 0, gpu.stderr);
    assert.match(gpu.stderr, /TensorFlow\.js backend: webgpu \(requested webgpu from --device\)/);
    const cpu = impulse(...args, '--device', 'cpu', '--out', join(dir, 'cpu'));
    assert.equal(cpu.code, 0, cpu.stderr);
    type Out = { metrics: { models: { name: string; ade: number }[] } };
    const history = (run: string): { model: string; trainLoss: number }[] =>
      (JSON.parse(readFileSync(join(dir, run, 'history.json'), 'utf8')) as { epochs: { model: string; trainLoss: number }[] }).epochs;
    // the loss of the first batch: the same float32 network on two backends (different reduction orders)
    for (const model of ['terrain-cnn', 'pure-nn']) {
      const [a, b] = [history('cpu'), history('gpu')].map((h) => h.find((e) => e.model === model)!.trainLoss);
      assert.ok(Math.abs(a! - b!) < 1e-4 * Math.abs(a!), `${model} training loss: cpu ${a}, webgpu ${b}`);
    }
    // after one Adam step: Adam scales every gradient entry to about the step size, so entries that
    // are float32 noise on both backends move the weights by a full step either way; test ADE within 2%
    for (const name of ['terrain-cnn', 'pure-nn', 'physics-default']) {
      const [a, b] = [cpu, gpu].map((r) => (JSON.parse(r.stdout) as Out).metrics.models.find((m) => m.name === name)!.ade);
      assert.ok(Number.isFinite(a!) && Math.abs(a! - b!) < 0.02 * a!, `${name} test ADE: cpu ${a}, webgpu ${b}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('named errors: unknown config key, a terrain run folder without its dataset, a missing terrain dataset, log without the topic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ego-cli-'));
  try {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ epochz: 2 }));
    const a = impulse('train', 'ego-kitti', '--config', cfg, '--out', join(dir, 'r'));
    assert.equal(a.code, 1);
    assert.match(a.stderr, /cfg\.json: .*epochz/);
    assert.ok(!existsSync(join(dir, 'r')), 'nothing written for a bad config');
    mkdirSync(join(dir, 'terrain'));
    writeFileSync(join(dir, 'terrain', 'config.json'), JSON.stringify({ task: 'ego-terrain' }));
    const b = impulse('eval', 'ego', '--model', join(dir, 'terrain'));
    assert.equal(b.code, 1);
    assert.match(b.stderr, /terrain[/\\]config\.json: field 'input\.path' \(the terrain dataset folder\) is missing/);
    mkdirSync(join(dir, 'empty'));
    const t = impulse('train', 'ego-terrain', '--data', join(dir, 'empty'), '--out', join(dir, 'tr'));
    assert.equal(t.code, 1);
    assert.match(t.stderr, /empty[/\\]manifest\.json: no manifest\.json/);
    assert.ok(!existsSync(join(dir, 'tr')), 'nothing written for a missing dataset');
    const c = impulse('train', 'ego', '--input', log, '--topic', '/scan', '--out', join(dir, 's'));
    assert.equal(c.code, 1);
    assert.match(c.stderr, /no topic '\/scan' in the log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
