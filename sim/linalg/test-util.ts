// Assertion helpers shared by the tests of sim/linalg (node:test); not part of the public API.
import assert from 'node:assert/strict';
import { type Tensor, gradients, mul, sum } from '../core/index.ts';

/** Asserts two arrays (or tensors) agree elementwise within `tol` (absolute plus relative). */
export function assertClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>, tol = 1e-12, what = 'value'): void {
  const a = 'data' in actual ? actual.data : actual;
  const e = 'data' in expected ? expected.data : expected;
  assert.equal(a.length, e.length, `${what}: length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - e[i]!);
    assert.ok(err <= tol * (1 + Math.abs(e[i]!)), `${what}[${i}]: ${a[i]} != ${e[i]} (tolerance ${tol})`);
  }
}

/**
 * Gradients of sum(f(...inputs) * w) with respect to fresh leaf copies of `inputs` (the
 * originals stay untouched), to compare the gradients of two formulations of one result.
 */
export function weightedGradients(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], w: Tensor): (Tensor | null)[] {
  const leaves = inputs.map((t) => t.clone().requireGrad());
  return gradients(sum(mul(f(...leaves), w)), leaves);
}
