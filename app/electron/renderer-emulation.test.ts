// The renderer under the desktop shell's rules, in a real Chromium (Debian's, as the e2e tests
// use) where the Electron binary is absent: the built renderer is served by the shell's own
// app:// handler (its files, its Content-Security-Policy header), `window.impulse` is made by the
// real preload bundle over a stand-in for Electron's IPC, and every call goes through the
// main-process validation (handleCall) to the real app API backend. Checks that the app starts
// with no CSP violation or page error, opens a bundled trajectory through the bridge, and shows a
// bad file's error. Skipped, saying why, without Chromium or the app API / renderer sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALL_CHANNEL, EVENT_CHANNEL } from './bridge.ts';
import { buildPreload, REPO_ROOT } from './build.ts';
import { handleCall, type InvokeEventLike } from './ipc.ts';
import { createRendererHandler, RENDERER_URL } from './protocol.ts';
import type { ShellBackend } from './types.ts';

const CHROMIUM = process.env.IMPULSE_CHROMIUM ?? '/usr/bin/chromium';
const RENDERER_DIR = join(REPO_ROOT, 'dist', 'renderer');
const WINDOW_ID = 1;
const OUR_FRAME: InvokeEventLike = { sender: { id: WINDOW_ID }, senderFrame: { url: RENDERER_URL, parent: null } };

/** The init script: the preload bundle run against a stand-in `electron` module, plus a CSP violation log. */
function initScript(preloadCode: string): string {
  return `(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  const listeners = new Set();
  window.__impulseIpcEmit = (payload) => listeners.forEach((l) => l({}, payload));
  const electron = {
    contextBridge: { exposeInMainWorld: (key, api) => Object.defineProperty(window, key, { value: Object.freeze(api), enumerable: true }) },
    ipcRenderer: {
      invoke: (channel, msg) => window.__impulseIpcInvoke(channel, msg),
      on: (channel, l) => { if (channel === ${JSON.stringify(EVENT_CHANNEL)}) listeners.add(l); },
      removeListener: (channel, l) => listeners.delete(l),
    },
    webUtils: { getPathForFile: () => '' },
  };
  const module = { exports: {} };
  (function (require, module, exports) {
${preloadCode}
  })((id) => { if (id !== 'electron') throw new Error('a sandboxed preload cannot require ' + id); return electron; }, module, module.exports);
})();`;
}

test('the renderer runs under the shell’s CSP and bridge in Chromium, through IPC validation to the real backend', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`skipped: Chromium is not installed at ${CHROMIUM} (set IMPULSE_CHROMIUM)`);
  // the app API and the renderer build live in app/api and app/server (variable specifiers: optional here)
  const backendModule = '../api/backend.ts';
  const buildModule = '../server/renderer-build.ts';
  let createApiBackend: (opts: object) => ShellBackend;
  try {
    ({ createApiBackend } = (await import(backendModule)) as { createApiBackend: (opts: object) => ShellBackend });
  } catch (e) {
    return t.skip(`skipped: the app API (app/api/backend.ts) cannot be loaded: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const { ensureRendererBuilt } = (await import(buildModule)) as { ensureRendererBuilt: () => Promise<void> };
    await ensureRendererBuilt();
  } catch (e) {
    if (!existsSync(join(RENDERER_DIR, 'index.html')))
      return t.skip(`skipped: the renderer is not built and cannot be: ${(e as Error).message.split('\n')[0]}`);
  }
  const { chromium } = await import('playwright-core');

  const tmp = mkdtempSync(join(tmpdir(), 'impulse-emulation-'));
  const backend = createApiBackend({});
  const serve = createRendererHandler(RENDERER_DIR);
  const server = createServer((req, res) => {
    void serve({ url: `app://impulse${req.url ?? '/'}`, method: req.method ?? 'GET' }).then(async (r) => {
      r.headers.forEach((value, name) => res.setHeader(name, value));
      res.writeHead(r.status);
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  t.after(async () => {
    await browser.close();
    server.close();
    await backend.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const preload = readFileSync(await buildPreload(tmp), 'utf8');
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const calls: string[] = [];
  await page.exposeFunction('__impulseIpcInvoke', async (channel: string, msg: unknown) => {
    calls.push((msg as { method?: string })?.method ?? '?');
    if (channel !== CALL_CHANNEL) return { ok: false, error: { code: 'forbidden', message: `unknown channel ${channel}` } };
    return handleCall(OUR_FRAME, [msg], backend, { windowContentsId: () => WINDOW_ID, logger: { warn: () => undefined, error: () => undefined } });
  });
  backend.onEvent(
    (e) => void page.evaluate((payload) => (window as unknown as { __impulseIpcEmit(p: unknown): void }).__impulseIpcEmit(payload), e).catch(() => undefined),
  );
  await page.addInitScript(initScript(preload));
  const { port } = server.address() as AddressInfo;
  const response = await page.goto(`http://127.0.0.1:${port}/index.html`);
  assert.equal(response?.headers()['content-security-policy']?.startsWith("default-src 'none'"), true);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => (window as unknown as { impulse?: { platform: string } }).impulse?.platform), 'electron');
  assert.ok(calls.includes('listOpen'), `the renderer spoke through the bridge (${calls.join(', ')})`);

  // open a bundled trajectory the way the UI does, through the bridge and the IPC validation
  const gt = join(REPO_ROOT, 'examples', 'data', 'KITTI_00_gt.txt');
  type Hook = { __impulseTest: { openPath(p: string): Promise<void>; facts(): { trajectoryCount: number; errors: string[] } } };
  await page.evaluate((p) => (window as unknown as Hook).__impulseTest.openPath(p), gt);
  const facts = await page.evaluate(() => (window as unknown as Hook).__impulseTest.facts());
  assert.ok(facts.trajectoryCount >= 1, `trajectories shown: ${facts.trajectoryCount}`);
  // a bad file is an error message in the UI, not a blank window
  const bad = join(tmp, 'broken.tum');
  writeFileSync(bad, '1.0 2.0 three\n');
  await page.evaluate((p) => (window as unknown as Hook).__impulseTest.openPath(p), bad);
  const after = await page.evaluate(() => (window as unknown as Hook).__impulseTest.facts());
  assert.ok(
    after.errors.some((m) => m.includes('broken.tum')),
    `error shown: ${JSON.stringify(after.errors)}`,
  );

  assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations), [], 'no CSP violation');
  assert.deepEqual(pageErrors, [], 'no page error');
});
