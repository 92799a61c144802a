// The QP layer's batch over worker threads: the same solutions, multipliers, infos and
// gradients bit for bit as one thread; and the worker pool's failure reports (a worker that
// exits, throws or stalls is named with the batch items it held, and the pool recovers).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, mul, sum } from '../../sim/core/index.ts';
import { qp } from './qp.ts';
import { qpThreadCount } from './qp-parallel.ts';
import { randomBenchQP } from './qp-random.ts';
import { WorkerError, closeWorkers, runOnWorkers, threadsUnavailable } from './worker-pool.ts';

after(() => closeWorkers());

const fixtures = new URL('./test-util.ts', import.meta.url).href;

test('a QP batch split over 2 threads gives the results and gradients of 1 thread, bit for bit', () => {
  assert.equal(threadsUnavailable(), null);
  const [B, n, m] = [12, 30, 30];
  assert.equal(qpThreadCount(2, B, n, m, 0), 2, 'the batch must be large enough to be split');
  const P = randomBenchQP(new Rng(5), B, n, m);
  const w = new Tensor(new Rng(6).normals(B * n), [B, n]);
  const run = (threads: number) => {
    const leaves = [P.Q, P.p, P.G, P.h].map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
    const [Q, p, G, h] = leaves as [Tensor, Tensor, Tensor, Tensor];
    const r = qp({ Q, p, G, h }, { threads });
    backward(sum(mul(r.x, w)));
    return { r, grads: leaves.map((l) => l.grad!.data) };
  };
  const one = run(1);
  const two = run(2);
  assert.deepEqual(two.r.x.data, one.r.x.data);
  assert.deepEqual(two.r.lambda.data, one.r.lambda.data);
  assert.deepEqual(two.r.info, one.r.info);
  two.grads.forEach((g, i) => assert.deepEqual(g, one.grads[i]));
  assert.ok(one.r.info.every((i) => i.status === 'solved'));
});

test('qp rejects a threads option that is not a positive integer', () => {
  const P = randomBenchQP(new Rng(1), 2, 3, 2);
  assert.throws(() => qp(P, { threads: 0 }), /qp: threads must be a positive integer, got 0/);
  assert.throws(() => qp(P, { threads: 1.5 }), /threads must be a positive integer/);
});

test('a worker that exits is reported with the items it held, and the pool recovers', () => {
  const job = (fn: string, start: number, end: number, payload: unknown = null) => ({ module: fixtures, fn, payload, start, end });
  assert.throws(
    () => runOnWorkers(() => 0, [job('exitTask', 4, 8)], 'test'),
    (e: unknown) =>
      e instanceof WorkerError && /worker thread 1 died \(exit code 3\) while solving batch items 4\.\.7/.test(e.message) && e.start === 4 && e.end === 8,
  );
  assert.throws(() => runOnWorkers(() => 0, [job('throwTask', 2, 3)], 'test'), /worker thread 1 failed on batch item 2: Error: task exploded on purpose/);
  const [local, [doubled]] = runOnWorkers<number, Float64Array>(() => 7, [job('doubleTask', 0, 3, new Float64Array([1, 2, 3]))], 'test');
  assert.equal(local, 7);
  assert.deepEqual([...doubled!], [2, 4, 6]);
});

test('a worker that stalls is stopped and reported, never waited on forever', () => {
  const saved = process.env.IMPULSE_WORKER_STALL_MS;
  process.env.IMPULSE_WORKER_STALL_MS = '300';
  try {
    assert.throws(
      () => runOnWorkers(() => 0, [{ module: fixtures, fn: 'spinTask', payload: null, start: 10, end: 12 }], 'test'),
      /test: worker thread 1 made no progress for 0.3 s on batch items 10\.\.11; it was stopped/,
    );
  } finally {
    if (saved === undefined) delete process.env.IMPULSE_WORKER_STALL_MS;
    else process.env.IMPULSE_WORKER_STALL_MS = saved;
  }
});
