// `impulse example [name]`: runs one of the gradient-descent experiments through the simulator
// (experiments/physics: bounce, cloth-throw, box-toss, terrain-id) and prints its losses, its
// gradient check and its results in words, rounded (`--json`: the complete result).
import { InvalidArgumentError, type Command } from 'commander';
import { round, roundValue, table, words } from '../format.ts';

/** Names and one-line descriptions of the examples (kept here so that `--help` loads no simulator code). */
const EXAMPLE_NAMES = ['bounce', 'cloth-throw', 'box-toss', 'terrain-id'] as const;

/** Labels of the detail keys the examples report; other keys are turned into words. */
const LABELS: Record<string, string> = {
  v0: 'initial velocity (m/s)',
  w0: 'initial angular velocity (rad/s)',
  qd0: 'initial velocities (m/s)',
  target: 'target (m)',
  finalPos: 'final position (m)',
  finalSpeed: 'final speed (m/s)',
  steps: 'steps',
  dt: 'time step (s)',
  substeps: 'substeps',
  keTrue: 'true contact stiffness',
  keInitial: 'initial contact stiffness',
  keFitted: 'fitted contact stiffness',
  keRelErr: 'stiffness relative error',
  muInitial: 'initial friction',
  muMeanAbsErrOnPath: 'mean friction error on the path',
  gridPointsOnPath: 'grid points on the path',
  pathEnd: 'end of the path (m)',
  observations: 'observations',
};

function positiveInt(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} ${v}: expected a non-negative integer`);
    return n;
  };
}

/** Adds `impulse example` to the program. */
export function register(program: Command): void {
  program
    .command('example')
    .description(`run a gradient-descent example through the simulator: ${EXAMPLE_NAMES.join(', ')}`)
    .argument('[name]', 'example name (omit to list them)')
    .option('--iterations <n>', "optimisation iterations (default: the example's own)", positiveInt('--iterations'))
    .option('--no-gradcheck', 'skip the gradient check against central differences')
    .option('--json', 'print the complete result as JSON on stdout')
    .action(async (name: string | undefined, opts: { iterations?: number; gradcheck?: boolean; json?: boolean }) => {
      const { EXAMPLES, runExample } = await import('../../experiments/physics/index.ts');
      if (!name) {
        if (opts.json) process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(EXAMPLES).map(([k, v]) => [k, v.description]))) + '\n');
        else
          process.stdout.write(
            Object.entries(EXAMPLES)
              .map(([k, v]) => `${k.padEnd(12)} ${v.description}`)
              .join('\n') + '\n',
          );
        return;
      }
      const r = runExample(name, { iterations: opts.iterations, skipGradcheck: opts.gradcheck === false });
      if (opts.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const g = r.gradcheck;
      const rows: [string, string][] = [
        ['example', r.example],
        ['loss', `${round(r.initialLoss, 3)} -> ${round(r.finalLoss, 3)} (${round(100 * r.ratio, 3)}% of the initial loss) in ${r.iterations} iterations`],
        ['converged', r.converged ? 'yes (below 1% of the initial loss)' : 'no (not below 1% of the initial loss)'],
        [
          'gradient check',
          Number.isNaN(g.maxRelErr) ? 'skipped' : `${g.passed ? 'passed' : 'FAILED'}: largest relative error ${round(g.maxRelErr, 2)} (step ${g.eps})`,
        ],
        ['time', `${round(r.wallMs / 1000, 2)} s`],
      ];
      for (const [k, v] of Object.entries(r.details)) if (k !== 'lossHistory') rows.push([LABELS[k] ?? words(k), roundValue(v)]);
      process.stdout.write(table(rows) + '\n');
      if (!g.passed && !Number.isNaN(g.maxRelErr)) process.exitCode = 1;
    });
}
