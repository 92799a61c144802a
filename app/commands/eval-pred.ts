// CLI command `impulse eval pred PRED.json|PRED.mcap [--topic T] [--horizons 0.5,1,1.5] [--miss 2]
// [--json]` (app/): ADE, FDE and miss rate per model label of a prediction file (impulse.predictions
// JSON, or the impulse.PredictionSet topic of an MCAP log), with the data layer's prediction metrics.

import { InvalidArgumentError, type Command } from 'commander';
// light imports only: the data layer and the metrics load when the command runs
import { DataError } from '../../data/errors.ts';

interface EvalPredOpts {
  topic?: string;
  horizons?: number[];
  miss: number;
  json?: boolean;
}

function horizonList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const hs = parts.map(Number);
  hs.forEach((h, i) => {
    if (parts[i] === '' || !Number.isFinite(h) || h <= 0)
      throw new InvalidArgumentError(`--horizons must be positive seconds separated by commas, got '${parts[i]}'`);
  });
  return [...new Set(hs)].sort((a, b) => a - b);
}

function positive(name: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
    return x;
  };
}

function fail(e: unknown, json: boolean | undefined): void {
  const err = e as Error;
  const payload = err instanceof DataError ? err.toJSON() : { name: err?.name ?? 'Error', message: String(err?.message ?? e) };
  if (json) process.stdout.write(JSON.stringify({ error: payload }, null, 2) + '\n');
  process.stderr.write(`impulse: ${err instanceof DataError ? `${err.name}: ` : ''}${err?.message ?? String(e)}\n`);
  process.exitCode = 1;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ')).join('\n');
}

async function runEvalPred(file: string, o: EvalPredOpts): Promise<void> {
  try {
    const { loadPredictionFile, metricsByLabel, defaultHorizons } = await import('../report/prediction-metrics.ts');
    const { fmtSig, fmtPercent, fmtHorizon } = await import('../report/format.ts');
    const p = await loadPredictionFile(file, { topic: o.topic });
    if (p.sets.length === 0) throw new DataError('the prediction file has no prediction sets', { file });
    const horizons = o.horizons ?? defaultHorizons(p);
    const models = metricsByLabel(p, { horizons, missThreshold: o.miss });
    if (o.json) {
      process.stdout.write(JSON.stringify({ file, name: p.name ?? null, sets: p.sets.length, horizons, missThreshold: o.miss, models }, null, 2) + '\n');
      return;
    }
    const H = horizons[horizons.length - 1]!;
    const bestOf = models.some((m) => m.k > 1);
    const head = ['model', ...(bestOf ? ['K'] : []), 'sets', `ADE@${fmtHorizon(H)} s`, ...horizons.map((h) => `FDE@${fmtHorizon(h)} s`), `miss rate`];
    const rows = models.map((m) => {
      const last = m.horizons[m.horizons.length - 1]!;
      return [
        m.label,
        ...(bestOf ? [String(m.k)] : []),
        String(last.samples),
        fmtSig(last.ade),
        ...m.horizons.map((h) => fmtSig(h.fde)),
        fmtPercent(last.missRate),
      ];
    });
    const lines = [
      `predictions  ${file}${p.name ? ` (${p.name})` : ''}: ${p.sets.length} prediction sets, ${models.length} model${models.length === 1 ? '' : 's'}`,
      `errors       in metres; ADE over 0 < t <= ${fmtHorizon(H)} s, FDE at each horizon${bestOf ? ', best of the K predictions of a model (minADE / minFDE)' : ''}`,
      `miss rate    share of sets with FDE@${fmtHorizon(H)} s > ${o.miss} m`,
      '',
      table([head, ...rows]),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (e) {
    fail(e, o.json);
  }
}

/** Adds `pred` to the `eval` command group (created here when no other module has made it yet). */
export function register(program: Command): void {
  const evalCmd = program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('evaluate trajectories and predictions');
  evalCmd
    .command('pred')
    .description('ADE / FDE / miss rate per model of a prediction file (impulse.predictions JSON or MCAP)')
    .argument('<file>', 'prediction file: .json (impulse.predictions) or .mcap (impulse.PredictionSet messages)')
    .option('--topic <topic>', 'MCAP input: topic of the prediction sets (default: the only one)')
    .option('--horizons <list>', 'horizons in seconds, e.g. 0.5,1,1.5 (default: a third, two thirds and all of the common horizon)', horizonList)
    .option('--miss <m>', 'miss threshold on the FDE at the longest horizon (m)', positive('--miss'), 2)
    .option('--json', 'print JSON on stdout')
    .action((file: string, o: EvalPredOpts) => runEvalPred(file, o));
}
