// The worker side of worker-pool.ts: receives jobs on its port, imports the job's module,
// runs its task function (sync, or async when it imports modules of its own) with a progress
// callback, posts the answer (buffers transferred) and signals completion through the shared control array. An exception becomes an error
// answer; a worker that exits (process.exit, fatal error) is marked dead by the exit handler
// of its bootstrap (worker-pool.ts), so the blocked caller learns of it at once.
import type { MessagePort } from 'node:worker_threads';
import { setKernelBackend } from '../../sim/linalg/wasm/loader.ts';
import type { WorkerAnswer, WorkerJob } from './worker-pool.ts';

const DONE = 1;

/** A task function: runs on its payload, calling `progress(k)` after each of its k items. */
export type WorkerTask = (payload: unknown, progress: (done: number) => void) => WorkerAnswer<unknown> | Promise<WorkerAnswer<unknown>>;

/** Modules this worker has loaded, by URL. */
const modules = new Map<string, Record<string, unknown>>();

/**
 * The module at `url`, imported once per worker: a repeated dynamic import costs a trip
 * through the module loader even when the module is cached (a few ms per job under tsx).
 * For task functions that load what their payload names (a cell, a dynamics factory).
 */
export async function loadWorkerModule(url: string): Promise<Record<string, unknown>> {
  let mod = modules.get(url);
  if (!mod) {
    mod = (await import(url)) as Record<string, unknown>;
    modules.set(url, mod);
  }
  return mod;
}

/** Starts serving (called once by the worker's bootstrap). */
export function serve(data: { port: MessagePort; ctrl: Int32Array }): void {
  const { port, ctrl } = data;
  const progress = (k: number): void => {
    Atomics.store(ctrl, 1, k);
  };
  port.on('message', async ({ job, kernels }: { job: WorkerJob; kernels: 'auto' | 'js' }) => {
    try {
      setKernelBackend(kernels);
      const mod = await loadWorkerModule(job.module);
      const fn = mod[job.fn] as WorkerTask | undefined;
      if (typeof fn !== 'function') throw new Error(`${job.module} exports no function ${job.fn}`);
      const { result, transfer } = await fn(job.payload, progress);
      port.postMessage({ result }, [...new Set(transfer)]);
    } catch (e) {
      port.postMessage({ error: (e as Error)?.stack ?? String(e) });
    }
    Atomics.store(ctrl, 0, DONE);
    Atomics.notify(ctrl, 0);
  });
}
