// Tests of the ODE layer's forward solves (models/implicit/ode.ts): exact solutions, orders of
// accuracy, dopri5 tolerance behaviour and dense output, function-evaluation counts, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, ShapeError, backward, matmul, sum, mul, neg, noGrad, reshape, slice, sqrt, square, stack, sub, tensor } from '../../sim/core/index.ts';
import { OdeError, odeint, type OdeFunc } from './ode.ts';
import { lorenz } from './checks-ode.ts';

const decay: OdeFunc = (_t, y, [k]) => neg(mul(k!, y));
/** Harmonic oscillator (x, v)' = (v, -w^2 x) on a batch [B, 2]. */
const oscillator: OdeFunc = (_t, s, [w2]) => {
  const x = slice(s, [0, 0], [-1, 1]);
  const v = slice(s, [0, 1], [-1, 1]);
  return reshape(stack([v, neg(mul(w2!, x))], 1), s.shape);
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('dopri5 reproduces exponential decay y = y0 exp(-k t) at every requested time', () => {
  const ts = [0, 0.3, 1, 2.5, 4];
  const y0 = tensor([1, -2, 0.5]);
  const { y } = odeint(decay, y0, ts, [tensor([0.7])], { rtol: 1e-10, atol: 1e-12 });
  assert.deepEqual(y.shape, [5, 3]);
  const exact = ts.flatMap((t) => [1, -2, 0.5].map((v) => v * Math.exp(-0.7 * t)));
  assert.ok(maxAbsDiff(y.data, exact) < 1e-9, `error ${maxAbsDiff(y.data, exact)}`);
});

test('dopri5 keeps a batched harmonic oscillator on its exact orbit over ten periods', () => {
  const w = 2;
  const y0 = tensor([
    [1, 0],
    [0, 1],
  ]);
  const T = (10 * 2 * Math.PI) / w;
  const { y } = odeint(oscillator, y0, [0, T / 3, T], [tensor([w * w])], { rtol: 1e-10, atol: 1e-10 });
  for (const [i, t] of [0, T / 3, T].entries()) {
    // item 0: x = cos(w t), v = -w sin(w t); item 1: x = sin(w t) / w, v = cos(w t)
    const exact = [Math.cos(w * t), -w * Math.sin(w * t), Math.sin(w * t) / w, Math.cos(w * t)];
    assert.ok(maxAbsDiff(y.data.subarray(i * 4, i * 4 + 4), exact) < 1e-7, `t = ${t}`);
  }
});

test('integration backward in time (decreasing ts) inverts the forward flow', () => {
  const k = tensor([0.4]);
  const fwd = odeint(decay, tensor([1.5]), [0, 2], [k], { rtol: 1e-11, atol: 1e-12 }).y;
  const back = odeint(decay, tensor([fwd.data[1]!]), [2, 1, 0], [k], { rtol: 1e-11, atol: 1e-12 }).y;
  assert.ok(Math.abs(back.data[1]! - 1.5 * Math.exp(-0.4)) < 1e-9);
  assert.ok(Math.abs(back.data[2]! - 1.5) < 1e-9);
});

test('rk4 converges at order 4 and euler at order 1 on the oscillator', () => {
  const y0 = tensor([[1, 0]]);
  const w2 = tensor([1]);
  const errAt = (method: 'rk4' | 'euler', step: number): number => {
    const { y } = odeint(oscillator, y0, [0, 2], [w2], { method, step });
    return Math.hypot(y.data[2]! - Math.cos(2), y.data[3]! + Math.sin(2));
  };
  const e4 = [0.2, 0.1, 0.05].map((h) => errAt('rk4', h));
  const e1 = [0.02, 0.01, 0.005].map((h) => errAt('euler', h));
  for (let i = 0; i + 1 < 3; i++) {
    const p4 = Math.log2(e4[i]! / e4[i + 1]!);
    const p1 = Math.log2(e1[i]! / e1[i + 1]!);
    assert.ok(p4 > 3.8 && p4 < 4.3, `rk4 observed order ${p4}`);
    assert.ok(p1 > 0.9 && p1 < 1.15, `euler observed order ${p1}`);
  }
});

test('fixed-step methods land on every output time with equal steps no longer than step', () => {
  const { y, stats } = odeint(decay, tensor([1]), [0, 0.25, 1], [tensor([1])], { method: 'rk4', step: 0.1 });
  // 0.25 -> 3 steps, 0.75 -> 8 steps
  assert.equal(stats.acceptedSteps, 11);
  assert.equal(stats.nfeForward, 44);
  assert.ok(Math.abs(y.data[1]! - Math.exp(-0.25)) < 1e-6);
  const e = odeint(decay, tensor([1]), [0, 1], [tensor([1])], { method: 'euler' });
  assert.equal(e.stats.acceptedSteps, 1);
  assert.equal(e.y.data[1], 0); // one Euler step of size 1: 1 - 1 * 1
});

test('dopri5 error falls with the tolerance while its evaluation count grows', () => {
  const errs: number[] = [];
  const nfes: number[] = [];
  for (const tol of [1e-4, 1e-6, 1e-8, 1e-10]) {
    const { y, stats } = odeint(oscillator, tensor([[1, 0]]), [0, 6], [tensor([1])], { rtol: tol, atol: tol });
    const err = Math.hypot(y.data[2]! - Math.cos(6), y.data[3]! + Math.sin(6));
    errs.push(err);
    nfes.push(stats.nfeForward);
    assert.ok(err < 100 * tol, `tol ${tol}: error ${err}`);
  }
  for (let i = 0; i + 1 < errs.length; i++) {
    assert.ok(errs[i + 1]! < errs[i]! / 10, `errors ${errs}`);
    assert.ok(nfes[i + 1]! > nfes[i]!, `nfe ${nfes}`);
  }
});

test('dopri5 reads output times off its dense output: 201 outputs cost no more steps than 2', () => {
  const many = Array.from({ length: 201 }, (_, i) => (i * 5) / 200);
  const a = odeint(oscillator, tensor([[1, 0]]), many, [tensor([1])], { rtol: 1e-8, atol: 1e-8 });
  const b = odeint(oscillator, tensor([[1, 0]]), [0, 5], [tensor([1])], { rtol: 1e-8, atol: 1e-8 });
  assert.equal(a.stats.nfeForward, b.stats.nfeForward);
  assert.equal(a.stats.acceptedSteps, b.stats.acceptedSteps);
  let worst = 0;
  many.forEach((t, i) => {
    worst = Math.max(worst, Math.abs(a.y.data[2 * i]! - Math.cos(t)), Math.abs(a.y.data[2 * i + 1]! + Math.sin(t)));
  });
  assert.ok(worst < 1e-7, `dense output error ${worst}`);
  assert.ok(a.stats.acceptedSteps < 100);
});

test('dopri5 counts 2 + 6 evaluations per step attempt (FSAL), 1 + 6 with a given first step', () => {
  const r = odeint(lorenz, tensor([1, 1, 1]), [0, 0.5], [tensor([10, 28, 8 / 3])], { rtol: 1e-6, atol: 1e-6 });
  assert.equal(r.stats.nfeForward, 2 + 6 * (r.stats.acceptedSteps + r.stats.rejectedSteps));
  const s = odeint(lorenz, tensor([1, 1, 1]), [0, 0.5], [tensor([10, 28, 8 / 3])], { rtol: 1e-6, atol: 1e-6, step: 1 });
  assert.ok(s.stats.rejectedSteps > 0, 'a first step of 1 must be rejected');
  assert.equal(s.stats.nfeForward, 1 + 6 * (s.stats.acceptedSteps + s.stats.rejectedSteps));
  assert.equal(r.stats.nfeBackward, 0);
});

test('a single output time returns y0 without evaluating f', () => {
  let calls = 0;
  const { y, stats } = odeint(
    (_t, y) => {
      calls++;
      return y;
    },
    tensor([3, 4]),
    [0.5],
  );
  assert.deepEqual(y.shape, [1, 2]);
  assert.deepEqual(Array.from(y.data), [3, 4]);
  assert.equal(calls, 0);
  assert.equal(stats.nfeForward, 0);
});

test('NaN from f is reported with the time, step and index where it happened', () => {
  const f: OdeFunc = (t, y) => mul(sqrt(sub(0.3, t)), y); // NaN once t > 0.3
  assert.throws(
    () => odeint(f, tensor([1, 2]), [0, 1]),
    (e: unknown) =>
      e instanceof OdeError && e.kind === 'non-finite' && e.t > 0.3 && e.t < 0.5 && /NaN at t = 0\.3\d* \(step \d+, flat index 0\)/.test(e.message),
  );
  assert.throws(
    () => odeint(f, tensor([1]), [0, 1], [], { method: 'rk4', step: 0.1 }),
    (e: unknown) => e instanceof OdeError && e.kind === 'non-finite' && e.step === 3,
  );
});

test('a finite-time blow-up ends in a step-size underflow at the singularity', () => {
  // y' = y^2, y(0) = 1: y = 1 / (1 - t) blows up at t = 1
  assert.throws(
    () => odeint((_t, y) => square(y), tensor([1]), [0, 2]),
    (e: unknown) => e instanceof OdeError && e.kind === 'step-size-underflow' && Math.abs(e.t - 1) < 1e-3 && e.step > 0,
  );
});

test('maxSteps exceeded is reported with the time reached', () => {
  assert.throws(
    () => odeint(lorenz, tensor([1, 1, 1]), [0, 10], [tensor([10, 28, 8 / 3])], { maxSteps: 20 }),
    (e: unknown) => e instanceof OdeError && e.kind === 'max-steps' && e.step === 20 && e.t > 0 && e.t < 10 && /maxSteps = 20 exceeded at t = /.test(e.message),
  );
});

test('bad input is named: shapes, times, params and options', () => {
  const k = [tensor([1])];
  assert.throws(
    () => odeint((_t, y) => slice(y, [0], [2]), tensor([1, 2, 3]), [0, 1]),
    (e: unknown) => e instanceof ShapeError && /returned shape \[2\]; the state y0 has shape \[3\]/.test((e as Error).message),
  );
  assert.throws(() => odeint(decay, tensor([1]), [0, 1, 1], k), /ts\[2\] = 1 after ts\[1\] = 1/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 2, 1], k), /strictly increasing or strictly decreasing; ts\[2\]/);
  assert.throws(() => odeint(decay, tensor([1]), [0, NaN], k), /ts\[1\] = NaN is not a finite number/);
  assert.throws(() => odeint(decay, tensor([1]), tensor([[0, 1]]), k), /ts must be 1-D, got shape \[1, 2\]/);
  assert.throws(() => odeint(decay, tensor([1]), [], k), /ts is empty/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 1], [tensor([1]), [1] as unknown as Tensor]), /params\[1\] is not a Tensor/);
  assert.throws(() => odeint(decay, [1] as unknown as Tensor, [0, 1], k), /y0 must be a Tensor/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 1], k, { method: 'rk45' as 'rk4' }), /options.method 'rk45'/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 1], k, { rtol: -1 }), /options.rtol = -1/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 1], k, { step: 0 }), /options.step = 0/);
  assert.throws(() => odeint(decay, tensor([1]), [0, 1], k, { checkpoints: 1.5 }), /options.checkpoints = 1.5/);
  assert.throws(() => odeint(() => 3 as unknown as Tensor, tensor([1]), [0, 1]), /must return a Tensor/);
});

test('a batched neural ODE field sees the whole batch and returns [T, B, d]', () => {
  const W = tensor([
    [0, 1],
    [-1, 0],
  ]);
  const f: OdeFunc = (_t, y, [W]) => matmul(y, W!); // rotation: x' = -y, y' = x per row
  const y0 = tensor([
    [1, 0],
    [0, 2],
    [3, 3],
  ]);
  const { y } = noGrad(() => odeint(f, y0, [0, Math.PI / 2], [W], { rtol: 1e-10, atol: 1e-10 }));
  assert.deepEqual(y.shape, [2, 3, 2]);
  // rotation by +90 degrees: (x, y) -> (-y, x)
  const exact = [0, 1, -2, 0, -3, 3];
  assert.ok(maxAbsDiff(y.data.subarray(6), exact) < 1e-8);
});

test('the TSDoc example: y = exp(-k t) at t = 0, 1, 2 gives dL/dk = -(e^-k + 2 e^-2k) for L = sum(y)', () => {
  const k = tensor([0.5]).requireGrad();
  const { y } = odeint((_t, y, [k]) => neg(mul(k!, y)), tensor([1]), [0, 1, 2], [k], { rtol: 1e-9, atol: 1e-9 });
  backward(sum(y));
  assert.ok(Math.abs(k.grad!.data[0]! + Math.exp(-0.5) + 2 * Math.exp(-1)) < 1e-7, `${k.grad!.data[0]}`);
});
