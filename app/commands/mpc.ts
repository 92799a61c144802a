// `impulse mpc <experiment>`: the differentiable-MPC experiments (app layer). imitate-pendulum
// and imitate-cartpole train a learner MPC through the MPC layer to imitate an expert and
// compare with a neural-network policy; drone and terrain-robot run MPC through the physics
// engine. --json prints the report as JSON on stdout only (progress goes to stderr).
import { InvalidArgumentError, type Command } from 'commander';

const EXPERIMENTS = ['imitate-pendulum', 'imitate-cartpole', 'drone', 'terrain-robot'] as const;

interface MpcCliOptions {
  json?: boolean;
  check?: boolean;
  epochs?: number;
  seed?: number;
  nTrain?: number;
  out?: string;
  quiet?: boolean;
  steps?: number;
  smoothContact?: boolean;
  tol?: number;
  maxIter?: number;
}

/** Parser of a non-negative (or, with `min1`, positive) integer option, checked when parsing. */
function count(flag: string, min = 0): (v: string) => number {
  return (v: string) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isInteger(x) || x < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
}

/** Parser of a positive finite number option, checked when parsing. */
function positiveNumber(flag: string): (v: string) => number {
  return (v: string) => {
    const x = Number(v);
    if (v.trim() === '' || !(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`${flag} must be a positive number, got '${v}'`);
    return x;
  };
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(3) : String(v));

/** Adds `impulse mpc <experiment>` to the program. */
export function register(program: Command): void {
  program
    .command('mpc')
    .description(`differentiable MPC experiments: ${EXPERIMENTS.join(', ')}`)
    .argument('<experiment>', EXPERIMENTS.join(' | '))
    .option('--json', 'print the report as JSON on stdout')
    .option('--epochs <n>', 'training epochs of the learner (imitation: default per problem)', count('--epochs'))
    .option('--seed <n>', 'random seed of the imitation data (default 0)', count('--seed'))
    .option('--n-train <n>', 'training set size of the MPC learner (imitation, default 16)', count('--n-train', 1))
    .option(
      '--out <file>',
      'trajectory file to write (drone, terrain-robot; format by extension: .json, .tum, .mcap, ...; default: a new folder runs/mpc-<experiment>-<date>/)',
    )
    .option('--quiet', 'no per-epoch progress lines')
    .option('--no-check', 'terrain-robot: skip the finite-difference checks of the gradient')
    .option('--steps <n>', 'terrain-robot: closed-loop MPC steps (default 70)', count('--steps', 1))
    .option('--smooth-contact', 'terrain-robot: smooth the contact model for the planner (damping width 0.05 m/s, friction soft-min power 4)')
    .option('--tol <x>', 'terrain-robot: iLQR tolerance on the full control step, N (default 1e-3)', positiveNumber('--tol'))
    .option('--max-iter <n>', 'terrain-robot: most iLQR iterations per MPC solve (default 30)', count('--max-iter', 1))
    .action(async (experiment: string, opts: MpcCliOptions) => {
      if (!(EXPERIMENTS as readonly string[]).includes(experiment))
        throw new Error(`mpc: unknown experiment '${experiment}'; available: ${EXPERIMENTS.join(', ')}`);
      const { epochs, seed, nTrain } = opts;
      if (experiment === 'imitate-pendulum' || experiment === 'imitate-cartpole') {
        const { runImitation, pendulumImitation, cartpoleImitation } = await import('../../experiments/mpc/imitate.ts');
        const spec = experiment === 'imitate-pendulum' ? pendulumImitation() : cartpoleImitation();
        const names = spec.paramNames.filter((_, i) => spec.learn[i]);
        const log = (line: string): void => {
          if (opts.quiet) return;
          if (opts.json) process.stderr.write(line + '\n');
          else console.log(line);
        };
        log(
          `${spec.name} imitation: learner MPC from ${names.map((n) => `${n} = ${spec.initParams[spec.paramNames.indexOf(n)]}`).join(', ')} (true ${names.map((n) => `${n} = ${spec.trueParams[spec.paramNames.indexOf(n)]}`).join(', ')})`,
        );
        log('epoch  train loss   test loss    |theta - theta*|  params');
        const report = runImitation(spec, {
          epochs,
          seed,
          nTrain,
          onEpoch: (r) =>
            log(
              `${String(r.epoch).padStart(5)}  ${fmt(r.trainLoss)}  ${fmt(r.testLoss)}  ${fmt(r.paramError).padEnd(16)}  ${names.map((n) => `${n}=${r.params[spec.paramNames.indexOf(n)]!.toFixed(5)}`).join(' ')}${r.nonConverged ? `  (${r.nonConverged} solves not converged)` : ''}`,
            ),
        });
        if (opts.json) {
          console.log(JSON.stringify(report, null, 1));
          return;
        }
        console.log(`\nneural-network policy (x_init -> u_0..u_${report.T - 1}, same expert data):`);
        console.log('n train  train loss   test loss');
        for (const r of report.nn) console.log(`${String(r.nTrain).padStart(7)}  ${fmt(r.trainLoss)}  ${fmt(r.testLoss)}`);
        const s = report.summary;
        console.log(
          `\nMPC learner with ${report.nTrain} samples: test imitation loss ${fmt(s.initialTestLoss)} -> ${fmt(s.mpcTestLoss)}, largest parameter error ${(100 * s.mpcParamRelError).toFixed(3)}%`,
        );
        console.log(
          `NN policy with ${report.nTrain} samples: test loss ${fmt(s.nnTestLossSameData)}; best NN (${s.bestNnTrainSize} samples): ${fmt(s.bestNnTestLoss)}${s.nnSamplesToMatch === null ? ' (no NN size tried came within 10x of the MPC learner)' : `; NN needs ${s.nnSamplesToMatch} samples to come within 10x`}`,
        );
        if (report.expertNonConverged) console.log(`note: ${report.expertNonConverged} expert solves did not converge`);
        console.log(
          `time: expert ${(report.timeMs.expert / 1000).toFixed(1)} s, MPC learner ${(report.timeMs.mpcLearner / 1000).toFixed(1)} s, NN ${(report.timeMs.nn / 1000).toFixed(1)} s`,
        );
        return;
      }
      if (opts.out) {
        // refuse an unwritable --out before minutes of simulation, not after
        const { checkOutputPath } = await import('../../data/fsutil.ts');
        checkOutputPath(opts.out);
      }
      const { runPhysicsExperiment } = await import('../../experiments/mpc/physics-experiments.ts');
      const report = await runPhysicsExperiment(experiment as 'drone' | 'terrain-robot', {
        out: opts.out,
        quiet: opts.quiet,
        noCheck: opts.check === false,
        steps: opts.steps,
        smoothContact: opts.smoothContact,
        maxIter: opts.maxIter,
        tol: opts.tol,
        log: (l) => (opts.json ? process.stderr.write(l + '\n') : console.log(l)),
      });
      if (opts.json) {
        const { text: _text, ...rest } = report;
        console.log(JSON.stringify(rest, null, 1));
      } else console.log(report.text);
    });
}
