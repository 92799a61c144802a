// A pool of worker threads for the batched layers of models/ (QP batches, ...): the batch is
// split into contiguous chunks, the first solved on the calling thread and the others on
// workers at the same time, with the inputs in a SharedArrayBuffer and the outputs
// transferred back. The call stays synchronous (the layers are ops on the tape): the caller
// blocks on Atomics.wait and takes each worker's answer with receiveMessageOnPort. A worker
// that dies, throws or stops making progress is reported with the batch items it held, never
// waited on forever. Without SharedArrayBuffer or worker threads, everything runs on the
// calling thread (said once).
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { kernelBackend, setKernelBackend } from '../../sim/linalg/wasm/loader.ts';

/** A task a worker runs: `fn` exported by the module at `module` (a URL), called with `payload`. */
export interface WorkerJob {
  module: string;
  fn: string;
  payload: unknown;
  /** Batch items [start, end) this job holds (for error messages). */
  start: number;
  end: number;
}

/** What a task function returns: its result and the buffers to transfer (not copy) back. */
export interface WorkerAnswer<R> {
  result: R;
  transfer: ArrayBuffer[];
}

/** Thrown when a worker dies, throws or stalls: names the worker and the batch items it held. */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

/** Control states: waiting for the answer, or the worker exited (DONE = 1 is set by worker-serve.ts). */
const IDLE = 0;
const DEAD = 2;

interface Slot {
  worker: Worker;
  port: MessagePort;
  /** [state, progress, exit code] shared with the worker. */
  ctrl: Int32Array;
}

const slots: Slot[] = [];
let unavailable: string | null | undefined;

/** Why worker threads cannot be used here (null when they can). */
export function threadsUnavailable(): string | null {
  if (unavailable === undefined) {
    if (typeof SharedArrayBuffer !== 'function') unavailable = 'this runtime has no SharedArrayBuffer';
    else if (typeof Atomics?.wait !== 'function') unavailable = 'this runtime has no Atomics.wait';
    else unavailable = null;
    if (unavailable) process.stderr.write(`impulse: batched layers run on one thread (${unavailable})\n`);
  }
  return unavailable;
}

/** The default thread count: IMPULSE_THREADS when set, else the machine's core count. */
export function defaultThreads(): number {
  const env = Number(process.env.IMPULSE_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return availableParallelism();
}

/** Checks a `threads` option: a positive integer (names the layer in the error). */
export function checkThreads(threads: number | undefined, layer: string): number {
  const t = threads ?? defaultThreads();
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`${layer}: threads must be a positive integer, got ${threads}`);
  return t;
}

/**
 * The bootstrap each worker evaluates (valid both as a CommonJS and as an ES module script,
 * whichever way the runtime reads eval code): marks the worker dead in its control array on
 * any exit, registers tsx for TypeScript sources, then serves jobs.
 */
const BOOTSTRAP = `
import('node:worker_threads').then(async ({ workerData }) => {
  process.on('exit', (code) => {
    Atomics.store(workerData.ctrl, 2, code);
    Atomics.store(workerData.ctrl, 0, ${DEAD});
    Atomics.notify(workerData.ctrl, 0);
  });
  if (workerData.tsx) (await import(workerData.tsx)).register();
  (await import(workerData.serve)).serve(workerData);
}).catch((e) => {
  process.stderr.write('impulse worker failed to start: ' + ((e && e.stack) || e) + '\\n');
  process.exit(70);
});
`;

/**
 * The parent's Node options for a worker, without those that concern the parent's own entry
 * script: -e/--eval/-p/--print and their code, --input-type (a worker started from
 * `node --input-type=module -e ...` would otherwise read the bootstrap as that script).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    const f = a[i]!;
    if (f === '-e' || f === '--eval' || f === '-p' || f === '--print' || f === '--input-type') {
      i++;
      continue;
    }
    if (f.startsWith('--eval=') || f.startsWith('--print=') || f.startsWith('--input-type=')) continue;
    out.push(f);
  }
  return out;
}

/** The flags Node named in an ERR_WORKER_INVALID_EXEC_ARGV error ("...flags: --a, --b=1"). */
function invalidFlags(message: string): string[] {
  const i = message.indexOf('flags: ');
  return i < 0 ? [] : message.slice(i + 7).split(', ');
}

/** The parent's --max-old-space-size in MB, which a worker takes as its own heap limit (else undefined). */
function maxOldSpaceMb(argv: readonly string[]): number | undefined {
  for (const f of argv) {
    const m = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(f);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** What `new Worker` accepted last (null: not tried yet): the parent's options less those a worker refuses. */
let acceptedExecArgv: string[] | null = null;

/**
 * A worker with the parent's Node options. Node refuses process-wide ones in a worker's
 * execArgv (V8 flags such as --max-old-space-size, --no-wasm-dynamic-tiering): V8 flags apply
 * to the worker anyway, so they are dropped, and the heap limit becomes the worker's resource
 * limit. Without this, `node --max-old-space-size=8192 ...` broke every threaded layer.
 */
function newWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  let argv = acceptedExecArgv ?? workerExecArgv();
  const heapMb = maxOldSpaceMb(process.execArgv);
  const resourceLimits = heapMb ? { maxOldGenerationSizeMb: heapMb } : undefined;
  for (;;) {
    try {
      const w = new Worker(BOOTSTRAP, { ...options, execArgv: argv, resourceLimits });
      acceptedExecArgv = argv;
      return w;
    } catch (e) {
      const bad = (e as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? invalidFlags((e as Error).message) : [];
      const rest = argv.filter((f) => !bad.includes(f));
      if (rest.length === argv.length) throw e;
      argv = rest;
    }
  }
}

function spawn(): Slot {
  const serve = new URL(`./worker-serve${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  const tsx = serve.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null;
  const { port1, port2 } = new MessageChannel();
  const ctrl = new Int32Array(new SharedArrayBuffer(16));
  const worker = newWorker({
    eval: true,
    workerData: { port: port2, ctrl, serve, tsx },
    transferList: [port2],
    stderr: false,
  });
  worker.unref();
  port1.unref();
  worker.on('error', () => {}); // reported through ctrl (the worker's exit handler) and the stall check
  return { worker, port: port1, ctrl };
}

function slot(i: number): Slot {
  while (slots.length <= i) slots.push(spawn());
  return slots[i]!;
}

/** Ends every pool worker (tests; the workers are unref'd, so a process exits without it). */
export async function closeWorkers(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}

/** How long a worker may go without finishing an item before it is reported as stalled (ms). */
function stallMs(): number {
  const v = Number(process.env.IMPULSE_WORKER_STALL_MS);
  return Number.isFinite(v) && v > 0 ? v : 120_000;
}

/**
 * Runs `local` on this thread and each of `jobs` on its own worker, at the same time;
 * returns [local's result, each job's result]. Throws WorkerError naming the items of the
 * first job whose worker died, threw or stalled (the others are still collected, so no
 * worker is left mid-job).
 */
export function runOnWorkers<L, R>(local: () => L, jobs: WorkerJob[], layer: string): [L, R[]] {
  const kernels = kernelBackend().active === 'js' ? 'js' : 'auto';
  const used = jobs.map((job, i) => {
    const s = slot(i);
    Atomics.store(s.ctrl, 0, IDLE);
    Atomics.store(s.ctrl, 1, 0);
    s.port.postMessage({ job, kernels });
    return s;
  });
  let localResult: L;
  try {
    localResult = local();
  } catch (e) {
    collect(used, jobs, layer); // let the workers finish before reporting
    throw e;
  }
  const { results, error } = collect<R>(used, jobs, layer);
  if (error) throw error;
  return [localResult, results];
}

function collect<R>(used: Slot[], jobs: WorkerJob[], layer: string): { results: R[]; error: WorkerError | null } {
  const results: R[] = [];
  let error: WorkerError | null = null;
  const limit = stallMs();
  used.forEach((s, i) => {
    const job = jobs[i]!;
    const items = job.end - job.start === 1 ? `batch item ${job.start}` : `batch items ${job.start}..${job.end - 1}`;
    let progress = Atomics.load(s.ctrl, 1);
    let last = performance.now();
    while (Atomics.load(s.ctrl, 0) === IDLE) {
      Atomics.wait(s.ctrl, 0, IDLE, 50);
      const p = Atomics.load(s.ctrl, 1);
      if (p !== progress) {
        progress = p;
        last = performance.now();
      } else if (performance.now() - last > limit) {
        error ??= new WorkerError(`${layer}: worker thread ${i + 1} made no progress for ${limit / 1000} s on ${items}; it was stopped`, job.start, job.end);
        void s.worker.terminate();
        slots.splice(slots.indexOf(s), 1);
        return;
      }
    }
    if (Atomics.load(s.ctrl, 0) === DEAD) {
      const code = Atomics.load(s.ctrl, 2);
      error ??= new WorkerError(`${layer}: worker thread ${i + 1} died (exit code ${code}) while solving ${items}`, job.start, job.end);
      slots.splice(slots.indexOf(s), 1);
      return;
    }
    const msg = receiveMessageOnPort(s.port)?.message as { result?: R; error?: string } | undefined;
    if (!msg || msg.error !== undefined) {
      error ??= new WorkerError(`${layer}: worker thread ${i + 1} failed on ${items}: ${msg?.error ?? 'no answer'}`, job.start, job.end);
      return;
    }
    results.push(msg.result as R);
  });
  return { results, error };
}

// re-exported for the worker side (worker-serve.ts), which sets the kernels per job
export { setKernelBackend };
