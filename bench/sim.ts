// Benchmark of the physics engine (bench, layer app-side tooling): particle-steps per second
// forward and forward+backward for N = 1k and 100k particles (cloth with springs lying on the
// ground, every particle in contact) next to a bare typed-array loop of the same physics
// (the same kernels called directly on preallocated arrays: no tape, no tensors, no
// allocation); rigid-body steps per second for 1k boxes on a heightmap; peak memory of a
// T = 1000 rollout with and without checkpointing. `npm run bench -- sim [--quick]`. The cloth
// and the bare loop are those of the step-buffer tests (sim/physics/test-util.ts).
import { backward, noGrad, sum, mul, tensor } from '../sim/core/index.ts';
import { BodyDesc, ModelBuilder, rollout } from '../sim/physics/index.ts';
import { bareParticles, clothOnGround } from '../sim/physics/test-util.ts';
import { gc, gcExposed, memUsed, timeInterleavedMs, timeMs } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'physics particle-steps/s (1k, 100k) vs a bare loop, rigid bodies on a heightmap, checkpointed rollout memory';

/** Median ms of `fn` over `reps` runs after one warm-up run (JIT). */
function time(fn: () => void, reps: number): number {
  return timeMs(fn, reps, 1);
}

function particleBench(n: number, T: number, reps: number): Record<string, unknown> {
  const model = clothOnGround(Math.round(Math.sqrt(n)));
  const N = model.particleCount;
  const dt = 1e-3;
  const engineFwdFn = (): void => void noGrad(() => rollout(model, model.state(), { steps: T, dt }));
  const engineFwdBwdFn = (): void => {
    const s0 = model.state().requireGrad();
    const ke = model.springKe.clone().requireGrad();
    const mu = model.groundMu.clone().requireGrad();
    const r = rollout(model.with({ springKe: ke, groundMu: mu }), s0, { steps: T, dt });
    backward(sum(r.final.particleQ));
  };
  // engine and bare loop in turns, each after a GC (see timeInterleavedMs); the bare loops,
  // the denominators of the ratios, take two turns per round (twice the samples)
  const bareF = (): void => void bareParticles(model, T, dt, false);
  const bareFA = (): void => void bareParticles(model, T, dt, true);
  const [engineFwd, engineFwdBwd, bareFwd1, bareFwdAdj1, bareFwd2, bareFwdAdj2] = timeInterleavedMs(
    [engineFwdFn, engineFwdBwdFn, bareF, bareFA, bareF, bareFA],
    reps,
    1,
  ) as [number, number, number, number, number, number];
  const bareFwd = (bareFwd1 + bareFwd2) / 2;
  const bareFwdAdj = (bareFwdAdj1 + bareFwdAdj2) / 2;
  // the two compute the same thing: compare final positions and the q0 gradient
  const eng = noGrad(() => rollout(model, model.state(), { steps: T, dt })).final.particleQ.data;
  const bare = bareParticles(model, T, dt, false).q;
  let maxDiff = 0;
  for (let i = 0; i < eng.length; i++) maxDiff = Math.max(maxDiff, Math.abs(eng[i]! - bare[i]!));
  const s0 = model.state().requireGrad();
  backward(sum(rollout(model, s0, { steps: T, dt }).final.particleQ));
  const bareG = bareParticles(model, T, dt, true).adjoint!.q;
  let maxGradDiff = 0;
  for (let i = 0; i < bareG.length; i++) maxGradDiff = Math.max(maxGradDiff, Math.abs(s0.particleQ.grad!.data[i]! - bareG[i]!));
  const rate = (ms: number): number => Math.round((N * T) / (ms / 1000));
  return {
    particles: N,
    springs: model.springCount,
    steps: T,
    forward: { engine: rate(engineFwd), bare: rate(bareFwd), ratio: +(bareFwd / engineFwd).toFixed(3) },
    forwardBackward: { engine: rate(engineFwdBwd), bare: rate(bareFwdAdj), ratio: +(bareFwdAdj / engineFwdBwd).toFixed(3) },
    // the engine's time beyond the same kernels run bare: tape, state and gradient buffers, checks
    overheadMsPerStep: { forward: +((engineFwd - bareFwd) / T).toFixed(3), forwardBackward: +((engineFwdBwd - bareFwdAdj) / T).toFixed(3) },
    unit: 'particle-steps/s, median wall time over the rounds (ratio = engine / bare throughput; the bare loop timed twice per round); overheadMsPerStep = (engine - bare) ms per step',
    maxAbsDiffFinalQ: maxDiff,
    maxAbsDiffGradQ0: maxGradDiff,
  };
}

function bodyBench(nBodies: number, T: number, reps: number): Record<string, unknown> {
  const nx = 41;
  const heights: number[][] = [];
  for (let j = 0; j < nx; j++) heights.push(Array.from({ length: nx }, (_, i) => 0.05 * Math.sin(i / 4) * Math.cos(j / 5)));
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({ origin: [0, 0], cellSize: 1, heights, ke: 2e4, kd: 100, mu: 0.5, kf: 100 });
  const side = Math.ceil(Math.sqrt(nBodies));
  for (let k = 0; k < nBodies; k++) {
    const x = 2 + (36 * (k % side)) / side;
    const y = 2 + (36 * Math.floor(k / side)) / side;
    b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setMass(1).setTranslation(x, y, 0.15).setLinvel(0.5, 0.2, 0).setAngvel(0.1, 0.2, 0.3));
  }
  const model = b.finalize();
  const dt = 1e-3;
  const fwd = time(() => void noGrad(() => rollout(model, model.state(), { steps: T, dt })), reps);
  const fwdBwd = time(() => {
    const s0 = model.state().requireGrad();
    const mu = model.terrainMu.clone().requireGrad();
    const r = rollout(model.with({ terrainMu: mu }), s0, { steps: T, dt });
    backward(sum(mul(r.final.bodyPos, tensor([1, 1, 1]))));
  }, reps);
  return {
    bodies: model.bodyCount,
    contactPoints: model.contactCount,
    steps: T,
    forward: Math.round((model.bodyCount * T) / (fwd / 1000)),
    forwardBackward: Math.round((model.bodyCount * T) / (fwdBwd / 1000)),
    unit: 'body-steps/s on a 41 x 41 heightmap',
  };
}

function memoryBench(n: number, T: number, K: number): Record<string, unknown> {
  const model = clothOnGround(Math.round(Math.sqrt(n)));
  const dt = 1e-3;
  const measure = (checkpointEvery: number | undefined): { peakMB: number; retainedAfterForwardMB: number; ms: number } => {
    gc(2);
    const base = memUsed();
    let peak = 0;
    // live memory: collect garbage before sampling (every 8th step) so the peak is what is held
    const sample = (t = 7): void => {
      if (t % 8 !== 7) return;
      gc(2);
      peak = Math.max(peak, memUsed() - base);
    };
    const t0 = performance.now();
    const s0 = model.state().requireGrad();
    // onStep runs after every step, forward and (checkpointed) in the backward recomputation
    const r = rollout(model, s0, { steps: T, dt, checkpointEvery, onStep: (t) => sample(t) });
    sample();
    gc(2);
    const retained = memUsed() - base;
    backward(sum(r.final.particleQ));
    sample();
    const ms = performance.now() - t0;
    return { peakMB: +(peak / 2 ** 20).toFixed(1), retainedAfterForwardMB: +(retained / 2 ** 20).toFixed(1), ms: Math.round(ms) };
  };
  const plain = measure(undefined);
  const ck = measure(K);
  return {
    particles: model.particleCount,
    steps: T,
    checkpointEvery: K,
    withoutCheckpointing: plain,
    withCheckpointing: ck,
    gcExposed,
    unit: 'MB of heap + array buffers above the baseline, live (garbage collected before each sample; sampled every 8th step, forward and in checkpoint recomputation, and after the backward pass)',
  };
}

/** Runs the physics benchmarks; `--quick` shrinks every size for a smoke run. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  const t0 = performance.now();
  const out: Record<string, unknown> = {
    particles1k: particleBench(1024, quick ? 20 : 200, quick ? 1 : 15),
    particles100k: particleBench(quick ? 10000 : 100489, quick ? 2 : 10, quick ? 1 : 5),
    bodies1kHeightmap: bodyBench(1000, quick ? 5 : 50, quick ? 1 : 2),
    memoryT1000: memoryBench(quick ? 256 : 1024, quick ? 200 : 1000, quick ? 16 : 32),
  };
  out.wallSeconds = +((performance.now() - t0) / 1000).toFixed(1);
  return out;
}
