#!/usr/bin/env node
// The `impulse` command. An installed package runs the compiled CLI (dist/app/cli.js). In a
// source checkout it runs dist/ when the build is newer than every source file, else the
// TypeScript sources through tsx (IMPULSE_FROM_SOURCE=1 forces the sources).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist', 'app', 'cli.js');
const SOURCE_DIRS = ['index.ts', 'app', 'data', 'sim', 'models', 'mpc', 'ego', 'experiments'];
// what tsconfig.build.json leaves out of dist/ (tests; the renderer and the Electron shell have builds of their own)
const NOT_BUILT = new Set(['app/electron', 'app/renderer', 'sim/rapier'].map((d) => join(root, d)));

/** Newest modification time (ms) of the .ts files dist/ is built from under `dir`, or 0. */
function newestTs(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let t = 0;
  for (const e of entries) {
    if (e.isDirectory()) {
      const sub = join(dir, e.name);
      if (e.name !== 'node_modules' && !NOT_BUILT.has(sub)) t = Math.max(t, newestTs(sub));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(join(dir, e.name)).mtimeMs);
  }
  return t;
}

function useCompiled() {
  if (process.env.IMPULSE_FROM_SOURCE === '1' || !existsSync(compiled)) return false;
  if (!existsSync(join(root, 'app', 'cli.ts'))) return true; // installed package: no sources
  let built;
  try {
    built = statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return false;
  }
  const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
  return SOURCE_DIRS.every((d) => (d.endsWith('.ts') ? mtime(join(root, d)) : newestTs(join(root, d))) <= built);
}

let main;
if (useCompiled()) ({ main } = await import('../dist/app/cli.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../app/cli.ts'));
}
await main(process.argv);
