// Tests of the `sim run` command (app/commands/sim.ts) through commander.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from './sim.ts';

const ROOT = join(import.meta.dirname, '../..');

async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  let err = '';
  const w = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  // strings only: the test runner's own (binary) messages pass through while a module import is awaited
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((out += s), true) : w(s, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((err += s), true) : e(s, ...rest)) as typeof process.stderr.write;
  const prev = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'impulse', ...args]);
  } catch (x) {
    err += (x as Error).message;
    process.exitCode = 1;
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = prev;
  return { out, err, code };
}

test('sim run --json prints a summary and writes the trajectory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-cli-'));
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
