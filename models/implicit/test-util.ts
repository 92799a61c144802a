// Worker tasks for the tests of worker-pool.ts (excluded from the build): one that exits its
// thread, one that throws, one that never finishes, one that answers, one that reports its
// heap limit; DEQ cells and ODE fields for the threaded DEQ's and step groups' tests.
import { isMainThread } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { Tensor, add, concat, mul, neg, slice } from '../../sim/core/index.ts';
import { remoteCell } from './deq-parallel.ts';
import { remoteField } from './ode-groups.ts';
import { tanhCell } from './fixed-point.ts';
import type { WorkerAnswer } from './worker-pool.ts';

/** Exits the worker thread with code 3 after the first item. */
export function exitTask(_payload: unknown, progress: (k: number) => void): WorkerAnswer<number> {
  progress(1);
  process.exit(3);
}

/** Throws. */
export function throwTask(): WorkerAnswer<number> {
  throw new Error('task exploded on purpose');
}

/** Spins forever without progress. */
export function spinTask(): WorkerAnswer<number> {
  for (;;) {
    /* never returns */
  }
}

/** Doubles every value of its Float64Array payload into a new transferred buffer. */
export function doubleTask(payload: unknown, progress: (k: number) => void): WorkerAnswer<Float64Array> {
  const x = Float64Array.from(payload as Float64Array, (v) => 2 * v);
  progress(x.length);
  return { result: x, transfer: [x.buffer] };
}

/** The worker's V8 heap limit in MB and its process.execArgv. */
export function heapLimitTask(): WorkerAnswer<{ heapLimitMb: number; execArgv: string[] }> {
  return { result: { heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20, execArgv: process.execArgv }, transfer: [] };
}

/** A DEQ cell (tanhCell) that exits its worker thread with code 5; on the main thread it is tanhCell. */
export const exitingCell = remoteCell(
  (z: Tensor, xp: readonly Tensor[]): Tensor => {
    if (!isMainThread) process.exit(5);
    return tanhCell(z, xp);
  },
  { module: import.meta.url, name: 'exitingCell' },
);

/** A DEQ cell (tanhCell) that gives NaN for every sample whose first input feature is above 100. */
export const nanCell = remoteCell(
  (z: Tensor, xp: readonly Tensor[]): Tensor => {
    const out = tanhCell(z, xp);
    const x = xp[0]!;
    const p = x.shape[1]!;
    const d = z.shape[1]!;
    const data = out.data.slice();
    for (let b = 0; b < z.shape[0]!; b++) if (x.data[b * p]! > 100) data[b * d] = NaN;
    return add(
      out,
      new Tensor(
        data.map((v, i) => (Number.isNaN(v) ? NaN : 0 * out.data[i]!)),
        out.shape,
      ),
    );
  },
  { module: import.meta.url, name: 'nanCell' },
);

/** A cell whose `remote` names an export that does not exist. */
export const lostCell = remoteCell((z: Tensor, xp: readonly Tensor[]): Tensor => tanhCell(z, xp), { module: import.meta.url, name: 'noSuchCell' });

/** y' = -k y (k = params[0]); exits its worker thread with code 6 (on the main thread it is the plain field). */
export const exitingField = remoteField(
  (_t: Tensor, y: Tensor, [k]: readonly Tensor[]): Tensor => {
    if (!isMainThread) process.exit(6);
    return neg(mul(k!, y));
  },
  { module: import.meta.url, name: 'exitingField' },
);

/** y' = -k y, and NaN in every row whose first entry is above 100. */
export const nanField = remoteField(
  (_t: Tensor, y: Tensor, [k]: readonly Tensor[]): Tensor => {
    const out = neg(mul(k!, y));
    const w = y.shape[1]!;
    const mask = new Float64Array(y.size);
    for (let b = 0; b < y.shape[0]!; b++) if (y.data[b * w]! > 100) mask[b * w] = NaN;
    return add(out, new Tensor(mask, y.shape));
  },
  { module: import.meta.url, name: 'nanField' },
);

/** A damped oscillator y' = [y1, -k0 y0 - k1 y1] per row, parameters k [2]: a remote field with a time-varying solution. */
export const oscillator = remoteField(
  (_t: Tensor, y: Tensor, [k]: readonly Tensor[]): Tensor => {
    const p = slice(y, [0, 0], [y.shape[0]!, 1]);
    const v = slice(y, [0, 1], [y.shape[0]!, 1]);
    const a = neg(add(mul(slice(k!, [0], [1]), p), mul(slice(k!, [1], [1]), v)));
    return concat([v, a], 1);
  },
  { module: import.meta.url, name: 'oscillator' },
);
