// `impulse backend`: initialises TensorFlow.js the way every tfjs-using command does
// (--backend > IMPULSE_TF_BACKEND > best available) and prints which backend it got.
import type { Command } from 'commander';
import type { TfInit } from '../../models/tf/index.ts';

/** Initialises tfjs from the program's global --backend option and reports it on stderr. */
export async function initTfFromCli(program: Command, quiet = false): Promise<TfInit> {
  const { describeTfBackend, initTf } = await import('../../models/tf/index.ts');
  const info = await initTf(program.opts<{ backend?: string }>().backend);
  if (!quiet) process.stderr.write(`${describeTfBackend(info)}\n`);
  return info;
}

export function register(program: Command): void {
  program
    .command('backend')
    .description('initialise TensorFlow.js (--backend, IMPULSE_TF_BACKEND, or best available) and print the backend in use')
    .option('--json', 'print {backend, requested, source, fallbackReason} on stdout')
    .action(async (opts: { json?: boolean }) => {
      const info = await initTfFromCli(program, !!opts.json);
      if (opts.json) {
        const { backend, requested, source, fallbackReason, nativePackage } = info;
        console.log(JSON.stringify({ backend, requested, source, fallbackReason, nativePackage }));
      } else console.log(info.backend);
    });
}
