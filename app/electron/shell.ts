// The desktop app's main process (app/electron): wires the injected API backend to Electron.
// Before `ready`: the app:// scheme is registered as privileged, the sandbox enforced for every
// renderer, navigation guards installed on every webContents, one instance per user. On
// `ready`: session guards (permissions denied, non-app requests cancelled), the app:// handler
// over dist/renderer, the validated IPC handler, event forwarding, the menu and the window.
// Files given on the command line are opened through the backend before the window loads (the
// renderer shows what is open when it starts); files to open later (File menu, Open Recent, a
// second launch) are pushed to the renderer as `shell-open` events, and it opens them as it
// opens dropped files. Files opened successfully become recent files.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserWindow as BrowserWindowType } from 'electron';
import { parseShellArgs } from './args.ts';
import type { ShellEvent } from './bridge.ts';
import { aboutBoxOptions, openFilesDialogOptions, openFolderDialogOptions } from './dialogs.ts';
import { loadElectron, type ElectronMain } from './electron-api.ts';
import { forwardEvents, registerIpc, sendEvent, toReplyError } from './ipc.ts';
import { buildMenuTemplate } from './menu.ts';
import { createRendererHandler, RENDERER_SCHEME, RENDERER_SCHEME_PRIVILEGES, RENDERER_URL } from './protocol.ts';
import { RecentFiles, RECENT_FILES_NAME } from './recent-files.ts';
import { buildWindowOptions, installContentsGuards, installSessionGuards } from './security.ts';
import { runSmokeTest, SMOKE_PREFIX } from './smoke.ts';
import { consoleLogger, type ShellBackend, type ShellLogger } from './types.ts';

/** The repository (or packaged app) root: app/electron/../.. */
export const APP_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The app's version (package.json; Electron started on a script reports its own version otherwise). */
export const APP_VERSION = (JSON.parse(readFileSync(join(APP_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Built files the shell needs. */
export interface ShellPaths {
  renderer: string;
  preload: string;
  icon: string;
}

/** Built files the shell needs, in the repository (or packaged app). */
export const SHELL_PATHS: ShellPaths = {
  /** The bundled renderer (npm run build:renderer). */
  renderer: join(APP_ROOT, 'dist', 'renderer'),
  /** The bundled preload (npm run build:electron). */
  preload: join(APP_ROOT, 'dist', 'electron', 'preload.cjs'),
  /** The window icon (npm run build:electron). */
  icon: join(APP_ROOT, 'dist', 'electron', 'icons', '512x512.png'),
};

/** What the backend factory is told. */
export interface BackendContext {
  /** The app's user-data folder (absolute). */
  userData: string;
  /** Whether this is the packaged app (then the working folder is not the repository). */
  packaged: boolean;
}

/** Options of startShell. */
export interface ShellOptions {
  /** Creates the API backend (called once, after `ready`), given the user-data folder and whether the app is packaged. */
  createBackend: (ctx: BackendContext) => ShellBackend | Promise<ShellBackend>;
  logger?: ShellLogger;
  /** Electron's API (default: the real one; tests pass a fake). */
  electron?: ElectronMain;
  /** Built files (default SHELL_PATHS). */
  paths?: ShellPaths;
  /** The process's argv (default process.argv). */
  argv?: string[];
  /** The user-data folder (default env IMPULSE_USER_DATA, else <appData>/Impulse). */
  userData?: string;
}

/** Inputs of createMainWindow. */
export interface MainWindowOptions {
  electron: ElectronMain;
  paths: ShellPaths;
  dev: boolean;
  logger: ShellLogger;
  /** Called after each load of the renderer (pending files are sent then). */
  onLoaded: (win: BrowserWindowType) => void;
  /** Keep the window hidden (launch self-test). */
  hidden?: boolean;
}

/** Creates the main window with the secure options and loads app://impulse/index.html. */
export function createMainWindow(opts: MainWindowOptions): BrowserWindowType {
  const { BrowserWindow, dialog } = opts.electron;
  const { preload, icon } = opts.paths;
  const win = new BrowserWindow(buildWindowOptions({ preload, icon: existsSync(icon) ? icon : undefined, dev: opts.dev }));
  if (!opts.hidden) win.once('ready-to-show', () => win.show());
  const wc = win.webContents;
  wc.on('did-finish-load', () => opts.onLoaded(win));
  wc.on('did-fail-load', (_e, code, description, url, isMainFrame) => {
    if (!isMainFrame || code === -3) return; // -3: aborted (a blocked navigation), not a failure
    opts.logger.error(`could not load ${url}: ${description} (${code})`);
    if (opts.hidden || win.isDestroyed()) return;
    win.show(); // never an invisible window
    void dialog.showMessageBox(win, {
      type: 'error',
      title: 'Impulse',
      message: `Could not load the app's page ${url}`,
      detail: `${description} (${code})`,
      noLink: true,
    });
  });
  wc.on('render-process-gone', (_e, details) => {
    opts.logger.error(`the renderer stopped: ${details.reason} (exit code ${details.exitCode})`);
    if (details.reason === 'clean-exit' || win.isDestroyed()) return;
    void dialog
      .showMessageBox(win, {
        type: 'error',
        title: 'Impulse',
        message: `The window's renderer stopped (${details.reason}).`,
        buttons: ['Reload', 'Close'],
        noLink: true,
      })
      .then(({ response }) => (response === 0 && !win.isDestroyed() ? win.webContents.reload() : win.close()));
  });
  wc.on('unresponsive', () => opts.logger.warn('the renderer is not responding'));
  void win.loadURL(RENDERER_URL).catch((e: Error) => opts.logger.error(`loading ${RENDERER_URL}: ${e.message}`));
  return win;
}

/** What startShell returns. */
export interface ShellHandle {
  /** Resolves once the window is created (or the start failed and the app is exiting). */
  ready: Promise<void>;
}

/**
 * Starts the desktop app (call once, synchronously, from the entry module: the scheme must be
 * registered before Electron's `ready`).
 */
export function startShell(opts: ShellOptions): ShellHandle {
  const logger = opts.logger ?? consoleLogger;
  const electron = opts.electron ?? loadElectron();
  const { app, dialog, ipcMain, Menu, protocol, session, shell } = electron;
  const paths = opts.paths ?? SHELL_PATHS;
  const args = parseShellArgs(opts.argv ?? process.argv, app.isPackaged);
  const dev = !app.isPackaged;

  app.setName('Impulse');
  const userData = opts.userData ?? process.env.IMPULSE_USER_DATA;
  app.setPath('userData', userData ? resolve(userData) : join(app.getPath('appData'), 'Impulse'));
  protocol.registerSchemesAsPrivileged([{ scheme: RENDERER_SCHEME, privileges: RENDERER_SCHEME_PRIVILEGES }]);
  app.enableSandbox();
  if (!args.smokeTest && !app.requestSingleInstanceLock({ files: args.files })) {
    app.quit();
    return { ready: Promise.resolve() };
  }

  let win: BrowserWindowType | undefined;
  let loaded = false;
  const pending: string[] = [];
  let startupErrors: string[] = [];
  let backend: ShellBackend | undefined;
  const recent = new RecentFiles(join(app.getPath('userData'), RECENT_FILES_NAME), { logger });

  const openPaths = (files: string[]): void => {
    if (files.length === 0) return;
    if (win && loaded && !win.isDestroyed()) sendEvent(win.webContents, { type: 'shell-open', paths: files } satisfies ShellEvent);
    else pending.push(...files);
  };
  const lastDir = (): string | undefined => {
    const first = recent.paths()[0];
    return first ? dirname(first) : undefined;
  };
  const rebuildMenu = (): void => {
    const template = buildMenuTemplate({
      platform: process.platform,
      dev,
      recent: recent.paths(),
      actions: {
        openFiles: () => {
          void dialog.showOpenDialog(openFilesDialogOptions(lastDir())).then((r) => !r.canceled && openPaths(r.filePaths));
        },
        openFolder: () => {
          void dialog.showOpenDialog(openFolderDialogOptions(lastDir())).then((r) => !r.canceled && openPaths(r.filePaths));
        },
        openRecent: (p) => {
          if (existsSync(p)) return openPaths([p]);
          recent.remove(p);
          rebuildMenu();
          void dialog.showMessageBox({ type: 'warning', title: 'Impulse', message: `${p} no longer exists; removed it from Open Recent.` });
        },
        clearRecent: () => {
          recent.clear();
          app.clearRecentDocuments();
          rebuildMenu();
        },
        about: () => {
          const box = aboutBoxOptions({
            appVersion: APP_VERSION,
            electron: process.versions.electron,
            chrome: process.versions.chrome,
            node: process.versions.node,
            platform: `${process.platform}-${process.arch}`,
          });
          void (win && !win.isDestroyed() ? dialog.showMessageBox(win, box) : dialog.showMessageBox(box));
        },
      },
    });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };

  const addRecent = (file: string): void => {
    recent.add(file);
    app.addRecentDocument(file);
    rebuildMenu();
  };

  const fatal = (message: string): void => {
    logger.error(message);
    if (!args.smokeTest) dialog.showErrorBox('Impulse could not start', message);
    else process.stdout.write(`${SMOKE_PREFIX}${JSON.stringify({ ok: false, failures: [message] })}\n`);
    app.exit(1);
  };

  const createWindow = (): void => {
    loaded = false;
    win = createMainWindow({
      electron,
      paths,
      dev,
      logger,
      hidden: args.smokeTest,
      onLoaded: (w) => {
        loaded = true;
        if (args.smokeTest) {
          void runSmokeTest(w)
            .then((report) => {
              process.stdout.write(`${SMOKE_PREFIX}${JSON.stringify(report)}\n`);
              app.exit(report.ok ? 0 : 1);
            })
            .catch((e: Error) => fatal(`self-test: ${e.message}`));
          return;
        }
        openPaths(pending.splice(0));
        if (startupErrors.length) {
          const detail = startupErrors.join('\n');
          startupErrors = [];
          void dialog.showMessageBox(w, { type: 'error', title: 'Impulse', message: 'Some files could not be opened', detail, noLink: true });
        }
      },
    });
    win.on('closed', () => {
      win = undefined;
      loaded = false;
    });
  };

  app.on('web-contents-created', (_e, contents) => installContentsGuards(contents, { openExternal: (url) => shell.openExternal(url), logger }));
  app.on('second-instance', (_e, argv) => {
    openPaths(parseShellArgs(argv, app.isPackaged).files);
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!win && app.isReady() && backend) createWindow();
  });
  let closing = false;
  app.on('will-quit', (e) => {
    if (!backend || closing) return;
    closing = true;
    e.preventDefault();
    const b = backend;
    backend = undefined;
    b.close()
      .catch((err: Error) => logger.error(`closing the backend: ${err.message}`))
      .finally(() => app.quit());
  });

  if (args.smokeTest) setTimeout(() => fatal('self-test: the renderer did not load within 60 s'), 60_000).unref();

  const ready = app
    .whenReady()
    .then(async () => {
      for (const [what, path, build] of [
        ['renderer', join(paths.renderer, 'index.html'), 'npm run build:renderer'],
        ['preload', paths.preload, 'npm run build:electron'],
      ] as const) {
        if (!existsSync(path)) return fatal(`the ${what} is not built: ${path} is missing (run \`${build}\`)`);
      }
      installSessionGuards(session.defaultSession, logger);
      protocol.handle(
        RENDERER_SCHEME,
        createRendererHandler(paths.renderer, (url, status, reason) => logger.warn(`app:// refused ${url}: ${status} ${reason}`)),
      );
      backend = await opts.createBackend({ userData: app.getPath('userData'), packaged: app.isPackaged });
      registerIpc(ipcMain, backend, {
        windowContentsId: () => (win && !win.isDestroyed() ? win.webContents.id : undefined),
        logger,
        onCallSucceeded: (method, params) => {
          if (method === 'openFile' && typeof params.path === 'string') addRecent(params.path);
        },
      });
      // files from the command line are opened before the window exists: the renderer lists
      // what is open (listOpen) when it starts; failures are shown once it has loaded
      if (!args.smokeTest) {
        for (const file of args.files) {
          try {
            await backend.call({ method: 'openFile', path: file });
            addRecent(file);
          } catch (e) {
            startupErrors.push(toReplyError(e).message);
          }
        }
      }
      forwardEvents(backend, () => (win && !win.isDestroyed() ? win.webContents : undefined));
      rebuildMenu();
      createWindow();
    })
    .catch((e: Error) => fatal(e.stack ?? e.message));
  return { ready };
}
