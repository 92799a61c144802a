// Tests of the GPU physics kernels (sim/gpu) on whatever WebGPU adapter exists; in CI that is
// SwiftShader (software Vulkan from Debian's chromium). Forward vs the float64 CPU engine,
// gradients vs the CPU engine's and vs central differences of the CPU engine in float64, bad
// input. Without a Vulkan loader on the library path the file re-runs itself once with the
// SwiftShader environment; it skips, saying why, only where no adapter of any kind exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, add, backward, mul, noGrad, sum, tensor } from '../core/index.ts';
import { Control, MODEL_PARAMS, ModelBuilder, State, rollout, type Model } from '../physics/index.ts';
import { GpuModelError, packModel } from './adapter.ts';
import { GpuDeviceLostError, GpuLimitError, openGpu, parseDeviceRequest, resolveDevice } from './device.ts';
import { BATCH_FIELDS, GpuNonFiniteError, GpuRollout, type BatchState } from './engine.ts';
import { batchInitial, gpuFixture, trackForces } from './demo-scene.ts';
import { batchTensors, closeGpuThread, gpuRollout } from './tape.ts';
import { closedLoopRollout } from './controller.ts';
import { gpuTestFile } from './test-util.ts';

const { inChild, skip } = await gpuTestFile(import.meta.url, 'GPU tests');
const gpuTest = (name: string, fn: () => Promise<void> | void): void => {
  if (!inChild) test(name, { skip }, fn);
};

const ROWS = (m: Model): number[] => [m.particleCount, m.particleCount, m.bodyCount, m.bodyCount, m.bodyCount, m.bodyCount];
const WIDTH = [3, 3, 3, 4, 3, 3];

/** CPU float64 rollout of world w of a batch; returns the final state and, given weights, the gradients of sum(W * final). */
function cpuWorld(model: Model, init: BatchState, tf: Float64Array, B: number, w: number, T: number, dt: number, S: number, W?: BatchState) {
  const rows = ROWS(model);
  const nt = model.trackCount;
  const s0 = new State(
    Object.fromEntries(
      BATCH_FIELDS.map((f, i) => [f, new Tensor(init[f].slice(w * rows[i]! * WIDTH[i]!, (w + 1) * rows[i]! * WIDTH[i]!), [rows[i]!, WIDTH[i]!])]),
    ) as never,
  );
  if (W) BATCH_FIELDS.forEach((f) => s0[f].requireGrad());
  const ctls = Array.from({ length: T }, (_, t) => {
    const c = new Control();
    c.trackF = tensor(Array.from({ length: nt }, (_, k) => tf[(t * B + w) * nt + k]!));
    if (W) c.trackF.requireGrad();
    return c;
  });
  const { final } = rollout(model, s0, { steps: T, dt, substeps: S, control: ctls });
  if (W) {
    let loss: Tensor | null = null;
    BATCH_FIELDS.forEach((f, i) => {
      const n = rows[i]! * WIDTH[i]!;
      const term = sum(mul(final[f], new Tensor(W[f].slice(w * n, (w + 1) * n), final[f].shape)));
      loss = loss ? add(loss, term) : term;
    });
    backward(loss!);
  }
  return { final, s0, ctls };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    n = Math.max(n, Math.abs(a[i]!));
  }
  return n === 0 ? d : d / n;
}

const weights = (m: Model, B: number): BatchState =>
  Object.fromEntries(
    BATCH_FIELDS.map((f, i) => [f, Float64Array.from({ length: B * ROWS(m)[i]! * WIDTH[i]! }, (_, k) => Math.sin(1.7 * k + i))]),
  ) as unknown as BatchState;

gpuTest('device: --device values, auto picks the adapter', async () => {
  assert.equal(parseDeviceRequest('GPU'), 'gpu');
  assert.throws(() => parseDeviceRequest('tpu'), /unknown device 'tpu'; valid: cpu, gpu, auto/);
  const c = await resolveDevice('auto');
  assert.equal(c.device, 'gpu');
  assert.ok((c.gpu!.info.limits.maxStorageBufferBindingSize ?? 0) > 0);
});

gpuTest('forward: 2 worlds of particles and a tracked robot on terrain agree with the float64 CPU engine (40 steps)', async () => {
  const gpu = await openGpu();
  const model = gpuFixture();
  const B = 2;
  const T = 40;
  const init = batchInitial(model, B);
  const tf = trackForces(model, B, T);
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: T, dt: 0.005, substeps: 2, record: [20, 40], checkpointEvery: 7 });
  const [mid, last] = await r.forward(init, tf);
  r.destroy();
  for (let w = 0; w < B; w++) {
    const cpu20 = noGrad(() => cpuWorld(model, init, tf, B, w, 20, 0.005, 2).final);
    const cpu40 = noGrad(() => cpuWorld(model, init, tf, B, w, 40, 0.005, 2).final);
    BATCH_FIELDS.forEach((f, i) => {
      const n = ROWS(model)[i]! * WIDTH[i]!;
      for (const [cpu, gpuS] of [
        [cpu20, mid!],
        [cpu40, last!],
      ] as const) {
        const g = gpuS[f].subarray(w * n, (w + 1) * n);
        for (let k = 0; k < n; k++) assert.ok(Math.abs(g[k]! - cpu[f].data[k]!) < 2e-5, `world ${w} ${f}[${k}]: gpu ${g[k]} vs cpu ${cpu[f].data[k]}`);
      }
    });
  }
});

gpuTest('gradients over 100 steps agree with the CPU engine (float32 vs float64, bar 1e-3 relative)', async () => {
  const gpu = await openGpu();
  const model = gpuFixture();
  const B = 2;
  const T = 100;
  const dt = 0.005;
  const init = batchInitial(model, B);
  const tf = trackForces(model, B, T);
  const W = weights(model, B);
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: T, dt, substeps: 2 });
  await r.forward(init, tf);
  const g = await r.backward([W]);
  r.destroy();
  for (const k of MODEL_PARAMS) model.params[k].requireGrad();
  const cpuState: Record<string, number[]> = {};
  const cpuTf = new Float64Array(tf.length);
  for (let w = 0; w < B; w++) {
    const { s0, ctls } = cpuWorld(model, init, tf, B, w, T, dt, 2, W);
    BATCH_FIELDS.forEach((f) => (cpuState[f] ??= []).push(...s0[f].grad!.data));
    ctls.forEach((c, t) => c.trackF!.grad!.data.forEach((v, k) => (cpuTf[(t * B + w) * model.trackCount + k] = v)));
  }
  const errs: Record<string, number> = {};
  for (const f of BATCH_FIELDS) errs[f] = maxRel(cpuState[f]!, g.state[f]);
  errs.trackF = maxRel(cpuTf, g.trackF);
  for (const k of MODEL_PARAMS) if (g.params[k] && model.params[k].grad) errs[k] = maxRel(model.params[k].grad!.data, g.params[k]);
  const worst = Math.max(...Object.values(errs));
  console.log(
    `# gpu vs cpu gradients, 100 steps: max relative error ${worst.toExponential(2)} (${Object.entries(errs)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${v.toExponential(1)}`)
      .join(', ')})`,
  );
  for (const [k, v] of Object.entries(errs)) assert.ok(v < 1e-3, `${k}: relative error ${v}`);
});

gpuTest('gradients on the tape agree with float64 central differences of the CPU engine (directional); chunked batches agree', async () => {
  const model = gpuFixture({ particles: 3 });
  const B = 2;
  const T = 30;
  const dt = 0.005;
  const init0 = batchInitial(model, B);
  const tf = trackForces(model, B, T);
  // direction: the friction map and the robots' initial velocities
  const dMu = Float64Array.from(model.terrainMu.data, (_, i) => Math.cos(0.7 * i));
  const dVel = Float64Array.from(init0.bodyVel, (_, i) => Math.sin(1.3 * i + 0.5));
  const loss = (mu: Float64Array, vel: Float64Array): number => {
    const m = model.withTensors(model.tensors().map((t, i) => (MODEL_PARAMS[i] === 'terrainMu' ? new Tensor(mu, t.shape) : t)));
    const init = { ...init0, bodyVel: vel };
    let L = 0;
    for (let w = 0; w < B; w++) {
      const f = noGrad(() => cpuWorld(m, init, tf, B, w, T, dt, 2).final);
      for (let k = 0; k < f.bodyPos.size; k++) L += f.bodyPos.data[k]! * (k + 1);
      for (let k = 0; k < f.particleQ.size; k++) L += f.particleQ.data[k]! * Math.cos(k);
    }
    return L;
  };
  const eps = 1e-5;
  const mu = model.terrainMu.data;
  const step = (s: number) =>
    loss(
      Float64Array.from(mu, (v, i) => v + s * eps * dMu[i]!),
      Float64Array.from(init0.bodyVel, (v, i) => v + s * eps * dVel[i]!),
    );
  const fd = (step(1) - step(-1)) / (2 * eps);
  // GPU gradient through the tape op
  const init = batchTensors(init0, model, B);
  init.bodyVel.requireGrad();
  model.terrainMu.requireGrad();
  const [out] = gpuRollout(model, init, { batch: B, steps: T, dt, substeps: 2, trackF: new Tensor(tf, [T, B, model.trackCount]) });
  const wp = tensor(
    Array.from({ length: out!.bodyPos.size }, (_, k) => (k % (3 * model.bodyCount)) + 1),
    out!.bodyPos.shape,
  );
  const wq = tensor(
    Array.from({ length: out!.particleQ.size }, (_, k) => Math.cos(k % (3 * model.particleCount))),
    out!.particleQ.shape,
  );
  backward(add(sum(mul(out!.bodyPos, wp)), sum(mul(out!.particleQ, wq))));
  let gd = 0;
  model.terrainMu.grad!.data.forEach((v, i) => (gd += v * dMu[i]!));
  init.bodyVel.grad!.data.forEach((v, i) => (gd += v * dVel[i]!));
  const rel = Math.abs(gd - fd) / Math.abs(fd);
  console.log(`# gpu gradient vs float64 central differences (eps 1e-5): ${gd.toPrecision(7)} vs ${fd.toPrecision(7)}, relative error ${rel.toExponential(2)}`);
  assert.ok(rel < 1e-3, `directional derivative: gpu ${gd}, central differences ${fd}`);
  // the batch split into chunks of one world: the same outputs and gradients
  const muGrad = model.terrainMu.grad!.data.slice();
  const velGrad = init.bodyVel.grad!.data.slice();
  model.terrainMu.grad = null;
  init.bodyVel.grad = null;
  const [outC] = gpuRollout(model, init, { batch: B, steps: T, dt, substeps: 2, trackF: new Tensor(tf, [T, B, model.trackCount]), chunk: 1 });
  assert.ok(maxRel(out!.bodyPos.data, outC!.bodyPos.data) < 1e-6);
  backward(add(sum(mul(outC!.bodyPos, wp)), sum(mul(outC!.particleQ, wq))));
  assert.ok(maxRel(muGrad, model.terrainMu.grad!.data) < 1e-5, 'friction map gradient, chunked');
  assert.ok(maxRel(velGrad, init.bodyVel.grad!.data) < 1e-5, 'initial velocity gradient, chunked');
  await closeGpuThread();
});

gpuTest('bad input: NaN named with step and world; contact smoothing and limits refused by name', async () => {
  const gpu = await openGpu();
  const model = gpuFixture({ particles: 2, robot: false });
  const B = 3;
  const init = batchInitial(model, B);
  init.particleQd[3 * 2 * 2 + 1] = Number.NaN; // world 2, particle 0
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: 5, dt: 0.01 });
  await assert.rejects(
    r.forward(init),
    (e: unknown) => e instanceof GpuNonFiniteError && e.step === 0 && e.world === 2 && e.kind === 'particle' && /step 0 .*world 2/.test(e.message),
  );
  r.destroy();
  const smooth = new ModelBuilder({ contactSmoothing: { damping: 0.05, friction: 4 } });
  smooth.addParticle([0, 0, 1], [0, 0, 0], 1);
  assert.throws(
    () => packModel(smooth.finalize()),
    (e: unknown) => e instanceof GpuModelError && e.field === 'contactSmoothing',
  );
  assert.throws(
    () => new GpuRollout(gpu, packModel(model), { batch: 2 ** 30, steps: 1, dt: 0.01 }),
    (e: unknown) => e instanceof GpuLimitError && /exceeds the adapter's max/.test(e.message) && e.allowed > 0,
  );
  assert.throws(() => new GpuRollout(gpu, packModel(model), { batch: 2, steps: 3, dt: 0.01, record: [4] }), /record step 4 must be an integer in 1..3/);
});

gpuTest('device lost: a named error, and the next openGpu gets a fresh device', async () => {
  const gpu = await openGpu();
  const model = gpuFixture({ particles: 2, robot: false });
  const r = new GpuRollout(gpu, packModel(model), { batch: 1, steps: 3, dt: 0.01 });
  gpu.device.destroy();
  await assert.rejects(r.forward(batchInitial(model, 1)), (e: unknown) => e instanceof GpuDeviceLostError && /GPU device lost \(destroyed\)/.test(e.message));
  const again = await openGpu();
  assert.notEqual(again.device, gpu.device);
  const r2 = new GpuRollout(again, packModel(model), { batch: 1, steps: 3, dt: 0.01 });
  const [s] = await r2.forward(batchInitial(model, 1));
  assert.ok(Number.isFinite(s!.particleQ[2]!));
  r2.destroy();
});

// ---- closed loop: the track-speed controller on the GPU (controllerShaders) vs the float64 CPU controller (controller.ts)

const GAINS = { kp: 40, fMax: 15 };
/** Target track speeds [steps * B * nt]: a slow variation per step, world and track. */
function targetSpeeds(model: Model, B: number, T: number): Float64Array {
  const nt = model.trackCount;
  return Float64Array.from({ length: T * B * nt }, (_, i) => {
    const k = i % nt;
    const w = Math.floor(i / nt) % B;
    const t = Math.floor(i / (nt * B));
    return 0.35 + 0.15 * Math.sin(0.2 * t + w + 2.1 * k);
  });
}

/** World w's state of a batch as a CPU State (leaves requiring grad when asked). */
function worldState(model: Model, init: BatchState, w: number, grad: boolean): State {
  const rows = ROWS(model);
  const s = new State(
    Object.fromEntries(
      BATCH_FIELDS.map((f, i) => [f, new Tensor(init[f].slice(w * rows[i]! * WIDTH[i]!, (w + 1) * rows[i]! * WIDTH[i]!), [rows[i]!, WIDTH[i]!])]),
    ) as never,
  );
  if (grad) BATCH_FIELDS.forEach((f) => s[f].requireGrad());
  return s;
}

/** World w's targets as per-step tensors [nt]. */
const worldTargets = (tg: Float64Array, nt: number, B: number, w: number, T: number, grad: boolean): Tensor[] =>
  Array.from({ length: T }, (_, t) => {
    const x = new Tensor(tg.slice((t * B + w) * nt, (t * B + w + 1) * nt), [nt]);
    if (grad) x.requireGrad();
    return x;
  });

gpuTest('closed loop: the GPU track-speed controller agrees with the float64 CPU controller (forward, 40 steps)', async () => {
  const gpu = await openGpu();
  const model = gpuFixture();
  const B = 2;
  const T = 40;
  const init = batchInitial(model, B);
  const tg = targetSpeeds(model, B, T);
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: T, dt: 0.005, substeps: 2, record: [20, 40], checkpointEvery: 7, controller: GAINS });
  const [mid, last] = await r.forward(init, tg);
  r.destroy();
  let worst = 0;
  for (let w = 0; w < B; w++) {
    const cpu = noGrad(() =>
      closedLoopRollout(model, worldState(model, init, w, false), {
        steps: T,
        dt: 0.005,
        substeps: 2,
        targets: worldTargets(tg, model.trackCount, B, w, T, false),
        ...GAINS,
        record: [20, 40],
      }),
    );
    BATCH_FIELDS.forEach((f, i) => {
      const n = ROWS(model)[i]! * WIDTH[i]!;
      for (const [c, g] of [
        [cpu[0]!, mid!],
        [cpu[1]!, last!],
      ] as const) {
        const gw = g[f].subarray(w * n, (w + 1) * n);
        for (let k = 0; k < n; k++) {
          worst = Math.max(worst, Math.abs(gw[k]! - c[f].data[k]!));
          assert.ok(Math.abs(gw[k]! - c[f].data[k]!) < 2e-5, `world ${w} ${f}[${k}]: gpu ${gw[k]} vs cpu ${c[f].data[k]}`);
        }
      }
    });
  }
  // the controller drove the robot: the run differs from one without drive forces
  const free = noGrad(() => cpuWorld(model, init, new Float64Array(tg.length), B, 0, T, 0.005, 2).final);
  const moved = Math.hypot(...[0, 1, 2].map((c) => last!.bodyVel[c]! - free.bodyVel.data[c]!));
  assert.ok(moved > 0.05, `the controller changed the robot's velocity by only ${moved} m/s`);
  console.log(`# closed-loop forward, 40 steps: max |gpu - cpu| ${worst.toExponential(2)}`);
});

gpuTest('closed loop: gradients over 100 steps (targets, gains, initial state, maps) agree with the CPU engine, bar 1e-3', async () => {
  const gpu = await openGpu();
  const model = gpuFixture();
  const B = 2;
  const T = 100;
  const dt = 0.005;
  const nt = model.trackCount;
  const init = batchInitial(model, B);
  const tg = targetSpeeds(model, B, T);
  const W = weights(model, B);
  const r = new GpuRollout(gpu, packModel(model), { batch: B, steps: T, dt, substeps: 2, controller: GAINS });
  await r.forward(init, tg);
  const g = await r.backward([W]);
  r.destroy();
  for (const k of MODEL_PARAMS) model.params[k].requireGrad();
  const kp = tensor(GAINS.kp).requireGrad();
  const fMax = tensor(GAINS.fMax).requireGrad();
  const cpuState: Record<string, number[]> = {};
  const cpuTg = new Float64Array(tg.length);
  for (let w = 0; w < B; w++) {
    const s0 = worldState(model, init, w, true);
    const tw = worldTargets(tg, nt, B, w, T, true);
    const [fin] = closedLoopRollout(model, s0, { steps: T, dt, substeps: 2, targets: tw, kp, fMax });
    let loss: Tensor | null = null;
    BATCH_FIELDS.forEach((f, i) => {
      const n = ROWS(model)[i]! * WIDTH[i]!;
      const term = sum(mul(fin![f], new Tensor(W[f].slice(w * n, (w + 1) * n), fin![f].shape)));
      loss = loss ? add(loss, term) : term;
    });
    backward(loss!);
    BATCH_FIELDS.forEach((f) => (cpuState[f] ??= []).push(...s0[f].grad!.data));
    tw.forEach((x, t) => x.grad!.data.forEach((v, k) => (cpuTg[(t * B + w) * nt + k] = v)));
  }
  const errs: Record<string, number> = {};
  for (const f of BATCH_FIELDS) errs[f] = maxRel(cpuState[f]!, g.state[f]);
  errs.targets = maxRel(cpuTg, g.trackF);
  errs.kp = maxRel([kp.grad!.data[0]!], [g.gains!.kp]);
  errs.fMax = maxRel([fMax.grad!.data[0]!], [g.gains!.fMax]);
  for (const k of MODEL_PARAMS) if (g.params[k] && model.params[k].grad) errs[k] = maxRel(model.params[k].grad!.data, g.params[k]);
  const worst = Math.max(...Object.values(errs));
  console.log(
    `# closed-loop gpu vs cpu gradients, 100 steps: max relative error ${worst.toExponential(2)} (${Object.entries(errs)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${v.toExponential(1)}`)
      .join(', ')}; targets ${errs.targets!.toExponential(1)}, kp ${errs.kp!.toExponential(1)}, fMax ${errs.fMax!.toExponential(1)})`,
  );
  for (const [k, v] of Object.entries(errs)) assert.ok(v < 1e-3, `${k}: relative error ${v}`);
  assert.ok(Math.abs(g.gains!.kp) > 0 && Math.abs(g.gains!.fMax) > 0, 'the gains have a gradient');
});

gpuTest(
  'closed loop on the tape: gradients (targets, kp, friction map, initial velocity) agree with float64 central differences of the CPU controller; chunked batches agree',
  async () => {
    const model = gpuFixture({ particles: 2 });
    const B = 2;
    const T = 30;
    const dt = 0.005;
    const nt = model.trackCount;
    const init0 = batchInitial(model, B);
    const tg0 = targetSpeeds(model, B, T);
    const dTg = Float64Array.from(tg0, (_, i) => Math.cos(0.9 * i));
    const dMu = Float64Array.from(model.terrainMu.data, (_, i) => Math.sin(0.7 * i + 0.2));
    const dVel = Float64Array.from(init0.bodyVel, (_, i) => Math.cos(1.3 * i + 0.5));
    const dKp = 10;
    const wPos = (k: number): number => (k % 3) + 1;
    const loss = (s: number): number => {
      const mu = Float64Array.from(model.terrainMu.data, (v, i) => v + s * dMu[i]!);
      const m = model.withTensors(model.tensors().map((t, i) => (MODEL_PARAMS[i] === 'terrainMu' ? new Tensor(mu, t.shape) : t)));
      const init = { ...init0, bodyVel: Float64Array.from(init0.bodyVel, (v, i) => v + s * dVel[i]!) };
      const tg = Float64Array.from(tg0, (v, i) => v + s * dTg[i]!);
      let L = 0;
      for (let w = 0; w < B; w++) {
        const [f] = noGrad(() =>
          closedLoopRollout(m, worldState(m, init, w, false), {
            steps: T,
            dt,
            substeps: 2,
            targets: worldTargets(tg, nt, B, w, T, false),
            kp: GAINS.kp + s * dKp,
            fMax: GAINS.fMax,
          }),
        );
        for (let k = 0; k < 3; k++) L += f!.bodyPos.data[k]! * wPos(k) + f!.bodyVel.data[k]!;
      }
      return L;
    };
    const eps = 1e-5;
    const fd = (loss(eps) - loss(-eps)) / (2 * eps);
    const init = batchTensors(init0, model, B);
    init.bodyVel.requireGrad();
    model.terrainMu.requireGrad();
    const targets = new Tensor(tg0, [T, B, nt]).requireGrad();
    const kp = tensor(GAINS.kp).requireGrad();
    const [out] = gpuRollout(model, init, { batch: B, steps: T, dt, substeps: 2, trackF: targets, controller: { kp, fMax: GAINS.fMax } });
    const wp = new Tensor(
      Float64Array.from({ length: out!.bodyPos.size }, (_, k) => wPos(k % 3)),
      out!.bodyPos.shape,
    );
    backward(add(sum(mul(out!.bodyPos, wp)), sum(out!.bodyVel)));
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);
    const an = dot(targets.grad!.data, dTg) + dot(model.terrainMu.grad!.data, dMu) + dot(init.bodyVel.grad!.data, dVel) + kp.grad!.data[0]! * dKp;
    const rel = Math.abs(an - fd) / Math.abs(fd);
    // the same op split into one-world chunks (as for batches beyond the adapter's limits): same outputs and gradients
    const grads = [targets.grad!.data.slice(), kp.grad!.data[0]!, model.terrainMu.grad!.data.slice(), init.bodyVel.grad!.data.slice()] as const;
    for (const t of [targets, kp, model.terrainMu, init.bodyVel]) t.grad = null;
    const [out1] = gpuRollout(model, init, { batch: B, steps: T, dt, substeps: 2, trackF: targets, controller: { kp, fMax: GAINS.fMax }, chunk: 1 });
    assert.ok(maxRel(out!.bodyPos.data, out1!.bodyPos.data) < 1e-6, 'chunked forward');
    backward(add(sum(mul(out1!.bodyPos, wp)), sum(out1!.bodyVel)));
    assert.ok(maxRel(grads[0], targets.grad!.data) < 1e-5, 'chunked targets gradient');
    assert.ok(maxRel([grads[1]], kp.grad!.data) < 1e-5, 'chunked kp gradient');
    assert.ok(maxRel(grads[2], model.terrainMu.grad!.data) < 1e-5, 'chunked friction-map gradient');
    assert.ok(maxRel(grads[3], init.bodyVel.grad!.data) < 1e-5, 'chunked initial-velocity gradient');
    console.log(
      `# closed loop on the tape vs float64 central differences, 30 steps: ${an.toExponential(6)} vs ${fd.toExponential(6)}, relative error ${rel.toExponential(2)}`,
    );
    assert.ok(rel < 1e-3, `directional derivative: gpu ${an}, central differences ${fd}`);
  },
);
