// `impulse bench <name>`: runs bench/<name>.ts and prints its JSON result on stdout.
import type { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('../../bench/', import.meta.url));

/** Names of the available benchmarks (files in bench/). */
export function benchNames(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark from bench/ and print JSON')
    .argument('[name]', 'benchmark name (omit to list them)')
    .argument('[args...]', 'arguments passed to the benchmark')
    .allowUnknownOption()
    .action(async (name: string | undefined, args: string[]) => {
      const names = benchNames();
      if (!name) {
        console.log(names.join('\n'));
        return;
      }
      if (!names.includes(name)) throw new Error(`unknown benchmark '${name}'; available: ${names.join(', ')}`);
      const mod = (await import(new URL(`../../bench/${name}.ts`, import.meta.url).href)) as { run(args: string[]): Promise<Record<string, unknown>> };
      const result = await mod.run(args ?? []);
      console.log(JSON.stringify({ bench: name, node: process.version, ...result }, null, 1));
    });
}
