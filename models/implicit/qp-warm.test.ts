// QP warm starts (qp's warmStart): re-solving a nearby problem (p and h moved) from the
// previous multipliers takes no interior-point iterations for the items whose active set is
// unchanged or corrected by the active-set rounds, gives the cold solution to rounding at a
// KKT residual near 1e-14, and the same gradients; a far problem falls back to the interior
// point; the same over 2 threads; bad warm starts named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, mul, sum } from '../../sim/core/index.ts';
import { qp, type QPProblem } from './qp.ts';
import { randomBenchQP } from './qp-random.ts';

function moved(P: QPProblem, seed: number, size: number): QPProblem {
  const rng = new Rng(seed);
  const shift = (t: Tensor) =>
    new Tensor(
      t.data.map((v) => v + size * rng.normal() * (1 + Math.abs(v))),
      t.shape,
    );
  return { ...P, p: shift(P.p), h: shift(P.h!) };
}

function solve(P: QPProblem, opts: Parameters<typeof qp>[1], w: Tensor) {
  const leaves = [P.Q, P.p, P.G!, P.h!].map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
  const [Q, p, G, h] = leaves as [Tensor, Tensor, Tensor, Tensor];
  const r = qp({ Q, p, G, h }, opts);
  backward(sum(mul(r.x, w)));
  return { r, grads: leaves.map((l) => l.grad!.data) };
}

const maxAbsDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('a warm start from the previous solution: no interior-point iterations, the cold solution and gradients, KKT residual ~1e-14', () => {
  const [B, n, m] = [16, 30, 30];
  const P = randomBenchQP(new Rng(21), B, n, m);
  const w = new Tensor(new Rng(22).normals(B * n), [B, n]);
  const first = qp(P, { threads: 1 });
  const near = moved(P, 23, 1e-4);
  const cold = solve(near, { threads: 1 }, w);
  const warm = solve(near, { threads: 1, warmStart: first }, w);
  const coldIters = cold.r.info.reduce((a, i) => a + i.iterations, 0);
  const warmIters = warm.r.info.reduce((a, i) => a + i.iterations, 0);
  const warmed = warm.r.info.filter((i) => i.warmStarted).length;
  assert.ok(warmed >= B - 1, `${warmed} of ${B} items solved by the warm start`);
  assert.ok(warmIters <= coldIters / 5, `interior-point iterations: warm ${warmIters}, cold ${coldIters}`);
  for (const i of warm.r.info) {
    assert.equal(i.status, 'solved');
    assert.ok(Math.max(i.primalResidual, i.dualResidual, i.gap) < 1e-12, `KKT residual ${Math.max(i.primalResidual, i.dualResidual, i.gap)}`);
  }
  const scale = Math.max(...cold.r.x.data.map(Math.abs));
  assert.ok(maxAbsDiff(warm.r.x.data, cold.r.x.data) <= 1e-11 * scale, `x differs by ${maxAbsDiff(warm.r.x.data, cold.r.x.data)}`);
  warm.grads.forEach((g, k) => {
    const s = Math.max(1, ...cold.grads[k]!.map(Math.abs));
    assert.ok(maxAbsDiff(g, cold.grads[k]!) <= 1e-9 * s, `gradient ${k} differs by ${maxAbsDiff(g, cold.grads[k]!)}`);
  });
});

test('a warm start from a far problem falls back to the interior point and still solves; 2 threads give 1 thread bit for bit', () => {
  const [B, n, m] = [12, 30, 30];
  const P = randomBenchQP(new Rng(31), B, n, m);
  const first = qp(P, { threads: 1 });
  const far = moved(P, 32, 0.5);
  const w = new Tensor(new Rng(33).normals(B * n), [B, n]);
  const one = solve(far, { threads: 1, warmStart: first }, w);
  const two = solve(far, { threads: 2, warmStart: first }, w);
  assert.ok(
    one.r.info.some((i) => !i.warmStarted && i.iterations > 0),
    'some item needs the interior point',
  );
  assert.ok(one.r.info.every((i) => i.status === 'solved'));
  assert.deepEqual(two.r.x.data, one.r.x.data);
  assert.deepEqual(two.r.info, one.r.info);
  two.grads.forEach((g, k) => assert.deepEqual(g, one.grads[k]));
});

test('bad warm starts are named', () => {
  const P = randomBenchQP(new Rng(41), 3, 4, 5);
  const lam = new Tensor(new Float64Array(15), [3, 5]);
  assert.throws(
    () => qp(P, { warmStart: { lambda: new Tensor(new Float64Array(5), [5]) } }),
    /qp: warmStart.lambda must be \[3, 5\] \(the problem's multipliers\), got \[5\]/,
  );
  lam.data[7] = NaN;
  assert.throws(() => qp(P, { warmStart: { lambda: lam } }), /warmStart.lambda holds NaN at batch item 1, constraint 2/);
  assert.throws(() => qp(P, { warmStart: { lambda: [1, 2] as unknown as Tensor } }), /warmStart.lambda must be a core Tensor/);
});
