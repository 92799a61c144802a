// Registers every CLI command module with the program. Each module in this folder exports
// `register(program)` and imports its heavy modules (the layers, tfjs, zod, MCAP) only inside
// its action, so that `impulse --help` starts fast.
import type { Command } from 'commander';
import * as gradcheck from './gradcheck.ts';
import * as bench from './bench.ts';
import * as demo from './demo-command.ts';
import * as backend from './backend.ts';
import * as data from './data.ts';
import * as sim from './sim.ts';
import * as example from './example.ts';
import * as mpc from './mpc.ts';
import * as report from './report.ts';
import * as evalPred from './eval-pred.ts';
import * as ego from './ego.ts';
import * as dataset from './dataset.ts';
import * as worker from './worker.ts';
import * as app from './app.ts';
import * as start from './start.ts';

export function registerAll(program: Command): void {
  for (const m of [demo, gradcheck, bench, backend, data, sim, example, mpc, ego, report, evalPred, dataset, worker, app, start]) m.register(program);
}
