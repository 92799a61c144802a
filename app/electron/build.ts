// Build step of the desktop app (app/electron), `npm run build:electron`: bundles the preload to
// one CommonJS file (a sandboxed preload can require only 'electron', so the bundle is checked
// to import nothing else) and renders the icon set (PNG, 16-512 px) from assets/icon.svg with
// resvg. Output: dist/electron/preload.cjs, dist/electron/icons/NxN.png. The main process is
// not bundled: it runs from its TypeScript sources through tsx (see bootstrap.mjs).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const REPO_ROOT = resolve(HERE, '..', '..');
/** Where the build writes (dist/electron). */
export const ELECTRON_DIST = join(REPO_ROOT, 'dist', 'electron');
/** Icon sizes rendered (px); 512 is what electron-builder's Linux targets want at least. */
export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512] as const;

/** Bundles app/electron/preload.ts to `<outDir>/preload.cjs`; returns its path. Throws when the bundle needs any module but 'electron'. */
export async function buildPreload(outDir = ELECTRON_DIST): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = join(outDir, 'preload.cjs');
  const result = await esbuild.build({
    entryPoints: [join(HERE, 'preload.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    external: ['electron'],
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    banner: { js: '// Impulse desktop app preload (bundled from app/electron/preload.ts by npm run build:electron)' },
  });
  for (const out of Object.values(result.metafile.outputs)) {
    const foreign = out.imports.filter((i) => i.external && i.path !== 'electron').map((i) => i.path);
    if (foreign.length) throw new Error(`preload bundle: a sandboxed preload can require only 'electron', but it imports ${foreign.join(', ')}`);
  }
  return outfile;
}

/** Renders assets/icon.svg to `<outDir>/icons/NxN.png` for each of ICON_SIZES; returns the paths. */
export async function buildIcons(outDir = ELECTRON_DIST): Promise<string[]> {
  const { Resvg } = await import('@resvg/resvg-js');
  const svgPath = join(HERE, 'assets', 'icon.svg');
  const svg = readFileSync(svgPath, 'utf8');
  const dir = join(outDir, 'icons');
  mkdirSync(dir, { recursive: true });
  return ICON_SIZES.map((size) => {
    const png = new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'rgba(0,0,0,0)' }).render().asPng();
    const file = join(dir, `${size}x${size}.png`);
    writeFileSync(file, png);
    return file;
  });
}

/** Builds the preload and the icons into `outDir` (default dist/electron). */
export async function buildElectron(outDir = ELECTRON_DIST): Promise<{ preload: string; icons: string[] }> {
  mkdirSync(outDir, { recursive: true });
  const [preload, icons] = await Promise.all([buildPreload(outDir), buildIcons(outDir)]);
  return { preload, icons };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const { preload, icons } = await buildElectron();
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(
    `build:electron: ${relative(process.cwd(), preload)}, ${icons.length} icons in ${relative(process.cwd(), dirname(icons[0]!))} (${ms} ms)\n`,
  );
}
