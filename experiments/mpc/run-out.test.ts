// Tests of the default output of the experiments that write files (experiments/mpc/physics-experiments.ts):
// a fresh folder under runs/, never the working directory itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { defaultRunOut } from './physics-experiments.ts';

test('defaultRunOut: runs/mpc-<name>-<date>/<name>.json, a new folder per run, nothing in the working directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'impulse-runs-'));
  try {
    const now = new Date(2026, 0, 2, 3, 4, 5);
    const a = defaultRunOut('drone', cwd, now);
    const b = defaultRunOut('drone', cwd, now);
    assert.equal(relative(cwd, a), join('runs', 'mpc-drone-20260102-030405', 'drone.json'));
    assert.equal(relative(cwd, b), join('runs', 'mpc-drone-20260102-030405-2', 'drone.json'));
    assert.ok(statSync(dirname(a)).isDirectory() && statSync(dirname(b)).isDirectory());
    assert.deepEqual(readdirSync(cwd), ['runs']);
    assert.ok(!existsSync(join(cwd, 'drone.json')));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
