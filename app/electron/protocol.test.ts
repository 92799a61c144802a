// Tests of the app:// protocol (app/electron/protocol.ts): URL to file mapping with traversal
// refused (.., encoded separators, NUL, other hosts), and the handler's responses (files with
// the CSP header, 404/403/405, symlinks leaving the renderer folder) on a temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RENDERER_CSP } from './csp.ts';
import { createRendererHandler, RENDERER_URL, resolveRendererPath } from './protocol.ts';

const ROOT = '/srv/app/dist/renderer';

test('resolveRendererPath maps app://impulse/ URLs into the renderer folder', () => {
  assert.equal(RENDERER_URL, 'app://impulse/index.html');
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/index.html'), { ok: true, file: `${ROOT}/index.html` });
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/'), { ok: true, file: `${ROOT}/index.html` });
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/assets/'), { ok: true, file: `${ROOT}/assets/index.html` });
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/app.js?v=1#x'), { ok: true, file: `${ROOT}/app.js` });
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/my%20file.css'), { ok: true, file: `${ROOT}/my file.css` });
  // the URL parser folds ../ and %2e%2e/ segments at the root: they stay inside
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/../../etc/passwd'), { ok: true, file: `${ROOT}/etc/passwd` });
  assert.deepEqual(resolveRendererPath(ROOT, 'app://impulse/%2e%2e/%2e%2e/etc/passwd'), { ok: true, file: `${ROOT}/etc/passwd` });
});

test('resolveRendererPath refuses traversal, odd bytes and foreign URLs', () => {
  const refused: Array<[string, number]> = [
    ['app://impulse/..%2f..%2fetc%2fpasswd', 403],
    ['app://impulse/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 403],
    ['app://impulse/a/..%2F..%2F..%2Fsecret', 403],
    ['app://impulse/.%2findex.html', 403],
    ['app://impulse/..%5c..%5cwindows', 400],
    ['app://impulse/index.html%00.png', 400],
    ['app://impulse/%E0%A4%A', 400],
    ['app://other/index.html', 404],
    ['https://impulse/index.html', 404],
    ['file:///etc/passwd', 404],
    ['::not a url', 400],
  ];
  for (const [url, status] of refused) {
    const r = resolveRendererPath(ROOT, url);
    assert.equal(r.ok, false, url);
    assert.equal(!r.ok && r.status, status, url);
  }
});

test('the handler serves files with the CSP and refuses the rest', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'impulse-protocol-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'renderer');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(root, 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'data.bin'), Buffer.from([1, 2, 3]));
  writeFileSync(join(base, 'secret.txt'), 'secret');
  symlinkSync(join(base, 'secret.txt'), join(root, 'link.txt'));
  const refusals: string[] = [];
  const handle = createRendererHandler(root, (url, status) => refusals.push(`${status} ${url}`));
  const get = (url: string, method = 'GET') => handle({ url, method });

  const index = await get('app://impulse/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), RENDERER_CSP);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await index.text(), '<!doctype html><title>x</title>');
  const js = await get('app://impulse/app.js');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const bin = await get('app://impulse/data.bin');
  assert.equal(bin.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual([...new Uint8Array(await bin.arrayBuffer())], [1, 2, 3]);
  const head = await get('app://impulse/app.js', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');

  assert.equal((await get('app://impulse/missing.js')).status, 404);
  assert.equal((await get('app://impulse/sub')).status, 404, 'a folder is not a file');
  assert.equal((await get('app://impulse/..%2fsecret.txt')).status, 403);
  const viaLink = await get('app://impulse/link.txt');
  assert.equal(viaLink.status, 403);
  assert.doesNotMatch(await viaLink.text(), /secret$/);
  assert.equal((await get('app://impulse/index.html', 'POST')).status, 405);
  assert.equal(refusals.length, 5);
});
