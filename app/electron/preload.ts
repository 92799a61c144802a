// The preload of the desktop app's window (app/electron), run sandboxed in an isolated world and
// bundled to one CommonJS file (dist/electron/preload.cjs) by build.ts. It exposes exactly
// `window.impulse` (ImpulseBridge) with contextBridge: a call function bound to the one invoke
// channel, an event subscription that passes only the payload (never the IPC event or
// ipcRenderer), webUtils.getPathForFile for drag and drop, and the platform name.

import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL, type BridgeError, type ImpulseBridge } from './bridge.ts';

function bridgeError(code: string, message: string, details?: Record<string, unknown>): BridgeError {
  return details ? { name: 'ApiError', code, message, details } : { name: 'ApiError', code, message };
}

async function call(method: string, params?: unknown): Promise<unknown> {
  if (typeof method !== 'string') throw bridgeError('invalid-request', 'method: must be a string');
  const reply = (await ipcRenderer.invoke(CALL_CHANNEL, params === undefined ? { method } : { method, params })) as {
    ok?: unknown;
    value?: unknown;
    error?: { code?: unknown; message?: unknown; details?: unknown };
  } | null;
  if (reply && reply.ok === true) return reply.value;
  const err = reply?.error;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    const details = err.details && typeof err.details === 'object' ? (err.details as Record<string, unknown>) : undefined;
    throw bridgeError(err.code, err.message, details);
  }
  throw bridgeError('internal', `${method}: malformed reply from the main process`);
}

function onEvent(cb: (e: unknown) => void): () => void {
  if (typeof cb !== 'function') throw new TypeError('impulse.onEvent: the listener must be a function');
  const listener = (_event: IpcRendererEvent, payload: unknown): void => cb(payload);
  ipcRenderer.on(EVENT_CHANNEL, listener);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, listener);
  };
}

const api: ImpulseBridge = {
  call,
  onEvent,
  pathForFile: (file: File) => webUtils.getPathForFile(file),
  platform: 'electron',
};

contextBridge.exposeInMainWorld('impulse', api);
