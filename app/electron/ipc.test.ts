// Tests of the main-process IPC (app/electron/ipc.ts): the sender check (our window's top frame
// on app://impulse only), envelope validation, payload limits, error replies and event
// forwarding, with fake IpcMainInvokeEvent objects and a fake backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CALL_CHANNEL,
  EVENT_CHANNEL,
  forwardEvents,
  handleCall,
  isRendererUrl,
  registerIpc,
  senderRefusal,
  toReplyError,
  type FrameLike,
  type InvokeEventLike,
} from './ipc.ts';
import { checkJsonPayload, PayloadError } from './payload.ts';
import type { ShellBackend, ShellLogger } from './types.ts';

const WIN_ID = 7;
const top = (url: string): FrameLike => ({ url, parent: null });
const ev = (url = 'app://impulse/index.html', id = WIN_ID, frame?: FrameLike | null): InvokeEventLike => ({
  sender: { id },
  senderFrame: frame === undefined ? top(url) : frame,
});

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function fakeBackend() {
  const calls: unknown[] = [];
  const listeners = new Set<(e: unknown) => void>();
  const backend: ShellBackend = {
    async call(request) {
      calls.push(request);
      const r = request as { method: string; path?: string };
      if (r.method === 'openFile' && r.path === '/missing') throw new ApiError('not-found', '/missing: no such file or folder', { file: '/missing' });
      if (r.method === 'boom') throw new Error('kaboom');
      if (r.method === 'openFile') return { id: 'f1', path: r.path };
      throw new ApiError('invalid-request', `method: unknown method '${r.method}'`);
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async close() {},
  };
  return { backend, calls, emit: (e: unknown) => listeners.forEach((l) => l(e)), listeners };
}

function logs() {
  const lines: string[] = [];
  const logger: ShellLogger = { warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
  return { lines, logger };
}

test('isRendererUrl accepts only app://impulse/ URLs', () => {
  assert.equal(isRendererUrl('app://impulse/index.html'), true);
  assert.equal(isRendererUrl('app://impulse/'), true);
  for (const u of [
    'app://other/index.html',
    'https://impulse/index.html',
    'file:///index.html',
    'app://user:pw@impulse/',
    'not a url',
    '',
    'http://127.0.0.1:8080/?token=x',
  ])
    assert.equal(isRendererUrl(u), false, u);
});

test('senderRefusal: our window top frame passes; foreign frames, subframes, other webContents are refused', () => {
  assert.equal(senderRefusal(ev(), WIN_ID), null);
  assert.match(senderRefusal(ev('https://evil.example/'), WIN_ID)!, /not the app's renderer/);
  assert.match(senderRefusal(ev('file:///etc/passwd'), WIN_ID)!, /not the app's renderer/);
  assert.match(senderRefusal(ev('app://impulse/index.html', 8), WIN_ID)!, /webContents 8 is not the main window \(7\)/);
  assert.match(senderRefusal(ev('', WIN_ID, { url: 'app://impulse/index.html', parent: top('app://impulse/index.html') }), WIN_ID)!, /subframe/);
  assert.match(senderRefusal(ev('', WIN_ID, null), WIN_ID)!, /frame is gone/);
  assert.match(senderRefusal(ev(), undefined)!, /no main window/);
});

test('handleCall forwards a valid call as { ...params, method } and returns { ok, value }', async () => {
  const { backend, calls } = fakeBackend();
  const succeeded: unknown[] = [];
  const reply = await handleCall(ev(), [{ method: 'openFile', params: { path: '/data/a.tum' } }], backend, {
    windowContentsId: () => WIN_ID,
    onCallSucceeded: (m, p, v) => succeeded.push([m, p, v]),
  });
  assert.deepEqual(reply, { ok: true, value: { id: 'f1', path: '/data/a.tum' } });
  assert.deepEqual(calls, [{ path: '/data/a.tum', method: 'openFile' }]);
  assert.deepEqual(succeeded, [['openFile', { path: '/data/a.tum' }, { id: 'f1', path: '/data/a.tum' }]]);
  // params may be omitted
  await handleCall(ev(), [{ method: 'listOpen' }], backend, { windowContentsId: () => WIN_ID });
  assert.deepEqual(calls[1], { method: 'listOpen' });
});

test('handleCall refuses foreign senders without calling the backend, and logs them', async () => {
  const { backend, calls } = fakeBackend();
  const { lines, logger } = logs();
  const opts = { windowContentsId: () => WIN_ID, logger };
  const msg = [{ method: 'openFile', params: { path: '/etc/passwd' } }];
  for (const e of [
    ev('https://evil.example/x'),
    ev('app://impulse/index.html', 99),
    ev('', WIN_ID, { url: 'app://impulse/x', parent: top('app://impulse/') }),
  ]) {
    const r = await handleCall(e, msg, backend, opts);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'forbidden');
  }
  assert.equal(calls.length, 0);
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^warn refused impulse:call message: sender frame URL "https:\/\/evil.example\/x"/);
});

test('handleCall rejects wrong envelope shapes with invalid-request naming the field', async () => {
  const { backend, calls } = fakeBackend();
  const opts = { windowContentsId: () => WIN_ID };
  const cases: Array<[unknown[], RegExp]> = [
    [[], /exactly one argument .* got 0/],
    [[{ method: 'a' }, { method: 'b' }], /exactly one argument .* got 2/],
    [['openFile'], /message: .*object/i],
    [[null], /message: /],
    [[[1, 2]], /message: /],
    [[{}], /method: /],
    [[{ method: 42 }], /method: /],
    [[{ method: 'bad name!' }], /method: must be a method name/],
    [[{ method: 'x'.repeat(65) }], /method: must be a method name/],
    [[{ method: 'openFile', params: 'path' }], /params: /],
    [[{ method: 'openFile', params: [1] }], /params: /],
    [[{ method: 'openFile', params: { method: 'cancelRun' } }], /params: must not contain the key "method"/],
    [[{ method: 'openFile', params: {}, extra: 1 }], /unrecognized|Unrecognized.*\(extra\)/i],
  ];
  for (const [args, re] of cases) {
    const r = await handleCall(ev(), args, backend, opts);
    assert.equal(r.ok, false, JSON.stringify(args));
    assert.equal(!r.ok && r.error.code, 'invalid-request');
    assert.match(!r.ok ? r.error.message : '', re, JSON.stringify(args));
  }
  assert.equal(calls.length, 0);
});

test('handleCall rejects oversized, too deep and non-JSON params before the backend sees them', async () => {
  const { backend, calls } = fakeBackend();
  const opts = { windowContentsId: () => WIN_ID, maxPayloadBytes: 1000 };
  const big = await handleCall(ev(), [{ method: 'uploadFile', params: { name: 'a', data: 'x'.repeat(2000) } }], backend, opts);
  assert.match(!big.ok ? big.error.message : '', /^uploadFile: params\.data: payload larger than 1000 bytes/);
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 70; i++) deep = (deep.a = {}) as Record<string, unknown>;
  const tooDeep = await handleCall(ev(), [{ method: 'x', params: root }], backend, { windowContentsId: () => WIN_ID });
  assert.match(!tooDeep.ok ? tooDeep.error.message : '', /nested deeper than 64/);
  const typed = await handleCall(ev(), [{ method: 'x', params: { a: new Float64Array(3) } }], backend, opts);
  assert.match(!typed.ok ? typed.error.message : '', /params\.a: Float64Array is not a plain JSON object/);
  const nan = await handleCall(ev(), [{ method: 'x', params: { a: [1, NaN] } }], backend, opts);
  assert.match(!nan.ok ? nan.error.message : '', /params\.a\[1\]: must be a finite number/);
  const date = await handleCall(ev(), [{ method: 'x', params: { when: new Date(0) } }], backend, opts);
  assert.match(!date.ok ? date.error.message : '', /Date is not a plain JSON object/);
  assert.equal(calls.length, 0);
});

test('checkJsonPayload bounds the UTF-8 size of the JSON text and stops at the limit', () => {
  for (const v of [{ a: 'é' }, [1, true, null, 'x'], { nested: { list: [1.5, -2e-9, 'ünïcode'], empty: {} } }, 'plain']) {
    const exact = Buffer.byteLength(JSON.stringify(v), 'utf8');
    const counted = checkJsonPayload(v);
    assert.ok(counted >= exact && counted <= exact + 8, `${JSON.stringify(v)}: counted ${counted}, JSON is ${exact} bytes`);
  }
  assert.throws(() => checkJsonPayload('x'.repeat(100), 50), PayloadError);
  assert.throws(() => checkJsonPayload({ f: () => 1 }), /params\.f: function is not a JSON value/);
  assert.throws(() => checkJsonPayload({ n: 10n }), /bigint is not a JSON value/);
  assert.throws(() => checkJsonPayload(new Map()), /Map is not a plain JSON object/);
  assert.doesNotThrow(() => checkJsonPayload(Object.create(null)));
});

test('backend errors keep their code, message and details; unknown throws become internal and are logged', async () => {
  const { backend } = fakeBackend();
  const { lines, logger } = logs();
  const opts = { windowContentsId: () => WIN_ID, logger };
  const nf = await handleCall(ev(), [{ method: 'openFile', params: { path: '/missing' } }], backend, opts);
  assert.deepEqual(nf, { ok: false, error: { code: 'not-found', message: '/missing: no such file or folder', details: { file: '/missing' } } });
  const unknown = await handleCall(ev(), [{ method: 'noSuchMethod' }], backend, opts);
  assert.equal(!unknown.ok && unknown.error.code, 'invalid-request');
  const boom = await handleCall(ev(), [{ method: 'boom' }], backend, opts);
  assert.deepEqual(boom, { ok: false, error: { code: 'internal', message: 'kaboom' } });
  assert.deepEqual(lines, ['error boom failed: kaboom']);
  assert.deepEqual(toReplyError('text'), { code: 'internal', message: 'text' });
});

test('registerIpc registers one handler on impulse:call that validates, and removes it', async () => {
  const { backend, calls } = fakeBackend();
  const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain = {
    handle: (c: string, l: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>) => void handlers.set(c, l),
    removeHandler: (c: string) => void handlers.delete(c),
  };
  const dispose = registerIpc(ipcMain, backend, { windowContentsId: () => WIN_ID, logger: logs().logger });
  assert.deepEqual([...handlers.keys()], [CALL_CHANNEL]);
  assert.deepEqual(await handlers.get(CALL_CHANNEL)!(ev(), { method: 'openFile', params: { path: '/a' } }), { ok: true, value: { id: 'f1', path: '/a' } });
  const refused = (await handlers.get(CALL_CHANNEL)!(ev('https://x.example/'), { method: 'openFile', params: { path: '/a' } })) as { ok: boolean };
  assert.equal(refused.ok, false);
  assert.equal(calls.length, 1);
  dispose();
  assert.equal(handlers.size, 0);
});

test('forwardEvents sends backend events to the window only while it exists, and unsubscribes', () => {
  const { backend, emit, listeners } = fakeBackend();
  const sent: unknown[] = [];
  let destroyed = false;
  let present = true;
  const wc = { isDestroyed: () => destroyed, send: (channel: string, payload: unknown) => sent.push([channel, payload]) };
  const stop = forwardEvents(backend, () => (present ? wc : undefined));
  emit({ type: 'run-progress', runId: 'r1', value: 1, total: 10, label: 'epoch' });
  present = false;
  emit({ type: 'run-log', runId: 'r1', stream: 'stdout', line: 'dropped' });
  present = true;
  destroyed = true;
  emit({ type: 'run-log', runId: 'r1', stream: 'stdout', line: 'dropped too' });
  assert.deepEqual(sent, [[EVENT_CHANNEL, { type: 'run-progress', runId: 'r1', value: 1, total: 10, label: 'epoch' }]]);
  stop();
  assert.equal(listeners.size, 0);
});
