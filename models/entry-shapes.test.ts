// Wrong shapes at the layers' entry points (models): each error names the layer, the argument
// and the expected and actual shapes, including the TensorFlow.js bridge ops (whose errors also
// give the tf inputs' shapes) and mistakes inside the user's function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, eye, mul, square, sub, sum, tensor, zeros } from '../sim/core/index.ts';
import { argmin, deq, deqTf, fixedPoint, initTf, odeint, odeintTf, qp, qpTf, rootFind, tanhCell, tfOp } from './index.ts';

/** Asserts a ShapeError whose message matches every pattern. */
function throwsShape(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ShapeError, `expected a ShapeError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('QP layer: p, G, h and A name themselves with the expected and actual shapes', () => {
  const Q = eye(2);
  throwsShape(() => qp({ Q, p: tensor([1, 2, 3]) }), /^qp: p has shape \[3\] but Q has \[2, 2\] \(n = 2\)/);
  throwsShape(() => qp({ Q, p: tensor([1, 2]), G: tensor([[1, 2, 3]]), h: tensor([1]) }), /^qp: G has shape \[1, 3\], its last axis must be n = 2/);
  throwsShape(() => qp({ Q, p: tensor([1, 2]), G: tensor([[1, 2]]), h: tensor([1, 2]) }), /^qp: h has shape \[2\] but G has \[1, 2\]/);
  throwsShape(() => qp({ Q: zeros([2, 3]), p: tensor([1, 2]) }), /^qp: Q must be square, got \[2, 3\]/);
});

test('ODE layer: the output of f, the times, and a shape mistake inside f name y and the params with their shapes', () => {
  throwsShape(() => odeint(() => tensor([1, 2, 3]), tensor([1, 2]), [0, 1]), /^odeint: f\(t, y, params\) returned shape \[3\]; the state y0 has shape \[2\]/);
  throwsShape(() => odeint((_t, y) => y, tensor([1, 2]), tensor([[0, 1]])), /^odeint: ts must be 1-D, got shape \[1, 2\]/);
  throwsShape(
    () => odeint((_t, y, [k]) => mul(k!, y), tensor([1, 2]), [0, 1], [tensor([1, 2, 3])]),
    /^odeint: f\(t, y, params\) failed for y \[2\], params\[0\] \[3\]: mul: shapes \[3\] and \[2\]/,
  );
});

test('fixed point, DEQ, root finding and argmin: f of the wrong shape and mistakes inside f name the arguments', () => {
  throwsShape(() => fixedPoint(() => tensor([1, 2, 3]), [tensor([1])], tensor([1, 2])), /^fixedPoint: f\(z, x\) returned shape \[3\] for z of shape \[2\]/);
  throwsShape(() => fixedPoint((z, [w]) => mul(w!, z), [tensor([1, 2, 3])], tensor([1, 2])), /^fixedPoint: f\(z, x\) failed for z \[2\], x\[0\] \[3\]: mul:/);
  throwsShape(() => deq(tanhCell, tensor([[1, 2, 3]]), [zeros([4, 4]), zeros([4, 5]), zeros([4])]), /U \(params\[1\]\) must be \[4, 3\].*got \[4, 5\]/);
  throwsShape(
    () => rootFind(() => tensor([1, 2, 3]), [tensor([1])], tensor([1, 2])),
    /^rootFind: F\(x, y\) returned shape \[3\] \(3 equations\) for y of shape \[2\]/,
  );
  throwsShape(() => rootFind(([w], y) => sub(y, w!), [tensor([1, 2, 3])], tensor([1, 2])), /^rootFind: F\(x, y\) failed for x\[0\] \[3\], y \[2\]: sub:/);
  throwsShape(
    () => argmin((x, [w]) => sum(square(sub(x, w!))), [tensor([1, 2, 3])], tensor([0, 0])),
    /^argmin: f\(x, w\) failed for x \[2\], w\[0\] \[3\]: sub:/,
  );
});

test('tfjs bridge ops: the core layer names the argument and the op gives the tf inputs with their shapes', async () => {
  const { tf } = await initTf('cpu');
  throwsShape(
    () => qpTf()({ Q: tf.eye(2), p: tf.tensor1d([1, 2, 3]) }),
    /^tfOp\(qp\): the op failed for input 0 \[2, 2\], input 1 \[3\]: qp: p has shape \[3\] but Q has \[2, 2\]/,
  );
  throwsShape(
    () => deqTf(tanhCell)(tf.zeros([1, 3]), tf.zeros([4, 4]), tf.zeros([4, 5]), tf.zeros([4])),
    /^tfOp\(deq\): the op failed for input 0 \[1, 3\], input 1 \[4, 4\], input 2 \[4, 5\], input 3 \[4\]: deq \(tanhCell\): U \(params\[1\]\) must be \[4, 3\]/,
  );
  throwsShape(
    () => odeintTf((_t, y, [k]) => mul(k!, y), [0, 1])(tf.tensor1d([1, 2]), tf.tensor1d([1, 2, 3])),
    /^tfOp\(odeint\): the op failed for input 0 \[2\], input 1 \[3\]: odeint: f\(t, y, params\) failed for y \[2\], params\[0\] \[3\]/,
  );
  throwsShape(
    () => tfOp((a, b) => mul(a!, b!), { name: 'scale' })(tf.zeros([2]), tf.zeros([3])),
    /^tfOp\(scale\): the op failed for input 0 \[2\], input 1 \[3\]: mul:/,
  );
});
