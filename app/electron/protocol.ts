// The app:// protocol (app/electron): the renderer is loaded from app://impulse/, a privileged
// standard scheme served from the built renderer folder (dist/renderer) only. Paths are decoded
// once and refused when they climb out of that folder (.., encoded separators, NUL bytes,
// symlinks pointing outside); every response carries the renderer's Content-Security-Policy.
// The handler is a plain (Request) => Response function, tested without Electron.

import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { RENDERER_CSP } from './csp.ts';

/** The scheme the renderer is served from. */
export const RENDERER_SCHEME = 'app';
/** The host of the renderer's URLs. */
export const RENDERER_HOST = 'impulse';
/** The renderer's entry page. */
export const RENDERER_URL = `${RENDERER_SCHEME}://${RENDERER_HOST}/index.html`;

/**
 * The privileges of the scheme, for protocol.registerSchemesAsPrivileged (before app ready):
 * standard (origin, relative URLs), secure (like https), fetch allowed, code cache; no CORS
 * bypass, no service workers.
 */
export const RENDERER_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true, codeCache: true } as const;

/** Content types of the files a built renderer holds. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where a renderer URL points: a file under the root, or the HTTP status refusing it and why. */
export type ResolvedPath = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Maps an app:// URL to a file under `root` (absolute). `app://impulse/` and folder URLs serve
 * their index.html. Refused: other schemes or hosts (404), undecodable or NUL/backslash paths
 * (400), `.`/`..` segments after decoding and anything resolving outside root (403).
 */
export function resolveRendererPath(root: string, requestUrl: string): ResolvedPath {
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: 'malformed URL' };
  }
  if (u.protocol !== `${RENDERER_SCHEME}:` || u.host !== RENDERER_HOST)
    return { ok: false, status: 404, reason: `not a ${RENDERER_SCHEME}://${RENDERER_HOST}/ URL` };
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding in path' };
  }
  if (path.includes('\0') || path.includes('\\')) return { ok: false, status: 400, reason: 'NUL or backslash in path' };
  const segments = path.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 403, reason: 'path leaves the renderer folder' };
  if (path.endsWith('/')) path += 'index.html';
  const base = resolve(root);
  const file = resolve(base, `.${path}`);
  if (!file.startsWith(base + sep)) return { ok: false, status: 403, reason: 'path leaves the renderer folder' };
  return { ok: true, file };
}

/** The headers sent with every renderer file. */
export function rendererHeaders(file: string): Record<string, string> {
  return {
    'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Security-Policy': RENDERER_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/** The request fields the handler reads (a WHATWG Request satisfies it). */
export interface ProtocolRequest {
  readonly url: string;
  readonly method: string;
}

/**
 * The app:// handler serving files of `root` (for protocol.handle). Also refuses methods other
 * than GET/HEAD (405) and files whose real path (after symlinks) lies outside root (403).
 */
export function createRendererHandler(
  root: string,
  onRefused?: (url: string, status: number, reason: string) => void,
): (request: ProtocolRequest) => Promise<Response> {
  const refuse = (url: string, status: number, reason: string): Response => {
    onRefused?.(url, status, reason);
    return new Response(`${status} ${reason}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } });
  };
  let realRoot: Promise<string> | undefined;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(request.url, 405, `method ${request.method} not allowed`);
    const r = resolveRendererPath(root, request.url);
    if (!r.ok) return refuse(request.url, r.status, r.reason);
    let real: string;
    try {
      realRoot ??= realpath(root);
      real = await realpath(r.file);
      const base = await realRoot;
      if (!real.startsWith(base + sep)) return refuse(request.url, 403, 'path leaves the renderer folder (symlink)');
      if (!(await stat(real)).isFile()) return refuse(request.url, 404, 'not a file');
    } catch {
      return refuse(request.url, 404, 'not found');
    }
    const body = request.method === 'HEAD' ? null : new Uint8Array(await readFile(real));
    return new Response(body, { status: 200, headers: rendererHeaders(real) });
  };
}
