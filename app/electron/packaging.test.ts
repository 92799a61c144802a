// Tests of the packaging and build (app/electron): electron-builder.yml loaded and validated
// against electron-builder's own configuration schema, plus the keys this project requires;
// the preload bundle built with esbuild and run against a fake `electron` module (it must expose
// exactly window.impulse and speak the IPC envelope); the icon set rendered from the SVG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { z } from 'zod';
import { CALL_CHANNEL, EVENT_CHANNEL } from './bridge.ts';
import { buildIcons, buildPreload, ICON_SIZES, REPO_ROOT } from './build.ts';

// electron-builder's own loader (js-yaml) and validator, from its installed copy
const builderRequire = createRequire(createRequire(import.meta.url).resolve('electron-builder'));
const yaml = builderRequire('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = builderRequire('app-builder-lib/out/util/config/config') as {
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(k: string, v: unknown): void }): Promise<void>;
};
const quietLogger = { isEnabled: false, add: () => undefined };

const requiredKeys = z.looseObject({
  appId: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/),
  productName: z.literal('Impulse'),
  directories: z.looseObject({ output: z.string().startsWith('out/') }),
  extraMetadata: z.looseObject({ main: z.literal('app/electron/bootstrap.mjs') }),
  files: z.array(z.string()).min(1),
  linux: z.looseObject({
    target: z.array(z.looseObject({ target: z.string() })),
    category: z.string().min(1),
    maintainer: z.string().regex(/^.+ <[^@\s]+@[^@\s]+>$/),
    icon: z.string(),
  }),
});

test('electron-builder.yml passes electron-builder’s schema and sets what packaging needs', async () => {
  const config = yaml.load(readFileSync(join(REPO_ROOT, 'electron-builder.yml'), 'utf8'));
  await validateConfiguration(config, quietLogger);
  const c = requiredKeys.parse(config);
  assert.deepEqual(
    c.linux.target.map((t) => t.target),
    ['AppImage', 'deb'],
  );
  assert.equal(c.linux.category, 'Science');
  assert.equal(c.linux.icon, 'dist/electron/icons');
  // the files list holds what the app runs and leaves tests out
  for (const f of ['package.json', 'app/electron/bootstrap.mjs', 'dist/renderer/**', 'dist/electron/**', '!**/*.test.ts']) assert.ok(c.files.includes(f), f);
  assert.ok(!c.files.some((f) => /^(node_modules|bench|e2e|docs|scripts)\b/.test(f)), 'no dev folders packaged');
  // the entry it points at is in the repository
  assert.ok(statSync(join(REPO_ROOT, c.extraMetadata.main)).isFile());
});

test('the validator really rejects a broken configuration', async () => {
  await assert.rejects(validateConfiguration({ appId: 'x.y', linux: { target: 'AppImage', bogusOption: true } }, quietLogger), /configuration/i);
});

interface FakeInvoke {
  channel: string;
  args: unknown[];
}

/** Runs the bundled preload in a VM with a fake electron module; returns what it exposed. */
function loadPreload(code: string, reply: (msg: unknown) => unknown) {
  const exposed = new Map<string, unknown>();
  const invokes: FakeInvoke[] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invokes.push({ channel, args });
        return reply(args[0]);
      },
      on: (c: string, l: (...a: unknown[]) => void) => void (listeners.get(c) ?? listeners.set(c, new Set()).get(c)!).add(l),
      removeListener: (c: string, l: (...a: unknown[]) => void) => void listeners.get(c)?.delete(l),
    },
    webUtils: { getPathForFile: (f: { fakePath: string }) => f.fakePath },
  };
  const requested: string[] = [];
  const module = { exports: {} };
  const sandbox = {
    module,
    exports: module.exports,
    require: (id: string) => {
      requested.push(id);
      if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
      return electron;
    },
  };
  vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
  return { exposed, invokes, listeners, requested };
}

test('the preload bundle needs only electron and exposes exactly window.impulse', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'impulse-preload-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const code = readFileSync(await buildPreload(out), 'utf8');
  const { exposed, invokes, listeners, requested } = loadPreload(code, (msg) => {
    const m = msg as { method: string; params?: { path?: string } };
    if (m.method === 'openFile' && m.params?.path === '/ok.tum') return { ok: true, value: { id: 'f1' } };
    if (m.method === 'openFile')
      return { ok: false, error: { code: 'not-found', message: `${m.params?.path}: no such file or folder`, details: { file: m.params?.path } } };
    return 'garbage';
  });
  assert.deepEqual(requested, ['electron']);
  assert.deepEqual([...exposed.keys()], ['impulse']);
  const api = exposed.get('impulse') as {
    call(m: unknown, p?: unknown): Promise<unknown>;
    onEvent(cb: unknown): () => void;
    pathForFile(f: unknown): string;
    platform: string;
  };
  assert.deepEqual(Object.keys(api).sort(), ['call', 'onEvent', 'pathForFile', 'platform']);
  assert.equal(api.platform, 'electron');
  assert.equal(api.pathForFile({ fakePath: '/home/u/a.mcap' }), '/home/u/a.mcap');

  assert.deepEqual(await api.call('openFile', { path: '/ok.tum' }), { id: 'f1' });
  await assert.rejects(api.call('listOpen'), { code: 'internal', message: 'listOpen: malformed reply from the main process' });
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown; // objects made inside the VM have its prototypes
  assert.deepEqual(plain(invokes), [
    { channel: CALL_CHANNEL, args: [{ method: 'openFile', params: { path: '/ok.tum' } }] },
    { channel: CALL_CHANNEL, args: [{ method: 'listOpen' }] },
  ]);
  await assert.rejects(api.call('openFile', { path: '/missing' }), (e: unknown) => {
    assert.deepEqual(plain(e), { name: 'ApiError', code: 'not-found', message: '/missing: no such file or folder', details: { file: '/missing' } });
    return true;
  });
  await assert.rejects(api.call(42), { code: 'invalid-request' });
  assert.equal(invokes.length, 3, 'a non-string method never reaches IPC');

  const got: unknown[] = [];
  const off = api.onEvent((e: unknown) => got.push(e));
  const l = [...listeners.get(EVENT_CHANNEL)!][0]!;
  l({ sender: 'the IPC event must not reach the page' }, { type: 'shell-open', paths: ['/a.tum'] });
  assert.deepEqual(got, [{ type: 'shell-open', paths: ['/a.tum'] }]);
  off();
  assert.equal(listeners.get(EVENT_CHANNEL)!.size, 0);
  assert.throws(() => api.onEvent('not a function'), /must be a function/);
});

test('the icon set is rendered from the SVG at every size', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'impulse-icons-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const files = await buildIcons(out);
  assert.equal(files.length, ICON_SIZES.length);
  for (const [i, size] of ICON_SIZES.entries()) {
    const png = readFileSync(files[i]!);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.readUInt32BE(16), size, 'width');
    assert.equal(png.readUInt32BE(20), size, 'height');
    assert.ok(files[i]!.endsWith(`${size}x${size}.png`));
  }
});
