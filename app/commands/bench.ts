// `impulse bench [name] [args...]`: runs bench/<name>.ts and prints its JSON result on stdout;
// without a name, lists the benchmarks with one line each saying what it measures. The
// benchmarks are TypeScript sources of a source checkout (they are not shipped compiled), run
// through tsx also when the CLI itself runs compiled.
import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot, runningCompiled } from '../../data/package-root.ts';

/** A benchmark module: `run(args)` returns a JSON-able result; `description` says what it measures. */
interface BenchModule {
  run(args: string[]): Promise<Record<string, unknown>>;
  description?: string;
}

function benchDir(): string {
  const dir = join(packageRoot(), 'bench');
  if (!existsSync(dir)) throw new Error(`bench: the benchmarks are TypeScript sources of a source checkout; ${dir} does not exist in this installation`);
  return dir;
}

/** Names of the available benchmarks (files in bench/). */
export function benchNames(): string[] {
  return readdirSync(benchDir())
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadBench(name: string): Promise<BenchModule> {
  // compiled CLI: the benchmark sources still need tsx's loader
  if (runningCompiled()) (await import('tsx/esm/api')).register();
  return (await import(pathToFileURL(join(benchDir(), `${name}.ts`)).href)) as BenchModule;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark from bench/ and print JSON (omit the name to list them with what each measures)')
    .argument('[name]', 'benchmark name (omit to list them)')
    .argument('[args...]', 'arguments passed to the benchmark')
    .allowUnknownOption()
    .action(async (name: string | undefined, args: string[]) => {
      const names = benchNames();
      if (!name) {
        const rows: [string, string][] = [];
        for (const n of names) rows.push([n, (await loadBench(n)).description ?? '(no description)']);
        const w = Math.max(...names.map((n) => n.length));
        for (const [n, d] of rows) console.log(`${n.padEnd(w)}  ${d}`);
        console.log(`\nrun one with: npm run bench -- <name> [args]   (prints JSON)`);
        return;
      }
      if (!names.includes(name)) throw new Error(`bench: unknown benchmark '${name}'; available: ${names.join(', ')}`);
      const result = await (await loadBench(name)).run(args ?? []);
      console.log(JSON.stringify({ bench: name, node: process.version, ...result }, null, 1));
    });
}
