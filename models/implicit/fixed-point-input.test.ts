// Bad input of the fixed-point / DEQ layers (models/implicit/fixed-point.ts): a diverging map is
// never reported as converged (iterates growing past the range where squares overflow, or
// becoming non-finite), and the DEQ entry point checks shapes naming its arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, add, matmul, mul, ones, randn, Rng, tanh, tensor } from '../../sim/core/index.ts';
import { deq, fixedPoint, tanhCell } from './index.ts';

test("a map diverging past 1e153 is not converged (stop 'rel' and 'abs'): the residual does not overflow to a fake 0", () => {
  for (const stop of ['rel', 'abs'] as const) {
    const { info } = fixedPoint((z, x) => add(mul(z, 3), x), ones([50]), ones([50]), { stop, solver: 'picard', maxIter: 330 });
    assert.equal(info.converged, false, `${stop}: ${info.message}`);
    assert.ok(info.residual > 0.1, `${stop}: residual ${info.residual}`);
  }
});

test('non-finite iterates are divergence, reported as such', () => {
  const { info } = fixedPoint((z, x) => mul(z, x), tensor([1, 2]), tensor([1, 1]), { solver: 'anderson', maxIter: 5 });
  assert.equal(info.converged, false);
  // a non-finite value of f is an error naming the iteration and the index
  assert.throws(
    () => fixedPoint((z) => mul(z, tensor([1, NaN])), tensor([0]), tensor([1, 1]), { solver: 'picard', maxIter: 3 }),
    /fixedPoint \(forward, iteration 0\): F\(x, y\) is NaN at flat index 1/,
  );
});

test('deq checks the shapes of x, W, U, b and z0, naming the argument at fault', () => {
  const rng = new Rng(1);
  const x = randn([4, 3], rng);
  const W = mul(0.1, randn([5, 5], rng));
  const U = randn([5, 3], rng);
  const b = randn([5], rng);
  assert.equal(deq(tanhCell, x, [W, U, b]).z.shape.join(','), '4,5');
  assert.throws(
    () => deq(tanhCell, x, [W, randn([4, 5], rng), b]),
    (e: Error) => e instanceof ShapeError && /U \(params\[1\]\) must be \[5, 3\].*got \[4, 5\]/.test(e.message),
  );
  assert.throws(() => deq(tanhCell, x, [randn([5, 4], rng), U, b]), /W \(params\[0\]\) must be \[5, 5\]/);
  assert.throws(() => deq(tanhCell, x, [W, U, randn([3], rng)]), /b \(params\[2\]\) must be \[5\]/);
  assert.throws(() => deq(tanhCell, randn([4], rng), [W, U, b]), /deq: x must be \[batch, features\]/);
  assert.throws(() => deq(tanhCell, x, [W, U, b], { z0: ones([2, 5]) }), /z0 must be \[batch, d\] with the batch of x \[4, 3\]/);
  // a user cell: the shape error names every argument's shape
  const cell = (z: Parameters<typeof tanhCell>[0], [xx, A]: Parameters<typeof tanhCell>[1]) => tanh(add(matmul(z, A!), xx!));
  assert.throws(() => deq(cell, x, [randn([5, 4], rng)], { d: 5 }), /deq: the cell fails on z0 \[4, 5\] with x \[4, 3\], params\[0\] \[5, 4\]/);
});
