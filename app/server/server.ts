// The app's web mode (app/server): the renderer and the API served on 127.0.0.1 only, guarded by a
// random per-launch token. The token arrives in the URL (`/?token=...`), which sets an HttpOnly
// SameSite=Strict cookie for the assets; API calls (POST /api/call) and the event WebSocket
// (/api/events) need the token (header `x-impulse-token`, `?token=` or the cookie) and a Host /
// Origin of this server (DNS-rebinding guard). Anything else is 403. Requests are validated by
// the same zod schemas as Electron's IPC (app/api). Every response carries a strict CSP.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, createApiBackend, toApiError, type ApiBackend, type ApiBackendOptions } from '../api/index.ts';
import { RENDERER_OUT, ensureRendererBuilt } from './renderer-build.ts';

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  /** Port (default 0: a free one). */
  port?: number;
  /** A backend to serve (default: a new one from `backend`); closed with the server only when created here. */
  api?: ApiBackend;
  backend?: ApiBackendOptions;
  /** Token (default: 32 random bytes, hex). */
  token?: string;
  /** Largest request body (default 400 MB, for uploads). */
  maxBodyBytes?: number;
}

/** A running web server. */
export interface WebServer {
  url: string;
  /** The URL to open, with the token. */
  urlWithToken: string;
  token: string;
  port: number;
  api: ApiBackend;
  close(): Promise<void>;
}

/** The Content-Security-Policy of the renderer (no inline script, no eval). */
export function contentSecurityPolicy(port?: number): string {
  const ws = port ? `ws://127.0.0.1:${port} ws://localhost:${port}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${ws}`.trim(),
    "worker-src 'self' blob:",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const MIME: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const STATUS: Record<string, number> = { 'invalid-request': 400, forbidden: 403, 'not-found': 404, 'bad-file': 422, 'run-failed': 500, internal: 500 };

function cookieToken(req: IncomingMessage): string | undefined {
  const c = req.headers.cookie;
  if (!c) return undefined;
  for (const part of c.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'impulse_token') return v.join('=');
  }
  return undefined;
}

/** Starts the web server on 127.0.0.1 (builds the renderer first when it is missing or stale). */
export async function startWebServer(opts: WebServerOptions = {}): Promise<WebServer> {
  await ensureRendererBuilt();
  const token = opts.token ?? randomBytes(32).toString('hex');
  const tokenBuf = Buffer.from(token);
  const ownApi = !opts.api;
  const api = opts.api ?? createApiBackend(opts.backend);
  const maxBody = opts.maxBodyBytes ?? 400_000_000;
  let port = 0;

  const tokenOk = (t: string | undefined | null): boolean => {
    if (!t) return false;
    const b = Buffer.from(t);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const hostOk = (req: IncomingMessage): boolean => {
    const host = req.headers.host;
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return false;
    const origin = req.headers.origin;
    return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
  };
  const requestToken = (req: IncomingMessage, url: URL): string | undefined =>
    (req.headers['x-impulse-token'] as string | undefined) ?? url.searchParams.get('token') ?? cookieToken(req);

  const send = (res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': contentSecurityPolicy(port),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      ...extra,
    });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, v: unknown): void => send(res, status, JSON.stringify(v), 'application/json; charset=utf-8');
  const forbidden = (res: ServerResponse, why: string): void => sendJson(res, 403, { ok: false, error: { code: 'forbidden', message: why } });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolveBody, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > maxBody) {
          reject(new ApiError('invalid-request', `request body larger than ${maxBody} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!hostOk(req)) return forbidden(res, 'forbidden: wrong Host or Origin');
      const tok = requestToken(req, url);
      if (!tokenOk(tok)) return forbidden(res, 'forbidden: missing or wrong token (use the URL printed by `impulse app --web`)');
      if (req.method === 'GET' && STATIC[url.pathname]) {
        const f = STATIC[url.pathname]!;
        const extra: Record<string, string> = f === 'index.html' ? { 'set-cookie': `impulse_token=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};
        try {
          return send(res, 200, readFileSync(join(RENDERER_OUT, f)), MIME[f.split('.').pop()!]!, extra);
        } catch {
          return sendJson(res, 500, { ok: false, error: { code: 'internal', message: `renderer file ${f} missing: run npm run build:renderer` } });
        }
      }
      if (req.method === 'POST' && url.pathname === '/api/call') {
        let request: unknown;
        try {
          const body = await readBody(req);
          try {
            request = JSON.parse(body);
          } catch (e) {
            throw new ApiError('invalid-request', `request body is not JSON: ${(e as Error).message}`);
          }
          const result = await api.call(request);
          return sendJson(res, 200, { ok: true, result });
        } catch (e) {
          const err = toApiError(e);
          return sendJson(res, STATUS[err.code] ?? 500, { ok: false, error: err.toJSON() });
        }
      }
      return sendJson(res, 404, { ok: false, error: { code: 'not-found', message: `${req.method} ${url.pathname}: no such route` } });
    })().catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: (e as Error).message } });
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/events' || !hostOk(req) || !tokenOk(requestToken(req, url))) {
      socket.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nforbidden: missing or wrong token\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const off = api.onEvent((e) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(e));
      });
      ws.on('close', () => {
        off();
        sockets.delete(ws);
      });
      ws.on('message', () => {
        // events only flow to the renderer; calls go through POST /api/call
      });
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/`;
  let closing: Promise<void> | undefined;
  return {
    url: base,
    urlWithToken: `${base}?token=${token}`,
    token,
    port,
    api,
    close() {
      closing ??= (async () => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        if (ownApi) await api.close();
      })();
      return closing;
    },
  };
}
