// Tests of the menu template, dialogs and argv parsing (app/electron/menu.ts, dialogs.ts,
// args.ts): accelerators, dev-only items, the recent submenu wired to its actions, the open
// dialogs' filters, the About text, and files / flags from the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MenuItemConstructorOptions } from 'electron';
import { parseShellArgs, SMOKE_TEST_FLAG } from './args.ts';
import { aboutBoxOptions, openFilesDialogOptions, openFolderDialogOptions, SUPPORTED_EXTENSIONS } from './dialogs.ts';
import { buildMenuTemplate, recentLabel, type MenuActions } from './menu.ts';

function actions() {
  const done: string[] = [];
  const a: MenuActions = {
    openFiles: () => done.push('openFiles'),
    openFolder: () => done.push('openFolder'),
    openRecent: (p) => done.push(`openRecent ${p}`),
    clearRecent: () => done.push('clearRecent'),
    about: () => done.push('about'),
  };
  return { a, done };
}

/** All items, flattened, as `Menu/Sub/Item` paths. */
function flatten(items: MenuItemConstructorOptions[], prefix = ''): Map<string, MenuItemConstructorOptions> {
  const out = new Map<string, MenuItemConstructorOptions>();
  for (const it of items) {
    const name = `${prefix}${(it.label ?? it.role ?? it.type ?? '?').replace('&', '')}`;
    out.set(name, it);
    if (Array.isArray(it.submenu)) for (const [k, v] of flatten(it.submenu, `${name}/`)) out.set(k, v);
  }
  return out;
}

const click = (it: MenuItemConstructorOptions | undefined) => (it!.click as () => void)();

test('menu: File / Edit / View / Help with the usual accelerators; no reload or DevTools in production', () => {
  const { a, done } = actions();
  const m = flatten(buildMenuTemplate({ platform: 'linux', dev: false, recent: [], actions: a }));
  assert.deepEqual(
    buildMenuTemplate({ platform: 'linux', dev: false, recent: [], actions: a }).map((i) => i.label),
    ['&File', '&Edit', '&View', '&Help'],
  );
  assert.equal(m.get('File/Open File…')!.accelerator, 'CmdOrCtrl+O');
  assert.equal(m.get('File/Open Run Folder…')!.accelerator, 'CmdOrCtrl+Shift+O');
  assert.equal(m.get('File/Close Window')!.role, 'close');
  assert.equal(m.get('File/Close Window')!.accelerator, 'CmdOrCtrl+W');
  assert.equal(m.get('File/Quit')!.accelerator, 'Ctrl+Q');
  assert.equal(m.get('File/Open Recent/No Recent Files')!.enabled, false);
  assert.equal(m.get('View/togglefullscreen')!.accelerator, 'F11');
  assert.equal(m.get('View/zoomIn')!.accelerator, 'CmdOrCtrl+Plus');
  assert.equal(m.get('View/zoomOut')!.accelerator, 'CmdOrCtrl+-');
  assert.equal(m.get('View/resetZoom')!.accelerator, 'CmdOrCtrl+0');
  assert.equal(m.get('Edit/copy')!.accelerator, 'CmdOrCtrl+C');
  for (const k of ['View/reload', 'View/forceReload', 'View/toggleDevTools']) assert.equal(m.has(k), false, k);
  click(m.get('File/Open File…'));
  click(m.get('File/Open Run Folder…'));
  click(m.get('Help/About Impulse'));
  assert.deepEqual(done, ['openFiles', 'openFolder', 'about']);
  const accels = [...m.values()].map((i) => i.accelerator).filter(Boolean);
  assert.equal(new Set(accels).size, accels.length, 'no accelerator used twice');
});

test('menu: development builds add reload and DevTools; macOS gets the app and window menus', () => {
  const { a } = actions();
  const dev = flatten(buildMenuTemplate({ platform: 'linux', dev: true, recent: [], actions: a }));
  assert.equal(dev.get('View/reload')!.accelerator, 'CmdOrCtrl+R');
  assert.equal(dev.get('View/toggleDevTools')!.accelerator, 'Ctrl+Shift+I');
  const mac = buildMenuTemplate({ platform: 'darwin', dev: false, recent: [], actions: a });
  assert.equal(mac[0]!.role, 'appMenu');
  assert.ok(mac.some((i) => i.role === 'windowMenu'));
  assert.equal(flatten(mac).has('File/Quit'), false, 'Quit lives in the app menu on macOS');
});

test('menu: Open Recent lists the paths newest first and calls openRecent / clearRecent', () => {
  const { a, done } = actions();
  const recent = Array.from({ length: 14 }, (_, i) => `/data/run${i}/traj.tum`);
  const m = flatten(buildMenuTemplate({ platform: 'linux', dev: false, recent, actions: a }));
  const items = (m.get('File/Open Recent')!.submenu as MenuItemConstructorOptions[]).filter((i) => i.click && i.label !== 'Clear Recent');
  assert.equal(items.length, 10, 'at most 10 shown');
  assert.equal(items[0]!.label, recentLabel('/data/run0/traj.tum'));
  assert.equal(items[0]!.label, 'traj.tum — /data/run0');
  assert.equal(items[0]!.accelerator, 'CmdOrCtrl+Alt+1');
  assert.equal(items[9]!.accelerator, undefined);
  click(items[1]);
  click(m.get('File/Open Recent/Clear Recent'));
  assert.deepEqual(done, ['openRecent /data/run1/traj.tum', 'clearRecent']);
});

test('dialogs: the open dialog filters the supported formats; folders have their own dialog', () => {
  assert.deepEqual([...SUPPORTED_EXTENSIONS], ['tum', 'txt', 'csv', 'json', 'mcap']);
  const o = openFilesDialogOptions('/data');
  assert.deepEqual(o.properties, ['openFile', 'multiSelections']);
  assert.deepEqual(o.filters![0]!.extensions, ['tum', 'txt', 'csv', 'json', 'mcap']);
  assert.ok(o.filters!.some((f) => f.extensions.includes('*')));
  assert.equal(o.defaultPath, '/data');
  assert.equal(openFilesDialogOptions().defaultPath, undefined);
  assert.deepEqual(openFolderDialogOptions().properties, ['openDirectory']);
  const about = aboutBoxOptions({ appVersion: '0.1.0', electron: '41.7.1', chrome: '140.0', node: '22.1.0', platform: 'linux-x64' });
  assert.equal(about.message, 'Impulse 0.1.0');
  assert.match(about.detail!, /Electron 41\.7\.1 · Chromium 140\.0 · Node 22\.1\.0 · linux-x64/);
});

test('parseShellArgs: files resolved, Chromium switches ignored, -- ends switches, the self-test flag', () => {
  const dev = parseShellArgs(
    ['/usr/bin/electron', '/app/app/electron/bootstrap.mjs', 'a.tum', '--no-sandbox', '--enable-logging', '/abs/b.mcap'],
    false,
    '/home/u',
  );
  assert.deepEqual(dev, { files: ['/home/u/a.tum', '/abs/b.mcap'], smokeTest: false });
  const packaged = parseShellArgs(['/opt/Impulse/impulse-app', 'runs/train-1'], true, '/home/u');
  assert.deepEqual(packaged.files, ['/home/u/runs/train-1']);
  const after = parseShellArgs(['e', 'main', SMOKE_TEST_FLAG, '--', '--weird-name.tum', ''], false, '/w');
  assert.deepEqual(after, { files: ['/w/--weird-name.tum'], smokeTest: true });
});
