// `impulse train ego-kitti | ego`, `impulse eval ego` and `impulse predict` (app layer): the
// ego-motion predictor's headless CLI. Training shows a cli-progress bar (ETA, loss, validation
// ADE) on a TTY and plain lines otherwise, always on stderr; --json prints the result on stdout.
// Ctrl-C stops after the batch in flight; the last complete epoch stays checkpointed (--resume).
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import type * as EgoModule from '../../ego/index.ts';
import type { RunInput, RunMetrics, EgoTask } from '../../ego/index.ts';
import type * as TerrainModule from '../../ego/terrain/index.ts';
import type { TerrainRunMetrics } from '../../ego/terrain/index.ts';
import { DEVICE_HELP, initTfForDevice, initTfFromCli } from './backend.ts';

/** The ego layer, imported when a command runs (not at start-up: it loads tfjs models, MCAP, the physics engine). */
let ego: typeof EgoModule;
async function loadEgo(): Promise<typeof EgoModule> {
  ego ??= await import('../../ego/index.ts');
  return ego;
}

/** The terrain predictor (ego/terrain), imported when a terrain command runs. */
let terrain: typeof TerrainModule;
async function loadTerrain(): Promise<typeof TerrainModule> {
  terrain ??= await import('../../ego/terrain/index.ts');
  return terrain;
}

/** tfjs for the terrain CNN: the cpu backend (the wasm backend has no Conv2DBackpropFilter kernel). */
async function terrainTf(): Promise<typeof import('@tensorflow/tfjs')> {
  const { initTf } = await import('../../models/tf/index.ts');
  return (await initTf('cpu')).tf as typeof import('@tensorflow/tfjs');
}

function printTerrain(m: TerrainRunMetrics): void {
  console.log(`held-out in-distribution terrains (${m.split.test}, ${m.split.testIds.join('..')}; trained on ${m.split.train}, selected on ${m.split.val}):`);
  console.log(terrain.terrainMetricsTable(m.models));
  if (m.ood) {
    console.log(`\nout-of-distribution terrains (${m.ood.samples}, unseen obstacle kinds):`);
    console.log(terrain.terrainMetricsTable(m.ood.models));
  }
  console.log(`\nseeds ${m.trainedSeeds.join(', ')}; learned rows are mean±sd over seeds; physics-oracle uses the true maps (a reference, not a baseline)`);
}

interface TerrainCli {
  data: string;
  ood?: string;
  config?: string;
  out?: string;
  seed?: string;
  epochs?: string;
  seeds?: string;
  resume?: boolean;
  json?: boolean;
  device?: string;
}

interface TrainCli {
  input?: string;
  times?: string;
  topic?: string;
  plane?: string;
  config?: string;
  out?: string;
  seed?: string;
  epochs?: string;
  resume?: boolean;
  seeds?: string;
  dataEfficiency?: boolean;
  json?: boolean;
  device?: string;
}

const int = (v: string | undefined, name: string, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new ego.EgoError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return x;
};

function plane(v: string | undefined): 'xy' | 'xz' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'xy' && v !== 'xz') throw new ego.EgoError(`--plane must be xy or xz, got '${v}'`);
  return v;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '-');

/** What both training commands share: Ctrl-C handling and the progress bar on a TTY (stderr). */
interface TrainingSession {
  signal: AbortSignal;
  /** Whether progress goes to a bar (a TTY without --json) rather than plain epoch lines. */
  tty: boolean;
  /** Moves the bar to `done` of `total` batches (created on first use). */
  progress(total: number, done: number, payload: Record<string, string>): void;
  /** Stops the bar (idempotent). */
  stopBar(): void;
  /** Stops the bar and removes the SIGINT handler. */
  close(): void;
}

/**
 * Starts a training session: the first Ctrl-C aborts after the batch in flight (the last complete
 * epoch stays checkpointed), a second one quits at once. `etaBuffer`: batches the ETA averages over.
 */
async function trainingSession(json: boolean | undefined, etaBuffer: number): Promise<TrainingSession> {
  const { default: cliProgress } = await import('cli-progress');
  const ctl = new AbortController();
  let interrupts = 0;
  const onInterrupt = (): void => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupt: stopping after the batch in flight (Ctrl-C again to quit now)\n');
    ctl.abort();
  };
  process.on('SIGINT', onInterrupt);
  const tty = !!process.stderr.isTTY && !json;
  let bar: SingleBar | null = null;
  const stopBar = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    signal: ctl.signal,
    tty,
    progress(total, done, payload) {
      if (!tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: 'train [{bar}] {percentage}% ETA {eta_formatted} | epoch {epoch} {model} loss {loss} | val ADE {val}',
            stream: process.stderr,
            etaBuffer,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, payload);
      }
      bar.setTotal(total);
      bar.update(done, payload);
    },
    stopBar,
    close() {
      stopBar();
      process.off('SIGINT', onInterrupt);
    },
  };
}

async function train(program: Command, task: EgoTask, o: TrainCli): Promise<void> {
  await loadEgo();
  const config = o.config ? ego.readEgoConfig(o.config) : undefined;
  const seed = int(o.seed, 'seed', 0);
  const epochs = int(o.epochs, 'epochs', 1);
  const seeds = int(o.seeds, 'seeds', 1);
  // ego/train.ts reads tensors asynchronously; on webgpu the physics and mpc models join the float64
  // bridge asynchronously (bridgedVariableGrads), so every model trains with --device gpu.
  // The tfjs backend line on stderr when a device was asked for (which backend trained is then visible).
  await initTfForDevice(program, o.device, (o.device ?? 'cpu') === 'cpu');
  let input: RunInput;
  if (task === 'ego-kitti') input = { ...ego.KITTI_INPUT, plane: plane(o.plane) ?? 'xz' };
  else {
    if (!o.input) throw new ego.EgoError("train ego: --input TRAJ|LOG.mcap is required (or use 'impulse train ego-kitti')");
    input = { path: o.input, timesFile: o.times, topic: o.topic, plane: plane(o.plane) ?? 'xy' };
  }
  const out = o.out ?? `runs/${task}-${stamp()}`;
  const session = await trainingSession(o.json, 100);
  let lastVal = '-';
  const t0 = performance.now();
  try {
    const res = await ego.runEgo({
      task,
      input,
      config,
      seed,
      epochs,
      out,
      resume: o.resume,
      seeds,
      dataEfficiency: o.dataEfficiency,
      signal: session.signal,
      onBatch: (p) => {
        const total = (p.epochs - p.firstEpoch + 1) * p.models * p.batches;
        const done = ((p.epoch - p.firstEpoch) * p.models + p.modelIndex) * p.batches + p.batch;
        session.progress(total, done, { model: p.model, epoch: `${p.epoch}/${p.epochs}`, loss: f3(p.loss), val: lastVal });
      },
      onEpoch: (rows, epoch, epochs) => {
        lastVal = rows.map((r) => `${r.model} ${f3(r.valAde)}`).join(', ');
        if (session.tty) return;
        for (const r of rows)
          process.stderr.write(
            `epoch ${epoch}/${epochs} ${r.model}: train ADE ${f3(r.trainLoss)} m, val ADE ${f3(r.valAde)} m, val FDE@1.5 ${f3(r.valFde)} m (${r.seconds.toFixed(1)} s)\n`,
          );
      },
      onStage: (s) => process.stderr.write(`experiment: ${s}\n`),
    });
    session.stopBar();
    const { writeReport } = await import('../report/write-report.ts');
    const report = await writeReport(out);
    const secs = (performance.now() - t0) / 1000;
    if (o.json) console.log(JSON.stringify({ run: out, seconds: secs, report: report.html, metrics: res.metrics }));
    else {
      console.log(ego.metricsTable(res.metrics.models));
      printExperiments(res.metrics);
      console.log(
        `\nrun folder: ${out} (${secs.toFixed(0)} s); evaluate with 'impulse eval ego --model ${out}', predict with 'impulse predict --model ${out} --input ...'`,
      );
      console.log(`report: ${report.html} (${report.url}); see it in the app with 'impulse app ${out}'`);
    }
  } finally {
    session.close();
  }
}

async function trainTerrainCli(program: Command, o: TerrainCli): Promise<void> {
  await loadEgo();
  await loadTerrain();
  const config = o.config ? terrain.readTerrainConfig(o.config) : undefined;
  const seed = int(o.seed, 'seed', 0);
  const epochs = int(o.epochs, 'epochs', 1);
  const seeds = int(o.seeds, 'seeds', 1);
  // the CNN trains on tfjs (webgpu with --device gpu: ego/terrain reads tensors with await data());
  // the float64 engine rolls the robots out on the CPU's worker threads either way
  const tf =
    o.device === undefined || o.device === 'cpu' ? await terrainTf() : ((await initTfForDevice(program, o.device)).tf as Awaited<ReturnType<typeof terrainTf>>);
  const out = o.out ?? `runs/ego-terrain-${stamp()}`;
  const session = await trainingSession(o.json, 20);
  let lastVal = '-';
  const t0 = performance.now();
  try {
    const res = await terrain.runTerrain({
      tf: tf as never,
      data: o.data,
      ood: o.ood,
      config,
      seed,
      epochs,
      seeds,
      out,
      resume: o.resume,
      signal: session.signal,
      onBatch: (p) => session.progress(p.batches, p.batch, { model: p.model, epoch: `${p.epoch}/${p.epochs}`, loss: f3(p.loss), val: lastVal }),
      onEpoch: (rows, epoch, epochs) => {
        lastVal = rows.map((r) => `${r.model} ${f3(r.valAde)}`).join(', ');
        if (session.tty) return;
        for (const r of rows)
          process.stderr.write(
            `epoch ${epoch}/${epochs} ${r.model}: train loss ${r.trainLoss.toExponential(3)}, val ADE@5 ${f3(r.valAde)} m, val FDE@5 ${f3(r.valFde)} m (${r.seconds.toFixed(1)} s)\n`,
          );
      },
      onStage: (s) => process.stderr.write(`experiment: ${s}\n`),
    });
    session.stopBar();
    const { writeReport } = await import('../report/write-report.ts');
    const report = await writeReport(out);
    const secs = (performance.now() - t0) / 1000;
    if (o.json) console.log(JSON.stringify({ run: out, seconds: secs, report: report.html, metrics: res.metrics }));
    else {
      printTerrain(res.metrics);
      console.log(`\nreport: ${report.html} (${report.url})`);
      console.log(
        `\nrun folder: ${out} (${secs.toFixed(0)} s; terrain maps and loss gradients in ${out}/terrain/); evaluate with 'impulse eval ego --model ${out}'`,
      );
    }
  } finally {
    session.close();
  }
}

function printExperiments(m: RunMetrics): void {
  const pm = (s: { mean: number; std: number }): string => `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
  if (m.seeds) {
    console.log(`\nover seeds ${m.seeds[0]?.seeds.join(', ')} (mean ± std):`);
    for (const s of m.seeds) console.log(`  ${s.name.padEnd(18)} ADE@1.5 ${pm(s.ade)}  FDE@1.5 ${pm(s.fde15)}  miss ${pm(s.missRate)}`);
  }
  if (m.dataEfficiency) {
    console.log('\ndata efficiency (FDE@1.5 s, mean ± std over seeds):');
    for (const r of m.dataEfficiency)
      console.log(
        `  ${(100 * r.fraction).toFixed(0).padStart(3)}% (${r.trainWindows} windows, ${r.epochs} epochs)  ${r.name.padEnd(18)} ${pm(r.fde15)}  ADE ${pm(r.ade)}`,
      );
  }
}

/** Adds `train ego-kitti`, `train ego`, `eval ego` and `predict`. */
export function register(program: Command): void {
  const trainCmd =
    program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('train a learned model (run folder: docs/RUNS.md)');
  const common = (c: Command): Command =>
    c
      .option('--config <file>', 'training config JSON (zod-validated; unknown keys are errors)')
      .option('--out <dir>', 'run folder (default runs/<task>-<date>)')
      .option('--seed <n>', 'seed of initialisation and shuffling (default 0)')
      .option('--epochs <n>', 'epochs (default 20)')
      .option('--resume', 'continue the run in --out from its latest checkpoint')
      .option('--seeds <n>', 'also train the learned models with seeds seed+1..seed+n-1 and report mean ± std')
      .option('--data-efficiency', 'also train on 10% and 30% of the training windows (same number of gradient steps)')
      .option('--device <d>', DEVICE_HELP)
      .option('--json', 'print the result as JSON on stdout');
  common(
    trainCmd
      .command('ego-kitti')
      .description(
        'ego-motion predictor on the bundled KITTI 00 (ground plane x/z): pure NN, physics-informed (model A), MPC (model B), with CV/CTRV baselines',
      ),
  )
    .option('--plane <p>', 'ground plane (default xz)')
    .action((o: TrainCli) => train(program, 'ego-kitti', o));
  common(trainCmd.command('ego').description('ego-motion predictor on any trajectory the data layer reads (first 70% of the time trains, last 30% tests)'))
    .option('--input <file>', 'trajectory file or ROS 2 log (.mcap)')
    .option('--topic <topic>', 'MCAP topic with the poses (e.g. /odom)')
    .option('--times <file>', 'KITTI times file')
    .option('--plane <p>', 'ground plane: xy (odometry frames, default) or xz (camera frames)')
    .action((o: TrainCli) => train(program, 'ego', o));
  trainCmd
    .command('ego-terrain')
    .description(
      'terrain predictor (MonoForce-style): a CNN predicts height correction, friction and stiffness maps from the sensor heightmap, the engine rolls the robot out on them; with the pure-NN and default-physics baselines, ADE/FDE at 1, 3, 5 s on held-out and out-of-distribution terrains',
    )
    .requiredOption('--data <dir>', 'terrain dataset of impulse dataset terrain (the last 20% of its samples are the held-out test terrains)')
    .option('--ood <dir>', 'out-of-distribution dataset (impulse dataset terrain --ood) evaluated as a whole')
    .option('--config <file>', 'terrain training config JSON (zod-validated; unknown keys are errors)')
    .option('--out <dir>', 'run folder (default runs/ego-terrain-<date>)')
    .option('--seed <n>', 'seed of initialisation and shuffling (default 0)')
    .option('--epochs <n>', 'epochs (default 8)')
    .option('--seeds <n>', 'also train with seeds seed+1..seed+n-1 and report mean ± sd')
    .option('--resume', 'continue the run in --out from its latest checkpoint')
    .option('--device <d>', `${DEVICE_HELP}; the CNN trains there, the float64 rollouts stay on the CPU's threads`)
    .option('--json', 'print the result as JSON on stdout')
    .action((o: TerrainCli) => trainTerrainCli(program, o));

  const evalCmd = program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('evaluate trajectories and trained models');
  evalCmd
    .command('ego')
    .description('metrics of a trained ego-motion run on its test split: baselines and models, ADE@1.5, FDE@0.5/1.0/1.5, miss rate')
    .requiredOption('--model <dir>', 'run folder of impulse train')
    .option('--json', 'print metrics.json on stdout')
    .action(async (o: { model: string; json?: boolean }) => {
      await loadEgo();
      await loadTerrain();
      if (terrain.readTerrainRunConfig(new ego.RunFolder(o.model))) {
        const m = await terrain.evaluateTerrainRun((await terrainTf()) as never, o.model);
        if (o.json) console.log(JSON.stringify(m));
        else printTerrain(m);
        return;
      }
      await initTfFromCli(program, true);
      const m = await ego.evaluateRun(o.model);
      if (o.json) console.log(JSON.stringify(m));
      else {
        console.log(`${m.task}: ${m.split.testWindows} test windows (frames ${m.split.testStart}..${m.split.frames - 1})`);
        console.log(ego.metricsTable(m.models));
        printExperiments(m);
      }
    });

  program
    .command('predict')
    .description(
      'run a trained ego-motion predictor along a trajectory or ROS 2 log; writes predictions with their ground truth (.json impulse.predictions or .mcap)',
    )
    .requiredOption('--model <dir>', 'run folder of impulse train')
    .requiredOption('--input <file>', 'trajectory file or ROS 2 log (.mcap)')
    .requiredOption('--out <file>', 'pred.json or pred.mcap')
    .option('--topic <topic>', 'MCAP topic with the poses (e.g. /odom)')
    .option('--times <file>', 'KITTI times file')
    .option('--plane <p>', "ground plane (default: the run's)")
    .option('--json', 'print a summary as JSON on stdout')
    .action(async (o: { model: string; input: string; out: string; topic?: string; times?: string; plane?: string; json?: boolean }) => {
      await loadEgo();
      await initTfFromCli(program, true);
      const s = await ego.predictAlong({ model: o.model, input: o.input, out: o.out, topic: o.topic, timesFile: o.times, plane: plane(o.plane) });
      if (o.json) console.log(JSON.stringify(s));
      else console.log(`${s.windows} prediction windows (${s.labels.join(', ')}) from ${s.frames} frames written to ${s.out} (${s.format})`);
    });
}
