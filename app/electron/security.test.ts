// Tests of the window and session security (app/electron/security.ts, csp.ts): every
// webPreferences flag, the Content-Security-Policy, the external-link and request checks, and
// the guards installed on fake webContents / session objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCsp, CSP_DIRECTIVES, RENDERER_CSP } from './csp.ts';
import {
  buildWindowOptions,
  installContentsGuards,
  installSessionGuards,
  isAllowedRequest,
  isSafeExternalUrl,
  type GuardedContents,
  type GuardedSession,
} from './security.ts';
import type { ShellLogger } from './types.ts';

function logs() {
  const lines: string[] = [];
  const logger: ShellLogger = { warn: (m) => lines.push(m), error: (m) => lines.push(`error ${m}`) };
  return { lines, logger };
}

test('window options: isolation, sandbox, no Node, web security, no webview, DevTools only in dev', () => {
  for (const dev of [false, true]) {
    const o = buildWindowOptions({ preload: '/app/dist/electron/preload.cjs', dev });
    const w = o.webPreferences!;
    assert.equal(w.contextIsolation, true);
    assert.equal(w.sandbox, true);
    assert.equal(w.nodeIntegration, false);
    assert.equal(w.nodeIntegrationInWorker, false);
    assert.equal(w.nodeIntegrationInSubFrames, false);
    assert.equal(w.webSecurity, true);
    assert.equal(w.allowRunningInsecureContent, false);
    assert.equal(w.experimentalFeatures, false);
    assert.equal(w.webviewTag, false);
    assert.equal(w.navigateOnDragDrop, false);
    assert.equal(w.enableWebSQL, false);
    assert.equal(w.devTools, dev);
    assert.equal(w.preload, '/app/dist/electron/preload.cjs');
    assert.equal(o.show, false, 'shown on ready-to-show, not blank');
    assert.equal(o.icon, undefined);
  }
  assert.equal(buildWindowOptions({ preload: '/p.cjs', icon: '/i.png', dev: false }).icon, '/i.png');
});

test('CSP: nothing by default, scripts only from the app (no eval, no inline), no frames, objects, forms or base changes', () => {
  const d = new Map(
    RENDERER_CSP.split(';')
      .map((s) => s.trim().split(/\s+/) as [string, ...string[]])
      .map(([k, ...v]) => [k, v]),
  );
  assert.deepEqual(d.get('default-src'), ["'none'"]);
  assert.deepEqual(d.get('script-src'), ["'self'"]);
  assert.deepEqual(d.get('style-src'), ["'self'"]);
  assert.deepEqual(d.get('connect-src'), ["'self'"]);
  for (const k of ['object-src', 'frame-src', 'frame-ancestors', 'form-action', 'base-uri', 'child-src']) assert.deepEqual(d.get(k), ["'none'"], k);
  assert.doesNotMatch(RENDERER_CSP, /unsafe|\*|https?:/);
  assert.equal(buildCsp([['default-src', ["'self'"]]]), "default-src 'self'");
  assert.equal(d.size, CSP_DIRECTIVES.length);
});

test('isSafeExternalUrl: http(s) with a host and no credentials only', () => {
  for (const u of ['https://github.com/foxglove/mcap', 'http://example.org/a?b=c#d']) assert.equal(isSafeExternalUrl(u), true, u);
  for (const u of [
    'file:///etc/passwd',
    'javascript:alert(1)',
    'app://impulse/index.html',
    'smb://host/share',
    'https://user:pw@example.org/',
    'https://',
    'not a url',
    `https://example.org/${'a'.repeat(3000)}`,
  ])
    assert.equal(isSafeExternalUrl(u), false, u);
});

test('isAllowedRequest: the app:// renderer, data:, blob:, devtools: only (no remote content)', () => {
  for (const u of [
    'app://impulse/index.html',
    'app://impulse/app.js',
    'data:image/png;base64,AA',
    'blob:app://impulse/1234',
    'devtools://devtools/bundled/x.html',
  ])
    assert.equal(isAllowedRequest(u), true, u);
  for (const u of ['https://cdn.example/lib.js', 'http://127.0.0.1:9000/', 'ws://localhost/', 'file:///etc/hosts', 'app://elsewhere/x', 'ftp://x/', '::'])
    assert.equal(isAllowedRequest(u), false, u);
});

function fakeContents() {
  const listeners = new Map<string, (event: { preventDefault(): void; url: string }) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const contents: GuardedContents = {
    on: (name: string, l: (event: { preventDefault(): void; url: string }) => void) => listeners.set(name, l),
    setWindowOpenHandler: (h) => {
      openHandler = h;
    },
  };
  const fire = (name: string, url = '') => {
    let prevented = false;
    listeners.get(name)!({ url, preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { contents, fire, open: (url: string) => openHandler!({ url }), listeners };
}

test('contents guards: every navigation, redirect and webview is prevented; window.open denied, safe links go to the system browser', async () => {
  const { contents, fire, open, listeners } = fakeContents();
  const opened: string[] = [];
  const { lines, logger } = logs();
  installContentsGuards(contents, { openExternal: (u) => void opened.push(u), logger });
  assert.deepEqual([...listeners.keys()].sort(), ['will-attach-webview', 'will-frame-navigate', 'will-navigate', 'will-redirect']);
  assert.equal(fire('will-navigate', 'https://evil.example/'), true);
  assert.equal(fire('will-navigate', 'app://impulse/other.html'), true);
  assert.equal(fire('will-frame-navigate', 'file:///etc/passwd'), true);
  assert.equal(fire('will-redirect', 'https://x.example/'), true);
  assert.equal(fire('will-attach-webview'), true);
  assert.deepEqual(open('https://github.com/'), { action: 'deny' });
  assert.deepEqual(open('file:///home/user/.ssh/id_rsa'), { action: 'deny' });
  assert.deepEqual(open('javascript:alert(1)'), { action: 'deny' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(opened, ['https://github.com/']);
  assert.ok(lines.some((l) => l.startsWith('blocked navigation to "https://evil.example/"')));
  assert.ok(lines.some((l) => l.startsWith('blocked window.open of "file:///home/user/.ssh/id_rsa"')));
});

test('contents guards: a failing system browser is logged, not thrown', async () => {
  const { contents, open } = fakeContents();
  const { lines, logger } = logs();
  installContentsGuards(contents, { openExternal: () => Promise.reject(new Error('no browser')), logger });
  assert.deepEqual(open('https://example.org/'), { action: 'deny' });
  await new Promise((r) => setImmediate(r));
  assert.match(lines.join('\n'), /could not open https:\/\/example.org\/ in the system browser: no browser/);
});

test('session guards: permission requests and checks denied, remote requests cancelled', () => {
  let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | undefined;
  let check: ((wc: unknown, p: string) => boolean) | undefined;
  let before: ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | undefined;
  let filter: { urls: string[] } | undefined;
  const session: GuardedSession = {
    setPermissionRequestHandler: (h) => void (request = h),
    setPermissionCheckHandler: (h) => void (check = h),
    webRequest: { onBeforeRequest: (f, l) => void ((filter = f), (before = l)) },
  };
  const { lines, logger } = logs();
  installSessionGuards(session, logger);
  for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
    let granted: boolean | undefined;
    request!({}, p, (g) => (granted = g));
    assert.equal(granted, false, p);
    assert.equal(check!({}, p), false, p);
  }
  assert.ok(lines.includes('denied permission request: media'));
  assert.deepEqual(filter, { urls: ['*://*/*'] });
  const decide = (url: string) => {
    let cancel: boolean | undefined;
    before!({ url }, (r) => (cancel = r.cancel));
    return cancel;
  };
  assert.equal(decide('https://cdn.example/x.js'), true);
  assert.equal(decide('app://impulse/app.js'), false);
});
