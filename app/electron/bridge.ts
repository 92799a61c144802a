// The renderer-facing contract of the desktop app (app/electron): the IPC channel names and the
// shape of `window.impulse`, the only API the preload exposes (with contextBridge) to the
// sandboxed renderer. No imports: the preload bundle and the renderer's types both use it.

/** The invoke channel: renderer -> main, one `{ method, params }` per call. */
export const CALL_CHANNEL = 'impulse:call';
/** The push channel: main -> renderer, one backend or shell event per message. */
export const EVENT_CHANNEL = 'impulse:event';

/** How a failed call rejects in the renderer (a plain object: contextBridge drops custom Error fields). */
export interface BridgeError {
  name: 'ApiError';
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Events the shell itself (not the backend) pushes on `impulse:event`: files to open (from the
 * File menu, Open Recent, a second launch; command-line files are opened before the window
 * loads); the renderer opens each path with
 * `call('openFile', { path })`, the same way as a dropped file.
 */
export type ShellEvent = { type: 'shell-open'; paths: string[] };

/** `window.impulse` in the Electron renderer. */
export interface ImpulseBridge {
  /** Calls an API method; resolves with its result or rejects with a BridgeError. */
  call(method: string, params?: unknown): Promise<unknown>;
  /** Subscribes to pushed events (backend events and ShellEvent); returns the unsubscribe function. */
  onEvent(cb: (e: unknown) => void): () => void;
  /** The file-system path of a dropped or picked File ('' when it has none). */
  pathForFile(file: File): string;
  /** Which shell runs the renderer. */
  readonly platform: 'electron';
}
