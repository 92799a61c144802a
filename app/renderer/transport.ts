// The renderer's link to the API (app/renderer, browser code): the Electron preload's
// `window.impulse` when present, else HTTP (POST /api/call) and a WebSocket (/api/events) to the
// web server, authenticated by the per-launch token (from the page URL, also sent as a header).

/** What the Electron preload exposes (contextBridge). */
export interface ImpulsePreload {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(cb: (e: unknown) => void): () => void;
  pathForFile(file: File): string;
  platform: 'electron';
}

declare global {
  interface Window {
    impulse?: ImpulsePreload;
  }
}

/** An API error as the renderer sees it. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** The transport the UI uses. */
export interface Transport {
  platform: 'electron' | 'web';
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  onEvent(cb: (e: unknown) => void): () => void;
  /** A local path for a dropped file (Electron), or undefined (web: upload the content). */
  pathForFile(file: File): string | undefined;
}

function asCallError(e: unknown): CallError {
  if (e instanceof CallError) return e;
  const o = e as { code?: unknown; message?: unknown };
  // Electron serialises errors thrown in the main process as "Error invoking remote method ...: ApiError: msg"
  const msg = typeof o?.message === 'string' ? o.message.replace(/^Error invoking remote method '[^']*': (ApiError: )?/, '') : String(e);
  return new CallError(typeof o?.code === 'string' ? o.code : 'error', msg);
}

function electronTransport(p: ImpulsePreload): Transport {
  return {
    platform: 'electron',
    async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      try {
        return (await p.call(method, params)) as T;
      } catch (e) {
        throw asCallError(e);
      }
    },
    onEvent: (cb) => p.onEvent(cb),
    pathForFile: (f) => p.pathForFile(f),
  };
}

function webTransport(): Transport {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const listeners = new Set<(e: unknown) => void>();
  let ws: WebSocket | undefined;
  let retry = 500;
  const connect = (): void => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(`${proto}//${location.host}/api/events?token=${encodeURIComponent(token)}`);
    ws.onmessage = (m) => {
      let e: unknown;
      try {
        e = JSON.parse(String(m.data));
      } catch {
        return;
      }
      for (const l of listeners) l(e);
    };
    ws.onopen = () => (retry = 500);
    ws.onclose = () => {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  };
  connect();
  return {
    platform: 'web',
    async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      let res: Response;
      try {
        res = await fetch('/api/call', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-impulse-token': token },
          body: JSON.stringify({ ...params, method }),
        });
      } catch (e) {
        throw new CallError('network', `cannot reach the Impulse server (${(e as Error).message}); is \`impulse app --web\` still running?`);
      }
      let body: { ok: boolean; result?: unknown; error?: { code: string; message: string } };
      try {
        body = (await res.json()) as typeof body;
      } catch {
        throw new CallError('network', `the server answered ${res.status} without JSON`);
      }
      if (!body.ok) throw new CallError(body.error?.code ?? 'error', body.error?.message ?? `HTTP ${res.status}`);
      return body.result as T;
    },
    onEvent(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    pathForFile: () => undefined,
  };
}

/** The transport of this window. */
export function createTransport(): Transport {
  return window.impulse ? electronTransport(window.impulse) : webTransport();
}
