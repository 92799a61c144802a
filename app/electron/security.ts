// Window and session security of the desktop app (app/electron): the BrowserWindow options
// (context isolation, sandbox, no Node in the renderer, web security on, no webview), and the
// guards installed on every webContents and on the session: navigation and new windows blocked
// (http(s) links handed to the system browser after a check), webviews refused, every permission
// request denied, every request that is not app:// (our renderer) cancelled. Typed against
// Electron's API with type-only imports; tests drive the guards with fake objects.

import type { BrowserWindowConstructorOptions } from 'electron';
import { isRendererUrl } from './ipc.ts';
import { RENDERER_SCHEME } from './protocol.ts';
import type { ShellLogger } from './types.ts';

/** Inputs of the window options. */
export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist/electron/preload.cjs). */
  preload: string;
  /** Window icon (PNG), where there is one. */
  icon?: string;
  /** Development build: DevTools allowed. */
  dev: boolean;
}

/**
 * The main window's options. Every security-relevant webPreferences flag is set explicitly
 * (even where Electron's default agrees) so a future default change cannot weaken it.
 */
export function buildWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  const options: BrowserWindowConstructorOptions = {
    width: 1440,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    title: 'Impulse',
    show: false,
    backgroundColor: '#14161a',
    autoHideMenuBar: false,
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      enableWebSQL: false,
      devTools: input.dev,
    },
  };
  if (input.icon) options.icon = input.icon;
  return options;
}

/** Longest URL handed to the system browser. */
export const MAX_EXTERNAL_URL_LENGTH = 2048;

/**
 * True when a link may be opened in the system browser: http or https, a host name, no user
 * name or password in it, at most MAX_EXTERNAL_URL_LENGTH characters. Everything else
 * (file:, javascript:, custom schemes, app://) stays blocked.
 */
export function isSafeExternalUrl(url: string): boolean {
  if (url.length > MAX_EXTERNAL_URL_LENGTH) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && u.username === '' && u.password === '';
}

/** Schemes the renderer may load from: our own, plus DevTools' own pages (dev builds only open them). */
const ALLOWED_REQUEST_SCHEMES = new Set([`${RENDERER_SCHEME}:`, 'devtools:', 'data:', 'blob:']);

/** True when the session may perform a request to `url` (no remote content: only app://, data:, blob:, devtools:). */
export function isAllowedRequest(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === `${RENDERER_SCHEME}:`) return isRendererUrl(url);
  return ALLOWED_REQUEST_SCHEMES.has(u.protocol);
}

/** The part of Electron's WebContents the guards use. */
export interface GuardedContents {
  on(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', listener: (event: { preventDefault(): void; url: string }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

/** Options of installContentsGuards. */
export interface GuardOptions {
  /** Opens a checked http(s) URL in the system browser (shell.openExternal). */
  openExternal: (url: string) => Promise<void> | void;
  logger: ShellLogger;
}

/**
 * Installs the navigation guards on one webContents: every navigation and redirect is prevented
 * (the app is a single page), webviews refused, window.open / target=_blank denied, with
 * http(s) links passed to `openExternal` after isSafeExternalUrl.
 */
export function installContentsGuards(contents: GuardedContents, opts: GuardOptions): void {
  const block = (kind: string) => (event: { preventDefault(): void; url: string }) => {
    event.preventDefault();
    opts.logger.warn(`blocked ${kind} to ${JSON.stringify(event.url.slice(0, 200))}`);
  };
  contents.on('will-navigate', block('navigation'));
  contents.on('will-frame-navigate', block('frame navigation'));
  contents.on('will-redirect', block('redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    opts.logger.warn('blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) {
      Promise.resolve(opts.openExternal(url)).catch((e: unknown) => opts.logger.warn(`could not open ${url} in the system browser: ${(e as Error).message}`));
    } else {
      opts.logger.warn(`blocked window.open of ${JSON.stringify(url.slice(0, 200))}`);
    }
    return { action: 'deny' };
  });
}

/** The part of Electron's Session the guards use. */
export interface GuardedSession {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
  webRequest: {
    onBeforeRequest(filter: { urls: string[] }, listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void): void;
  };
}

/** Installs the session guards: every permission denied, every request that is not the app's own cancelled. */
export function installSessionGuards(session: GuardedSession, logger: ShellLogger): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    logger.warn(`denied permission request: ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest({ urls: ['*://*/*'] }, (details, callback) => {
    const allowed = isAllowedRequest(details.url);
    if (!allowed) logger.warn(`blocked request to ${JSON.stringify(details.url.slice(0, 200))}`);
    callback({ cancel: !allowed });
  });
}
