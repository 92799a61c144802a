// CLI command `impulse dataset terrain` (layer app): generates a terrain dataset (procedural
// terrains, Rapier ground truth, sensor heightmaps; format in ego/terrain/README.md) in this
// process, or, with `--queue redis://HOST:PORT`, as BullMQ jobs that `impulse worker`
// processes (possibly on other machines), writing the results here.
import { InvalidArgumentError, type Command } from 'commander';
import { generateDataset, type GenerateResult } from '../../ego/terrain/index.ts';
import { progress } from '../progress.ts';

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

/** Registers `dataset terrain`. */
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
        const bar = progress(opts.n, 'terrain', !!opts.json);
        const r = await generateDataset({ n: opts.n, seed: opts.seed, out: opts.out, ood: !!opts.ood, onProgress: (d) => bar.tick(`sample ${d - 1}`) });
        bar.stop();
        print(r, !!opts.json);
      } catch (e) {
        process.stderr.write(`impulse: ${(e as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
