// The ODE layer inside a TensorFlow.js model: gradients through `odeintTf` match the closed
// form, and a tfjs variable learns a decay rate from an observed trajectory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mul, neg } from '../../sim/core/index.ts';
import { initTf } from '../tf/index.ts';
import { odeintTf } from './ode-tf.ts';

test('odeintTf gives tfjs the adjoint gradient of y(1) = y0 exp(-k) in k and y0', async () => {
  const { tf } = await initTf('cpu');
  const op = odeintTf((_t, y, [k]) => neg(mul(k!, y)), [0, 1], { rtol: 1e-10, atol: 1e-12 });
  const y0 = tf.tensor1d([2]);
  const k = tf.tensor1d([0.7]);
  const [gy0, gk] = tf.grads((...xs) => tf.sum(tf.slice(op(xs[0]!, xs[1]!), [1, 0], [1, 1])))([y0, k]);
  assert.ok(Math.abs(gy0!.dataSync()[0]! - Math.exp(-0.7)) < 1e-6);
  assert.ok(Math.abs(gk!.dataSync()[0]! - -2 * Math.exp(-0.7)) < 1e-6);
});

test('a tfjs variable learns the decay rate of an observed trajectory through the ODE layer', async () => {
  const { tf } = await initTf('cpu');
  const ts = [0, 0.25, 0.5, 0.75, 1];
  const op = odeintTf((_t, y, [k]) => neg(mul(k!, y)), ts, { rtol: 1e-8, atol: 1e-10 });
  const y0 = tf.tensor1d([1.5]);
  const observed = tf.tensor2d(ts.map((t) => [1.5 * Math.exp(-1.3 * t)]));
  const k = tf.variable(tf.tensor1d([0.2]));
  const opt = tf.train.adam(0.1);
  const loss = (): ReturnType<typeof tf.scalar> => tf.mean(tf.square(tf.sub(op(y0, k), observed))) as ReturnType<typeof tf.scalar>;
  const first = loss().dataSync()[0]!;
  for (let i = 0; i < 150; i++) opt.minimize(loss);
  const last = loss().dataSync()[0]!;
  assert.ok(last < 1e-3 * first, `loss ${first} -> ${last}`);
  assert.ok(Math.abs(k.dataSync()[0]! - 1.3) < 0.02, `k = ${k.dataSync()[0]}`);
});
