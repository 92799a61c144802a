// CLI command `impulse dataset terrain` (layer app): generates a terrain dataset (procedural
// terrains, Rapier ground truth, sensor heightmaps; format in ego/terrain/README.md) in this
// process, or, with `--queue redis://HOST:PORT`, as BullMQ jobs that `impulse worker`
// processes (possibly on other machines), writing the results here; `impulse dataset
// baselines DIR [--queue URL]` evaluates the no-learning baselines (ADE / FDE at 1, 3, 5 s).
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { GenerateResult } from '../../ego/terrain/index.ts';
import { BASELINES, type BaselineName } from '../../ego/terrain/baseline-names.ts';

function int(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`${flag} ${v}: expected an integer`);
    return n;
  };
}

function print(r: GenerateResult & { queue?: string }, json: boolean): void {
  const m = r.manifest;
  if (json) {
    process.stdout.write(
      JSON.stringify({
        out: r.out,
        split: m.split,
        seed: m.seed,
        samples: r.samples,
        seconds: r.seconds,
        samplesPerSecond: r.samplesPerSecond,
        queue: r.queue ?? null,
      }) + '\n',
    );
    return;
  }
  const kinds = new Map<string, number>();
  for (const s of m.samples) for (const k of s.kinds) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const g = m.spec.grid;
  process.stdout.write(
    [
      `dataset    ${r.out}/manifest.json (${m.split}, seed ${m.seed})`,
      `samples    ${r.samples} in ${r.seconds.toFixed(1)} s (${r.samplesPerSecond.toFixed(2)} samples/s)${r.queue ? ` via ${r.queue}` : ''}`,
      `terrain    ${g.ny} x ${g.nx} grid, ${g.cellSize} m cells, ${m.spec.patches} x ${m.spec.patches} friction/stiffness patches`,
      `obstacles  ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `robot      ${m.robot.mass} kg, ${m.robot.points.length} points, ${m.spec.duration} s at ${1 / m.spec.recordDt} Hz, ground truth ${m.groundTruth.engine}`,
    ].join('\n') + '\n',
  );
}

function baselineList(v: string): BaselineName[] {
  const names = v.split(',').map((x) => x.trim());
  for (const n of names)
    if (!(BASELINES as readonly string[]).includes(n)) throw new InvalidArgumentError(`--baselines: '${n}' is not one of ${BASELINES.join(', ')}`);
  return names as BaselineName[];
}

/** Registers `dataset terrain` and `dataset baselines`. */
export function register(program: Command): void {
  const ds = program.command('dataset').description('generate datasets');
  ds.command('terrain')
    .description('terrains (hills, steps, ditches; --ood: ramps, boulders, pillars) with friction/stiffness patches, a tracked robot, Rapier ground truth')
    .requiredOption('--n <count>', 'number of samples', int('--n'))
    .option('--seed <seed>', 'random seed', int('--seed'), 0)
    .requiredOption('--out <dir>', 'output folder (manifest.json + samples/)')
    .option('--ood', 'out-of-distribution obstacle types (ramps, boulders, pillars)')
    .option('--queue <url>', 'send the samples as jobs to a BullMQ queue on Redis (redis://HOST:PORT); run `impulse worker --queue URL` to process them')
    .option('--job-size <k>', 'samples per job with --queue', int('--job-size'), 4)
    .option('--json', 'print a JSON summary on stdout')
    .action(async (opts: { n: number; seed: number; out: string; ood?: boolean; queue?: string; jobSize: number; json?: boolean }) => {
      try {
        if (opts.queue) {
          const { generateDatasetOnQueue } = await import('../../ego/terrain/jobs.ts');
          const r = await generateDatasetOnQueue({
            url: opts.queue,
            n: opts.n,
            seed: opts.seed,
            out: opts.out,
            ood: !!opts.ood,
            jobSize: opts.jobSize,
            log: (s) => process.stderr.write(s + '\n'),
          });
          print({ ...r, queue: opts.queue }, !!opts.json);
          return;
        }
        const { progress } = await import('../progress.ts');
        const { generateDataset } = await import('../../ego/terrain/index.ts');
        const bar = progress(opts.n, 'terrain', !!opts.json);
        const r = await generateDataset({ n: opts.n, seed: opts.seed, out: opts.out, ood: !!opts.ood, onProgress: (d) => bar.tick(`sample ${d - 1}`) });
        bar.stop();
        print(r, !!opts.json);
      } catch (e) {
        process.stderr.write(`impulse: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
  ds.command('baselines')
    .description(
      'ADE / FDE at 1, 3, 5 s of the no-learning baselines (engine on default terrain parameters, true heights, oracle maps; unicycle) against the Rapier ground truth',
    )
    .argument('<dir>', 'dataset folder (from impulse dataset terrain)')
    .option('--baselines <list>', `comma-separated subset of ${BASELINES.join(', ')}`, baselineList)
    .option('--queue <url>', 'run the sweep as BullMQ jobs on Redis (redis://HOST:PORT); workers must see the dataset at the same path')
    .option('--job-size <k>', 'samples per job with --queue', int('--job-size'), 16)
    .option('--json', 'print JSON on stdout')
    .action(async (dir: string, opts: { baselines?: BaselineName[]; queue?: string; jobSize: number; json?: boolean }) => {
      try {
        const { openTerrainDataset } = await import('../../ego/terrain/index.ts');
        const { evaluateBaselines } = await import('../../ego/terrain/baseline.ts');
        const ds = openTerrainDataset(dir);
        let r: { samples: number; results: ReturnType<typeof evaluateBaselines>['results'] };
        if (opts.queue) {
          const { evaluateBaselinesOnQueue } = await import('../../ego/terrain/jobs.ts');
          r = await evaluateBaselinesOnQueue({
            url: opts.queue,
            dir: resolve(dir),
            baselines: opts.baselines,
            jobSize: opts.jobSize,
            log: (l) => process.stderr.write(l + '\n'),
          });
        } else r = evaluateBaselines(ds, { baselines: opts.baselines });
        const rows = r.results.map((b) => ({
          name: b.name,
          ade: Object.fromEntries(b.metrics.map((m) => [m.horizon.toFixed(1), m.minAde])),
          fde: Object.fromEntries(b.metrics.map((m) => [m.horizon.toFixed(1), m.minFde])),
          seconds: b.ms / 1000,
        }));
        if (opts.json) {
          process.stdout.write(JSON.stringify({ dataset: dir, split: ds.manifest.split, samples: r.samples, models: rows }) + '\n');
          return;
        }
        const hs = r.results[0]!.metrics.map((m) => m.horizon);
        const lines = [`dataset ${dir} (${ds.manifest.split}, ${r.samples} samples): ADE / FDE in metres vs Rapier`];
        lines.push(['baseline'.padEnd(22), ...hs.map((h) => `ADE@${h}s FDE@${h}s`.padEnd(18)), 'time'].join(' '));
        for (const b of r.results)
          lines.push(
            [b.name.padEnd(22), ...b.metrics.map((m) => `${m.minAde.toFixed(3)}   ${m.minFde.toFixed(3)}`.padEnd(18)), `${(b.ms / 1000).toFixed(1)} s`].join(
              ' ',
            ),
          );
        process.stdout.write(lines.join('\n') + '\n');
      } catch (e) {
        process.stderr.write(`impulse: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
