// Tests of the TensorFlow.js bridge (models/tf/bridge.ts): conversions, tfOp forward values,
// gradients of a tfjs MLP -> core op -> loss against float64 finite differences, training.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor as TfTensor, Variable } from '@tensorflow/tfjs';
import { NonFiniteError, Rng, Tensor, add, exp, matmul, mean, mul, noGrad, randn, sin, square, sub, sum, tanh, tensor } from '../../sim/core/index.ts';
import { type TfModule, initTf } from './backend.ts';
import { tfOp, toCore, toTf } from './bridge.ts';
import { relErr } from './test-util.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf()).tf;
});

test('toCore / toTf copy values and shapes across the boundary (int32 and bool become float64)', () => {
  const x = tf.tensor([
    [1.5, -2],
    [3, 4.25],
  ]);
  const c = toCore(x);
  assert.deepEqual(c.shape, [2, 2]);
  assert.deepEqual(Array.from(c.data), [1.5, -2, 3, 4.25]);
  assert.ok(c.data instanceof Float64Array);
  const back = toTf(tensor([[0.1, 2e-8, 1e39]]));
  assert.equal(back.dtype, 'float32');
  assert.deepEqual(back.shape, [1, 3]);
  assert.deepEqual(Array.from(back.dataSync()), [Math.fround(0.1), Math.fround(2e-8), Infinity]);
  assert.deepEqual(Array.from(toCore(tf.tensor1d([3, -1], 'int32')).data), [3, -1]);
  assert.deepEqual(Array.from(toCore(tf.tensor1d([true, false], 'bool')).data), [1, 0]);
  assert.deepEqual(toCore(tf.scalar(2)).shape, []);
  assert.throws(() => toCore(tf.tensor(['a'])), /dtype 'string'/);
  tf.dispose([x, back]);
});

test('tfOp forward: sin(x)*exp(-x^2) and a two-input matmul give the float64 values rounded to float32', () => {
  const f = tfOp((x: Tensor) => mul(sin(x), exp(mul(-1, square(x)))));
  const xs = [-1.3, 0, 0.2, 2.5];
  const y = f(tf.tensor1d(xs));
  assert.deepEqual(y.shape, [4]);
  // The inputs are float32 at the boundary: the expected values start from the rounded inputs.
  const x32 = xs.map(Math.fround);
  assert.deepEqual(
    Array.from(y.dataSync()),
    x32.map((v) => Math.fround(Math.sin(v) * Math.exp(-1 * (v * v)))),
  );
  const g = tfOp((a: Tensor, b: Tensor) => tanh(matmul(a, b)));
  const out = g(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[0.1], [0.2], [-0.3]]));
  assert.deepEqual(out.shape, [1, 1]);
  assert.equal(out.dataSync()[0], Math.fround(Math.tanh(Math.fround(0.1) + 2 * Math.fround(0.2) + 3 * Math.fround(-0.3))));
  const s = tfOp((a: Tensor) => sum(a))(tf.ones([2, 3]));
  assert.deepEqual(s.shape, []);
  assert.equal(s.dataSync()[0], 6);
});

test('tfOp with several outputs returns one tf.Tensor per core output, with its shape', () => {
  const f = tfOp((a: Tensor, b: Tensor) => [matmul(a, b), sum(a), sin(b)]);
  const [ab, sa, sb] = f(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
  assert.deepEqual([ab!.shape, sa!.shape, sb!.shape], [[1, 1], [], [2, 1]]);
  assert.deepEqual(Array.from(ab!.dataSync()), [11]);
  assert.deepEqual(Array.from(sa!.dataSync()), [3]);
  assert.deepEqual(Array.from(sb!.dataSync()), [Math.fround(Math.sin(3)), Math.fround(Math.sin(4))]);
});

test('tfOp gradients equal tfjs native gradients of the same function, per input and with outputs left unused', () => {
  const rng = new Rng(3);
  const a = toTf(randn([4, 3], rng));
  const b = toTf(randn([3, 2], rng));
  const w = toTf(randn([4, 2], rng));
  const ours = tfOp((A: Tensor, B: Tensor) => [tanh(matmul(A, B)), sum(square(A))]);
  const [gaOurs, gbOurs] = tf.grads((A: TfTensor, B: TfTensor) => tf.sum(tf.mul(ours(A, B)[0]!, w)))([a, b]);
  const [gaTf, gbTf] = tf.grads((A: TfTensor, B: TfTensor) => tf.sum(tf.mul(tf.tanh(tf.matMul(A, B)), w)))([a, b]);
  assert.deepEqual(gaOurs!.shape, [4, 3]);
  assert.deepEqual(gbOurs!.shape, [3, 2]);
  assert.ok(relErr(gaOurs!.dataSync(), gaTf!.dataSync()) < 1e-5);
  assert.ok(relErr(gbOurs!.dataSync(), gbTf!.dataSync()) < 1e-5);
  // The second output alone: d sum(A^2) / dA = 2A, and B gets zeros.
  const [ga2, gb2] = tf.grads((A: TfTensor, B: TfTensor) => ours(A, B)[1]!)([a, b]);
  assert.ok(relErr(ga2!.dataSync(), tf.mul(a, 2).dataSync()) < 1e-6);
  assert.deepEqual(Array.from(gb2!.dataSync()), [0, 0, 0, 0, 0, 0]);
});

test('tfOp builds the float64 graph only while a tfjs gradient tape records', () => {
  let seen: Tensor | null = null;
  const f = tfOp((x: Tensor) => {
    seen = x;
    return sin(x);
  });
  f(tf.tensor1d([1, 2]));
  assert.equal(seen!.requiresGrad, false);
  tf.grad((x: TfTensor) => tf.sum(f(x)))(tf.tensor1d([1, 2]));
  assert.equal(seen!.requiresGrad, true);
});

test('tfOp treats int32 inputs as constants (zero gradient) and differentiates the float ones', () => {
  const f = tfOp((x: Tensor, k: Tensor) => mul(x, k));
  const k = tf.tensor1d([2, -3], 'int32');
  const gx = tf.grad((x: TfTensor) => tf.sum(f(x, k)))(tf.tensor1d([0.5, 0.25]));
  assert.deepEqual(Array.from(gx.dataSync()), [2, -3]);
});

test('tfOp leaks no tf tensors under tidy, single and multi output, forward and backward', () => {
  const f = tfOp((a: Tensor, b: Tensor) => [tanh(matmul(a, b)), sum(a)]);
  const a = tf.ones([2, 3]);
  const b = tf.ones([3, 2]);
  const n0 = tf.memory().numTensors;
  tf.tidy(() => {
    f(a, b);
    tf.grads((A: TfTensor, B: TfTensor) => tf.add(tf.sum(f(A, B)[0]!), f(A, B)[1]!))([a, b]);
  });
  assert.equal(tf.memory().numTensors, n0);
});

test('tfOp errors: non-tensor input, NaN and float32 overflow name the op, output and index', () => {
  const f = tfOp((x: Tensor) => sin(x), { name: 'wave' });
  assert.throws(() => f([1, 2] as unknown as TfTensor), /tfOp\(wave\): input 0 is not a tf\.Tensor \(got an array\)/);
  const lg = tfOp(function logOp(x: Tensor) {
    return [x, sub(x, 1), exp(x)];
  });
  assert.throws(
    () => lg(tf.tensor1d([0, 1, 100])),
    (e: unknown) =>
      e instanceof NonFiniteError && /tfOp\(logOp\): forward output 2 \(shape \[3\]\) is non-finite at flat index 2: .* overflows float32/.test(e.message),
  );
  const bad = tfOp((x: Tensor) => mul(x, NaN), { name: 'nan' });
  assert.throws(() => bad(tf.tensor1d([1, 2])), /tfOp\(nan\): forward output 0 \(shape \[2\]\) is non-finite at flat index 0: NaN/);
  assert.throws(() => bad(tf.tensor1d([NaN, 2])), /an input already holds NaN\/Inf/);
  const g = tf.grad((x: TfTensor) => tf.mul(f(x), tf.scalar(NaN)));
  assert.throws(
    () => g(tf.tensor1d([1])),
    /tfOp\(wave\): backward gradient of input 0 \(shape \[1\]\) is non-finite at flat index 0: NaN \(the upstream gradient dy already holds NaN\/Inf\)/,
  );
  assert.throws(() => tfOp(() => [] as Tensor[], { name: 'empty' })(tf.ones([1])), /tfOp\(empty\): the core function returned an empty array/);
});

test('tfOp refuses second-order differentiation with a clear error instead of a wrong value', () => {
  const f = tfOp((x: Tensor) => sum(square(sin(x))), { name: 'energy' });
  const x = tf.tensor1d([0.3, -0.4]);
  assert.throws(
    () => tf.grad((y: TfTensor) => tf.sum(tf.grad((z: TfTensor) => f(z))(y)))(x),
    /tfOp\(energy\): second-order gradients through the tfjs bridge are not supported/,
  );
});

// ---- A tfjs MLP feeding a core op: gradients against float64 finite differences ----

interface Mlp {
  W1: Variable;
  b1: Variable;
  W2: Variable;
  b2: Variable;
}

function makeMlp(rng: Rng, nIn: number, nHidden: number, nOut: number): Mlp {
  const init = (shape: number[], scale: number): Variable => tf.variable(toTf(mul(randn(shape, rng), scale)));
  return { W1: init([nIn, nHidden], 0.7), b1: init([nHidden], 0.1), W2: init([nHidden, nOut], 0.5), b2: init([nOut], 0.1) };
}

/** The core op under test: r = tanh(p A) + sin(p) * exp(-p^2 / 2) - T, one row per sample; A is a float64 constant. */
function residual(A: Tensor): (p: Tensor, T: Tensor) => Tensor {
  return (p, T) => sub(add(tanh(matmul(p, A)), mul(sin(p), exp(mul(-0.5, square(p))))), T);
}

/** The MLP in tfjs: p = tanh(X W1 + b1) W2 + b2. */
function mlpForward(mlp: Mlp, X: TfTensor): TfTensor {
  const h = tf.tanh(tf.add(tf.matMul(X, mlp.W1), mlp.b1));
  return tf.add(tf.matMul(h, mlp.W2), mlp.b2);
}

/** The tfjs pipeline: X -> MLP -> tfOp(residual) -> mean(r^2). */
function tfLoss(mlp: Mlp, op: (p: TfTensor, T: TfTensor) => TfTensor, X: TfTensor, T: TfTensor): TfTensor {
  return tf.mean(tf.square(op(mlpForward(mlp, X), T)));
}

/** The same pipeline in float64 with the core's ops, weights given as core tensors. */
function coreLoss(w: Tensor[], A: Tensor, X: Tensor, T: Tensor): Tensor {
  const [W1, b1, W2, b2] = w as [Tensor, Tensor, Tensor, Tensor];
  const h = tanh(add(matmul(X, W1), b1));
  const p = add(matmul(h, W2), b2);
  return mean(square(residual(A)(p, T)));
}

test('tfjs MLP -> tfOp -> loss: weight gradients from tf.variableGrads match float64 finite differences to float32 accuracy', async (t) => {
  const backends = [...new Set([(await initTf()).backend, 'cpu'])];
  for (const backend of backends) {
    await t.test(`on the ${backend} backend`, async () => {
      await initTf(backend);
      const rng = new Rng(11);
      const [nIn, nHidden, nOut, batch] = [3, 6, 4, 8];
      const mlp = makeMlp(rng, nIn, nHidden, nOut);
      const A = randn([nOut, nOut], rng);
      const X = toTf(randn([batch, nIn], rng));
      const T = toTf(mul(randn([batch, nOut], rng), 0.5));
      const op = tfOp(residual(A), { name: 'residual' });
      const names = ['W1', 'b1', 'W2', 'b2'] as const;
      const { value, grads } = tf.variableGrads(
        () => tfLoss(mlp, op, X, T) as never,
        names.map((n) => mlp[n]),
      );

      // Float64 reference: the weights' float32 values are exact in float64; central differences with eps 1e-6.
      const w = names.map((n) => toCore(mlp[n]));
      const [Xc, Tc] = [toCore(X), toCore(T)];
      const L0 = noGrad(() => coreLoss(w, A, Xc, Tc).item());
      assert.ok(Math.abs(value.dataSync()[0]! - L0) <= 1e-5 * Math.abs(L0), `tfjs loss ${value.dataSync()[0]} vs float64 loss ${L0}`);
      const eps = 1e-6;
      for (let k = 0; k < names.length; k++) {
        const wk = w[k]!;
        const fd = new Float64Array(wk.size);
        for (let j = 0; j < wk.size; j++) {
          const v = wk.data[j]!;
          wk.data[j] = v + eps;
          const Lp = noGrad(() => coreLoss(w, A, Xc, Tc).item());
          wk.data[j] = v - eps;
          const Lm = noGrad(() => coreLoss(w, A, Xc, Tc).item());
          wk.data[j] = v;
          fd[j] = (Lp - Lm) / (2 * eps);
        }
        const g = grads[mlp[names[k]!].name]!;
        assert.deepEqual(g.shape, mlp[names[k]!].shape);
        const err = relErr(g.dataSync(), fd);
        // float32 rounds each op by ~6e-8 relative; through this pipeline the measured max-norm
        // relative error is 1e-7 .. 5e-7 (cpu and wasm). Bar: 1e-5 (a wrong gradient is off by far more).
        assert.ok(err < 1e-5, `${backend}: d loss / d ${names[k]} relative error ${err.toExponential(2)} >= 1e-5`);
      }
      tf.dispose([value, X, T, ...Object.values(grads), ...Object.values(mlp)]);
    });
  }
});

test('training a tfjs MLP through tfOp with Adam: the loss falls by 10x in 150 steps', async () => {
  await initTf();
  const rng = new Rng(5);
  const [nIn, nHidden, nOut, batch] = [3, 8, 2, 32];
  const A = randn([nOut, nOut], rng);
  const op = tfOp(residual(A), { name: 'residual' });
  const X = toTf(randn([batch, nIn], rng));
  // Targets from a teacher MLP of the same form, so the student can fit them exactly.
  const teacher = makeMlp(rng, nIn, nHidden, nOut);
  const T = tf.tidy(() => op(mlpForward(teacher, X), tf.zeros([batch, nOut])));
  const student = makeMlp(rng, nIn, nHidden, nOut);
  const opt = tf.train.adam(0.03);
  const losses: number[] = [];
  for (let step = 0; step < 150; step++) {
    const loss = opt.minimize(() => tfLoss(student, op, X, T) as never, true, Object.values(student))!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(Number.isFinite(last));
  assert.ok(last < first / 10, `loss ${first} -> ${last}`);
});
