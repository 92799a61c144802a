// The launch self-test of the desktop app (app/electron), run by `--impulse-smoke-test` (the
// Electron launch test): once the renderer has loaded, checks from inside the real window that
// the bridge is exactly `window.impulse`, Node is absent, calls round-trip through IPC and the
// backend's validation, remote requests, window.open and navigation are blocked; prints one `IMPULSE_SMOKE {json}` line and exits.

import type { BrowserWindow } from 'electron';
import { isRendererUrl } from './ipc.ts';

/** The line prefix the launch test looks for. */
export const SMOKE_PREFIX = 'IMPULSE_SMOKE ';

/** What the self-test found. */
export interface SmokeReport {
  ok: boolean;
  failures: string[];
  url: string;
  bridgeKeys: string[];
  platform: unknown;
  nodeInRenderer: { require: string; process: string };
  unknownMethodCode: unknown;
  badEnvelopeCode: unknown;
  windowOpenBlocked: boolean;
  remoteFetchBlocked: boolean;
  navigationBlocked: boolean;
  /** contextBridge hands the page a frozen copy of the API (evidence of context isolation). */
  bridgeFrozen: boolean;
}

// Runs in the renderer's main world (executeJavaScript is not subject to the page's CSP).
const PAGE_CHECKS = `(async () => {
  const b = window.impulse;
  const r = { url: location.href, bridgeKeys: b ? Object.keys(b).sort() : [], platform: b && b.platform, bridgeFrozen: Object.isFrozen(b),
    nodeInRenderer: { require: typeof require, process: typeof process } };
  try { await b.call('impulseSmokeTestNoSuchMethod', {}); r.unknownMethodCode = 'resolved'; } catch (e) { r.unknownMethodCode = e && e.code; }
  try { await b.call('not a method name!', {}); r.badEnvelopeCode = 'resolved'; } catch (e) { r.badEnvelopeCode = e && e.code; }
  r.windowOpenBlocked = window.open('https://example.com/') === null;
  try { await fetch('https://example.com/'); r.remoteFetchBlocked = false; } catch { r.remoteFetchBlocked = true; }
  return r;
})()`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the checks on a loaded window. */
export async function runSmokeTest(win: BrowserWindow): Promise<SmokeReport> {
  const page = (await win.webContents.executeJavaScript(PAGE_CHECKS, true)) as Omit<SmokeReport, 'ok' | 'failures' | 'navigationBlocked'>;
  await win.webContents.executeJavaScript(`location.href = 'https://example.com/'; 0`, true).catch(() => undefined);
  await sleep(500);
  const navigationBlocked = isRendererUrl(win.webContents.getURL());
  const failures: string[] = [];
  const expect = (cond: boolean, what: string) => cond || failures.push(what);
  expect(isRendererUrl(page.url), `renderer URL ${page.url} is not app://impulse/`);
  expect(JSON.stringify(page.bridgeKeys) === JSON.stringify(['call', 'onEvent', 'pathForFile', 'platform']), `bridge keys ${page.bridgeKeys.join(',')}`);
  expect(page.platform === 'electron', 'window.impulse.platform is not electron');
  expect(page.nodeInRenderer.require === 'undefined' && page.nodeInRenderer.process === 'undefined', 'Node globals visible in the renderer');
  expect(page.unknownMethodCode === 'invalid-request', `unknown method gave ${String(page.unknownMethodCode)}, not invalid-request`);
  expect(page.badEnvelopeCode === 'invalid-request', `bad envelope gave ${String(page.badEnvelopeCode)}, not invalid-request`);
  expect(page.windowOpenBlocked, 'window.open was not blocked');
  expect(page.remoteFetchBlocked, 'a remote fetch was not blocked');
  expect(navigationBlocked, 'navigation away from the app was not blocked');
  expect(page.bridgeFrozen, 'window.impulse is not a frozen contextBridge copy');
  return { ok: failures.length === 0, failures, ...page, navigationBlocked };
}
