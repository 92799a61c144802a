// rollout's inputs against the model (sim/physics/rollout.ts): a state or control of another
// model is refused before simulating, naming the field and the expected and actual shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, zeros } from '../core/index.ts';
import { Control, ModelBuilder, rollout } from './index.ts';

test('rollout names the state field or control of the wrong shape, with the expected and actual shapes', () => {
  const one = new ModelBuilder().setGround(false);
  one.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  const two = new ModelBuilder().setGround(false);
  two.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  two.addParticle([0, 0, 2], [0, 0, 0], 1, 0.1);
  const m1 = one.finalize();
  const m2 = two.finalize();
  assert.throws(
    () => rollout(m1, m2.state(), { steps: 2, dt: 0.01 }),
    (e: unknown) =>
      e instanceof ShapeError && /^rollout: state0\.particleQ has shape \[2, 3\], expected \[1, 3\] \(the model has 1 particle and 0 bodies\)/.test(e.message),
  );
  assert.throws(
    () => rollout(m1, m1.state(), { steps: 2, dt: 0.01, checkpointEvery: 1, control: [null, new Control({ particleF: zeros([2, 3]) })] }),
    (e: unknown) => e instanceof ShapeError && /^rollout: control\[1\]\.particleF has shape \[2, 3\], expected \[1, 3\]/.test(e.message),
  );
  assert.equal(rollout(m1, m1.state(), { steps: 2, dt: 0.01 }).states.length, 3);
});
