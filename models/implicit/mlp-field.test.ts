// Tests of the known MLP field (models/implicit/mlp-field.ts): its tape function, and odeint's
// numeric path for it (forward and adjoint VJP, JS loops and wasm GEMM sizes) against the same
// field run through the tape; bad sizes and params named; NaN reported with t and step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, add, backward, matmul, mul, randn, relu, ShapeError, sum, square, tanh, tensor } from '../../sim/core/index.ts';
import { OdeError, odeint, type OdeFunc } from './ode.ts';
import { mlpField, mlpSpecOf, type MlpActivation } from './mlp-field.ts';

function weights(sizes: number[], seed: number): Tensor[] {
  const rng = new Rng(seed);
  const ps: Tensor[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    ps.push(mul(randn([sizes[l]!, sizes[l + 1]!], rng), 1 / Math.sqrt(sizes[l]!)));
    ps.push(mul(randn([sizes[l + 1]!], rng), 0.1));
  }
  return ps;
}

function maxRel(a: Float64Array, b: Float64Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-300);
}

test('mlpField is the tape MLP it describes', () => {
  const f = mlpField([3, 5, 3]);
  assert.deepEqual(mlpSpecOf(f), { sizes: [3, 5, 3], activation: 'tanh' });
  assert.equal(
    mlpSpecOf((_t: Tensor, y: Tensor) => y),
    null,
  );
  const [W1, b1, W2, b2] = weights([3, 5, 3], 1);
  const y = randn([2, 3], new Rng(2));
  const want = add(matmul(tanh(add(matmul(y, W1!), b1!)), W2!), b2!);
  assert.deepEqual(Array.from(f(tensor(0), y, [W1!, b1!, W2!, b2!]).data), Array.from(want.data));
  const g = mlpField([3, 5, 3], { activation: 'relu' });
  const wantR = add(matmul(relu(add(matmul(y, W1!), b1!)), W2!), b2!);
  assert.deepEqual(Array.from(g(tensor(0), y, [W1!, b1!, W2!, b2!]).data), Array.from(wantR.data));
});

for (const [sizes, batch, activation] of [
  [[3, 6, 3], 0, 'tanh'],
  [[4, 16, 16, 4], 1, 'softplus'],
  [[8, 64, 64, 8], 1, 'tanh'],
  [[8, 64, 64, 8], 12, 'tanh'],
  [[5, 32, 5], 26, 'relu'],
] as [number[], number, MlpActivation][]) {
  test(`odeint's numeric path for mlpField ${JSON.stringify(sizes)} ${activation}, batch ${batch || 'none'}: same solution and gradients as the tape`, () => {
    const known = mlpField(sizes, { activation });
    const viaTape: OdeFunc = (t, y, p) => known(t, y, p); // hides the description: the generic path
    const ps0 = weights(sizes, 3);
    const y00 = randn(batch ? [batch, sizes[0]!] : [sizes[0]!], new Rng(4));
    const run = (f: OdeFunc): Tensor[] => {
      const ps = ps0.map((p) => p.detach().requireGrad());
      const y0 = y00.detach().requireGrad();
      const { y, stats } = odeint(f, y0, [0, 0.5, 1], ps, { rtol: 1e-7, atol: 1e-7 });
      assert.ok(stats.nfeBackward === 0);
      backward(sum(square(y)));
      assert.ok(stats.backward!.nfeAdjoint > 0);
      return [y, y0.grad!, ...ps.map((p) => p.grad!)];
    };
    const a = run(known);
    const b = run(viaTape);
    a.forEach((x, i) => assert.ok(maxRel(x.data, b[i]!.data) < 1e-10, `output ${i}: rel diff ${maxRel(x.data, b[i]!.data)}`));
  });
}

test('two solves whose forward and backward interleave get the gradients each gets alone', () => {
  const sizes = [8, 64, 64, 8];
  const f = mlpField(sizes);
  const grads = (seed: number, other?: () => void): Float64Array => {
    const ps = weights(sizes, seed).map((p) => p.requireGrad());
    const { y } = odeint(f, randn([2, 8], new Rng(seed)), [0, 1], ps);
    other?.(); // another solve of the same field with other weights between this forward and its backward
    backward(sum(square(y)));
    return ps[2]!.grad!.data;
  };
  const alone = grads(20);
  const interleaved = grads(20, () => void grads(21));
  assert.deepEqual(Array.from(interleaved), Array.from(alone));
});

test('only the params that need a gradient get one through the numeric path', () => {
  const f = mlpField([3, 6, 3]);
  const ps = weights([3, 6, 3], 5);
  ps[2]!.requireGrad();
  const y0 = randn([2, 3], new Rng(6));
  backward(sum(odeint(f, y0, [0, 1], ps).y));
  assert.ok(ps[2]!.grad && ps[2]!.grad.data.some((v) => v !== 0));
  assert.equal(ps[0]!.grad, null);
});

test('bad sizes and params are named', () => {
  assert.throws(() => mlpField([3, 4, 2]), /sizes\[0\] \(3\) must equal the last width \(2\)/);
  assert.throws(() => mlpField([3]), /at least 2 widths/);
  assert.throws(() => mlpField([3, 0, 3]), /sizes\[1\] must be a positive integer/);
  assert.throws(() => mlpField([3, 4, 3], { activation: 'gelu' as MlpActivation }), /activation must be one of/);
  const f = mlpField([3, 4, 3]);
  const ps = weights([3, 4, 3], 7);
  ps[2] = randn([4, 2], new Rng(8));
  assert.throws(
    () => odeint(f, randn([2, 3], new Rng(9)), [0, 1], ps),
    (e: unknown) => e instanceof ShapeError && /params\[2\] \(W2\) has shape \[4, 2\], expected \[4, 3\]/.test(e.message),
  );
  assert.throws(() => odeint(f, randn([2, 3], new Rng(9)), [0, 1], ps.slice(0, 3)), /takes 4 params/);
});

test('a NaN from the field is reported with t and the step', () => {
  const f = mlpField([3, 4, 3]);
  const ps = weights([3, 4, 3], 10);
  ps[3] = tensor([NaN, 0, 0]);
  assert.throws(
    () => odeint(f, randn([3], new Rng(11)), [0, 1], ps),
    (e: unknown) => e instanceof OdeError && /f\(t, y, params\) returned NaN at t = 0 \(step \d+, flat index 0\)/.test(e.message),
  );
});
