// Builds the app's renderer (app/renderer, browser code only) with esbuild into
// dist/renderer/{index.html, app.js, app.css}: one IIFE script (loadable from file:// in Electron
// and from the web server) and one stylesheet, no inline script. The web server and the e2e tests
// call ensureRendererBuilt(), which rebuilds when the bundle is missing or older than any source.

import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../data/package-root.ts';

const ROOT = packageRoot();
/** The renderer's sources. */
export const RENDERER_SRC = join(ROOT, 'app', 'renderer');
/** Where the bundle is written. */
export const RENDERER_OUT = join(ROOT, 'dist', 'renderer');
const OUTPUTS = ['index.html', 'app.js', 'app.css'];

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (!e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** True when dist/renderer lacks a file or is older than a source file of app/renderer (or package.json). */
export function rendererIsStale(outDir = RENDERER_OUT): boolean {
  let oldest = Infinity;
  for (const f of OUTPUTS) {
    try {
      oldest = Math.min(oldest, statSync(join(outDir, f)).mtimeMs);
    } catch {
      return true;
    }
  }
  if (!existsSync(RENDERER_SRC)) return false; // an installed package ships the built bundle, not the sources
  return newestMtime(RENDERER_SRC) > oldest || statSync(join(ROOT, 'package.json')).mtimeMs > oldest;
}

/** Bundles the renderer (minified) into `outDir`; written to a temporary folder first, then moved in place. */
export async function buildRenderer(opts: { outDir?: string; minify?: boolean } = {}): Promise<{ outDir: string; bytes: Record<string, number>; ms: number }> {
  const t0 = performance.now();
  const outDir = opts.outDir ?? RENDERER_OUT;
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  const { build } = await import('esbuild'); // a development dependency: installed packages ship dist/renderer
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: { app: join(RENDERER_SRC, 'main.ts') },
      outdir: tmp,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['chrome110'],
      minify: opts.minify ?? true,
      legalComments: 'none',
      logLevel: 'silent',
      loader: { '.css': 'css' },
    });
    copyFileSync(join(RENDERER_SRC, 'index.html'), join(tmp, 'index.html'));
    mkdirSync(outDir, { recursive: true });
    const bytes: Record<string, number> = {};
    for (const f of OUTPUTS) {
      renameSync(join(tmp, f), join(outDir, f));
      bytes[f] = statSync(join(outDir, f)).size;
    }
    return { outDir, bytes, ms: Math.round(performance.now() - t0) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let pending: Promise<unknown> | undefined;
/** Builds the renderer when it is missing or stale (concurrent callers share one build). */
export async function ensureRendererBuilt(): Promise<void> {
  if (!rendererIsStale()) return;
  pending ??= buildRenderer().finally(() => (pending = undefined));
  await pending;
}
