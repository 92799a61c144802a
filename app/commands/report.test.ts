// Tests of `impulse report RUN`: builds the report of a run folder and prints its path and a
// file:// URL (JSON with --json); a missing folder is a named error, also as a JSON error object.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFixtureRun } from '../report/test-fixture.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'impulse.js');
let tmp: string;

function impulse(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'impulse-report-cli-'));
  await writeFixtureRun(join(tmp, 'run'), { every: 10, history: false });
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('impulse report RUN writes the report and prints its path, URL, plots and what is missing', () => {
  const run = join(tmp, 'run');
  const r = impulse('report', run);
  assert.equal(r.code, 0, r.stderr);
  const html = join(run, 'report', 'index.html');
  assert.ok(existsSync(html));
  assert.match(r.stdout, new RegExp(`^report +${html.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
  assert.ok(r.stdout.includes(`open     ${pathToFileURL(html).href}\n`));
  assert.match(r.stdout, /plots +paths\.png, error-vs-horizon\.png, data-efficiency\.png/);
  assert.match(r.stdout, /missing +history\.json \(no loss curves\)/);
  const j = impulse('report', run, '--json', '--no-png', '--out', join(tmp, 'elsewhere'));
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { html: string; url: string; plots: { name: string; png?: string }[]; missing: string[] };
  assert.equal(out.html, join(tmp, 'elsewhere', 'index.html'));
  assert.deepEqual(out.missing, ['history.json']);
  assert.ok(out.plots.every((p) => p.png === undefined));
  assert.ok(!existsSync(join(tmp, 'elsewhere', 'paths.png')));
});

test('impulse report on a missing folder: RunFileError naming it, JSON error with --json', () => {
  const r = impulse('report', join(tmp, 'nope'), '--json');
  assert.equal(r.code, 1);
  const e = JSON.parse(r.stdout) as { error: { name: string; file: string; message: string } };
  assert.equal(e.error.name, 'RunFileError');
  assert.equal(e.error.file, join(tmp, 'nope'));
  assert.match(r.stderr, /RunFileError: .*nope: run folder not found/);
});
