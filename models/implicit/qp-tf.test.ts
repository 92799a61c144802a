// End-to-end tests of the QP layer inside TensorFlow.js (models/implicit/qp-tf.ts through
// models/tf's tfOp): tfjs gradients equal the float64 core's, and a tfjs MLP that predicts
// the linear term p of a QP trains so that the QP's solution matches a target.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { Rng, Tensor, gradients, tensor } from '../../sim/core/index.ts';
import { type TfModule, initTf } from '../tf/backend.ts';
import { qp } from './qp.ts';
import { qpTf } from './qp-tf.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf()).tf;
});

// -1 <= x <= 1 and sum(x) <= 1 for x in R^n, as G x <= h
function boxSimplex(n: number): { G: number[][]; h: number[] } {
  const G: number[][] = [];
  for (let i = 0; i < n; i++) G.push(Array.from({ length: n }, (_, j) => (j === i ? 1 : 0)));
  for (let i = 0; i < n; i++) G.push(Array.from({ length: n }, (_, j) => (j === i ? -1 : 0)));
  G.push(new Array(n).fill(1));
  return { G, h: [...new Array(2 * n).fill(1), 1] };
}

test('qpTf: tfjs gradients of x* and lambda equal the float64 core gradients (to float32 precision)', () => {
  const { G, h } = boxSimplex(3);
  const Q = [
    [2, 0.5, 0],
    [0.5, 1, 0.2],
    [0, 0.2, 1.5],
  ];
  const p = [
    [-3, 0.4, -0.2],
    [0.5, -2, 0.1],
  ];
  const w = [
    [1, -2, 0.5],
    [0.3, 1, -1],
  ];
  const layer = qpTf();
  const [gpTf, ghTf] = tf.grads((pt: TfTensor, ht: TfTensor) => {
    const { x, lambda } = layer({ Q: tf.tensor2d(Q), p: pt, G: tf.tensor2d(G), h: ht });
    return tf.add(tf.sum(tf.mul(x, tf.tensor2d(w))), tf.sum(lambda));
  })([tf.tensor2d(p), tf.tensor1d(h)]);
  const pc = tensor(p).requireGrad();
  const hc = tensor(h).requireGrad();
  const r = qp({ Q: tensor(Q), p: pc, G: tensor(G), h: hc });
  const [gp, gh] = gradients([r.x, r.lambda], [pc, hc], [tensor(w), new Tensor(new Float64Array(2 * 7).fill(1), [2, 7])]);
  const a = gpTf!.dataSync();
  const b = ghTf!.dataSync();
  gp!.data.forEach((v, i) => assert.ok(Math.abs(v - a[i]!) < 1e-4 * (1 + Math.abs(v)), `dp[${i}]: ${v} vs ${a[i]}`));
  gh!.data.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4 * (1 + Math.abs(v)), `dh[${i}]: ${v} vs ${b[i]}`));
});

test('a tfjs MLP that predicts the linear term p of a QP trains so that x* = argmin matches a target (loss falls)', () => {
  // x* = argmin 1/2 |x|^2 + p'x on the box [-1, 1]^3 cut by sum(x) <= 1; the target is the QP's own
  // solution for p_true(u) = -(A u) with a fixed A, so it is reachable, and the net must learn p(u)
  const rng = new Rng(17);
  const N = 24;
  const n = 3;
  const { G, h } = boxSimplex(n);
  const A = tensor([
    [1.5, -0.5],
    [-1, 1.2],
    [0.4, 0.8],
  ]);
  const uData = rng.uniforms(N * 2, -1, 1);
  const pTrue = new Float64Array(N * n);
  for (let k = 0; k < N; k++) for (let i = 0; i < n; i++) pTrue[k * n + i] = -(A.data[i * 2]! * uData[k * 2]! + A.data[i * 2 + 1]! * uData[k * 2 + 1]!);
  const target = qp({ Q: tensor([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]), p: new Tensor(pTrue, [N, n]), G: tensor(G), h: tensor(h) }).x;
  const u = tf.tensor2d(Array.from(uData), [N, 2]);
  const xTarget = tf.tensor2d(Array.from(target.data), [N, n]);
  const Qt = tf.eye(n);
  const Gt = tf.tensor2d(G);
  const ht = tf.tensor1d(h);
  const W1 = tf.variable(
    tf.tensor2d(
      Array.from(rng.normals(2 * 16), (v) => v / Math.sqrt(2)),
      [2, 16],
    ),
  );
  const b1 = tf.variable(tf.zeros([16]));
  const W2 = tf.variable(
    tf.tensor2d(
      Array.from(rng.normals(16 * n), (v) => (0.3 * v) / 4),
      [16, n],
    ),
  );
  const b2 = tf.variable(tf.zeros([n]));
  const layer = qpTf();
  const loss = (): TfTensor =>
    tf.tidy(() => {
      const p = tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(u, W1), b1)), W2), b2);
      return tf.mean(tf.square(tf.sub(layer({ Q: Qt, p, G: Gt, h: ht }).x, xTarget)));
    });
  const opt = tf.train.adam(0.05);
  let first = NaN;
  let last = NaN;
  for (let step = 0; step < 80; step++) {
    const l = opt.minimize(() => loss() as never, true, [W1, b1, W2, b2] as never) as TfTensor;
    const v = l.dataSync()[0]!;
    l.dispose();
    if (step === 0) first = v;
    last = v;
  }
  assert.ok(Number.isFinite(last));
  assert.ok(last < 0.1 * first, `loss ${first} -> ${last}`);
});
