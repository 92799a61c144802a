// GPU rollouts on the float64 tape (sim/gpu, layer sim): `gpuRollout` runs B worlds of a Model
// on the GPU as ONE custom op (inputs: the batched initial state, the track drive forces and
// every Model parameter; outputs: the recorded states), so a loss on the recorded states
// differentiates through the GPU's adjoint kernels to all of them. The tape is synchronous and
// WebGPU is not: the GPU lives in a worker thread (worker.ts) and this thread blocks on a shared
// flag until the worker answers (Atomics.wait, then receiveMessageOnPort).
import { MessageChannel, SHARE_ENV, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Tensor, customOp } from '../core/index.ts';
import { MODEL_PARAMS, type Model } from '../physics/index.ts';
import { packModel } from './adapter.ts';
import { GpuDeviceLostError, GpuLimitError, GpuUnavailableError, type GpuInfo } from './device.ts';
import { BATCH_FIELDS, GpuNonFiniteError, type BatchState, type GpuGradients, type GpuRolloutOptions } from './engine.ts';
import type { GpuRequest } from './worker.ts';

let worker: Worker | null = null;
let port: MessagePort | null = null;
let flag: Int32Array | null = null;

/** Starts the GPU thread (once); it loads TypeScript through tsx's loader, as the main thread does. */
function gpuThread(): { w: Worker; port: MessagePort; flag: Int32Array } {
  if (!worker) {
    const sab = new SharedArrayBuffer(4);
    flag = new Int32Array(sab);
    const ch = new MessageChannel();
    // from the sources (tsx) the thread loads TypeScript through tsx's loader; from dist/ plain JavaScript
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href;
    const load = fromSource
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
      : `import(${JSON.stringify(entry)})`;
    // a thread that cannot start answers every request with why (the caller is blocked waiting for it)
    const boot = `${load}.catch((e) => {
      const wt = require('node:worker_threads');
      const f = new Int32Array(wt.workerData.flag);
      wt.parentPort.on('message', () => {
        wt.workerData.port.postMessage({ ok: false, error: { name: 'GpuUnavailableError', message: 'the GPU thread failed to start: ' + (e && e.message) } });
        Atomics.store(f, 0, 1);
        Atomics.notify(f, 0);
      });
    });`;
    // replies come on a port of their own, read synchronously with receiveMessageOnPort
    worker = new Worker(boot, { eval: true, env: SHARE_ENV, workerData: { flag: sab, port: ch.port2 }, transferList: [ch.port2] });
    worker.unref();
    port = ch.port1;
  }
  return { w: worker, port: port!, flag: flag! };
}

/** Sends a request to the GPU thread and blocks until it answers; rethrows its errors by name. */
function call(req: GpuRequest): unknown {
  const { w, port, flag } = gpuThread();
  Atomics.store(flag, 0, 0);
  w.postMessage(req);
  for (;;) {
    const r = Atomics.wait(flag, 0, 0, 600_000);
    if (r === 'timed-out') throw new GpuDeviceLostError('GPU thread did not answer within 600 s', 'timeout');
    // the reply was posted before the flag was set
    const msg = receiveMessageOnPort(port);
    if (!msg) continue;
    const m = msg.message as { ok: boolean; result?: unknown; error?: { name: string; message: string } & Record<string, unknown> };
    if (m.ok) return m.result;
    throw rebuildError(m.error!);
  }
}

function rebuildError(e: { name: string; message: string } & Record<string, unknown>): Error {
  switch (e.name) {
    case 'GpuNonFiniteError':
      return new GpuNonFiniteError(e.message, e.step as number, e.world as number, e.kind as 'particle' | 'body', e.phase as 'forward' | 'backward');
    case 'GpuDeviceLostError':
      return new GpuDeviceLostError(e.message, String(e.reason ?? 'unknown'));
    case 'GpuLimitError':
      return new GpuLimitError(e.message, String(e.limit), e.allowed as number, e.requested as number);
    case 'GpuUnavailableError':
      return new GpuUnavailableError(e.message, []);
    default: {
      const x = new Error(e.message);
      x.name = e.name;
      return x;
    }
  }
}

/** The GPU adapter the rollout op runs on (throws GpuUnavailableError when there is none). */
export function gpuInfoSync(): GpuInfo {
  return call({ op: 'info' }) as GpuInfo;
}

/** Stops the GPU thread (the process can exit without it: the thread does not keep it alive). */
export async function closeGpuThread(): Promise<void> {
  const w = worker;
  worker = null;
  port = null;
  if (w) await w.terminate();
}

/** The batched state as tensors: six tensors in STATE_FIELDS order with B * np (or B * nb) rows. */
export type BatchTensors = Record<(typeof BATCH_FIELDS)[number], Tensor>;

/** Options of `gpuRollout`. */
export interface GpuTapeOptions extends Omit<GpuRolloutOptions, 'controller'> {
  /** Track drive forces, [steps, batch, tracks] (omitted: zero); with `controller`, the target track speeds. */
  trackF?: Tensor;
  /** The track-speed controller closing the loop each step (GpuRolloutOptions.controller); tensor gains get gradients. */
  controller?: { kp: Tensor | number; fMax: Tensor | number };
  /** Most worlds per GPU rollout: larger batches run in chunks (default: as many as fit the adapter's buffer limits). */
  chunk?: number;
}

/**
 * Runs `opts.batch` worlds of `model` for `opts.steps` steps on the GPU (float32) from `init`
 * (BatchTensors, world-major rows) and returns the recorded states (`opts.record`, default the
 * last step), each as BatchTensors. Recorded on the tape as one op `gpu.rollout`: gradients
 * reach `init`, `opts.trackF` and every Model parameter that requires grad (body-body contact
 * parameters, not simulated on the GPU, get none), and with `opts.controller` its tensor gains
 * (then `trackF` holds the target track speeds).
 *
 * @example
 * const out = gpuRollout(model, init, { batch: 64, steps: 100, dt: 0.01, substeps: 2 });
 * backward(sum(out[0]!.bodyPos)); // init.bodyVel.grad, model.terrainMu.grad, ...
 */
export function gpuRollout(model: Model, init: BatchTensors, opts: GpuTapeOptions): BatchTensors[] {
  const B = opts.batch;
  const np = model.particleCount;
  const nb = model.bodyCount;
  const nt = model.trackCount;
  const rows = [np, np, nb, nb, nb, nb];
  const width = [3, 3, 3, 4, 3, 3];
  BATCH_FIELDS.forEach((f, i) => {
    const t = init[f];
    if (t.size !== B * rows[i]! * width[i]!)
      throw new RangeError(`gpuRollout: init.${f} has ${t.size} values; expected ${B} worlds x ${rows[i]} x ${width[i]}`);
  });
  const nTf = opts.steps * B * nt;
  if (opts.trackF && opts.trackF.size !== nTf)
    throw new RangeError(`gpuRollout: trackF has ${opts.trackF.size} values; expected steps x batch x tracks = ${nTf}`);
  const trackF = opts.trackF ?? new Tensor(new Float64Array(nTf), [opts.steps, B, nt]);
  const { trackF: _t, chunk, controller, ...ro } = opts;
  const gainT = controller ? [controller.kp, controller.fMax].map((g) => (g instanceof Tensor ? g : new Tensor(new Float64Array([g]), []))) : [];
  for (const [i, g] of gainT.entries())
    if (g.size !== 1) throw new RangeError(`gpuRollout: controller.${i ? 'fMax' : 'kp'} has ${g.size} values; expected a scalar`);
  if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1)) throw new RangeError(`gpuRollout: chunk = ${chunk} must be an integer >= 1`);
  const record = [...new Set(ro.record ?? [ro.steps])].sort((a, b) => a - b);
  const rOpts = (xs: readonly Tensor[]): GpuRolloutOptions =>
    controller ? { ...ro, record, controller: { kp: xs[7 + params.length]!.data[0]!, fMax: xs[8 + params.length]!.data[0]! } } : { ...ro, record };
  const params = model.tensors();
  const inputs = [...BATCH_FIELDS.map((f) => init[f]), trackF, ...params, ...gainT];
  const asBatch = (ts: readonly Tensor[]): BatchState => Object.fromEntries(BATCH_FIELDS.map((f, i) => [f, ts[i]!.data])) as unknown as BatchState;
  const packed = (xs: readonly Tensor[]) => packModel(model.withTensors(xs.slice(7, 7 + params.length)));
  const outs = customOp(
    'gpu.rollout',
    inputs,
    (xs) => {
      const rec = call({ op: 'forward', data: packed(xs), opts: rOpts(xs), init: asBatch(xs), trackF: xs[6]!.data, chunk }) as BatchState[];
      return rec.flatMap((s) => BATCH_FIELDS.map((f, i) => new Tensor(s[f], [B * rows[i]!, width[i]!])));
    },
    (gs, xs) => {
      const adj = record.map((_, r) => {
        const g = gs.slice(6 * r, 6 * r + 6);
        if (g.every((t) => !t)) return null;
        return Object.fromEntries(BATCH_FIELDS.map((f, i) => [f, g[i]?.data ?? new Float64Array(B * rows[i]! * width[i]!)])) as unknown as BatchState;
      });
      const G = call({ op: 'backward', data: packed(xs), opts: rOpts(xs), init: asBatch(xs), trackF: xs[6]!.data, adj, chunk }) as GpuGradients;
      const stateGrads = BATCH_FIELDS.map((f, i) => new Tensor(G.state[f], xs[i]!.shape));
      const tfGrad = new Tensor(G.trackF, xs[6]!.shape);
      const paramGrads = MODEL_PARAMS.map((k, i) => (G.params[k] ? new Tensor(G.params[k], params[i]!.shape) : null));
      const gainGrads = G.gains
        ? [new Tensor(new Float64Array([G.gains.kp]), xs[7 + params.length]!.shape), new Tensor(new Float64Array([G.gains.fMax]), xs[8 + params.length]!.shape)]
        : [];
      return [...stateGrads, tfGrad, ...paramGrads, ...gainGrads];
    },
  );
  return record.map((_, r) => Object.fromEntries(BATCH_FIELDS.map((f, i) => [f, outs[6 * r + i]!])) as unknown as BatchTensors);
}

/** B copies of the model's initial state as BatchTensors (world-major). */
export function batchTensors(s: BatchState, model: Model, B: number): BatchTensors {
  const rows = [model.particleCount, model.particleCount, model.bodyCount, model.bodyCount, model.bodyCount, model.bodyCount];
  const width = [3, 3, 3, 4, 3, 3];
  return Object.fromEntries(BATCH_FIELDS.map((f, i) => [f, new Tensor(s[f], [B * rows[i]!, width[i]!])])) as unknown as BatchTensors;
}
