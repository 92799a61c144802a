// Types the Electron shell (app/electron) shares between its modules: the slice of the app API
// backend it drives, and its logger. The backend is injected (dependency injection) so every
// module except the entry main.ts can be unit-tested with a fake backend and without Electron.

/**
 * The part of the app API backend (app/api/backend.ts `ApiBackend`) the shell uses. `call`
 * validates the request `{ method, ...params }` itself and rejects with an error carrying a
 * string `code`; `onEvent` subscribes to pushed events and returns the unsubscribe function.
 */
export interface ShellBackend {
  /** Serves one request `{ method, ...params }`; rejects with an error that has a string `code`. */
  call(request: unknown): Promise<unknown>;
  /** Subscribes to the backend's events; returns the function that unsubscribes. */
  onEvent(listener: (e: unknown) => void): () => void;
  /** Stops runs, closes files. */
  close(): Promise<void>;
}

/** Where the shell reports refused messages, blocked navigations and failures. */
export interface ShellLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** The default logger: stderr, prefixed with `impulse-app:`. */
export const consoleLogger: ShellLogger = {
  warn: (m) => process.stderr.write(`impulse-app: ${m}\n`),
  error: (m) => process.stderr.write(`impulse-app: error: ${m}\n`),
};
