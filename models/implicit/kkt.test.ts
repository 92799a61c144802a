// Tests of the general KKT layer (models/implicit/kkt.ts): the seed slides' constrained
// example, gradients against an independent closed-form solver with equality and inactive
// inequality constraints, and the checks on the given primal-dual point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, concat, gradients, jacobian, mul, randn, scalar, sub, tensor } from '../../sim/core/index.ts';
import { ImplicitError, SingularJacobianError } from './ift.ts';
import { kktLayer } from './kkt.ts';
import { ballPlaneProblem, projectBallPlane } from './checks-root.ts';

test('seed: argmin x w s.t. x^2 - 1 <= 0 at w = 2 gives x* = -1, lambda* = 1, d(x*, lambda*)/dw = (0, 0.5)', () => {
  const problem = { f: (x: ReturnType<typeof scalar>, w: ReturnType<typeof scalar>) => mul(x, w), g: (x: ReturnType<typeof scalar>) => sub(mul(x, x), 1) };
  const w = scalar(2);
  const J = jacobian((w) => {
    const r = kktLayer(problem, w, { x: tensor([-1]), lambda: tensor([1]) });
    return concat([r.x, r.lambda]);
  }, w);
  assert.deepEqual(
    Array.from(J.data, (v) => Math.round(v * 1e12) / 1e12 + 0),
    [0, 0.5],
  );
  const r = kktLayer(problem, w, { x: tensor([-1]), lambda: tensor([1]) });
  assert.deepEqual(Array.from(r.x.data), [-1]);
  assert.deepEqual(Array.from(r.lambda.data), [1]);
  assert.deepEqual(r.info.active, [0]);
});

test('gradients w.r.t. theta match central differences of an independent closed-form solver (ball, plane, inactive bound)', () => {
  const rng = new Rng(8);
  const theta = mul(randn([4], rng), 3);
  const a = randn([4], rng);
  const b = 0.2;
  const solveAt = (th: Float64Array) => projectBallPlane(th, a.data, b);
  const s = solveAt(theta.data);
  const th = theta.clone().requireGrad();
  const r = kktLayer(ballPlaneProblem, [th, a, tensor([b])], { x: tensor(s.x), lambda: tensor(s.lambda), nu: tensor(s.nu) });
  assert.equal(r.info.active.length, 1);
  assert.ok(r.info.stationarity < 1e-10);
  const eps = 1e-6;
  for (let i = 0; i < 4; i++) {
    const [gx] = gradients(r.x, [th], [tensor([0, 0, 0, 0].map((_, k) => (k === i ? 1 : 0)))]);
    for (let j = 0; j < 4; j++) {
      const tp = Float64Array.from(theta.data);
      const tm = Float64Array.from(theta.data);
      tp[j]! += eps;
      tm[j]! -= eps;
      const fd = (solveAt(tp).x[i]! - solveAt(tm).x[i]!) / (2 * eps);
      assert.ok(Math.abs(gx!.data[j]! - fd) < 1e-7, `dx${i}/dtheta${j}: ${gx!.data[j]} vs ${fd}`);
    }
  }
  // the multiplier of the inactive bound x_0 <= 5 stays 0 with zero gradient
  const [gl] = gradients(concat([r.lambda]), [th], [tensor([0, 1])]);
  assert.ok(gl!.data.every((v) => Math.abs(v) < 1e-12));
});

test('a point that violates the KKT conditions is rejected with the condition that fails', () => {
  const problem = { f: (x: ReturnType<typeof scalar>, w: ReturnType<typeof scalar>) => mul(x, w), g: (x: ReturnType<typeof scalar>) => sub(mul(x, x), 1) };
  assert.throws(
    () => kktLayer(problem, scalar(2), { x: tensor([-1]), lambda: tensor([0.5]) }),
    (e: unknown) => e instanceof ImplicitError && /stationarity/.test(e.message),
  );
  assert.throws(() => kktLayer(problem, scalar(2), { x: tensor([-1]), lambda: tensor([-1]) }), /stationarity|dual feasibility/);
  assert.throws(() => kktLayer(problem, scalar(2), { x: tensor([-1]), lambda: tensor([1, 2]) }), /lambda has 2 entries/);
  // check: false lets any point through (the caller vouches for it)
  assert.doesNotThrow(() => kktLayer(problem, scalar(2), { x: tensor([-1]), lambda: tensor([0.5]) }, { check: false }));
});

test('a weakly active constraint (lambda = 0 and g = 0) makes the backward raise and name the constraint', () => {
  // min (x - w)^2 s.t. x - 1 <= 0 at w = 1: x* = 1, lambda* = 0, g = 0
  const w = scalar(1).requireGrad();
  const r = kktLayer({ f: (x, w) => mul(sub(x, w), sub(x, w)), g: (x) => sub(x, 1) }, w, { x: tensor([1]), lambda: tensor([0]) });
  assert.throws(
    () => backward(r.x),
    (e: unknown) => e instanceof SingularJacobianError && /g\[0\] are weakly active/.test(e.message),
  );
});
