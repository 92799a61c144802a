// The GPU thread of the synchronous rollout op (sim/gpu, layer sim): owns the WebGPU device
// and the compiled rollouts, runs the requests `tape.ts` posts (the main thread blocks on a
// shared flag until the answer is posted, so the float64 tape can call the GPU synchronously).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { type GpuModelData } from './adapter.ts';
import { openGpu } from './device.ts';
import { BATCH_FIELDS, GpuRollout, type BatchState, type GpuGradients, type GpuRolloutOptions } from './engine.ts';

/** A request to the GPU thread. */
export interface GpuRequest {
  op: 'info' | 'forward' | 'backward';
  data?: GpuModelData;
  opts?: GpuRolloutOptions;
  init?: BatchState;
  trackF?: Float64Array;
  adj?: (BatchState | null)[];
  /** Most worlds per GPU rollout (default: all that fit the adapter's limits). */
  chunk?: number;
}

const flag = new Int32Array(workerData.flag as SharedArrayBuffer);
const reply = workerData.port as MessagePort;
const cache = new Map<string, GpuRollout>();

function key(d: GpuModelData, o: GpuRolloutOptions): string {
  // the gains are set per call (setGains), not compiled in: a rollout serves any gains
  return JSON.stringify([d.np, d.nb, d.nc, d.nt, d.npl, d.nx, d.ny, d.ox, d.oy, d.cs, d.frictionEps, d.layout.size, { ...o, controller: !!o.controller }]);
}

async function rolloutFor(d: GpuModelData, o: GpuRolloutOptions): Promise<GpuRollout> {
  const gpu = await openGpu();
  const k = key(d, o);
  let r = cache.get(k);
  if (!r) {
    if (cache.size >= 4) {
      const [first] = cache.keys();
      cache.get(first!)!.destroy();
      cache.delete(first!);
    }
    r = new GpuRollout(gpu, d, o);
    cache.set(k, r);
  }
  r.setParams(d.packed);
  if (o.controller) r.setGains(o.controller);
  return r;
}

/** Worlds [w0, w1) of a batched state (rows per world: np for particles, nb for bodies). */
function sliceState(s: BatchState, d: GpuModelData, w0: number, w1: number): BatchState {
  const per = [3 * d.np, 3 * d.np, 3 * d.nb, 4 * d.nb, 3 * d.nb, 3 * d.nb];
  return Object.fromEntries(BATCH_FIELDS.map((f, i) => [f, s[f].slice(w0 * per[i]!, w1 * per[i]!)])) as unknown as BatchState;
}

function concatStates(parts: BatchState[]): BatchState {
  return Object.fromEntries(
    BATCH_FIELDS.map((f) => {
      const out = new Float64Array(parts.reduce((n, p) => n + p[f].length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p[f], o);
        o += p[f].length;
      }
      return [f, out];
    }),
  ) as unknown as BatchState;
}

/** Worlds [w0, w1) of the step-major track forces [steps, B, nt]. */
function sliceTrack(tf: Float64Array, T: number, B: number, nt: number, w0: number, w1: number): Float64Array {
  const out = new Float64Array(T * (w1 - w0) * nt);
  for (let t = 0; t < T; t++) out.set(tf.subarray((t * B + w0) * nt, (t * B + w1) * nt), t * (w1 - w0) * nt);
  return out;
}

/**
 * Runs the request on chunks of at most `chunk` worlds (the batch split to fit the adapter's
 * limits, or as asked), concatenating states and summing parameter gradients.
 */
async function handle(m: GpuRequest): Promise<unknown> {
  if (m.op === 'info') return (await openGpu()).info;
  const d = m.data!;
  const o = m.opts!;
  const B = o.batch;
  const fit = GpuRollout.maxBatch(await openGpu(), d, o.steps);
  const chunk = Math.max(1, Math.min(m.chunk ?? B, fit > 0 ? fit : 1));
  const T = o.steps;
  const nt = d.nt;
  const recs: BatchState[][] = [];
  const grads: GpuGradients[] = [];
  for (let w0 = 0; w0 < B; w0 += chunk) {
    const w1 = Math.min(B, w0 + chunk);
    const r = await rolloutFor(d, { ...o, batch: w1 - w0 });
    const tf = m.trackF ? sliceTrack(m.trackF, T, B, nt, w0, w1) : undefined;
    const rec = await r.forward(chunk === B ? m.init! : sliceState(m.init!, d, w0, w1), chunk === B ? m.trackF : tf);
    if (m.op === 'forward') recs.push(rec);
    else grads.push(await r.backward(m.adj!.map((a) => (a && chunk < B ? sliceState(a, d, w0, w1) : a))));
  }
  if (m.op === 'forward') return recs[0]!.map((_, k) => concatStates(recs.map((r) => r[k]!)));
  if (grads.length === 1) return grads[0];
  const trackF = new Float64Array(T * B * nt);
  let w0 = 0;
  for (const g of grads) {
    const n = g.trackF.length / Math.max(T * nt, 1);
    for (let t = 0; t < T; t++) trackF.set(g.trackF.subarray(t * n * nt, (t + 1) * n * nt), (t * B + w0) * nt);
    w0 += n;
  }
  const params: Record<string, Float64Array> = {};
  const gains = o.controller ? { kp: 0, fMax: 0 } : undefined;
  for (const g of grads) {
    if (gains && g.gains) {
      gains.kp += g.gains.kp;
      gains.fMax += g.gains.fMax;
    }
  }
  for (const g of grads)
    for (const [k, v] of Object.entries(g.params)) {
      const acc = (params[k] ??= new Float64Array(v.length));
      for (let i = 0; i < v.length; i++) acc[i] = acc[i]! + v[i]!;
    }
  return { state: concatStates(grads.map((g) => g.state)), trackF, params, ...(gains ? { gains } : {}) };
}

parentPort!.on('message', (m: GpuRequest) => {
  void handle(m).then(
    (result) => {
      reply.postMessage({ ok: true, result });
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
    (e: Error) => {
      const extra = Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v === 'number' || typeof v === 'string'));
      reply.postMessage({ ok: false, error: { name: e.name, message: e.message, ...extra } });
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
  );
});
