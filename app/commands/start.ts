// `impulse start` (what `npm start` runs): the bundled end-to-end job. Trains the ego-motion
// predictor on KITTI 00 into runs/kitti-demo (first time only, with progress; an interrupted
// training resumes), evaluates it against the baselines, writes its report, prints where the
// report is, then opens the app on the run, a simulated terrain run (the MPC terrain robot with the
// gradient of its goal distance w.r.t. the friction map, made once), the bundled KITTI trajectories
// and the ROS 2 log (Electron where installed, else the web mode) and runs until closed or Ctrl-C.
// `--no-app` stops after the report.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../data/package-root.ts';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'impulse.js');
/** The demo's run folder, relative to the current directory. */
export const DEMO_RUN = join('runs', 'kitti-demo');
/** The simulated terrain run the app opens next to it (MPC robot on a friction map, with the gradient). */
export const TERRAIN_RUN = join('runs', 'terrain-robot-demo');
/** Bundled files the app opens next to the run. */
export const DEMO_FILES = ['KITTI_00_gt.txt', 'KITTI_00_ORB.txt', 'nav2_turtlebot.mcap'].map((f) => join(ROOT, 'examples', 'data', f));

interface StartOptions {
  app: boolean;
  web?: boolean;
  port?: string;
  open: boolean;
  run: string;
}

/** Runs `impulse ARGS` as a child process with this terminal (progress bars show); rejects on a non-zero exit. */
function impulse(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.on('SIGINT', forward);
    child.on('error', rej);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      if (code === 0) res();
      else rej(new Error(`'impulse ${args.join(' ')}' ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}`));
    });
  });
}

export function register(program: Command): void {
  program
    .command('start')
    .description('the bundled end-to-end job: train and evaluate the KITTI 00 predictor (first time only), write its report, open the app on it')
    .option('--run <dir>', 'run folder of the demo', DEMO_RUN)
    .option('--no-app', 'stop after the report (do not open the app)')
    .option('--web', 'open the app in the browser (web mode) even where Electron is installed')
    .option('--port <n>', 'port of the web mode (default: a free one)')
    .option('--no-open', 'web mode: do not open the default browser')
    .action(async (opts: StartOptions) => {
      const run = opts.run;
      const trained = !existsSync(join(run, 'metrics.json'));
      if (trained) {
        const resume = existsSync(join(run, 'config.json'));
        process.stderr.write(
          resume
            ? `impulse start: resuming the interrupted KITTI 00 training in ${run}\n`
            : `impulse start: training the ego-motion predictor on KITTI 00 into ${run} (first run only; a few minutes on 2 cores)\n`,
        );
        await impulse(['train', 'ego-kitti', '--out', run, ...(resume ? ['--resume'] : [])]);
      }
      const report = join(run, 'report', 'index.html');
      if (!existsSync(report)) await impulse(['report', run]);
      if (!trained) await impulse(['eval', 'ego', '--model', run]); // training printed the table already
      const shown = relative(process.cwd(), report);
      console.log(`\nReport: ${shown.startsWith('..') ? resolve(report) : shown}  (${pathToFileURL(resolve(report)).href})`);
      console.log(`Open the run in the app: npx impulse app ${run}`);
      if (!opts.app) return;
      if (!existsSync(join(TERRAIN_RUN, 'terrain', 'maps.json'))) {
        process.stderr.write(
          `impulse start: simulating the terrain robot (MPC through the physics engine, gradient w.r.t. the friction map) into ${TERRAIN_RUN}\n`,
        );
        mkdirSync(TERRAIN_RUN, { recursive: true });
        await impulse(['mpc', 'terrain-robot', '--no-check', '--quiet', '--out', join(TERRAIN_RUN, 'trajectory.json')]);
      }
      const args = ['app', run, TERRAIN_RUN, ...DEMO_FILES];
      if (opts.web) args.push('--web');
      if (opts.port) args.push('--port', opts.port);
      if (!opts.open) args.push('--no-open');
      await impulse(args);
    });
}
