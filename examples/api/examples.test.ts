// Runs every API example in examples/api/ as a user would (a child process importing the
// package by its name) and checks the numbers it prints, so the examples keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');

function run(name: string): string {
  const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', join(HERE, name)], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${name} failed:\n${r.stderr}`);
  return r.stdout;
}

const num = (out: string, re: RegExp): number => {
  const m = re.exec(out);
  assert.ok(m, `no match for ${re} in:\n${out}`);
  return Number(m[1]);
};

test('first-gradient.ts: the gradient passes its check', () => {
  const out = run('first-gradient.ts');
  assert.ok(num(out, /max relative error ([\d.e+-]+)/) < 1e-6);
});

test('terrain-friction-gradient.ts: the summed friction-map gradient equals -v^2 / (2 g mu^2) within 1%', () => {
  const out = run('terrain-friction-gradient.ts');
  const total = num(out, /summed over the map = ([\d.e+-]+)/);
  const analytic = -4 / (2 * 9.81 * 0.16);
  assert.ok(Math.abs(total - analytic) < 0.01 * Math.abs(analytic), `${total} vs ${analytic}`);
});

test('mpc-learn-pendulum.ts: the learner recovers g and m', () => {
  const out = run('mpc-learn-pendulum.ts');
  const last = out.trim().split('\n').pop()!;
  assert.ok(num(last, /imitation loss ([\d.e+-]+)/) < 1e-4, last);
  assert.ok(Math.abs(num(last, /g = ([\d.]+)/) - 10) < 0.05, last);
  assert.ok(Math.abs(num(last, /m = ([\d.]+)/) - 1) < 0.01, last);
});
