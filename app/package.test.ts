// The package as a user installs it: builds dist/ into a staging copy, packs it with `npm pack`,
// installs the tarball into a temporary project offline from npm's cache (a lockfile derived
// from this repository's pins, so no registry lookup is needed), then imports every public
// entry point with plain `node`, type-checks a consumer .ts file against the shipped types with
// the project's tsc, and runs `npx impulse --help` there. Everything lives in one temporary
// folder, removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  files: string[];
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
};

function sh(cmd: string, args: string[], opts: SpawnSyncOptions): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${String(r.stdout).slice(-2000)}\n${String(r.stderr).slice(-3000)}`);
  return String(r.stdout);
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}

/** The lock entries the package's runtime dependencies reach (node's resolution over the lock's folder layout). */
function reachableLock(packages: Record<string, LockEntry>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const find = (from: string, name: string): string | undefined => {
    for (let base = from; ;) {
      const p = `${base ? base + '/' : ''}node_modules/${name}`;
      if (packages[p]) return p;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const queue: [string, string][] = Object.keys(pkg.dependencies).map((n) => ['', n]);
  while (queue.length) {
    const [from, name] = queue.pop()!;
    const p = find(from, name);
    if (!p || out[p]) continue;
    out[p] = packages[p]!;
    const e = packages[p]!;
    const peers = Object.keys(e.peerDependencies ?? {}).filter((n) => !e.peerDependenciesMeta?.[n]?.optional);
    for (const n of [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {}), ...peers]) queue.push([p, n]);
  }
  return out;
}

test(
  'npm pack -> install into a fresh project -> import every entry point with plain node, type-check against the shipped types, run npx impulse',
  { timeout: 240_000 },
  (t) => {
    const t0 = performance.now();
    const step = (name: string): void => t.diagnostic(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const tmp = mkdtempSync(join(tmpdir(), 'impulse-pack-'));
    try {
      // 1. a staging copy of what the package ships, with dist/ built fresh there
      const stage = join(tmp, 'stage');
      mkdirSync(stage);
      for (const f of ['package.json', 'README.md', 'bin', 'docs', 'examples/data', 'examples/physics'])
        cpSync(join(ROOT, f), join(stage, f), { recursive: true });
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      sh(
        process.execPath,
        [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist'), '--incremental', 'false', '--tsBuildInfoFile', 'null'],
        { cwd: ROOT },
      );
      // the WebAssembly SIMD kernels, as `npm run build` (build-wasm.mjs --dist) places them
      sh(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs'), '--quiet'], { cwd: ROOT });
      cpSync(join(ROOT, 'sim', 'linalg', 'wasm', 'kernels.wasm'), join(stage, 'dist', 'sim', 'linalg', 'wasm', 'kernels.wasm'));
      step('built dist');
      const packed = JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: stage })) as {
        filename: string;
        files: { path: string }[];
      }[];
      const tarball = join(tmp, packed[0]!.filename);
      const shipped = packed[0]!.files.map((f) => f.path);
      assert.ok(shipped.includes('dist/index.js') && shipped.includes('dist/index.d.ts') && shipped.includes('bin/impulse.js'), 'tarball lacks dist/ or bin/');
      assert.ok(shipped.includes('dist/sim/linalg/wasm/kernels.wasm'), 'tarball lacks the wasm kernels');
      assert.ok(!shipped.some((f) => f.endsWith('.test.js') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), 'tarball ships tests or TypeScript sources');

      step('packed');
      // 2. a consumer project whose lockfile pins the package's dependencies as this repository does
      const consumer = join(tmp, 'consumer');
      mkdirSync(consumer);
      const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
      const deps = reachableLock(lock.packages);
      const integrity = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
      const spec = `file:../${packed[0]!.filename}`;
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { [pkg.name]: spec } }),
      );
      writeFileSync(
        join(consumer, 'package-lock.json'),
        JSON.stringify({
          name: 'consumer',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'consumer', version: '1.0.0', dependencies: { [pkg.name]: spec } },
            [`node_modules/${pkg.name}`]: {
              version: pkg.version,
              resolved: spec,
              integrity,
              license: 'MIT',
              dependencies: pkg.dependencies,
              bin: pkg.bin,
              engines: { node: '>=20' },
            },
            ...deps,
          },
        }),
      );
      sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=optional'], { cwd: consumer });

      step('installed');
      // 3. every public entry point with plain node (no tsx)
      const entries = Object.keys(pkg.exports)
        .filter((k) => k !== './package.json')
        .map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
      const script = entries
        .map((e, i) => `const m${i} = await import(${JSON.stringify(e)}); if (Object.keys(m${i}).length === 0) throw new Error('${e}: no exports');`)
        .join('\n');
      const imported = sh(process.execPath, ['--input-type=module', '-e', script + `\nconsole.log('imported ${entries.length}');`], { cwd: consumer });
      assert.match(imported, new RegExp(`imported ${entries.length}`));
      const grad = sh(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { tensor, sum, mul, sin, gradients } from '${pkg.name}/sim'; const x = tensor([0.5]).requireGrad(); console.log(gradients(sum(mul(sin(x), x)), [x])[0].data[0]);`,
        ],
        { cwd: consumer },
      );
      assert.ok(Math.abs(Number(grad) - (Math.cos(0.5) * 0.5 + Math.sin(0.5))) < 1e-12, grad);
      // the wasm kernels load from the installed package, and a QP batch runs on two threads (workers from dist/)
      const kernels = sh(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { kernelBackend, Rng, noGrad } from '${pkg.name}/sim'; import { qp, randomBenchQP } from '${pkg.name}/models';` +
            ` const P = randomBenchQP(new Rng(0), 12, 30, 30); const a = noGrad(() => qp(P, { threads: 1 })), b = noGrad(() => qp(P, { threads: 2 }));` +
            ` console.log(kernelBackend().active, a.x.data.every((v, i) => v === b.x.data[i])); process.exit(0);`,
        ],
        { cwd: consumer },
      );
      assert.equal(kernels.trim(), 'wasm-simd true');

      step('imported');
      // 4. a consumer .ts file type-checked against the shipped .d.ts files
      writeFileSync(
        join(consumer, 'use.ts'),
        [
          `import { tensor, sum, mul, sin, backward, type Tensor } from '${pkg.name}/sim';`,
          `import { Adam, fixedPoint } from '${pkg.name}/models';`,
          `import { mpc, quadCost } from '${pkg.name}/mpc';`,
          `import { readTrajectory, type Trajectory } from '${pkg.name}/data';`,
          `import * as impulse from '${pkg.name}';`,
          `const x: Tensor = tensor([0.1, 0.2]).requireGrad();`,
          `backward(sum(mul(sin(x), x)));`,
          `const opt = new Adam([x], 0.1);`,
          `export const used: unknown[] = [opt, fixedPoint, mpc, quadCost, impulse.sim];`,
          `export async function load(p: string): Promise<Trajectory> { return readTrajectory(p); }`,
          `// @ts-expect-error the shipped types reject a wrong argument type`,
          `tensor('not numbers');`,
        ].join('\n'),
      );
      writeFileSync(
        join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
          files: ['use.ts'],
        }),
      );
      sh(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer });

      step('type-checked');
      // 5. the command from the installed package
      const help = sh('npx', ['--no-install', 'impulse', '--help'], { cwd: consumer, env: { ...process.env, npm_config_offline: 'true' } });
      assert.match(help, /Usage: impulse/);
      assert.match(help, /convert/);
      const installedBin = join(consumer, 'node_modules', pkg.name, 'bin', 'impulse.js');
      assert.equal(dirname(installedBin).endsWith('bin'), true);
      step('ran npx impulse');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
