// Worker tasks for the tests of worker-pool.ts (excluded from the build): one that exits its
// thread, one that throws, one that never finishes, one that answers; and DEQ cells for the
// threaded DEQ's failure tests.
import { isMainThread } from 'node:worker_threads';
import { Tensor, add } from '../../sim/core/index.ts';
import { remoteCell } from './deq-parallel.ts';
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
