// The `impulse` command-line interface (app layer): builds the commander program from the
// command modules in app/commands and runs it. Nothing imports from app/.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerAll } from './commands/index.ts';
import { packageRoot } from './paths.ts';

const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string; description: string };

/** Builds the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('impulse')
    .description(pkg.description)
    .version(pkg.version)
    .option('--backend <name>', 'TensorFlow.js backend: tensorflow | wasm | cpu (default: best available; env IMPULSE_TF_BACKEND)')
    .showHelpAfterError();
  registerAll(program);
  return program;
}

/** Runs the CLI on an argv array (node, script, ...args). */
export async function main(argv: string[]): Promise<void> {
  // output piped into a reader that stops early (`impulse gradcheck | head`): end quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  program.exitOverride((err) => {
    process.exit(err.exitCode);
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.stderr.write(`impulse: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
