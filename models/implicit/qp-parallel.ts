// The QP layer's batch over worker threads (worker-pool.ts): the problem data of all items
// (and a warm start's multipliers) in one SharedArrayBuffer, contiguous item ranges solved by
// the same solveQP on each thread, the results (solutions, multipliers, active-set factors
// for the backward pass) transferred back. Each item is solved by the same code on the same
// data as on one thread, so the results are bit for bit those of one thread.
import { IpmWorkspace, solveQP, type IpmResult, type IpmSettings, type QPData } from './qp-ipm.ts';
import { runOnWorkers, type WorkerAnswer, type WorkerJob } from './worker-pool.ts';

/** One field of the problem in the shared buffer: offset (doubles), item size, batched. */
interface FieldLayout {
  off: number;
  size: number;
  batched: boolean;
}

/** What a worker needs to solve items [start, end). */
interface RangePayload {
  sab: SharedArrayBuffer;
  n: number;
  m: number;
  pe: number;
  fields: Record<'Q' | 'p' | 'G' | 'h' | 'A' | 'b' | 'W', FieldLayout>;
  settings: Omit<IpmSettings, 'trace'>;
  start: number;
  end: number;
}

/** A field's data for the parallel solve: all items' values (or the one shared) and whether batched. */
export interface ParallelField {
  data: Float64Array;
  size: number;
  batched: boolean;
}

/** Below this many multiply-adds per thread (about n^2 (n + m) per item per iteration, 10 iterations) a split does not pay for itself. */
export const QP_MIN_WORK_PER_THREAD = 3e6;

/** How many threads to use for B items of this size (1: stay on this thread). */
export function qpThreadCount(threads: number, B: number, n: number, m: number, pe: number): number {
  const perItem = 10 * n * n * (n + m + pe);
  return Math.max(1, Math.min(threads, B, Math.floor((B * perItem) / QP_MIN_WORK_PER_THREAD)));
}

function itemView(sab: SharedArrayBuffer, f: FieldLayout, k: number): Float64Array {
  return new Float64Array(sab, (f.off + (f.batched ? k * f.size : 0)) * 8, f.size);
}

/** Worker task: solves items [start, end) of the shared problem. */
export function solveRange(payload: unknown, progress: (done: number) => void): WorkerAnswer<IpmResult[]> {
  const { sab, n, m, pe, fields, settings, start, end } = payload as RangePayload;
  const ws = new IpmWorkspace(n, m, pe);
  const out: IpmResult[] = [];
  const transfer: ArrayBuffer[] = [];
  for (let k = start; k < end; k++) {
    const d: QPData = {
      n,
      m,
      pe,
      Q: itemView(sab, fields.Q, k),
      p: itemView(sab, fields.p, k),
      G: itemView(sab, fields.G, k),
      h: itemView(sab, fields.h, k),
      A: itemView(sab, fields.A, k),
      b: itemView(sab, fields.b, k),
      warm: fields.W.size ? itemView(sab, fields.W, k) : undefined,
    };
    const r = solveQP(d, ws, settings);
    out.push(r);
    transfer.push(r.x.buffer as ArrayBuffer, r.lambda.buffer as ArrayBuffer, r.nu.buffer as ArrayBuffer, r.active.buffer as ArrayBuffer);
    if (r.factors) transfer.push(r.factors.lu.buffer as ArrayBuffer, r.factors.piv.buffer as ArrayBuffer, r.factors.active.buffer as ArrayBuffer);
    progress(k - start + 1);
  }
  return { result: out, transfer };
}

/**
 * Solves items 0..B-1 split over `threads` threads (this one takes the first range, solving
 * with `solveLocal`); returns the results in item order. Throws WorkerError (naming the
 * items) when a worker fails.
 */
export function solveParallel(
  B: number,
  threads: number,
  n: number,
  m: number,
  pe: number,
  fields: Record<'Q' | 'p' | 'G' | 'h' | 'A' | 'b' | 'W', ParallelField>,
  settings: Omit<IpmSettings, 'trace'>,
  solveLocal: (k: number) => IpmResult,
): IpmResult[] {
  let total = 0;
  for (const f of Object.values(fields)) total += f.data.length;
  const sab = new SharedArrayBuffer(Math.max(8, total * 8));
  const all = new Float64Array(sab);
  const layout = {} as RangePayload['fields'];
  let off = 0;
  for (const [name, f] of Object.entries(fields) as [keyof RangePayload['fields'], ParallelField][]) {
    all.set(f.data, off);
    layout[name] = { off, size: f.size, batched: f.batched };
    off += f.data.length;
  }
  const bounds: number[] = [];
  for (let t = 0; t <= threads; t++) bounds.push(Math.round((t * B) / threads));
  const jobs: WorkerJob[] = [];
  for (let t = 1; t < threads; t++) {
    const start = bounds[t]!;
    const end = bounds[t + 1]!;
    const payload: RangePayload = { sab, n, m, pe, fields: layout, settings, start, end };
    jobs.push({ module: import.meta.url, fn: 'solveRange', payload, start, end });
  }
  const [first, rest] = runOnWorkers<IpmResult[], IpmResult[]>(
    () => {
      const r: IpmResult[] = [];
      for (let k = 0; k < bounds[1]!; k++) r.push(solveLocal(k));
      return r;
    },
    jobs,
    'qp',
  );
  return first.concat(...rest);
}
