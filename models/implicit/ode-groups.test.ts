// Step groups of the ODE layer (odeint's stepGroup) and their split over worker threads:
// results, counts and gradients of one thread bit for bit (mlpField and a remoteField, with
// the time gradient); a group equals the same items solved alone; the groups' steps against
// the shared steps, measured against a tight reference in units of the tolerance; the
// threaded gradient against central differences; bad options, NaN and a dying worker named.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, mul, rand, randn, slice, sum } from '../../sim/core/index.ts';
import { odeint, type OdeOptions } from './ode.ts';
import { mlpField } from './mlp-field.ts';
import { odeGroupThreadCount } from './ode-groups.ts';
import { exitingField, nanField, oscillator } from './test-util.ts';
import { WorkerError, closeWorkers, threadsUnavailable } from './worker-pool.ts';

after(() => closeWorkers());

const SIZES = [4, 16, 4];
const field = mlpField(SIZES);

function mlpParams(seed: number): Tensor[] {
  const rng = new Rng(seed);
  const ps: Tensor[] = [];
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const k = 1 / Math.sqrt(SIZES[l]!);
    ps.push(rand([SIZES[l]!, SIZES[l + 1]!], rng, -k, k), rand([SIZES[l + 1]!], rng, -k, k));
  }
  return ps;
}

/** Forward + backward of sum(w * y); returns y, every gradient and the stats. */
function run(f: Parameters<typeof odeint>[0], y0: Tensor, ts: number[], params: Tensor[], opts: OdeOptions, tsGrad = false) {
  const yl = y0.detach().requireGrad();
  const pl = params.map((p) => p.detach().requireGrad());
  const tl = new Tensor(Float64Array.from(ts), [ts.length]);
  if (tsGrad) tl.requireGrad();
  const { y, stats } = odeint(f, yl, tl, pl, opts);
  const w = randn(y.shape, new Rng(99));
  backward(sum(mul(y, w)));
  return { y: y.data, gy0: yl.grad!.data, gp: pl.map((p) => p.grad!.data), gts: tsGrad ? tl.grad!.data : null, stats };
}

test('step groups over 2 and 3 threads: y, counts and every gradient of 1 thread, bit for bit (mlpField)', () => {
  assert.equal(threadsUnavailable(), null);
  const y0 = randn([24, 4], new Rng(1));
  const ps = mlpParams(2);
  const opts: OdeOptions = { rtol: 1e-7, atol: 1e-7, stepGroup: 5 };
  assert.equal(odeGroupThreadCount(2, field, 5, opts), 2);
  const one = run(field, y0, [0, 0.5, 1.5], ps, { ...opts, threads: 1 });
  for (const threads of [2, 3]) {
    const many = run(field, y0, [0, 0.5, 1.5], ps, { ...opts, threads });
    assert.deepEqual(many.y, one.y);
    assert.deepEqual(many.gy0, one.gy0);
    many.gp.forEach((g, k) => assert.deepEqual(g, one.gp[k]));
    assert.deepEqual(many.stats, one.stats);
  }
  assert.equal(one.stats.groups!.length, 5);
  assert.equal(
    one.stats.acceptedSteps,
    one.stats.groups!.reduce((a, s) => a + s.acceptedSteps, 0),
  );
});

test('a remoteField with the time gradient: 2 threads give 1 thread bit for bit', () => {
  const y0 = randn([9, 2], new Rng(3));
  const k = new Tensor(Float64Array.of(2.0, 0.3), [2]);
  const opts: OdeOptions = { rtol: 1e-8, atol: 1e-8, stepGroup: 2 };
  const one = run(oscillator, y0, [0, 1, 2], [k], { ...opts, threads: 1 }, true);
  const two = run(oscillator, y0, [0, 1, 2], [k], { ...opts, threads: 2 }, true);
  assert.deepEqual(two.y, one.y);
  assert.deepEqual(two.gy0, one.gy0);
  assert.deepEqual(two.gp[0], one.gp[0]);
  assert.deepEqual(two.gts, one.gts);
});

test('a step group equals its items solved alone; stepGroup >= batch is the shared steps', () => {
  const y0 = randn([7, 4], new Rng(4));
  const ps = mlpParams(5);
  const opts: OdeOptions = { rtol: 1e-6, atol: 1e-6 };
  const grouped = odeint(field, y0, [0, 1], ps, { ...opts, stepGroup: 3, threads: 2 }).y;
  const alone = odeint(field, slice(y0, [3, 0], [3, 4]), [0, 1], ps, opts).y;
  assert.deepEqual(alone.data.slice(3 * 4), grouped.data.slice(7 * 4 + 3 * 4, 7 * 4 + 6 * 4));
  const shared = odeint(field, y0, [0, 1], ps, opts);
  const whole = odeint(field, y0, [0, 1], ps, { ...opts, stepGroup: 7 });
  assert.deepEqual(whole.y.data, shared.y.data);
  assert.equal(whole.stats.groups, undefined);
});

test('per-item steps against the shared steps: both within a few tolerances of a tight reference', () => {
  // items of very different stiffness: the shared step follows the hardest one
  const y0 = new Tensor(
    Float64Array.from({ length: 16 * 2 }, (_, i) => (i % 2 === 0 ? 1 + (i % 7) : 0)),
    [16, 2],
  );
  const k = new Tensor(Float64Array.of(30, 0.5), [2]);
  const tol = 1e-6;
  const ref = odeint(oscillator, y0, [0, 1, 3], [k], { rtol: 1e-13, atol: 1e-13 }).y.data;
  const scaledErr = (y: Float64Array): number => {
    let m = 0;
    for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i]! - ref[i]!) / (tol + tol * Math.abs(ref[i]!)));
    return m;
  };
  const shared = odeint(oscillator, y0, [0, 1, 3], [k], { rtol: tol, atol: tol });
  const perItem = odeint(oscillator, y0, [0, 1, 3], [k], { rtol: tol, atol: tol, stepGroup: 1, threads: 2 });
  const eShared = scaledErr(shared.y.data);
  const ePer = scaledErr(perItem.y.data);
  let diff = 0;
  for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(perItem.y.data[i]! - shared.y.data[i]!) / (tol + tol * Math.abs(ref[i]!)));
  assert.ok(eShared < 20 && ePer < 20, `errors in units of the tolerance: shared ${eShared}, per item ${ePer}`);
  assert.ok(diff > 0 && diff < 40, `per-item minus shared, in units of the tolerance: ${diff}`);
});

test('the threaded step groups gradient agrees with central differences', () => {
  const y0 = randn([6, 4], new Rng(8));
  const ps = mlpParams(9);
  const opts: OdeOptions = { rtol: 1e-11, atol: 1e-11, stepGroup: 2, threads: 3 };
  const r = run(field, y0, [0, 1], ps, opts);
  const w = randn([2, 6, 4], new Rng(99));
  const loss = (y: Tensor, p: Tensor[]): number => {
    const out = odeint(field, y, [0, 1], p, opts).y;
    let s = 0;
    for (let i = 0; i < out.size; i++) s += out.data[i]! * w.data[i]!;
    return s;
  };
  const rng = new Rng(10);
  const inputs = [y0, ...ps];
  const grads = [r.gy0, ...r.gp];
  inputs.forEach((t, i) => {
    const v = rng.normals(t.size);
    const h = 1e-5;
    const at = (sgn: number) => {
      const ins = inputs.map((u, j) =>
        j === i
          ? new Tensor(
              u.data.map((a, q) => a + sgn * h * v[q]!),
              u.shape,
            )
          : u,
      );
      return loss(ins[0]!, ins.slice(1));
    };
    const fd = (at(1) - at(-1)) / (2 * h);
    let an = 0;
    for (let q = 0; q < t.size; q++) an += grads[i]![q]! * v[q]!;
    assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `input ${i}: analytic ${an}, central difference ${fd}`);
  });
});

test('bad stepGroup and threads are named; NaN names the group and its items; a dying worker names its items', () => {
  const y0 = randn([8, 2], new Rng(11));
  const k = new Tensor(Float64Array.of(1), [1]);
  assert.throws(() => odeint(nanField, y0, [0, 1], [k], { stepGroup: 0 }), /odeint: options.stepGroup = 0 must be a positive integer/);
  assert.throws(() => odeint(nanField, new Tensor(Float64Array.of(1, 2), [2]), [0, 1], [k], { stepGroup: 1 }), /stepGroup needs y0 with a leading batch axis/);
  assert.throws(() => odeint(nanField, y0, [0, 1], [k], { stepGroup: 2, threads: -1 }), /odeint: threads must be a positive integer, got -1/);
  const bad = new Tensor(y0.data.slice(), y0.shape);
  bad.data[6 * 2] = 1000; // item 6: group 3 (items 6..7), on the second thread
  assert.throws(() => odeint(nanField, bad, [0, 1], [k], { stepGroup: 2, threads: 2 }), /step group 3: batch items 6\.\.7/);
  assert.throws(
    () => odeint(exitingField, y0, [0, 1], [k], { stepGroup: 2, threads: 2 }),
    (e: unknown) => e instanceof WorkerError && /odeint: worker thread 1 died \(exit code 6\) while solving batch items 4\.\.7/.test(e.message),
  );
  // the pool recovered
  assert.equal(odeint(oscillator, y0, [0, 1], [new Tensor(Float64Array.of(1, 0.1), [2])], { stepGroup: 2, threads: 2 }).stats.groups!.length, 4);
});
