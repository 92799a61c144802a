// Registers every CLI command module with the program. Each module in this folder exports
// `register(program)`.
import type { Command } from 'commander';
import * as gradcheck from './gradcheck.ts';
import * as bench from './bench.ts';
import * as demo from './demo.ts';
import * as backend from './backend.ts';
import * as data from './data.ts';
import * as sim from './sim.ts';
import * as mpc from './mpc.ts';
import * as report from './report.ts';
import * as evalPred from './eval-pred.ts';

export function registerAll(program: Command): void {
  for (const m of [demo, gradcheck, bench, backend, data, sim, mpc, report, evalPred]) m.register(program);
}
