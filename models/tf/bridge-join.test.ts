// Tests of the asynchronous join of the tf bridge (models/tf/bridge.ts: bridgedVariableGrads,
// bridgedRun) on the cpu backend: the same loss values and weight gradients as tf.variableGrads
// over the synchronous tfOp path, for a single- and a multi-output op, with direct paths around
// the op, a constant (int32) input, several bridged calls and an op that does not reach the loss.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scalar, Tensor as TfTensor, Variable } from '@tensorflow/tfjs';
import { Tensor, add, exp, mul, sin, sum, tanh } from '../../sim/core/index.ts';
import { type TfModule, initTf } from './backend.ts';
import { bridgedRun, bridgedVariableGrads, tfOp } from './bridge.ts';
import { relErr } from './test-util.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf('cpu')).tf;
});

const single = tfOp((x: Tensor, k: Tensor) => mul(tanh(x), exp(mul(k, x))), { name: 'single' });
const multi = tfOp((x: Tensor, w: Tensor, c: Tensor) => [sin(mul(x, w)), sum(mul(x, c)), add(x, c)] as Tensor[], { name: 'multi' });

function setup(): { vars: Variable[]; loss: () => Scalar } {
  const w1 = tf.variable(tf.randomNormal([3, 4], 0, 0.7, 'float32', 7), true, 'join_w1');
  const w2 = tf.variable(tf.randomNormal([4], 0, 0.5, 'float32', 8), true, 'join_w2');
  const k = tf.variable(tf.tensor1d([0.3, -0.2, 0.1, 0.05]), true, 'join_k');
  const xin = tf.tensor2d([0.1, -0.4, 0.7, 0.2, 0.5, -0.3], [2, 3]);
  const ints = tf.tensor1d([1, 2, 0, 3], 'int32');
  const loss = (): Scalar => {
    const h = tf.matMul(xin, w1); // [2, 4]
    const a = single(h, k) as TfTensor; // one output
    const [s, t, u] = multi(h, tf.add(w2, 0), ints) as [TfTensor, TfTensor, TfTensor]; // three outputs, an int32 constant input
    const unused = single(tf.mul(w2, 2), k) as TfTensor; // computed, not in the loss
    void unused;
    // a direct path around the ops (w2 and h) as well as through them
    return tf.addN([tf.sum(tf.square(a)), tf.mean(s), tf.mul(t, 0.1), tf.sum(tf.mul(u, w2)), tf.sum(tf.tanh(h))]) as Scalar;
  };
  return { vars: [w1, w2, k], loss };
}

test('bridgedVariableGrads equals tf.variableGrads over the synchronous bridge (values and gradients, cpu backend)', async () => {
  const { vars, loss } = setup();
  try {
    const sync = tf.variableGrads(loss, vars);
    const join = await bridgedVariableGrads(loss, vars);
    assert.equal((await join.value.data())[0], (await sync.value.data())[0], 'loss value');
    assert.deepEqual(Object.keys(join.grads).sort(), Object.keys(sync.grads).sort());
    for (const [name, g] of Object.entries(sync.grads)) {
      const a = await join.grads[name]!.data();
      const b = await g.data();
      assert.ok(relErr(a, b) <= 1e-6, `${name}: relative error ${relErr(a, b)}`);
    }
    tf.dispose([sync.value, join.value, ...Object.values(sync.grads), ...Object.values(join.grads)]);
  } finally {
    tf.dispose(vars);
  }
});

test('bridgedVariableGrads leaks no tensors; bridgedRun gives the forward values of the synchronous path', async () => {
  const { vars, loss } = setup();
  try {
    const before = tf.memory().numTensors;
    const { value, grads } = await bridgedVariableGrads(loss, vars);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind by the join');
    const sync = tf.tidy(() => [loss(), tf.mul(multi(vars[0]!, vars[0]!, tf.onesLike(vars[0]!)) as unknown as TfTensor, 1)].flat());
    const run = await bridgedRun(() => [loss(), tf.mul(multi(vars[0]!, vars[0]!, tf.onesLike(vars[0]!)) as unknown as TfTensor, 1)].flat());
    assert.equal(run.length, sync.length);
    for (let i = 0; i < sync.length; i++) assert.deepEqual(await run[i]!.data(), await sync[i]!.data(), `output ${i}`);
    tf.dispose([...sync, ...run]);
    assert.equal(tf.memory().numTensors, before, 'tensors left behind by bridgedRun');
  } finally {
    tf.dispose(vars);
  }
});

test('bridgedVariableGrads: a NaN in a bridged op is reported by name, as on the synchronous path', async () => {
  const bad = tfOp((x: Tensor) => mul(x, new Tensor(new Float64Array([NaN]), [1])), { name: 'nan-op' });
  const v = tf.variable(tf.tensor1d([1, 2]), true, 'join_nan');
  try {
    await assert.rejects(
      bridgedVariableGrads(() => tf.sum(bad(v) as TfTensor) as Scalar, [v]),
      /tfOp\(nan-op\): forward output 0 \(shape \[2\]\) is non-finite at flat index 0/,
    );
  } finally {
    v.dispose();
  }
});
