// Tests of the Adam optimiser (models/optim/adam.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, gradients, square, sub, sum, tensor } from '../../sim/core/index.ts';
import { Adam } from './adam.ts';

test('Adam minimises a quadratic with one learning rate or one per leaf, and skips null gradients', () => {
  const a = tensor([3, -2]).requireGrad();
  const b = tensor([1]).requireGrad();
  const target = tensor([0.5, 0.25]);
  const opt = new Adam([a, b], [0.1, 0.05]);
  for (let i = 0; i < 400; i++) {
    const loss = add(sum(square(sub(a, target))), sum(square(b)));
    opt.step(gradients(loss, [a, b]));
  }
  assert.ok(Math.abs(a.data[0]! - 0.5) < 1e-3 && Math.abs(a.data[1]! - 0.25) < 1e-3, `a = ${a.data}`);
  assert.ok(Math.abs(b.data[0]!) < 1e-3);
  assert.equal(opt.steps, 400);
  const before = b.data[0];
  opt.step([gradients(sum(square(a)), [a])[0]!, null]);
  assert.equal(b.data[0], before);
});

test('Adam names what is wrong with its arguments', () => {
  const a = tensor([1, 2]).requireGrad();
  assert.throws(() => new Adam([a], [0.1, 0.2]), /lr has 2 entries for 1 parameters/);
  assert.throws(() => new Adam([a], 0.1, 1.5), /beta1 must be in \[0, 1\)/);
  assert.throws(() => new Adam([a]).step([]), /0 gradients for 1 parameters/);
  assert.throws(() => new Adam([a]).step([tensor([1])]), /gradient 0 has 1 entries, parameter 0 has 2/);
});
