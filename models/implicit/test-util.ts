// Worker tasks for the tests of worker-pool.ts (excluded from the build): one that exits its
// thread, one that throws, one that never finishes, one that answers.
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
