// The entry-point shape helpers (sim/core/arg-shapes.ts): expected/actual shapes named, a
// ShapeError from a user's function re-thrown with the layer, the call and the argument shapes,
// other errors and errors already naming the layer passed through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, describeShapes, expectShape, tensor, withArgShapes, zeros } from './index.ts';

test('expectShape names the layer, the argument and both shapes; null entries match any size', () => {
  expectShape('layer', 'x', zeros([4, 3]), [null, 3]);
  assert.throws(
    () => expectShape('layer', 'x', zeros([4, 2]), [null, 3], 'nx = 3', ['B']),
    /^ShapeError: layer: x has shape \[4, 2\], expected \[B, 3\] \(nx = 3\)$/,
  );
  assert.throws(
    () => expectShape('layer', 'x', zeros([3]), [3, 1]),
    (e: unknown) => e instanceof ShapeError && /expected \[3, 1\]/.test(e.message),
  );
});

test('withArgShapes re-throws shape errors from inside with the arguments; others unchanged', () => {
  const args = { y: zeros([2]), params: [tensor([1, 2, 3])], w: { k: zeros([1]) } };
  assert.equal(describeShapes(args), 'y [2], params[0] [3], w.k [1]');
  assert.throws(
    () =>
      withArgShapes('odeint', 'f(t, y, params)', args, () => {
        throw new ShapeError('mul: shapes [3] and [2] cannot be broadcast together');
      }),
    (e: unknown) =>
      e instanceof ShapeError &&
      e.message === 'odeint: f(t, y, params) failed for y [2], params[0] [3], w.k [1]: mul: shapes [3] and [2] cannot be broadcast together',
  );
  assert.throws(
    () =>
      withArgShapes('odeint', 'f', args, () => {
        throw new ShapeError('odeint: already named');
      }),
    /^ShapeError: odeint: already named$/,
  );
  assert.throws(
    () =>
      withArgShapes('odeint', 'f', args, () => {
        throw new RangeError('other');
      }),
    (e: unknown) => e instanceof RangeError,
  );
  assert.equal(
    withArgShapes('odeint', 'f', args, () => 7),
    7,
  );
});
