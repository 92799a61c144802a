// End-to-end tests of the MPC layer inside TensorFlow.js (mpc/mpc-tf.ts through models/tf's
// tfOp): tfjs gradients equal the float64 core's, and a tfjs variable holding the pendulum's
// (g, m) learns them through the MPC layer from an expert's controls.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scalar, Tensor as TfTensor } from '@tensorflow/tfjs';
import { Rng, Tensor, gradients, square, sum, tensor } from '../sim/core/index.ts';
import { type TfModule, initTf } from '../models/tf/backend.ts';
import { quadCost } from './cost.ts';
import { mpc } from './mpc.ts';
import { mpcTf } from './mpc-tf.ts';
import { PENDULUM, pendulum, pendulumCost, pendulumState } from './pendulum.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf()).tf;
});

const T = 10;
const spec = { dynamics: ([th]: readonly Tensor[]) => pendulum(th), T, u_lower: PENDULUM.u_lower, u_upper: PENDULUM.u_upper };
const x0 = (): Tensor => pendulumState([0.3, -0.5, 1.0], [0.2, 0.1, -0.4]);

test('mpcTf: tfjs gradients of sum(u*^2) w.r.t. theta and c equal the float64 core gradients (to float32 precision)', () => {
  const { C, c } = pendulumCost();
  const layer = mpcTf(spec, { tol: 1e-10 });
  const [gThTf, gcTf] = tf.grads((th: TfTensor, ct: TfTensor) =>
    tf.sum(tf.square(layer({ x_init: tf.tensor(x0().toArray() as number[][]), C: tf.tensor(C.toArray() as number[][]), c: ct, theta: [th] }).u)),
  )([tf.tensor1d([10, 1, 1]), tf.tensor1d(Array.from(c.data))]);
  const th = tensor([10, 1, 1]).requireGrad();
  const cc = c.clone().requireGrad();
  const r = mpc({ dynamics: pendulum(th), cost: quadCost(C, cc), x_init: x0(), T, u_lower: -2, u_upper: 2 }, { tol: 1e-10 });
  const [gTh, gc] = gradients(sum(square(r.u)), [th, cc]);
  const a = gThTf!.dataSync();
  const b = gcTf!.dataSync();
  gTh!.data.forEach((v, i) => assert.ok(Math.abs(v - a[i]!) < 1e-4 * (1 + Math.abs(v)), `dtheta[${i}]: ${v} vs ${a[i]}`));
  gc!.data.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4 * (1 + Math.abs(v)), `dc[${i}]: ${v} vs ${b[i]}`));
});

test("a tfjs variable learns the pendulum's (g, m) through mpcTf from an expert's controls (imitation loss falls 100x)", () => {
  const { C, c } = pendulumCost();
  const rng = new Rng(5);
  const N = 6;
  const xs = pendulumState(
    Array.from({ length: N }, () => rng.range(-Math.PI / 2, Math.PI / 2)),
    Array.from({ length: N }, () => rng.range(-1, 1)),
  );
  const expert = mpc({ dynamics: pendulum(tensor([10, 1, 1])), cost: quadCost(C, c), x_init: xs, T, u_lower: -2, u_upper: 2 });
  const uStar = tf.tensor(Array.from(expert.u.data), [...expert.u.shape]);
  const layer = mpcTf(spec);
  const logGm = tf.variable(tf.log(tf.tensor1d([7, 1.6])));
  const inputs = { x_init: tf.tensor(xs.toArray() as number[][]), C: tf.tensor(C.toArray() as number[][]), c: tf.tensor1d(Array.from(c.data)) };
  const loss = (): Scalar => {
    const theta = tf.concat([tf.exp(logGm), tf.tensor1d([1])]); // l is held: only g/l and m l^2 are identifiable
    return tf.mean(tf.square(tf.sub(layer({ ...inputs, theta: [theta] }).u, uStar))) as Scalar;
  };
  const first = loss().dataSync()[0]!;
  const opt = tf.train.adam(0.05);
  for (let i = 0; i < 60; i++) opt.minimize(loss);
  const last = loss().dataSync()[0]!;
  const [g, m] = Array.from(tf.exp(logGm).dataSync());
  assert.ok(last < first / 100, `imitation loss ${first} -> ${last}`);
  assert.ok(Math.abs(g! - 10) < 0.5 && Math.abs(m! - 1) < 0.05, `learned g = ${g}, m = ${m}`);
});

test('mpcTf names a batch item that does not converge', () => {
  const { C, c } = pendulumCost();
  const layer = mpcTf(spec, { maxIter: 1 });
  assert.throws(
    () =>
      layer({
        x_init: tf.tensor(x0().toArray() as number[][]),
        C: tf.tensor(C.toArray() as number[][]),
        c: tf.tensor1d(Array.from(c.data)),
        theta: [tf.tensor1d([10, 1, 1])],
      }),
    /mpcTf: batch item \d did not converge \(max-iter\)/,
  );
});
