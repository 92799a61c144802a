// Tests of the `sim run` command (app/commands/sim.ts) through commander.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './sim.ts';
import { runCommand, type CommandOutput } from './test-util.ts';

const ROOT = join(import.meta.dirname, '../..');

const run = (args: string[]): Promise<CommandOutput> => runCommand(register, args);

test('sim run --json prints a summary and writes the trajectory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'traj.json');
  const r = await run(['sim', 'run', join(ROOT, 'examples/physics/bounce.json'), '--steps', '30', '--dt', '0.01', '--out', out, '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.steps, 30);
  assert.equal(s.dt, 0.01);
  assert.equal(s.particles, 1);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).particles.length, 31);
});

test('sim run prints human-readable text without --json', async () => {
  const r = await run(['sim', 'run', join(ROOT, 'examples/physics/box-slide.json'), '--steps', '20']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /3 bodies/);
  assert.match(r.out, /body 0 {5}final position/);
});

test('sim run reports bad input with the field at fault and exit code 1', async () => {
  const r = await run(['sim', 'run', join(ROOT, 'examples/physics/bounce.json'), '--dt', '0']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--dt 0: must be a finite number > 0/);
  const r2 = await run(['sim', 'run', join(ROOT, 'examples/physics/bounce.json'), '--steps', 'ten']);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /--steps ten: expected an integer/);
});
