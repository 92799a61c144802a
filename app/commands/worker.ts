// CLI command `impulse worker --queue redis://HOST:PORT [--concurrency N]` (layer app):
// processes the jobs that `impulse dataset terrain --queue URL` puts on the BullMQ queue,
// until SIGINT or SIGTERM (it then finishes the job in hand and disconnects).
import { InvalidArgumentError, type Command } from 'commander';

function int(flag: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} ${v}: expected an integer >= ${min}`);
    return n;
  };
}

/** Registers `worker`. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('process dataset jobs from a BullMQ queue on Redis (see impulse dataset terrain --queue)')
    .requiredOption('--queue <url>', 'Redis URL, redis://HOST:PORT')
    .option('--concurrency <n>', 'jobs processed at once by this process', int('--concurrency', 1), 1)
    .option('--lock-ms <ms>', 'lock duration: a job whose worker stops answering for this long is retried by another worker', int('--lock-ms', 200), 30000)
    .action(async (opts: { queue: string; concurrency: number; lockMs: number }) => {
      const log = (s: string): void => void process.stdout.write(`${new Date().toISOString()} ${s}\n`);
      try {
        const { startWorker } = await import('../../ego/terrain/jobs.ts');
        const w = await startWorker({ url: opts.queue, concurrency: opts.concurrency, lockMs: opts.lockMs, log });
        await new Promise<void>((resolve) => {
          const stop = (sig: string): void => {
            log(`${sig}: finishing the current job and closing`);
            void w.close().then(() => {
              log(`closed after ${w.completed()} job(s)`);
              resolve();
            });
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      } catch (e) {
        process.stderr.write(`impulse: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
