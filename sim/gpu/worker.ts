// The GPU thread of the synchronous rollout op (sim/gpu, layer sim): owns the WebGPU device
// and the compiled rollouts, runs the requests `tape.ts` posts (the main thread blocks on a
// shared flag until the answer is posted, so the float64 tape can call the GPU synchronously).
/// <reference types="@webgpu/types" />
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { type GpuModelData } from './adapter.ts';
import { openGpu } from './device.ts';
import { GpuRollout, type BatchState, type GpuRolloutOptions } from './engine.ts';

/** A request to the GPU thread. */
export interface GpuRequest {
  op: 'info' | 'forward' | 'backward';
  data?: GpuModelData;
  opts?: GpuRolloutOptions;
  init?: BatchState;
  trackF?: Float64Array;
  adj?: (BatchState | null)[];
}

const flag = new Int32Array(workerData.flag as SharedArrayBuffer);
const reply = workerData.port as MessagePort;
const cache = new Map<string, GpuRollout>();

function key(d: GpuModelData, o: GpuRolloutOptions): string {
  return JSON.stringify([d.np, d.nb, d.nc, d.nt, d.npl, d.nx, d.ny, d.ox, d.oy, d.cs, d.frictionEps, d.layout.size, o]);
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
  return r;
}

async function handle(m: GpuRequest): Promise<unknown> {
  if (m.op === 'info') return (await openGpu()).info;
  const r = await rolloutFor(m.data!, m.opts!);
  const recorded = await r.forward(m.init!, m.trackF);
  if (m.op === 'forward') return recorded;
  return r.backward(m.adj!);
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
