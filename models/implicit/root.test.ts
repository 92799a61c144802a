// Tests of the root-finding layer (models/implicit/root.ts) and the shared IFT backward
// (ift.ts): the seed documents' worked examples, dense vs GMRES vs Broyden agreement,
// batching, second order, and the errors for singular Jacobians, NaN, non-convergence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  Tensor,
  add,
  backward,
  concat,
  gradients,
  jacobian,
  log,
  matmul,
  mul,
  randn,
  reshape,
  scalar,
  sin,
  slice,
  square,
  sub,
  sum,
  tensor,
} from '../../sim/core/index.ts';
import { ImplicitError, NonConvergenceError, SingularJacobianError } from './ift.ts';
import { rootFind } from './root.ts';
import { randomRootSystem } from './checks-root.ts';

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('seed: x^2 - w = 0 gives dx/dw = 1 / (2x) on both roots', () => {
  for (const [y0, root] of [
    [1, 2],
    [-1, -2],
  ] as const) {
    const w = scalar(4).requireGrad();
    const { y, info } = rootFind((w, y) => sub(mul(y, y), w), w, scalar(y0));
    assert.ok(info.converged);
    close(y.item(), root, 1e-12, 'root');
    backward(y);
    close(w.grad!.item(), 1 / (2 * root), 1e-12, 'dx/dw');
    assert.equal(info.backward?.solver, 'dense');
  }
});

test('seed: sin(x + w) = 0 gives dx/dw = -1', () => {
  const w = scalar(0.3).requireGrad();
  const { y } = rootFind((w, y) => sin(add(y, w)), w, scalar(0.1));
  close(y.item(), -0.3, 1e-12);
  backward(y);
  close(w.grad!.item(), -1, 1e-12);
});

test("seed (paper's appendix A): F1 = x^2 + y1^2 + y2^2 - 4, F2 = x y1 - 1 at x = 1, y = (1, sqrt 2): dy/dx = -[dF/dy]^-1 dF/dx", () => {
  const F = (x: Tensor, y: Tensor): Tensor => {
    const y1 = reshape(slice(y, [0], [1]), []);
    const y2 = reshape(slice(y, [1], [1]), []);
    return concat([reshape(sub(add(add(square(x), square(y1)), square(y2)), 4), [1]), reshape(sub(mul(x, y1), 1), [1])]);
  };
  const x = scalar(1);
  const { y } = rootFind(F, x, tensor([0.8, 1.2]));
  close(y.data[0]!, 1, 1e-12, 'y1');
  close(y.data[1]!, Math.SQRT2, 1e-12, 'y2');
  // by hand: J_y = [[2 y1, 2 y2], [x, 0]], J_x = [2x, y1]; dy/dx = -J_y^-1 J_x
  const [a, b, c, d] = [2 * 1, 2 * Math.SQRT2, 1, 0];
  const det = a * d - b * c;
  const inv = [d / det, -b / det, -c / det, a / det];
  const Jx = [2, 1];
  const expected = [-(inv[0]! * Jx[0]! + inv[1]! * Jx[1]!), -(inv[2]! * Jx[0]! + inv[3]! * Jx[1]!)];
  const J = jacobian((x) => rootFind(F, x, tensor([0.8, 1.2])).y, x);
  assert.deepEqual(J.shape, [2]);
  close(J.data[0]!, expected[0]!, 1e-12, 'dy1/dx');
  close(J.data[1]!, expected[1]!, 1e-12, 'dy2/dx');
  // and the closed form: y1 = 1/x, y2 = sqrt(4 - x^2 - 1/x^2): (-1, 0) at x = 1
  close(J.data[0]!, -1, 1e-12);
  close(J.data[1]!, 0, 1e-12);
});

test('seed (linear system): F = A x - b with A = [[2, -2], [-2, 0]], b = (1, 0) gives dx*/dA = -A^-1 [x*^T ...]', () => {
  const A = tensor([
    [2, -2],
    [-2, 0],
  ]).requireGrad();
  const b = tensor([1, 0]);
  const { y } = rootFind(([A, b], x) => sub(matmul(A!, x), b!), [A, b], tensor([0, 0]));
  close(y.data[0]!, 0, 1e-12);
  close(y.data[1]!, -0.5, 1e-12);
  const [g0] = gradients(slice(y, [0], [1]), [A]);
  const [g1] = gradients(slice(y, [1], [1]), [A]);
  assert.deepEqual(
    Array.from(g0!.data, (v) => Math.round(v * 1e12) / 1e12 + 0),
    [0, 0, 0, -0.25],
  );
  assert.deepEqual(
    Array.from(g1!.data, (v) => Math.round(v * 1e12) / 1e12 + 0),
    [0, -0.25, 0, -0.25],
  );
});

test('dense, GMRES and Broyden agree on the gradient of a random nonlinear system with a list of parameters', () => {
  const rng = new Rng(9);
  const n = 6;
  const M = add(
    randn([n, n], rng),
    mul(
      4,
      tensor(
        Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
        [n, n],
      ),
    ),
  );
  const b = randn([n], rng);
  const c = randn([n], rng);
  const grads = (opts: Parameters<typeof rootFind>[3]): Float64Array[] => {
    const ps = [M, b, c].map((t) => t.clone().requireGrad());
    const { y, info } = rootFind(randomRootSystem, ps, randn([n], new Rng(1)), { tol: 1e-14, ...opts });
    assert.ok(info.converged, info.message);
    backward(sum(mul(y, tensor(Array.from({ length: n }, (_, i) => i + 1)))));
    return ps.map((p) => p.grad!.data);
  };
  const ref = grads({ backward: { solver: 'dense' } });
  for (const other of [grads({ backward: { solver: 'gmres', tol: 1e-13 } }), grads({ method: 'broyden' })]) {
    other.forEach((g, k) => g.forEach((v, i) => close(v, ref[k]![i]!, 1e-9 * (1 + Math.abs(ref[k]![i]!)))));
  }
  assert.ok(
    ref[0]!.some((v) => Math.abs(v) > 1e-3),
    'gradient is not trivially zero',
  );
});

test('batched mode solves independent items and reports per-item non-convergence with the worst item', () => {
  const w = tensor([1, 4, 9]).requireGrad();
  const { y, info } = rootFind((w, y) => sub(mul(y, y), w), w, tensor([1, 1, 1]), { batched: true });
  assert.deepEqual(
    Array.from(y.data, (v) => Math.round(v * 1e10) / 1e10),
    [1, 2, 3],
  );
  backward(sum(y));
  assert.deepEqual(
    Array.from(w.grad!.data, (v) => Math.round(v * 1e10) / 1e10),
    [0.5, 0.25, 0.1666666667],
  );
  assert.ok(info.converged);
  const bad = rootFind((w, y) => add(mul(y, y), w), tensor([-1, 1, -4]), tensor([1, 1, 1]), { batched: true, maxIter: 30 });
  assert.equal(bad.info.converged, false);
  assert.match(bad.info.message, /worst item 1/);
});

test('non-convergence is reported in info, and raised on request', () => {
  const F = (w: Tensor, y: Tensor): Tensor => add(mul(y, y), w); // y^2 + 1 = 0 has no real root
  const { info } = rootFind(F, scalar(1), scalar(0.5), { maxIter: 20 });
  assert.equal(info.converged, false);
  assert.match(info.message, /not converged|no decrease/);
  assert.equal(info.residualHistory.length, info.iterations + 1);
  assert.throws(() => rootFind(F, scalar(1), scalar(0.5), { maxIter: 20, raiseOnNonConvergence: true }), NonConvergenceError);
});

test('singular dF/dy at the solution raises a clear error instead of a gradient (dense and GMRES)', () => {
  // x^2 - w = 0 at w = 0: double root, the IFT does not apply
  for (const solver of ['dense', 'gmres'] as const) {
    const w = scalar(0).requireGrad();
    const { y } = rootFind((w, y) => sub(mul(y, y), w), w, scalar(0), { backward: { solver } });
    assert.throws(
      () => backward(y),
      (e: unknown) => e instanceof SingularJacobianError && /singular/.test(e.message) && /implicit function theorem does not apply/.test(e.message),
    );
  }
  // converging to the double root from y0 = 1 (linear convergence): the simple-root check catches it
  const w = scalar(0).requireGrad();
  const { y, info } = rootFind((w, y) => sub(mul(y, y), w), w, scalar(1));
  assert.ok(info.converged);
  assert.throws(() => backward(y), /not near a simple root/);
});

test('NaN from the user function is reported with the iteration and index', () => {
  assert.throws(
    () => rootFind((w, y) => add(log(y), w), scalar(1), tensor([1, -1])),
    (e: unknown) => e instanceof ImplicitError && /iteration 0/.test(e.message) && /flat index 1/.test(e.message),
  );
  assert.throws(() => rootFind((w, y) => sub(y, w), tensor([1, NaN]), tensor([0, 0])), /x\[0\] has NaN at flat index 1/);
});

test('bad input: equation count, captured tensors, unknown options', () => {
  assert.throws(() => rootFind((w, y) => sum(sub(y, w)), tensor([1, 2]), tensor([0, 0])), /one equation per unknown/);
  const captured = scalar(2).requireGrad();
  assert.throws(() => rootFind((w, y) => sub(mul(y, captured), w), scalar(1), scalar(0)), /not passed in x/);
  assert.throws(() => rootFind((w, y) => sub(y, w), scalar(1), scalar(0), { tolerance: 1 } as never), /unknown option 'tolerance'/);
  assert.throws(() => rootFind((w, y) => sub(y, w), scalar(1), scalar(0), { tol: -1 }), /tol must be a positive number/);
});

test('second order: gradients of the IFT gradient match the closed form for y^2 = w', () => {
  // y = sqrt(w): dy/dw = 1/(2 sqrt w), d2y/dw2 = -1/(4 w^1.5)
  const w = scalar(4).requireGrad();
  const { y } = rootFind((w, y) => sub(mul(y, y), w), w, scalar(1));
  const [g] = gradients(y, [w], undefined, { createGraph: true });
  close(g!.item(), 0.25, 1e-12);
  const [h] = gradients(g!, [w]);
  close(h!.item(), -1 / (4 * 8), 1e-10);
});
