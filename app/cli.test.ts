// Tests of the `impulse` CLI as a user runs it: version, help, gradcheck JSON and exit codes,
// benchmark listing, the demo.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'impulse.js');

function impulse(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, IMPULSE_TF_BACKEND: '', IMPULSE_FROM_SOURCE: '1' },
  }); // the tests run the sources
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('impulse --version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = impulse('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('impulse --help lists the commands', () => {
  const r = impulse('--help');
  assert.equal(r.code, 0);
  for (const c of ['demo', 'gradcheck', 'bench', 'backend']) assert.match(r.stdout, new RegExp(`\\n  ${c}`));
});

test('impulse gradcheck --json prints [{name, maxAbsErr, maxRelErr, passed}] and exits 0 when all pass', () => {
  const r = impulse('gradcheck', '--json', '--filter', 'core.quat');
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { name: string; maxAbsErr: number; maxRelErr: number; passed: boolean }[];
  assert.ok(rows.length >= 10);
  for (const row of rows) {
    assert.deepEqual(Object.keys(row).sort(), ['maxAbsErr', 'maxRelErr', 'name', 'passed']);
    assert.ok(row.name.startsWith('core.quat'));
    assert.equal(row.passed, true);
    assert.ok(row.maxRelErr <= 1e-6);
  }
});

test('impulse gradcheck exits 1 and reports the failing check when a gradient is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-gc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const mod = join(dir, 'wrong-check.mts'); // .mts: an ES module wherever it lives
  const core = join(root, 'sim', 'core', 'index.ts');
  writeFileSync(
    mod,
    `import { registerGradcheck, customOp, mul, sum, tensor } from ${JSON.stringify(core)};
registerGradcheck('user.wrong-gradient', () => ({
  fn: (x) => sum(customOp('double-wrong', [x], ([a]) => [mul(a, 2)], ([g]) => [mul(g, 2.01)])[0]),
  inputs: [tensor([1, 2, 3])],
}));
`,
  );
  const r = impulse('gradcheck', '--json', '--filter', 'user.', '--module', mod);
  assert.equal(r.code, 1);
  const rows = JSON.parse(r.stdout) as { name: string; passed: boolean; maxRelErr: number }[];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.name, 'user.wrong-gradient');
  assert.equal(rows[0]!.passed, false);
  assert.ok(Math.abs(rows[0]!.maxRelErr - 0.005) < 1e-6, `maxRelErr ${rows[0]!.maxRelErr}`);
});

test('impulse bench without a name lists the benchmarks with what each measures, and an unknown one is an error naming the choices', () => {
  const r = impulse('bench');
  assert.equal(r.code, 0);
  const core = r.stdout.split('\n').find((l) => l.startsWith('core '));
  assert.ok(core && /throughput/.test(core), r.stdout);
  for (const line of r.stdout.split('\n\n')[0]!.split('\n')) assert.match(line, /^[a-z-]+ +\S.{10,}/, `a benchmark without a description: ${line}`);
  const bad = impulse('bench', 'nope');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown benchmark 'nope'; available: .*core/);
});

test('impulse demo --json runs the tour and reports a passing gradient check', () => {
  const r = impulse('demo', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as {
    mlp: { passed: boolean };
    leastSquares: { initialLoss: number; finalLoss: number; optimalLoss: number };
    physics: { bounce: { initialLoss: number; finalLoss: number } };
    mpc: { pendulum: { batch: number; converged: number; meanObjective: number } };
  };
  assert.equal(s.mlp.passed, true);
  assert.ok(s.leastSquares.finalLoss - s.leastSquares.optimalLoss < 1e-9, JSON.stringify(s.leastSquares));
  assert.ok(s.physics.bounce.finalLoss < 0.01 * s.physics.bounce.initialLoss, JSON.stringify(s.physics));
  assert.equal(s.mpc.pendulum.converged, s.mpc.pendulum.batch);
  assert.ok(Math.abs(s.mpc.pendulum.meanObjective - 14.927) < 1e-3, `mean objective ${s.mpc.pendulum.meanObjective}`);
});

test('output piped into a reader that stops early ends quietly (no EPIPE stack trace)', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'gradcheck'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('gradcheck --filter that matches nothing exits 1 (a CI job must not pass with nothing checked); --list --json prints JSON', () => {
  const none = impulse('gradcheck', '--filter', 'nothingmatches');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no registered check matches --filter 'nothingmatches'/);
  const list = impulse('gradcheck', '--list', '--json', '--filter', 'core.matmul');
  assert.equal(list.code, 0, list.stderr);
  const names = JSON.parse(list.stdout) as string[];
  assert.ok(names.length > 0 && names.every((n) => n.includes('core.matmul')));
});

test('with --json, option-parsing errors and command errors print the JSON error object on stdout', () => {
  const usage = impulse('eval', 'ape', 'a.tum', 'b.tum', '--t-max-diff', '-1', '--json');
  assert.equal(usage.code, 1);
  const u = JSON.parse(usage.stdout) as { error: { name: string; code: string; message: string } };
  assert.equal(u.error.name, 'UsageError');
  assert.equal(u.error.code, 'commander.invalidArgument');
  assert.match(u.error.message, /--t-max-diff must be >= 0/);
  const missing = impulse('convert', 'a.tum', '--json');
  assert.equal(JSON.parse(missing.stdout).error.code, 'commander.missingArgument');
  const thrown = impulse('gradcheck', '--filter', 'nothingmatches', '--json');
  assert.match(JSON.parse(thrown.stdout).error.message, /no registered check matches/);
});

test('impulse mpc terrain-robot refuses an --out in a missing folder before simulating', () => {
  const missing = join(tmpdir(), `impulse-no-such-folder-${process.pid}`, 'trajectory.json');
  const r = impulse('mpc', 'terrain-robot', '--no-check', '--out', missing);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the output folder '.*impulse-no-such-folder-\d+' does not exist/);
  assert.doesNotMatch(r.stdout + r.stderr, /terrain-robot step/, 'no step was simulated');
});
