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

/** Newest modification time (ms) of the .ts files under `path`, or 0. */
function newestTs(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return path.endsWith('.ts') ? st.mtimeMs : 0;
  let t = 0;
  for (const e of readdirSync(path)) if (e !== 'node_modules') t = Math.max(t, newestTs(join(path, e)));
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
  return SOURCE_DIRS.every((d) => newestTs(join(root, d)) <= built);
}

let main;
if (useCompiled()) ({ main } = await import('../dist/app/cli.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../app/cli.ts'));
}
await main(process.argv);
