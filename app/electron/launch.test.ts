// Tests of the launcher (app/launch.ts) and the Electron launch test. The probe and the web
// fall-back are tested with injected module loaders; the launch test starts the real app with
// the self-test flag (load the renderer, check the bridge, IPC, blocked navigation and remote
// requests, quit) and runs only where the Electron binary is installed: elsewhere it is skipped
// with a message saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELECTRON_ENTRY, launchApp, probeElectron, RENDERER_INDEX } from '../launch.ts';
import { buildElectron, REPO_ROOT } from './build.ts';
import { SMOKE_TEST_FLAG } from './args.ts';
import { SMOKE_PREFIX, type SmokeReport } from './smoke.ts';

/** A fake `require` for the probe: resolve() and the module's value (or throw). */
function fakeRequire(opts: { installed: boolean; exported?: unknown; throws?: string }): NodeJS.Require {
  const req = ((id: string) => {
    if (id === 'electron') {
      if (opts.throws) throw new Error(opts.throws);
      return opts.exported;
    }
    if (id.endsWith('package.json')) return { version: '41.7.1' };
    throw new Error(`unexpected ${id}`);
  }) as NodeJS.Require;
  req.resolve = ((id: string) => {
    if (!opts.installed) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    return `/nm/${id}`;
  }) as NodeJS.RequireResolve;
  return req;
}

test('probeElectron says why Electron cannot start', () => {
  const display = { DISPLAY: ':0' };
  assert.match(
    (probeElectron({ require: fakeRequire({ installed: false }), env: display }) as { reason: string }).reason,
    /optional dependency 'electron' is not installed/,
  );
  const noBinary = probeElectron({
    require: fakeRequire({ installed: true, throws: 'Electron failed to install correctly, please delete node_modules/electron' }),
    env: display,
  });
  assert.deepEqual(noBinary.available, false);
  assert.match(
    (noBinary as { reason: string }).reason,
    /Electron binary is not installed \(the 'electron' package is there but its binary download was skipped or failed\)/,
  );
  const missing = probeElectron({ require: fakeRequire({ installed: true, exported: '/nm/electron/dist/electron-does-not-exist' }), env: display });
  assert.match((missing as { reason: string }).reason, /binary is not installed \(\/nm\/electron\/dist\/electron-does-not-exist is missing\)/);
  // a file that exists stands in for the binary
  const present = { installed: true, exported: process.execPath };
  assert.match((probeElectron({ require: fakeRequire(present), env: {}, platform: 'linux' }) as { reason: string }).reason, /no display/);
  assert.deepEqual(probeElectron({ require: fakeRequire(present), env: { WAYLAND_DISPLAY: 'wayland-0' }, platform: 'linux' }), {
    available: true,
    binary: process.execPath,
    version: '41.7.1',
  });
  assert.equal(probeElectron({ require: fakeRequire(present), env: {}, platform: 'darwin' }).available, true);
});

test('launchApp falls back to the web mode with the reason, and refuses missing files by name', async () => {
  assert.deepEqual(await launchApp({ preferWeb: true }), { mode: 'web', reason: 'web mode requested' });
  assert.deepEqual(await launchApp({ probe: { available: false, reason: 'no display' } }), { mode: 'web', reason: 'no display' });
  await assert.rejects(
    launchApp({ probe: { available: true, binary: process.execPath, version: 'x' }, files: ['/no/such/log.mcap'] }),
    /\/no\/such\/log\.mcap: no such file or folder/,
  );
});

test('Electron launch: the app starts, loads the renderer securely and quits', async (t) => {
  const probe = probeElectron({ env: { ...process.env, DISPLAY: process.env.DISPLAY ?? ':99' } });
  if (!probe.available) return t.skip(`Electron launch test skipped: ${probe.reason}`);
  const display = process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
  const xvfb = !display && spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).status === 0;
  if (!display && !xvfb) return t.skip('skipped: the Electron binary is installed but there is no display and no xvfb-run');
  if (!existsSync(RENDERER_INDEX)) {
    const build = join(REPO_ROOT, 'scripts', 'build-renderer.mjs');
    if (!existsSync(build)) return t.skip(`skipped: the renderer is not built (${RENDERER_INDEX}) and scripts/build-renderer.mjs is absent`);
    assert.equal(spawnSync(process.execPath, [build], { cwd: REPO_ROOT, stdio: 'inherit' }).status, 0, 'renderer build');
  }
  await buildElectron();
  const userData = mkdtempSync(join(tmpdir(), 'impulse-electron-'));
  t.after(() => rmSync(userData, { recursive: true, force: true }));
  // Chromium refuses to run as root without --no-sandbox (CI containers); renderers still get
  // Electron's sandbox (no Node), which the self-test checks.
  const switches = [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu'];
  const argv = [probe.binary, ELECTRON_ENTRY, ...switches, SMOKE_TEST_FLAG];
  const [cmd, ...args] = xvfb ? ['xvfb-run', '-a', ...argv] : argv;
  const env: NodeJS.ProcessEnv = { ...process.env, IMPULSE_USER_DATA: userData };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(cmd!, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((ok) => child.on('exit', ok));
  clearTimeout(timer);
  const line = out.split('\n').find((l) => l.startsWith(SMOKE_PREFIX));
  assert.ok(line, `no ${SMOKE_PREFIX.trim()} line (exit ${code}); stderr:\n${err.slice(-4000)}`);
  const report = JSON.parse(line.slice(SMOKE_PREFIX.length)) as SmokeReport;
  assert.deepEqual(report.failures, []);
  assert.equal(report.ok, true);
  assert.equal(report.url, 'app://impulse/index.html');
  assert.deepEqual(report.bridgeKeys, ['call', 'onEvent', 'pathForFile', 'platform']);
  assert.equal(code, 0);
});
