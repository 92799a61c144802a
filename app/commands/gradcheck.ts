// `impulse gradcheck`: runs every registered float64 gradient check (ops, linear algebra,
// kernels, layers, solvers) against central differences.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function register(program: Command): void {
  program
    .command('gradcheck')
    .description('run all registered gradient checks (central differences, float64, rel. error <= 1e-6); exits 1 if any fails')
    .option('--json', 'print [{name, maxAbsErr, maxRelErr, passed}] on stdout')
    .option('--filter <substring>', 'only checks whose name contains this')
    .option('--list', 'list the registered checks (with --filter: those it selects) and exit; --json prints them as a JSON array')
    .option('--module <path...>', "also load these modules, which register their own checks with registerGradcheck (e.g. a user's layer)")
    .action(async (opts: { json?: boolean; filter?: string; list?: boolean; module?: string[] }) => {
      const { registeredGradchecks, runGradchecks } = await import('../../sim/core/index.ts');
      const { progress } = await import('../progress.ts');
      await import('../gradcheck-suite.ts');
      for (const m of opts.module ?? []) {
        // a TypeScript module given to the compiled CLI: load it through tsx
        if (/\.[mc]?ts$/.test(m) && import.meta.url.endsWith('.js')) (await import('tsx/esm/api')).register();
        await import(pathToFileURL(resolve(m)).href);
      }
      const selected = registeredGradchecks().filter((c) => !opts.filter || c.name.includes(opts.filter));
      if (selected.length === 0) {
        // a CI job must not pass with nothing checked
        throw new Error(
          opts.filter
            ? `gradcheck: no registered check matches --filter '${opts.filter}' (${registeredGradchecks().length} registered; --list shows them)`
            : 'gradcheck: no checks are registered',
        );
      }
      if (opts.list) {
        if (opts.json) console.log(JSON.stringify(selected.map((c) => c.name)));
        else for (const c of selected) console.log(c.name);
        return;
      }
      const n = selected.length;
      const bar = progress(n, 'gradcheck', !process.stderr.isTTY); // results are printed anyway; a bar only on a TTY
      const results = runGradchecks(opts.filter, (r) => bar.tick(r.name));
      bar.stop();
      if (opts.json) console.log(JSON.stringify(results, null, 1));
      else {
        for (const r of results) {
          console.log(
            `${r.passed ? 'ok  ' : 'FAIL'} ${r.name.padEnd(40)} maxRelErr ${r.maxRelErr.toExponential(2)}  maxAbsErr ${r.maxAbsErr.toExponential(2)}${r.error ? `  error: ${r.error}` : ''}`,
          );
        }
        const failed = results.filter((r) => !r.passed).length;
        console.log(`${results.length - failed} passed, ${failed} failed`);
      }
      if (results.some((r) => !r.passed)) process.exitCode = 1;
    });
}
