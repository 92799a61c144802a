// Tests of the main-process wiring (app/electron/shell.ts) against a fake Electron: what is done
// before `ready` (privileged scheme, sandbox, user data), what `ready` installs (session guards,
// app:// handler, IPC, menu, the secure window), files from the command line / menu / second
// launch pushed as shell-open events once the renderer loaded, opened files recorded as recent,
// backend events forwarded, the backend closed on quit, and a clear error when a build is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { ElectronMain } from './electron-api.ts';
import type { InvokeEventLike } from './ipc.ts';
import { startShell, type ShellPaths } from './shell.ts';
import type { ShellBackend, ShellLogger } from './types.ts';

type Fn = (...a: never[]) => unknown;

class Emitter {
  readonly handlers = new Map<string, Fn[]>();
  on(name: string, f: Fn): this {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), f]);
    return this;
  }
  once(name: string, f: Fn): this {
    return this.on(name, f);
  }
  emit(name: string, ...args: unknown[]): void {
    for (const f of this.handlers.get(name) ?? []) (f as (...a: unknown[]) => unknown)(...args);
  }
}

function fakeElectron() {
  const log: string[] = [];
  let readyResolve!: () => void;
  const whenReady = new Promise<void>((r) => (readyResolve = r));
  const userPaths = new Map<string, string>([['appData', '/home/u/.config']]);
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    setName: (n: string) => log.push(`setName ${n}`),
    setPath: (k: string, v: string) => void userPaths.set(k, v),
    getPath: (k: string) => userPaths.get(k)!,
    enableSandbox: () => log.push('enableSandbox'),
    requestSingleInstanceLock: () => true,
    whenReady: () => whenReady,
    isReady: () => true,
    quit: () => log.push('quit'),
    exit: (code: number) => log.push(`exit ${code}`),
    addRecentDocument: (p: string) => log.push(`addRecentDocument ${p}`),
    clearRecentDocuments: () => log.push('clearRecentDocuments'),
  });
  let nextId = 1;
  class WebContents extends Emitter {
    readonly id = nextId++;
    readonly sent: Array<[string, unknown]> = [];
    openHandler?: (d: { url: string }) => unknown;
    isDestroyed = () => false;
    send = (c: string, p: unknown) => void this.sent.push([c, p]);
    setWindowOpenHandler = (h: (d: { url: string }) => unknown) => void (this.openHandler = h);
    reload = () => undefined;
  }
  const windows: FakeWindow[] = [];
  class FakeWindow extends Emitter {
    readonly webContents = new WebContents();
    url = '';
    shown = false;
    focused = false;
    constructor(readonly options: Electron.BrowserWindowConstructorOptions) {
      super();
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL = async (u: string) => void (this.url = u);
    show = () => void (this.shown = true);
    isDestroyed = () => false;
    isMinimized = () => false;
    restore = () => undefined;
    focus = () => void (this.focused = true);
    close = () => this.emit('closed');
  }
  const dialogResults: Array<{ canceled: boolean; filePaths: string[] }> = [];
  const errors: string[] = [];
  const messageBoxes: Electron.MessageBoxOptions[] = [];
  const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const menus: MenuItemConstructorOptions[][] = [];
  const schemes: unknown[] = [];
  const protocolHandlers = new Map<string, (r: { url: string; method: string }) => Promise<Response>>();
  const guards: string[] = [];
  const electron = {
    app,
    BrowserWindow: FakeWindow,
    dialog: {
      showOpenDialog: async () => dialogResults.shift() ?? { canceled: true, filePaths: [] },
      showMessageBox: async (...a: unknown[]) => (messageBoxes.push(a.at(-1) as Electron.MessageBoxOptions), { response: 0 }),
      showErrorBox: (title: string, msg: string) => void errors.push(`${title}: ${msg}`),
    },
    ipcMain: {
      handle: (c: string, l: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>) => void handlers.set(c, l),
      removeHandler: (c: string) => void handlers.delete(c),
    },
    Menu: { buildFromTemplate: (t: MenuItemConstructorOptions[]) => t, setApplicationMenu: (m: MenuItemConstructorOptions[]) => void menus.push(m) },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => void schemes.push(...s),
      handle: (scheme: string, h: (r: { url: string; method: string }) => Promise<Response>) => void protocolHandlers.set(scheme, h),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: () => void guards.push('permission-request'),
        setPermissionCheckHandler: () => void guards.push('permission-check'),
        webRequest: { onBeforeRequest: () => void guards.push('before-request') },
      },
    },
    shell: { openExternal: async (u: string) => void log.push(`openExternal ${u}`) },
  };
  return {
    electron: electron as unknown as ElectronMain,
    app,
    log,
    readyResolve,
    windows,
    dialogResults,
    errors,
    messageBoxes,
    handlers,
    menus,
    schemes,
    protocolHandlers,
    guards,
    userPaths,
  };
}

function fakeBackend() {
  const calls: unknown[] = [];
  const listeners = new Set<(e: unknown) => void>();
  let closed = 0;
  const backend: ShellBackend = {
    call: async (r) => {
      calls.push(r);
      const path = (r as { path?: string }).path ?? '';
      if (path.endsWith('.broken')) throw Object.assign(new Error(`${path}: line 3: expected 8 numbers, got 2`), { code: 'bad-file' });
      return { id: 'f1' };
    },
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    close: async () => void closed++,
  };
  return { backend, calls, emit: (e: unknown) => listeners.forEach((l) => l(e)), closed: () => closed };
}

function dirs(t: { after(f: () => void): void }, built = true) {
  const base = mkdtempSync(join(tmpdir(), 'impulse-shell-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const paths: ShellPaths = { renderer: join(base, 'renderer'), preload: join(base, 'preload.cjs'), icon: join(base, 'icon.png') };
  mkdirSync(paths.renderer);
  if (built) {
    writeFileSync(join(paths.renderer, 'index.html'), '<!doctype html>');
    writeFileSync(paths.preload, '');
  }
  const userData = join(base, 'userData');
  mkdirSync(userData);
  const file = join(base, 'KITTI_00_gt.txt');
  writeFileSync(file, '');
  return { base, paths, userData, file };
}

const quiet = (): ShellLogger & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), error: (m) => void lines.push(`error ${m}`) };
};

test('startShell wires a secure window, IPC, menu and protocol, and pushes files to open', async (t) => {
  const { paths, userData, file, base } = dirs(t);
  const f = fakeElectron();
  const b = fakeBackend();
  const logger = quiet();
  const handle = startShell({ createBackend: () => b.backend, electron: f.electron, paths, argv: ['electron', 'bootstrap.mjs', file], userData, logger });

  // before ready
  assert.deepEqual(f.schemes, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
  assert.ok(f.log.includes('enableSandbox'));
  assert.equal(f.userPaths.get('userData'), userData);
  assert.equal(f.windows.length, 0);

  f.readyResolve();
  await handle.ready;
  assert.deepEqual(f.guards, ['permission-request', 'permission-check', 'before-request']);
  assert.equal((await f.protocolHandlers.get('app')!({ url: 'app://impulse/', method: 'GET' })).status, 200);
  assert.deepEqual([...f.handlers.keys()], ['impulse:call']);
  assert.equal(f.windows.length, 1);
  const win = f.windows[0]!;
  assert.equal(win.url, 'app://impulse/index.html');
  assert.equal(win.options.webPreferences!.sandbox, true);
  assert.equal(win.options.webPreferences!.contextIsolation, true);
  assert.equal(win.options.webPreferences!.nodeIntegration, false);
  assert.equal(win.options.webPreferences!.preload, paths.preload);
  assert.ok(win.webContents.openHandler, 'guards installed on the window webContents');
  assert.equal(f.menus.length, 2, 'the menu, rebuilt after the command-line file became recent');

  // files from argv are opened through the backend before the window loads, and become recent
  assert.deepEqual(b.calls, [{ method: 'openFile', path: file }]);
  assert.ok(f.log.includes(`addRecentDocument ${file}`));
  win.emit('ready-to-show');
  assert.equal(win.shown, true);
  win.webContents.emit('did-finish-load');
  assert.deepEqual(win.webContents.sent, [], 'no event, no error box');
  assert.equal(f.messageBoxes.length, 0);

  // a call from the window reaches the backend; a successful openFile becomes a recent file
  const call = f.handlers.get('impulse:call')!;
  const ours: InvokeEventLike = { sender: { id: win.webContents.id }, senderFrame: { url: 'app://impulse/index.html', parent: null } };
  assert.deepEqual(await call(ours, { method: 'openFile', params: { path: file } }), { ok: true, value: { id: 'f1' } });
  assert.deepEqual(b.calls[1], { path: file, method: 'openFile' });
  const recentFile = JSON.parse(readFileSync(join(userData, 'recent-files.json'), 'utf8')) as { entries: Array<{ path: string }> };
  assert.deepEqual(
    recentFile.entries.map((e) => e.path),
    [file],
  );
  const fileMenu = f.menus.at(-1)![0]!.submenu as MenuItemConstructorOptions[];
  const recentMenu = fileMenu.find((i) => i.label === 'Open Recent')!.submenu as MenuItemConstructorOptions[];
  assert.equal(recentMenu[0]!.toolTip, file, 'menu rebuilt with the recent file');
  // a foreign sender is refused and logged
  const foreign = (await call(
    { sender: { id: 999 }, senderFrame: { url: 'https://evil.example/', parent: null } },
    { method: 'openFile', params: { path: '/etc/passwd' } },
  )) as {
    ok: boolean;
  };
  assert.equal(foreign.ok, false);
  assert.equal(b.calls.length, 2);
  assert.match(logger.lines.join('\n'), /refused impulse:call message/);

  // backend events reach the window
  b.emit({ type: 'run-progress', runId: 'r', value: 1, total: 2, label: 'x' });
  assert.deepEqual(win.webContents.sent.at(-1), ['impulse:event', { type: 'run-progress', runId: 'r', value: 1, total: 2, label: 'x' }]);

  // File > Open File… and Open Recent push shell-open events
  const other = join(base, 'other.mcap');
  writeFileSync(other, '');
  f.dialogResults.push({ canceled: false, filePaths: [other] });
  (fileMenu.find((i) => i.label === 'Open File…')!.click as () => void)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(win.webContents.sent.at(-1), ['impulse:event', { type: 'shell-open', paths: [other] }]);
  (recentMenu[0]!.click as () => void)();
  assert.deepEqual(win.webContents.sent.at(-1), ['impulse:event', { type: 'shell-open', paths: [file] }]);

  // a second launch with files focuses the window and opens them
  f.app.emit('second-instance', {}, ['electron', 'bootstrap.mjs', other]);
  assert.equal(win.focused, true);
  assert.deepEqual(win.webContents.sent.at(-1), ['impulse:event', { type: 'shell-open', paths: [other] }]);

  // quitting closes the backend first
  let prevented = false;
  f.app.emit('will-quit', { preventDefault: () => (prevented = true) });
  assert.equal(prevented, true);
  await new Promise((r) => setImmediate(r));
  assert.equal(b.closed(), 1);
  assert.ok(f.log.includes('quit'));
});

test('startShell reports a missing renderer build by path and exits', async (t) => {
  const { paths, userData } = dirs(t, false);
  const f = fakeElectron();
  const logger = quiet();
  const handle = startShell({ createBackend: () => fakeBackend().backend, electron: f.electron, paths, argv: ['electron', 'bootstrap.mjs'], userData, logger });
  f.readyResolve();
  await handle.ready;
  assert.equal(f.windows.length, 0);
  assert.equal(f.errors.length, 1);
  assert.match(
    f.errors[0]!,
    new RegExp(
      `the renderer is not built: ${join(paths.renderer, 'index.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is missing \\(run \`npm run build:renderer\`\\)`,
    ),
  );
  assert.ok(f.log.includes('exit 1'));
});

test('command-line files that cannot be opened are reported in an error box once the window has loaded', async (t) => {
  const { paths, userData, base } = dirs(t);
  const broken = join(base, 'traj.broken');
  writeFileSync(broken, 'x');
  const f = fakeElectron();
  const b = fakeBackend();
  const handle = startShell({
    createBackend: () => b.backend,
    electron: f.electron,
    paths,
    argv: ['electron', 'bootstrap.mjs', broken],
    userData,
    logger: quiet(),
  });
  f.readyResolve();
  await handle.ready;
  assert.deepEqual(b.calls, [{ method: 'openFile', path: broken }]);
  assert.equal(f.messageBoxes.length, 0, 'not before the window loaded');
  f.windows[0]!.webContents.emit('did-finish-load');
  assert.equal(f.messageBoxes.length, 1);
  assert.equal(f.messageBoxes[0]!.message, 'Some files could not be opened');
  assert.equal(f.messageBoxes[0]!.detail, `${broken}: line 3: expected 8 numbers, got 2`);
  assert.equal(existsSync(join(userData, 'recent-files.json')), false, 'a failed file is not recent');
  f.windows[0]!.webContents.emit('did-finish-load');
  assert.equal(f.messageBoxes.length, 1, 'shown once');
});

test('a page that fails to load shows the window with an error instead of staying invisible', async (t) => {
  const { paths, userData } = dirs(t);
  const f = fakeElectron();
  const logger = quiet();
  const handle = startShell({ createBackend: () => fakeBackend().backend, electron: f.electron, paths, argv: ['electron', 'bootstrap.mjs'], userData, logger });
  f.readyResolve();
  await handle.ready;
  const win = f.windows[0]!;
  win.webContents.emit('did-fail-load', {}, -3, 'ERR_ABORTED', 'https://evil.example/', true);
  assert.equal(win.shown, false, 'an aborted (blocked) navigation is not a failure');
  win.webContents.emit('did-fail-load', {}, -6, 'ERR_FILE_NOT_FOUND', 'app://impulse/index.html', true);
  assert.equal(win.shown, true);
  assert.equal(f.messageBoxes.at(-1)!.message, "Could not load the app's page app://impulse/index.html");
  assert.equal(f.messageBoxes.at(-1)!.detail, 'ERR_FILE_NOT_FOUND (-6)');
  assert.match(logger.lines.join('\n'), /error could not load app:\/\/impulse\/index.html: ERR_FILE_NOT_FOUND/);
});
