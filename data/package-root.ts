// Where the package's own files are (data/, the bottom layer, so every layer can find its bundled
// files): the package root found from this module's location, the same whether the code runs
// from the TypeScript sources or from the compiled dist/ folder, in a source checkout or
// installed under node_modules; the package's version.
import { existsSync, readFileSync } from 'node:fs';
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

/** A file or folder of the package, e.g. `packagePath('examples', 'data', 'KITTI_00_gt.txt')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

let version: string | undefined;

/** The package's version (from its package.json). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
