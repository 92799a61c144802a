// Type-checks the Electron shell (app/electron, tsconfig.electron.json) when Electron's type
// declarations are installed (node_modules/electron/electron.d.ts: the optional `electron`
// package, e.g. installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1); otherwise says it skipped.
// Part of `npm run typecheck`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dts = new URL('../node_modules/electron/electron.d.ts', import.meta.url);
if (!existsSync(dts)) {
  console.log(
    "typecheck:electron: skipped: node_modules/electron/electron.d.ts is missing (the optional 'electron' package is not installed; install it, e.g. with ELECTRON_SKIP_BINARY_DOWNLOAD=1, to type-check app/electron)",
  );
  process.exit(0);
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.electron.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
