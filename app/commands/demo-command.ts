// `impulse demo` (what `npm start` runs): registers the command; the tour itself (demo.ts, which
// loads every layer) is imported only when the command runs, so `impulse --help` stays fast.
import type { Command } from 'commander';

/** Adds `impulse demo` to the program. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('tour of what Impulse does today, on bundled default data')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (opts: { json?: boolean }) => {
      const { runDemo } = await import('./demo.ts');
      const summary = await runDemo(opts.json ? () => {} : (s) => console.log(s));
      if (opts.json) console.log(JSON.stringify(summary, null, 1));
    });
}
