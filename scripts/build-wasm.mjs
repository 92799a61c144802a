// Compiles the AssemblyScript SIMD kernels (sim/linalg/wasm/assembly/kernels.ts) to
// sim/linalg/wasm/kernels.wasm with the assemblyscript compiler (a devDependency), and with
// --dist also copies it next to the compiled loader (dist/sim/linalg/wasm/). `npm run build`
// runs it; the loader runs it on demand in a source checkout when the .wasm is missing or
// older than its source. The output is written to a temporary file and renamed, so parallel
// builds (test processes) never see a half-written module.
// Usage: node scripts/build-wasm.mjs [--dist] [--quiet]
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'sim/linalg/wasm/assembly/kernels.ts');
const target = join(root, 'sim/linalg/wasm/kernels.wasm');
const distTarget = join(root, 'dist/sim/linalg/wasm/kernels.wasm');
const quiet = process.argv.includes('--quiet');

/** The compiler flags: SIMD on, no GC runtime (the JS side manages memory), full optimisation. */
export const ASC_FLAGS = ['--enable', 'simd', '--runtime', 'stub', '--noAssert', '-O3', '--initialMemory', '2'];

async function build() {
  let asc;
  try {
    asc = (await import('assemblyscript/asc')).default;
  } catch (e) {
    throw new Error(`build-wasm: the AssemblyScript compiler (devDependency 'assemblyscript') is not installed: ${e.message}`);
  }
  let binary = null;
  const stderr = [];
  const { error } = await asc.main([relative(root, source), ...ASC_FLAGS, '--outFile', 'kernels.wasm'], {
    readFile: (name, baseDir) => {
      const p = isAbsolute(name) ? name : join(baseDir ?? root, name);
      return existsSync(p) ? readFileSync(p, 'utf8') : null;
    },
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents;
    },
    listFiles: () => [],
    stdout: { write: (s) => (quiet ? undefined : process.stdout.write(s)) },
    stderr: { write: (s) => stderr.push(String(s)) },
  });
  if (error || !binary) throw new Error(`build-wasm: compiling ${source} failed: ${error?.message ?? 'no output'}\n${stderr.join('')}`);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, binary);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  if (process.argv.includes('--dist')) {
    mkdirSync(dirname(distTarget), { recursive: true });
    copyFileSync(target, distTarget);
  }
  if (!quiet) console.log(`build-wasm: ${target} (${statSync(target).size} bytes)`);
}

await build();
