// CLI commands of the physics engine (layer app): `impulse sim run scene.json --steps N --dt DT
// --out traj.json [--json]` simulates a scene file (substeps from the stability bound, stopped
// with exit code 1 when it diverges) and streams its trajectory. (`impulse example` is in
// example.ts.)
import { InvalidArgumentError, type Command } from 'commander';
import type { SimRunResult } from '../../sim/physics/index.ts';
import { DEVICE_HELP, rerunForSoftwareGpuIfNeeded } from './backend.ts';
import { registerTerrainRollout } from './terrain-rollout.ts';

function parseNumber(flag: string, integer: boolean): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${flag} ${v}: expected ${integer ? 'an integer' : 'a number'}`);
    return n;
  };
}

function fail(e: unknown): void {
  process.stderr.write(`impulse: ${(e as Error).message}\n`);
  process.exitCode = 1;
}

function fmt(v: number[] | null): string {
  return v ? `(${v.map((x) => x.toFixed(4)).join(', ')})` : '-';
}

function printRun(r: SimRunResult): void {
  const lines = [
    `scene      ${r.scene}`,
    `world      ${r.particles} particles, ${r.springs} springs, ${r.bodies} bodies, ${r.worlds} world(s)`,
    `simulated  ${r.steps} steps x ${+r.dt.toPrecision(6)} s (${r.substeps} substeps${r.substepsAuto ? ', chosen from the stability bound' : ''}) = ${r.time.toFixed(3)} s in ${r.wallMs} ms`,
    `stability  substep ${r.stability.substep.toExponential(2)} s, ${
      r.stability.guaranteed
        ? `within the guaranteed bound ${r.stability.guaranteedBound.toExponential(2)} s`
        : `beyond the guaranteed bound ${r.stability.guaranteedBound.toExponential(2)} s (stable for one contact at a time; omit --substeps for a guaranteed choice)`
    }`,
    `energy     ${r.energy.initial.toPrecision(4)} J -> ${r.energy.final.toPrecision(4)} J (${Number.isFinite(r.energy.controlWorkBound) ? `controls' work at most ${r.energy.controlWorkBound.toPrecision(3)} J` : 'no divergence monitor on the GPU'})`,
  ];
  if (r.particleCom) lines.push(`particles  final centre of mass ${fmt(r.particleCom)}`);
  r.bodyPos.forEach((p, i) => lines.push(`body ${i}     final position ${fmt(p)}`));
  if (r.out) lines.push(`trajectory ${r.out}${r.body === null ? '' : ` (body ${r.body})`}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * Whether `--device` puts the run on the GPU: `gpu` (an error naming why when no adapter
 * exists), `auto` (the GPU when an adapter exists, else a note on stderr), `cpu` or absent: no.
 */
async function useGpu(device: string | undefined): Promise<boolean> {
  const { parseDeviceRequest, resolveDevice } = await import('../../sim/gpu/index.ts');
  const req = parseDeviceRequest(device);
  if (req === 'cpu') return false;
  await rerunForSoftwareGpuIfNeeded();
  const c = await resolveDevice(req);
  if (c.note) process.stderr.write(`${c.note}\n`);
  return c.device === 'gpu';
}

/** Registers `sim run` and `sim terrain-rollout`. */
export function register(program: Command): void {
  const sim = program.command('sim').description('differentiable physics: simulate scene files, terrain rollouts with gradients');
  sim
    .command('run')
    .description('simulate a scene file (JSON) and write its trajectory')
    .argument('<scene>', 'scene file (see examples/physics/*.json)')
    .option('--steps <n>', 'number of steps (default: the scene file, else 100)', parseNumber('--steps', true))
    .option('--dt <seconds>', 'step length (default: the scene file, else 1/60)', parseNumber('--dt', false))
    .option(
      '--substeps <n>',
      'substeps per step (default: the scene file, else chosen from the stability bound; a substep beyond the bound is refused)',
      parseNumber('--substeps', true),
    )
    .option('--every <k>', 'write every k-th state to --out (default 1)', parseNumber('--every', true))
    .option('--out <file>', 'write the trajectory here (the whole scene as JSON; with --body, that body in the format of the extension)')
    .option(
      '--body <index>',
      "write only this body's poses to --out: .tum/.txt, .kitti, .csv (EuRoC), .json or .mcap, readable by impulse eval and convert",
      parseNumber('--body', true),
    )
    .option('--device <d>', DEVICE_HELP)
    .option('--json', 'print a JSON summary on stdout')
    .action(
      async (
        scene: string,
        opts: { steps?: number; dt?: number; substeps?: number; every?: number; out?: string; body?: number; json?: boolean; device?: string },
      ) => {
        // SIGINT / SIGTERM stop the run and remove its partial output (no temporary file left behind)
        const stop = new AbortController();
        const onSignal = (sig: NodeJS.Signals): void => stop.abort(new Error(`interrupted by ${sig}; partial output removed`));
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const { runSceneFile } = await import('../../sim/physics/index.ts'); // loaded when the command runs (fast --help)
          if (await useGpu(opts.device)) {
            const { runSceneFileGpu, GpuDeviceLostError } = await import('../../sim/gpu/index.ts');
            try {
              const o = { steps: opts.steps, dt: opts.dt, substeps: opts.substeps, every: opts.every, out: opts.out, body: opts.body };
              const r = await runSceneFileGpu(scene, o);
              if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
              else {
                printRun(r);
                process.stdout.write(`device gpu: ${r.device.adapter} (${r.device.adapterKind})\n`);
              }
              return;
            } catch (e) {
              // a lost device (driver reset, out of memory): the run starts again on the CPU
              if (!(e instanceof GpuDeviceLostError)) throw e;
              process.stderr.write(`${e.name}: ${e.message}; running on the CPU instead\n`);
            }
          }
          const r = await runSceneFile(scene, {
            steps: opts.steps,
            dt: opts.dt,
            substeps: opts.substeps,
            every: opts.every,
            out: opts.out,
            body: opts.body,
            signal: stop.signal,
          });
          if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
          else printRun(r);
        } catch (e) {
          fail(e);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
  registerTerrainRollout(sim);
}
