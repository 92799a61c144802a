// Tests of the matrix-free GMRES (models/implicit/gmres.ts): exact solves of random
// systems, batched items converging independently, restarts, and singular systems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../sim/core/index.ts';
import { gmres } from './gmres.ts';

function blockMatVec(A: Float64Array, B: number, n: number): (v: Float64Array) => Float64Array {
  return (v) => {
    const out = new Float64Array(B * n);
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[b * n + i]! += A[b * n * n + i * n + j]! * v[b * n + j]!;
    return out;
  };
}

function randomBlocks(rng: Rng, B: number, n: number, shift: number): Float64Array {
  const A = rng.normals(B * n * n);
  for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) A[b * n * n + i * n + i]! += shift;
  return A;
}

test('solves batched nonsymmetric systems to the relative tolerance, items independently', () => {
  const rng = new Rng(1);
  const [B, n] = [3, 12];
  const A = randomBlocks(rng, B, n, 6);
  const x = rng.normals(B * n);
  const apply = blockMatVec(A, B, n);
  const r = gmres(apply, apply(x), B, n, { tol: 1e-12 });
  assert.ok(r.converged && r.residual <= 1e-12, `residual ${r.residual}`);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(r.x[i]! - x[i]!) < 1e-9);
});

test('restarted GMRES(4) still converges, using more operator applications', () => {
  const rng = new Rng(2);
  const n = 20;
  const A = randomBlocks(rng, 1, n, 8);
  const apply = blockMatVec(A, 1, n);
  const b = rng.normals(n);
  const full = gmres(apply, b, 1, n, { tol: 1e-11 });
  const restarted = gmres(apply, b, 1, n, { tol: 1e-11, restart: 4 });
  assert.ok(full.converged && restarted.converged);
  assert.ok(restarted.iterations > full.iterations);
});

test('a zero right-hand side returns zero without iterating; a singular system with b outside the range reports breakdown', () => {
  const apply = blockMatVec(Float64Array.of(1, 0, 0, 0), 1, 2);
  const z = gmres(apply, new Float64Array(2), 1, 2);
  assert.ok(z.converged && z.iterations === 0 && z.x.every((v) => v === 0));
  const s = gmres(apply, Float64Array.of(0, 1), 1, 2, { tol: 1e-12 });
  assert.equal(s.converged, false);
  assert.equal(s.breakdown[0], true);
});

test('the iteration cap is honoured and non-convergence reported', () => {
  const rng = new Rng(3);
  const n = 30;
  const A = randomBlocks(rng, 1, n, 0.5);
  const r = gmres(blockMatVec(A, 1, n), rng.normals(n), 1, n, { tol: 1e-14, maxIter: 5, restart: 5 });
  assert.equal(r.converged, false);
  assert.ok(r.iterations <= 6);
});
