// Tests of the core ops: values, broadcasting, shape errors, and every registered core
// gradient check at the 1e-6 bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from './index.ts';
import './checks.ts';

test('broadcasting follows NumPy rules and names both shapes on mismatch', () => {
  const a = c.tensor([[1], [2]]);
  const b = c.tensor([10, 20, 30]);
  assert.deepEqual(c.add(a, b).toArray(), [
    [11, 21, 31],
    [12, 22, 32],
  ]);
  assert.throws(() => c.add(c.zeros([2, 3]), c.zeros([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast together/);
  assert.throws(() => c.matmul(c.zeros([2, 3]), c.zeros([2, 3])), /matmul: inner dimensions differ: \[2, 3\] x \[2, 3\]/);
});

test('reshape shares storage (no copy) and infers -1', () => {
  const x = c.arange(6);
  const y = c.reshape(x, [2, -1]);
  assert.deepEqual(y.shape, [2, 3]);
  assert.equal(y.data, x.data);
});

test('reductions along axes with and without keepDims', () => {
  const x = c.tensor([
    [1, 5, 3],
    [4, 2, 6],
  ]);
  assert.deepEqual(c.sum(x, 1).toArray(), [9, 12]);
  assert.deepEqual(c.sum(x, 0, true).toArray(), [[5, 7, 9]]);
  assert.deepEqual(c.mean(x).item(), 3.5);
  assert.deepEqual(c.max(x, 1).toArray(), [5, 6]);
  assert.deepEqual(c.min(x, 0).toArray(), [1, 2, 3]);
  assert.ok(Number.isNaN(c.max(c.tensor([1, NaN, 3])).item()), 'max propagates NaN');
});

test('batched matmul broadcasts batch dimensions', () => {
  const rng = new c.Rng(2);
  const A = c.randn([4, 2, 3], rng);
  const B = c.randn([3, 5], rng);
  const C = c.matmul(A, B);
  assert.deepEqual(C.shape, [4, 2, 5]);
  const C2 = c.matmul(c.slice(A, [2, 0, 0], [1, -1, -1]), B);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(C.data[20 + i]! - C2.data[i]!) < 1e-14);
});

test('slice, concat, stack, gather and scatterAdd move the right elements', () => {
  const x = c.reshape(c.arange(12), [3, 4]);
  assert.deepEqual(c.slice(x, [1, 1], [2, 2]).toArray(), [
    [5, 6],
    [9, 10],
  ]);
  assert.deepEqual(c.concat([c.tensor([1, 2]), c.tensor([3])]).toArray(), [1, 2, 3]);
  assert.deepEqual(c.stack([c.tensor([1, 2]), c.tensor([3, 4])], 1).toArray(), [
    [1, 3],
    [2, 4],
  ]);
  assert.deepEqual(c.gather(x, [2, 0], 0).toArray(), [
    [8, 9, 10, 11],
    [0, 1, 2, 3],
  ]);
  assert.deepEqual(c.scatterAdd(null, [3], [0, 0, 2], c.tensor([1, 2, 5])).toArray(), [3, 0, 5]);
  assert.throws(() => c.gather(x, [3], 0), /gather: index 3 at position 0 is out of range \[0, 3\)/);
  assert.throws(() => c.slice(x, [2, 0], [2, 1]), /slice: box begin \[2, 0\] size \[2, 1\] is outside shape \[3, 4\] on axis 0/);
});

test('quaternions: product, rotation, exponential map', () => {
  const h = Math.SQRT1_2;
  const qz90 = c.tensor([0, 0, h, h]); // 90 degrees about z
  const v = c.quatRotate(qz90, c.tensor([1, 0, 0]));
  [0, 1, 0].forEach((e, i) => assert.ok(Math.abs(v.data[i]! - e) < 1e-15));
  const q180 = c.quatMul(qz90, qz90);
  [0, 0, 1, 0].forEach((e, i) => assert.ok(Math.abs(q180.data[i]! - e) < 1e-15));
  const qe = c.quatExp(c.tensor([0, 0, Math.PI / 2]));
  [0, 0, h, h].forEach((e, i) => assert.ok(Math.abs(qe.data[i]! - e) < 1e-15));
  const q0 = c.quatExp(c.tensor([0, 0, 0]));
  assert.deepEqual([...q0.data], [0, 0, 0, 1]);
  const R = c.quatToMatrix(qz90);
  [0, -1, 0, 1, 0, 0, 0, 0, 1].forEach((e, i) => assert.ok(Math.abs(R.data[i]! - e) < 1e-15));
});

test('gradcheck detects a wrong gradient', () => {
  const bad = (x: c.Tensor): c.Tensor => {
    const [y] = c.customOp(
      'wrong',
      [x],
      ([a]) => [c.mul(a!, a!)],
      ([g], [a]) => [c.mul(g!, c.mul(a!, 2.001))],
    );
    return c.sum(y!);
  };
  const r = c.gradcheck(bad, [c.tensor([1, 2, 3])]);
  assert.equal(r.passed, false);
  assert.ok(r.maxRelErr > 1e-4 && r.maxRelErr < 1e-3, `maxRelErr ${r.maxRelErr}`);
  assert.equal(r.inputs[0]!.worstIndex, 2);
});

test('every registered core gradient check passes at rel. error 1e-6', () => {
  const results = c.runGradchecks('core.');
  assert.ok(results.length >= 100, `only ${results.length} checks registered`);
  const failed = results.filter((r) => !r.passed || !(r.maxRelErr <= 1e-6));
  assert.deepEqual(failed, []);
});

test('an op given something other than a Tensor or a number says what it got', () => {
  // JavaScript callers bypass the types: arrays and null are named, not crashed on
  assert.throws(() => c.add([1, 2] as never, 1), /expected a Tensor or a number, got an array \(wrap it with tensor/);
  assert.throws(() => c.mul(null as never, 1), /got null/);
});
