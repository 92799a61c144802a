// End-to-end tests of the root-find, DEQ, argmin and KKT layers inside TensorFlow.js models
// (models/implicit through models/tf's tfOp): gradients reach tfjs, and small models whose
// outputs parameterise a layer train (the loss falls).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { Rng, Tensor, add, backward, mul, scalar, square, sub, sum, tanh, tensor, zeros } from '../../sim/core/index.ts';
import { type TfModule, initTf } from '../tf/backend.ts';
import { rootFindTf } from './root.ts';
import { deq, deqLayer, deqTf, tanhCell } from './fixed-point.ts';
import { argminTf } from './argmin.ts';
import { kktLayerTf } from './kkt.ts';
import { ballPlaneProblem, projectBallPlane } from './checks-root.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf()).tf;
});

/** Trains `params` with Adam on `lossFn` for `steps`; returns the first and last losses. */
function train(lossFn: () => TfTensor, params: TfTensor[], steps: number, lr: number): { first: number; last: number } {
  const opt = tf.train.adam(lr);
  let first = NaN;
  let last = NaN;
  for (let k = 0; k < steps; k++) {
    const l = opt.minimize(() => lossFn() as never, true, params as never) as TfTensor;
    const v = l.dataSync()[0]!;
    l.dispose();
    if (k === 0) first = v;
    last = v;
  }
  return { first, last };
}

function mlp(inputs: number, hidden: number, outputs: number, seed: number): { vars: TfTensor[]; apply: (x: TfTensor) => TfTensor } {
  const rng = new Rng(seed);
  const W1 = tf.variable(
    tf.tensor2d(
      Array.from(rng.normals(inputs * hidden), (v) => v / Math.sqrt(inputs)),
      [inputs, hidden],
    ),
  );
  const b1 = tf.variable(tf.zeros([hidden]));
  const W2 = tf.variable(
    tf.tensor2d(
      Array.from(rng.normals(hidden * outputs), (v) => (0.1 * v) / Math.sqrt(hidden)),
      [hidden, outputs],
    ),
  );
  const b2 = tf.variable(tf.zeros([outputs]));
  return { vars: [W1, b1, W2, b2], apply: (x) => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, W1), b1)), W2), b2) };
}

test('rootFindTf: tf.grad through y^2 - w = 0 gives dy/dw = 1 / (2 y)', () => {
  const op = rootFindTf(([w], y) => sub(mul(y, y), w!), scalar(1));
  const g = tf.grad((w: TfTensor) => op(w))(tf.scalar(4));
  assert.ok(Math.abs(g.dataSync()[0]! - 0.25) < 1e-6);
});

test('a tfjs MLP that outputs the coefficients of a batched root-find layer trains (loss falls)', () => {
  // y^3 + a y - b = 0 per sample, a = softplus(.) + 0.5 keeps one real root; target y* = sin(u)
  const rng = new Rng(11);
  const u = tf.tensor2d(Array.from(rng.uniforms(16, -1.5, 1.5)), [16, 1]);
  const target = tf.sin(u);
  const net = mlp(1, 12, 2, 3);
  const layer = rootFindTf(([a, b], y) => sub(add(mul(y, square(y)), mul(a!, y)), b!), zeros([16, 1]), { batched: true, tol: 1e-12 });
  const loss = (): TfTensor =>
    tf.tidy(() => {
      const out = net.apply(u);
      const a = tf.add(tf.softplus(tf.slice(out, [0, 0], [16, 1])), 0.5);
      const b = tf.slice(out, [0, 1], [16, 1]);
      return tf.mean(tf.square(tf.sub(layer(a, b), target)));
    });
  const { first, last } = train(loss, net.vars, 60, 0.05);
  assert.ok(last < 0.2 * first, `loss ${first} -> ${last}`);
});

test('deqTf gradients equal the float64 core gradients of the same DEQ (float32 boundary)', () => {
  const rng = new Rng(5);
  const [B, d, p] = [4, 6, 3];
  const x = Array.from(rng.normals(B * p));
  const W = Array.from(rng.normals(d * d), (v) => (0.4 * v) / Math.sqrt(d));
  const U = Array.from(rng.normals(d * p));
  const bb = Array.from(rng.normals(d));
  const op = deqTf(tanhCell, { tol: 1e-12 });
  const g = tf.grads((W: TfTensor, U: TfTensor) => tf.sum(tf.square(op(tf.tensor2d(x, [B, p]), W, U, tf.tensor1d(bb)))))([
    tf.tensor2d(W, [d, d]),
    tf.tensor2d(U, [d, p]),
  ]);
  const Wc = tensor(Float64Array.from(W, Math.fround), [d, d]).requireGrad();
  const Uc = tensor(Float64Array.from(U, Math.fround), [d, p]).requireGrad();
  const { z } = deq(tanhCell, tensor(Float64Array.from(x, Math.fround), [B, p]), [Wc, Uc, tensor(Float64Array.from(bb, Math.fround))], { tol: 1e-12 });
  backward(sum(square(z)));
  for (const [tfg, core] of [
    [g[0]!, Wc.grad!],
    [g[1]!, Uc.grad!],
  ] as const) {
    const a = tfg.dataSync();
    let err = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i]! - core.data[i]!));
      scale = Math.max(scale, Math.abs(core.data[i]!));
    }
    assert.ok(err <= 1e-5 * scale, `max error ${err} (scale ${scale})`);
  }
});

test('deqLayer inside a tf.sequential model trains with model.fit (loss falls)', async () => {
  const rng = new Rng(21);
  const n = 32;
  const xs = tf.tensor2d(Array.from(rng.uniforms(n * 2, -1, 1)), [n, 2]);
  const xd = xs.arraySync() as number[][];
  const ys = tf.tensor2d(
    xd.map(([a, b]) => [Math.sin(2 * a!) * b!]),
    [n, 1],
  );
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [2], activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
      deqLayer({ units: 12, seed: 5 }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const before = (model.evaluate(xs, ys) as TfTensor).dataSync()[0]!;
  await model.fit(xs, ys, { epochs: 60, batchSize: n, verbose: 0, shuffle: false }); // seeded and unshuffled: deterministic
  const after = (model.evaluate(xs, ys) as TfTensor).dataSync()[0]!;
  assert.ok(after < 0.5 * before, `loss ${before} -> ${after}`);
});

test('a tfjs MLP that outputs the parameters of an argmin layer trains (loss falls)', () => {
  // per sample x* = argmin_x (1 + a^2) x^2 / 2 - b x - 0.05 tanh(x) (strictly convex); the MLP outputs (a, b)
  const rng = new Rng(31);
  const u = tf.tensor2d(Array.from(rng.uniforms(8, -1, 1)), [8, 1]);
  const target = tf.mul(0.5, tf.cos(tf.mul(2, u)));
  const net = mlp(1, 10, 2, 4);
  const layer = argminTf((x, [a, b]) => sum(sub(mul(0.5, mul(add(1, square(a!)), square(x))), add(mul(b!, x), mul(0.05, tanh(x))))), zeros([8, 1]), {
    tol: 1e-12,
  });
  const loss = (): TfTensor =>
    tf.tidy(() => {
      const out = net.apply(u);
      return tf.mean(tf.square(tf.sub(layer(tf.slice(out, [0, 0], [8, 1]), tf.slice(out, [0, 1], [8, 1])), target)));
    });
  const { first, last } = train(loss, net.vars, 50, 0.05);
  assert.ok(last < 0.2 * first, `loss ${first} -> ${last}`);
});

test('a tfjs model that outputs theta of a KKT layer (solved by an external closed-form solver) trains (loss falls)', () => {
  // projection of theta onto the circle {|x| <= 1, a.x = b}; learn theta so that x* hits a target point on the circle
  const a = tf.tensor1d([1, 0.5, -0.3, 0.2]);
  const b = tf.tensor1d([0.2]);
  const solve = ([theta, a, b]: readonly Tensor[]) => {
    const s = projectBallPlane(theta!.data, a!.data, b!.data[0]!);
    return { x: tensor(s.x), lambda: tensor(s.lambda), nu: tensor(s.nu) };
  };
  const layer = kktLayerTf(ballPlaneProblem, solve) as (...t: TfTensor[]) => TfTensor;
  const target = tf.tensor1d(Array.from(projectBallPlane(Float64Array.of(0, 3, 2, -2), Float64Array.of(1, 0.5, -0.3, 0.2), 0.2).x));
  const theta = tf.variable(tf.tensor1d([3, -1, 1, 2]));
  const loss = (): TfTensor => tf.tidy(() => tf.sum(tf.square(tf.sub(layer(theta, a, b), target))));
  const { first, last } = train(loss, [theta], 60, 0.1);
  assert.ok(last < 0.05 * first, `loss ${first} -> ${last}`);
});
