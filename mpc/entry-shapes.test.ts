// Wrong shapes at the MPC layer's entry (mpc): x_init, u_init, the cost's C and c, and the
// dynamics' output, each named with the expected and actual shapes, also through the tfjs op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError, add, mul, tensor, zeros, type Tensor } from '../sim/core/index.ts';
import { initTf } from '../models/index.ts';
import { mpc, mpcTf, pendulum, pendulumCost, pendulumState, quadCost, type Dynamics } from './index.ts';

function throwsShape(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ShapeError, `expected a ShapeError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('mpc names x_init, u_init, C, c and the dynamics output with expected and actual shapes', () => {
  const dynamics = pendulum();
  const { C, c } = pendulumCost();
  const base = { dynamics, cost: quadCost(C, c), x_init: pendulumState([0.2], [0]), T: 5 };
  throwsShape(() => mpc({ ...base, x_init: zeros([1, 4]) }), /^mpc: x_init has shape \[1, 4\], expected \[B, 3\] \(nx = 3 from dynamics 'pendulum'\)/);
  throwsShape(() => mpc(base, { u_init: zeros([5, 3]) }), /^mpc: u_init has shape \[5, 3\], expected \[1, 5, 1\] or \[5, 1\]/);
  throwsShape(() => mpc({ ...base, cost: quadCost(zeros([2, 2]), c) }), /^mpc: cost C has shape \[2, 2\], expected \[4, 4\]/);
  throwsShape(() => mpc({ ...base, cost: quadCost(C, zeros([7])) }), /^mpc: cost c has shape \[7\], expected \[4\]/);
  // a core-op dynamics whose step returns the wrong width, and one whose parameter does not fit its state
  const wide: Dynamics = { name: 'wide', nx: 2, nu: 1, params: [], step: (x: Tensor) => zeros([x.shape[0]!, 3]) };
  const cost2 = quadCost(
    tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0.1],
    ]),
    zeros([3]),
  );
  throwsShape(
    () => mpc({ dynamics: wide, cost: cost2, x_init: zeros([1, 2]), T: 4 }),
    /^mpc: dynamics 'wide'\.step returned shape \[\d+, 3\], expected \[\d+, 2\]/,
  );
  const k = tensor([1, 2, 3]);
  const scaled: Dynamics = { name: 'scaled', nx: 2, nu: 1, params: [k], step: (x: Tensor, u: Tensor, [kk]) => add(mul(kk!, x), u) };
  throwsShape(() => mpc({ dynamics: scaled, cost: cost2, x_init: zeros([1, 2]), T: 4 }), /dynamics 'scaled'/, /params\[0\] \[3\]/, /x \[\d+, 2\]/);
});

test('mpcTf: the core layer names the argument, the op gives the tf inputs', async () => {
  const { tf } = await initTf('cpu');
  const op = mpcTf({ dynamics: () => pendulum(), T: 5 });
  throwsShape(
    () => op({ x_init: tf.zeros([1, 4]), C: tf.eye(4), c: tf.zeros([4]) }),
    /^tfOp\(mpc\): the op failed for input 0 \[1, 4\], input 1 \[4, 4\], input 2 \[4\]: mpc: x_init has shape \[1, 4\], expected \[B, 3\]/,
  );
});
