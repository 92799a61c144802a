// The `impulse` command-line interface (app layer): builds the commander program from the
// command modules in app/commands and runs it. Nothing imports from app/.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerAll } from './commands/index.ts';
import { packageRoot } from '../data/package-root.ts';

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
  // --json anywhere before a `--`: errors are also printed as {"error": {...}} on stdout
  const end = argv.indexOf('--');
  const json = (end < 0 ? argv : argv.slice(0, end)).includes('--json');
  const onCommanderExit = (err: CommanderError): never => {
    const quiet = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' || err.exitCode === 0;
    if (json && !quiet) printJsonError({ name: 'UsageError', code: err.code, message: err.message.replace(/^error: /, '') });
    process.exit(err.exitCode);
  };
  const override = (c: Command): void => {
    c.exitOverride(onCommanderExit);
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as Error & { toJSON?: () => Record<string, unknown> };
    if (json) printJsonError(typeof err.toJSON === 'function' ? err.toJSON() : { name: err.name ?? 'Error', message: String(err.message ?? e) });
    process.stderr.write(`impulse: ${err.message ?? String(e)}\n`);
    process.exit(1);
  }
}

/** The JSON error object every `--json` command prints on stdout when it fails. */
function printJsonError(error: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ error }) + '\n');
}
