// Tests of the fixed-point / DEQ layer (models/implicit/fixed-point.ts): Anderson, Broyden
// and Picard forward solves, every backward (dense, GMRES, adjoint fixed point, phantom)
// against backprop through a long unrolled iteration, and the error reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, add, backward, log, mul, randn, scalar, square, sum, tensor, zeros } from '../../sim/core/index.ts';
import { NonConvergenceError, ImplicitError } from './ift.ts';
import { andersonSolve, deq, fixedPoint, tanhCell } from './fixed-point.ts';

function problem(seed: number, B = 4, d = 8, p = 5, wScale = 0.6): { x: Tensor; W: Tensor; U: Tensor; b: Tensor } {
  const rng = new Rng(seed);
  return {
    x: randn([B, p], rng),
    W: mul(randn([d, d], rng), wScale / Math.sqrt(d)),
    U: mul(randn([d, p], rng), 1 / Math.sqrt(p)),
    b: mul(randn([d], rng), 0.3),
  };
}

/** Gradients of sum(z*^2) w.r.t. (x, W, U, b) by backprop through `steps` plain iterations (the reference). */
function unrolledGrads({ x, W, U, b }: ReturnType<typeof problem>, steps: number): Float64Array[] {
  const ps = [x, W, U, b].map((t) => t.clone().requireGrad());
  let z: Tensor = zeros([x.shape[0]!, W.shape[0]!]);
  for (let k = 0; k < steps; k++) z = tanhCell(z, ps);
  backward(sum(square(z)));
  return ps.map((t) => t.grad!.data);
}

function deqGrads(
  { x, W, U, b }: ReturnType<typeof problem>,
  opts: Parameters<typeof deq>[3],
): { grads: Float64Array[]; info: ReturnType<typeof deq>['info'] } {
  const ps = [x, W, U, b].map((t) => t.clone().requireGrad());
  const { z, info } = deq(tanhCell, ps[0]!, ps.slice(1), opts);
  backward(sum(square(z)));
  return { grads: ps.map((t) => t.grad!.data), info };
}

function maxRel(a: Float64Array[], ref: Float64Array[]): number {
  let err = 0;
  let scale = 0;
  a.forEach((g, k) =>
    g.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - ref[k]![i]!));
      scale = Math.max(scale, Math.abs(ref[k]![i]!));
    }),
  );
  return err / scale;
}

test('Anderson solves z = tanh(W z + U x + b) to tol in far fewer iterations than plain iteration; the history ends below tol', () => {
  const P = problem(1, 4, 16, 5, 1.1);
  const a = deq(tanhCell, P.x, [P.W, P.U, P.b], { tol: 1e-10 });
  const p = deq(tanhCell, P.x, [P.W, P.U, P.b], { tol: 1e-10, solver: 'picard', maxIter: 500 });
  assert.ok(a.info.converged && p.info.converged, `${a.info.message} / ${p.info.message}`);
  assert.ok(a.info.iterations < p.info.iterations / 2, `anderson ${a.info.iterations} vs picard ${p.info.iterations}`);
  assert.ok(a.info.residual <= 1e-10);
  assert.equal(a.info.residualHistory.length, a.info.iterations + 1);
  assert.ok(a.info.residualHistory.at(-1)! <= 1e-10);
  // z* really is a fixed point
  const fz = tanhCell(a.z, [P.x, P.W, P.U, P.b]);
  for (let i = 0; i < fz.size; i++) assert.ok(Math.abs(fz.data[i]! - a.z.data[i]!) < 1e-9);
});

test('every exact backward (dense, GMRES, adjoint fixed point; Anderson, Broyden and Picard forward) matches backprop through 300 unrolled iterations', () => {
  const P = problem(2);
  const ref = unrolledGrads(P, 300);
  for (const [solver, bsolver] of [
    ['anderson', 'dense'],
    ['anderson', 'gmres'],
    ['anderson', 'fixed-point'],
    ['broyden', 'auto'],
    ['picard', 'auto'],
  ] as const) {
    const { grads, info } = deqGrads(P, { solver, tol: 1e-13, maxIter: 500, backward: { solver: bsolver, tol: 1e-12 } });
    assert.ok(info.converged, `${solver}: ${info.message}`);
    assert.ok(maxRel(grads, ref) < 1e-9, `${solver}/${bsolver}: rel err ${maxRel(grads, ref)}`);
    assert.equal(info.backward?.solver, bsolver === 'auto' ? 'dense' : bsolver);
  }
});

test('phantom gradient: k damped unrolled steps approximate the implicit gradient, and improve with k', () => {
  const P = problem(3);
  const exact = deqGrads(P, { tol: 1e-12 }).grads;
  const e2 = maxRel(deqGrads(P, { tol: 1e-12, backward: { solver: 'phantom', steps: 2, tau: 1 } }).grads, exact);
  const e12 = maxRel(deqGrads(P, { tol: 1e-12, backward: { solver: 'phantom', steps: 12, tau: 1 } }).grads, exact);
  assert.ok(e12 < e2 && e12 < 1e-2, `phantom errors k=2: ${e2}, k=12: ${e12}`);
});

test('a scalar linear fixed point z = 0.5 z + x gives z* = 2x and dz*/dx = 2', () => {
  const x = scalar(3).requireGrad();
  const { z } = fixedPoint((z, x) => add(mul(0.5, z), x), x, scalar(0));
  assert.ok(Math.abs(z.item() - 6) < 1e-9);
  backward(z);
  assert.ok(Math.abs(x.grad!.item() - 2) < 1e-9);
});

test('andersonSolve: the damping and memory options still converge on a contraction', () => {
  const f = (z: Float64Array): Float64Array => z.map((v, i) => Math.cos(v) * 0.5 + i * 0.1);
  for (const opts of [{ m: 1 }, { m: 3, beta: 0.7 }, { m: 8, lambda: 1e-6 }]) {
    const r = andersonSolve(f, new Float64Array(4), 1, 4, { ...opts, tol: 1e-12, maxIter: 200, stop: 'abs' });
    assert.ok(r.converged, JSON.stringify(opts) + r.message);
  }
});

test('non-convergence is reported (and raised on request); NaN and shape errors name the place', () => {
  // z = 2 z + 1 (fixed point -1) diverges under plain iteration
  const r = fixedPoint((z, x) => add(mul(2, z), x), scalar(1), scalar(0), { solver: 'picard', maxIter: 30 });
  assert.equal(r.info.converged, false);
  assert.match(r.info.message, /not converged after 30 iterations/);
  assert.throws(
    () => fixedPoint((z, x) => add(mul(2, z), x), scalar(1), scalar(0), { solver: 'picard', maxIter: 30, raiseOnNonConvergence: true }),
    NonConvergenceError,
  );
  assert.throws(
    () => fixedPoint((z, x) => add(log(z), x), scalar(1), tensor([1, -1])),
    (e: unknown) => e instanceof ImplicitError && /iteration 0/.test(e.message) && /flat index 1/.test(e.message),
  );
  assert.throws(() => fixedPoint((z) => sum(z), scalar(1), tensor([1, 2])), /f must return z's shape/);
  assert.throws(() => fixedPoint((z) => z, scalar(1), scalar(0), { backward: { solver: 'magic' as never } }), /backward.solver/);
});
