// Progress reporting for long CLI work: a cli-progress bar on a TTY, plain lines otherwise
// (always on stderr, so --json output on stdout stays clean).
import cliProgress from 'cli-progress';

/** A minimal progress sink. */
export interface Progress {
  tick(label: string): void;
  stop(): void;
}

/** A bar when stderr is a TTY and `quiet` is false; plain `[i/n] label` lines otherwise. */
export function progress(total: number, title: string, quiet = false): Progress {
  if (quiet) return { tick: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${title} [{bar}] {value}/{total} {label}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { label: '' });
    return { tick: (label) => bar.increment(1, { label }), stop: () => bar.stop() };
  }
  let i = 0;
  return {
    tick: (label) => process.stderr.write(`${title} [${++i}/${total}] ${label}\n`),
    stop: () => {},
  };
}
