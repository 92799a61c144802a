// The DEQ block's batch over worker threads: z*, the solver report and dL/dx of one thread
// bit for bit (Anderson and Picard forward; dense, GMRES and adjoint fixed-point backward),
// the shared parameters' gradients up to rounding; samples stop on their own, so a range
// solved alone equals its rows of the whole batch; the threaded gradient against central
// differences; what stays on one thread; a dying worker and NaN named with their samples.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, mul, noGrad, rand, randn, slice, sum } from '../../sim/core/index.ts';
import { deq, tanhCell, type DeqOptions } from './fixed-point.ts';
import { DEQ_MIN_WORK_PER_THREAD, deqThreadCount } from './deq-parallel.ts';
import { exitingCell, lostCell, nanCell } from './test-util.ts';
import { WorkerError, closeWorkers, threadsUnavailable } from './worker-pool.ts';

after(() => closeWorkers());

function problem(seed: number, B: number, d: number, p: number): Tensor[] {
  const rng = new Rng(seed);
  const k = 1 / Math.sqrt(d);
  return [randn([B, p], rng), rand([d, d], rng, -k, k), rand([d, p], rng, -k, k), rand([d], rng, -0.1, 0.1)];
}

function run(inputs: Tensor[], opts: DeqOptions, weights: Tensor) {
  const leaves = inputs.map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
  const [x, W, U, b] = leaves as [Tensor, Tensor, Tensor, Tensor];
  const r = deq(tanhCell, x, [W, U, b], opts);
  backward(sum(mul(r.z, weights)));
  const { ms: _ms, ...bw } = r.info.backward!;
  return { z: r.z.data, info: { ...r.info, backward: bw }, grads: leaves.map((l) => l.grad!.data) };
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / s;
}

const cases: [string, DeqOptions][] = [
  ['Anderson, dense backward', { tol: 1e-10, backward: { solver: 'dense' } }],
  ['Anderson, GMRES backward', { tol: 1e-10, backward: { solver: 'gmres', tol: 1e-11 } }],
  ['Anderson, adjoint fixed point', { tol: 1e-10, backward: { solver: 'fixed-point', tol: 1e-11 } }],
  ['Picard, dense backward', { solver: 'picard', tol: 1e-9, maxIter: 400, backward: { solver: 'dense' } }],
];

for (const [name, opts] of cases) {
  test(`DEQ (${name}), d 48, batch 40, over 2 threads: z*, report and dL/dx of 1 thread bit for bit; dL/dW, dL/dU, dL/db to rounding`, () => {
    assert.equal(threadsUnavailable(), null);
    const [B, d, p] = [40, 48, 48];
    assert.equal(deqThreadCount(2, tanhCell, B, d, opts), 2);
    const inputs = problem(7, B, d, p);
    const weights = randn([B, d], new Rng(8));
    const one = run(inputs, { ...opts, threads: 1 }, weights);
    const two = run(inputs, { ...opts, threads: 2 }, weights);
    assert.ok(one.info.converged, one.info.message);
    assert.deepEqual(two.z, one.z);
    assert.deepEqual(two.info, one.info);
    assert.deepEqual(two.grads[0], one.grads[0]);
    for (let i = 1; i < 4; i++) assert.ok(maxRelDiff(two.grads[i]!, one.grads[i]!) < 1e-13, `parameter ${i}: ${maxRelDiff(two.grads[i]!, one.grads[i]!)}`);
  });
}

test('samples stop on their own: a range of the batch solved alone equals its rows of the whole batch', () => {
  const [B, d, p] = [12, 16, 8];
  const [x, W, U, b] = problem(3, B, d, p) as [Tensor, Tensor, Tensor, Tensor];
  const whole = deq(tanhCell, x, [W, U, b], { threads: 1, tol: 1e-11 });
  const part = deq(tanhCell, slice(x, [5, 0], [4, p]), [W, U, b], { threads: 1, tol: 1e-11 });
  assert.deepEqual(part.z.data, whole.z.data.slice(5 * d, 9 * d));
  assert.ok(part.info.iterations <= whole.info.iterations);
});

test('the threaded gradient agrees with central differences (directional, every input)', () => {
  const [B, d, p] = [6, 8, 5];
  const inputs = problem(11, B, d, p);
  const weights = randn([B, d], new Rng(12));
  const opts: DeqOptions = { tol: 1e-14, threads: 3, backward: { solver: 'dense' } };
  const g = run(inputs, opts, weights).grads;
  const loss = (ins: Tensor[]): number => {
    const [x, W, U, b] = ins as [Tensor, Tensor, Tensor, Tensor];
    const z = deq(tanhCell, x, [W, U, b], opts).z;
    let s = 0;
    for (let i = 0; i < z.size; i++) s += z.data[i]! * weights.data[i]!;
    return s;
  };
  const rng = new Rng(13);
  inputs.forEach((t, i) => {
    const v = rng.normals(t.size);
    const h = 1e-6;
    const shifted = (sgn: number) =>
      inputs.map((u, j) =>
        j === i
          ? new Tensor(
              u.data.map((a, k) => a + sgn * h * v[k]!),
              u.shape,
            )
          : u,
      );
    const fd = (loss(shifted(1)) - loss(shifted(-1))) / (2 * h);
    let an = 0;
    for (let k = 0; k < t.size; k++) an += g[i]![k]! * v[k]!;
    assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `input ${i}: analytic ${an}, central difference ${fd}`);
  });
});

test('what stays on one thread: a cell without remote, Broyden, the phantom gradient, a small default batch', () => {
  const plain = (z: Tensor, xp: readonly Tensor[]): Tensor => tanhCell(z, xp);
  assert.equal(deqThreadCount(4, plain, 64, 64, {}), 1);
  assert.equal(deqThreadCount(4, tanhCell, 64, 64, { solver: 'broyden' }), 1);
  assert.equal(deqThreadCount(4, tanhCell, 64, 64, { backward: { solver: 'phantom' } }), 1);
  assert.equal(deqThreadCount(undefined, tanhCell, 4, 8, {}), 1, 'the default does not split a small batch');
  assert.equal(deqThreadCount(3, tanhCell, 2, 8, {}), 2, 'an explicit count is taken, at most one sample per thread');
  assert.ok(DEQ_MIN_WORK_PER_THREAD > 0);
  assert.throws(
    () => deq(tanhCell, ...(problem(1, 2, 3, 3).slice(0, 1) as [Tensor]), problem(1, 2, 3, 3).slice(1), { threads: 0 }),
    /deq: threads must be a positive integer, got 0/,
  );
});

test('a worker that dies is reported with the samples it held; a missing remote export and NaN are named', () => {
  const [x, W, U, b] = problem(5, 8, 6, 4) as [Tensor, Tensor, Tensor, Tensor];
  assert.throws(
    () => deq(exitingCell, x, [W, U, b], { threads: 2 }),
    (e: unknown) => e instanceof WorkerError && /deq: worker thread 1 died \(exit code 5\) while solving batch items 4\.\.7/.test(e.message) && e.start === 4,
  );
  assert.throws(() => deq(lostCell, x, [W, U, b], { threads: 2 }), /exports no function noSuchCell \(cell\.remote\)/);
  const xn = new Tensor(x.data.slice(), x.shape);
  xn.data[6 * 4] = 1000; // sample 6, held by the second thread (its item 2)
  assert.throws(() => deq(nanCell, xn, [W, U, b], { threads: 2 }), /batch items 4\.\.7: .*item 2.*add 4/s);
  // the pool recovered: the same call without the faulty cell works
  assert.ok(deq(tanhCell, x, [W, U, b], { threads: 2 }).info.converged);
});

test('threaded DEQ without a tape and with only x requiring a gradient: the results of one thread', () => {
  const [x, W, U, b] = problem(17, 40, 48, 48) as [Tensor, Tensor, Tensor, Tensor];
  const plain = (threads: number) => noGrad(() => deq(tanhCell, x, [W, U, b], { threads }));
  const [p1, p2] = [plain(1), plain(2)];
  assert.deepEqual(p2.z.data, p1.z.data);
  assert.deepEqual(p2.info, p1.info);
  const onlyX = (threads: number) => {
    const xl = x.detach().requireGrad();
    backward(sum(deq(tanhCell, xl, [W, U, b], { threads }).z));
    return xl.grad!.data;
  };
  assert.deepEqual(onlyX(2), onlyX(1));
});

test('threaded DEQ that does not converge: the report and the raised error of one thread', () => {
  const [x, W, U, b] = problem(19, 40, 48, 48) as [Tensor, Tensor, Tensor, Tensor];
  const run = (threads: number) => deq(tanhCell, x, [W, U, b], { threads, maxIter: 3, tol: 1e-14 }).info;
  const [one, two] = [run(1), run(2)];
  assert.equal(one.converged, false);
  assert.deepEqual(two, one);
  const msg = (threads: number) => {
    try {
      deq(tanhCell, x, [W, U, b], { threads, maxIter: 3, tol: 1e-14, raiseOnNonConvergence: true });
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.match(msg(2), /fixedPoint \(anderson\): not converged after 3 iterations.*worst item/);
  assert.equal(msg(2), msg(1));
});
