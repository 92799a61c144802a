// Tests of the web mode (app/server) without a browser: the token guard on HTTP and WebSocket
// (403 without it or with a wrong one, or with a foreign Host / Origin), the CSP and cookie of the
// page, the API's validation over HTTP (400 naming the field), events over the WebSocket, and
// `impulse app --web --no-open --json` serving until SIGINT, then exiting cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import WebSocket from 'ws';
import { startWebServer } from './index.ts';
import { hasDisplay } from '../commands/app.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A raw GET with chosen headers (fetch does not let a test set Host). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path, headers }, (resp) => {
      resp.resume();
      res(resp.statusCode ?? 0);
    });
    r.on('error', rej);
    r.end();
  });
}

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((res) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_q, resp) => res(resp.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      res(101);
    });
    ws.on('error', () => res(-1));
  });
}

test('token guard, CSP, validation and events of the web server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-server-test-'));
  const s = await startWebServer({ backend: { runsDir: join(dir, 'runs') } });
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(s.token.length, 64);
    const noTok = await fetch(s.url);
    assert.equal(noTok.status, 403);
    assert.match(((await noTok.json()) as { error: { message: string } }).error.message, /token/);
    assert.equal((await fetch(`${s.url}?token=${'a'.repeat(64)}`)).status, 403);
    const page = await fetch(s.urlWithToken);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
    assert.match(page.headers.get('set-cookie') ?? '', /impulse_token=[0-9a-f]{64}; HttpOnly; SameSite=Strict/);
    const html = await page.text();
    assert.match(html, /<script src="app\.js" defer><\/script>/);
    assert.doesNotMatch(html, /<script>[^<]/, 'no inline script');
    const js = await fetch(`${s.url}app.js`, { headers: { cookie: `impulse_token=${s.token}` } });
    assert.equal(js.status, 200);
    // DNS rebinding: a foreign Host or Origin is refused even with the token
    assert.equal(await rawGet(s.port, `/?token=${s.token}`, { host: `evil.example:${s.port}` }), 403);
    assert.equal(await rawGet(s.port, `/?token=${s.token}`, { host: `127.0.0.1:${s.port}`, origin: 'http://evil.example' }), 403);
    const call = (body: unknown, token?: string): Promise<Response> =>
      fetch(`${s.url}api/call`, { method: 'POST', headers: token ? { 'x-impulse-token': token } : {}, body: JSON.stringify(body) });
    assert.equal((await call({ method: 'listOpen' })).status, 403);
    const bad = await call({ method: 'openFile', path: 'x', extra: true }, s.token);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /openFile: extra: unknown field/);
    const notJson = await fetch(`${s.url}api/call`, { method: 'POST', headers: { 'x-impulse-token': s.token }, body: '{oops' });
    assert.equal(notJson.status, 400);
    const nf = await call({ method: 'openFile', path: join(dir, 'nope.tum') }, s.token);
    assert.equal(nf.status, 404);
    // WebSocket: refused without the token, events flow with it
    assert.equal(await wsStatus(`ws://127.0.0.1:${s.port}/api/events`), 403);
    assert.equal(await wsStatus(`ws://127.0.0.1:${s.port}/api/events?token=${'b'.repeat(64)}`), 403);
    assert.equal(await wsStatus(`ws://127.0.0.1:${s.port}/api/events?token=${s.token}`, { origin: 'http://evil.example' }), 403);
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api/events?token=${s.token}`);
    await new Promise((res, rej) => (ws.on('open', res), ws.on('error', rej)));
    const got = new Promise<{ type: string }>((res) => ws.on('message', (d) => res(JSON.parse(String(d)) as { type: string })));
    const started = await call({ method: 'startRun', kind: 'sim', args: { scene: 'box-slide', steps: 5 } }, s.token);
    assert.equal(started.status, 200);
    assert.equal((await got).type, 'run-started');
    ws.close();
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hasDisplay: a display on Linux needs DISPLAY or WAYLAND_DISPLAY', () => {
  assert.equal(hasDisplay({}, 'linux'), false);
  assert.equal(hasDisplay({ DISPLAY: ':0' }, 'linux'), true);
  assert.equal(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), true);
  assert.equal(hasDisplay({}, 'darwin'), true);
});

test('impulse app --web --no-open --json serves the app until SIGINT', async () => {
  const env = { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '', HOME: mkdtempSync(join(tmpdir(), 'impulse-home-')) };
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'impulse.js'), 'app', '--web', '--no-open', '--json', join(ROOT, 'examples', 'data', 'KITTI_00_gt.txt')],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  try {
    const line = await new Promise<string>((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error(`no URL printed; stderr: ${err}`)), 60000);
      child.stdout.on('data', (d) => {
        out += String(d);
        const i = out.indexOf('\n');
        if (i >= 0) {
          clearTimeout(t);
          res(out.slice(0, i));
        }
      });
      child.on('exit', (code) => rej(new Error(`exited ${code}: ${err}`)));
    });
    const info = JSON.parse(line) as { url: string; token: string; port: number };
    assert.match(info.url, new RegExp(`^http://127\\.0\\.0\\.1:${info.port}/\\?token=${info.token}$`));
    assert.equal((await fetch(info.url)).status, 200);
    const open = await fetch(`http://127.0.0.1:${info.port}/api/call`, {
      method: 'POST',
      headers: { 'x-impulse-token': info.token },
      body: JSON.stringify({ method: 'listOpen' }),
    });
    const files = ((await open.json()) as { result: { files: { name: string }[] } }).result.files;
    assert.deepEqual(
      files.map((f) => f.name),
      ['KITTI_00_gt.txt'],
    );
    const code = await new Promise<number | null>((res) => {
      child.on('exit', (c) => res(c));
      child.kill('SIGINT');
    });
    assert.equal(code, 0, err);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(env.HOME, { recursive: true, force: true });
  }
});
