// Where the package's own files are (app layer): the package root found from this module's
// location, the same whether the CLI runs from the TypeScript sources or from the compiled
// dist/ folder, in a source checkout or installed under node_modules.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package's root folder (the nearest folder above this module holding package.json). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`impulse: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return dir;
}

/** True when this module runs compiled (dist/*.js) rather than from the TypeScript sources. */
export function runningCompiled(): boolean {
  return import.meta.url.endsWith('.js');
}
