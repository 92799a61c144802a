// Test helper of the CLI command modules (app/commands): runs one command module through
// commander in-process, capturing what it writes to stdout and stderr and its exit code.
import { Command, CommanderError } from 'commander';

/** What a command printed and its exit code. */
export interface CommandOutput {
  out: string;
  err: string;
  code: number;
}

/**
 * Registers `register` on a fresh program and runs `impulse ARGS`. Commander's own messages are
 * silenced; a parse error ends as code 1 with `err` holding `<commander code>: <message>`.
 */
export async function runCommand(register: (program: Command) => void, args: string[]): Promise<CommandOutput> {
  const program = new Command();
  register(program);
  const override = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    c.commands.forEach(override);
  };
  override(program);
  let out = '';
  let err = '';
  const w = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  // strings only: the test runner's own (binary) messages pass through while an import is awaited
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((out += s), true) : w(s, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((err += s), true) : e(s, ...rest)) as typeof process.stderr.write;
  const prev = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'impulse', ...args]);
  } catch (x) {
    err += x instanceof CommanderError ? `${x.code}: ${x.message}` : (x as Error).message;
    process.exitCode = 1;
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = prev;
  return { out, err, code };
}
