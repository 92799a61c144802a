// CLI command `impulse report RUN [--out DIR] [--no-png] [--json]` (app/): (re)builds a run
// folder's report (report/index.html with inline SVG plots and PNG copies, see app/report) and
// prints where it is, with a file:// URL to open it. The report code (Vega, resvg) is loaded only
// when the command runs, so it does not slow down the CLI's start-up.

import type { Command } from 'commander';
import { DataError } from '../../data/errors.ts';

interface ReportCliOpts {
  out?: string;
  png: boolean;
  json?: boolean;
}

function fail(e: unknown, json: boolean | undefined): void {
  const err = e as Error;
  const payload = err instanceof DataError ? err.toJSON() : { name: err?.name ?? 'Error', message: String(err?.message ?? e) };
  if (json) process.stdout.write(JSON.stringify({ error: payload }, null, 2) + '\n');
  process.stderr.write(`impulse: ${err instanceof DataError ? `${err.name}: ` : ''}${err?.message ?? String(e)}\n`);
  process.exitCode = 1;
}

const MISSING_EFFECT: Record<string, string> = {
  'config.json': 'no config summary',
  'metrics.json': 'metrics computed from predictions.json',
  'history.json': 'no loss curves',
  'predictions.json': 'no paths plot',
};

async function runReport(run: string, o: ReportCliOpts): Promise<void> {
  try {
    const { writeReport } = await import('../report/write-report.ts');
    const r = await writeReport(run, { out: o.out, png: o.png });
    if (o.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      return;
    }
    const lines = [`report   ${r.html}`, `open     ${r.url}`];
    lines.push(`plots    ${r.plots.length ? r.plots.map((p) => (p.png ? `${p.name}.png` : p.name)).join(', ') : 'none'}`);
    for (const m of r.missing) lines.push(`missing  ${m} (${MISSING_EFFECT[m] ?? 'left out'})`);
    process.stdout.write(lines.join('\n') + '\n');
  } catch (e) {
    fail(e, o.json);
  }
}

/** Registers `report`. */
export function register(program: Command): void {
  program
    .command('report')
    .description('build the HTML report of a run folder (metrics table, paths, error vs horizon, loss curves) and PNG copies of its plots')
    .argument('<run>', 'run folder written by `impulse train` (config.json, metrics.json, history.json, predictions.json)')
    .option('--out <dir>', 'report folder (default: RUN/report)')
    .option('--no-png', 'skip the PNG copies of the plots (older copies in the report folder are removed: they would not match)')
    .option('--json', 'print JSON on stdout')
    .action((run: string, o: ReportCliOpts) => runReport(run, o));
}
