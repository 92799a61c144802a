// Reduced runs of the physics examples (sim/physics/examples): each optimisation makes
// progress through the simulator and its gradient matches central differences. The full
// runs (`impulse example <name>`) converge below 1% of the initial loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXAMPLES, runBounce, runBoxToss, runClothThrow, runExample, runTerrainId } from './index.ts';

test('bounce: 20 Adam steps on the initial velocity bring the loss below 1% of its start', () => {
  const r = runBounce({ iterations: 20 });
  assert.ok(r.ratio < 0.01, `ratio ${r.ratio}`);
  assert.ok(r.gradcheck.passed, `gradcheck ${r.gradcheck.maxRelErr}`);
});

test('cloth-throw: a 3 x 3 cloth learns its throw (loss below 5% in 15 steps)', () => {
  const r = runClothThrow({ iterations: 15, gridSize: 3 });
  assert.ok(r.ratio < 0.05, `ratio ${r.ratio}`);
  assert.ok(r.gradcheck.passed, `gradcheck ${r.gradcheck.maxRelErr}`);
});

test('box-toss: 10 steps on linear and angular velocity cut the loss by more than half', () => {
  const r = runBoxToss({ iterations: 10, skipGradcheck: true });
  assert.ok(r.ratio < 0.5, `ratio ${r.ratio}`);
});

test('terrain-id: 10 steps on the friction map and stiffness cut the trajectory error by 80%', () => {
  const r = runTerrainId({ iterations: 10, skipGradcheck: true });
  assert.ok(r.ratio < 0.2, `ratio ${r.ratio}`);
  assert.ok(Number.isFinite(r.details.keFitted as number));
});

test('runExample knows the four examples and names them for an unknown one', () => {
  assert.deepEqual(Object.keys(EXAMPLES), ['bounce', 'cloth-throw', 'box-toss', 'terrain-id']);
  assert.throws(() => runExample('nope'), /unknown example 'nope' \(known: bounce, cloth-throw, box-toss, terrain-id\)/);
});
