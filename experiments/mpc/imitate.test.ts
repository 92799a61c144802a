// Tests of the imitation experiments (mpc/imitate.ts) and their helpers (mpc/train.ts), on a
// small budget: learning through the MPC layer lowers the imitation loss and the parameter error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, mean, square, sub, tensor } from '../../sim/core/index.ts';
import { pendulumImitation, runImitation } from './imitate.ts';
import { Adam } from '../../models/optim/index.ts';
import { Mlp } from './train.ts';

test('pendulum imitation: 20 Adam epochs through the MPC layer cut the loss 50x and the parameter error 10x', () => {
  const r = runImitation(pendulumImitation({ initParams: [8.5, 0.8, 1] }), { nTrain: 8, nTest: 4, epochs: 20, lr: 0.05, nnSizes: [8], nnEpochs: 20 });
  const first = r.epochs[0]!;
  const last = r.epochs[r.epochs.length - 1]!;
  assert.equal(r.epochs.length, 21);
  assert.ok(last.trainLoss < 0.02 * first.trainLoss, `train loss ${first.trainLoss} -> ${last.trainLoss}`);
  assert.ok(last.paramError < 0.1 * first.paramError, `parameter error ${first.paramError} -> ${last.paramError}`);
  assert.equal(r.learned.join(','), 'g,m');
  assert.equal(r.finalParams[2], 1); // l is held at its true value
  assert.equal(r.nn.length, 1);
});

test('Adam minimises a quadratic; the MLP fits a small regression', () => {
  const x = tensor([3, -2]).requireGrad();
  const opt = new Adam([x], 0.1);
  for (let i = 0; i < 500; i++) {
    x.zeroGrad();
    backward(mean(square(sub(x, tensor([1, 2])))));
    opt.step([x.grad]);
  }
  assert.ok(Math.abs(x.data[0]! - 1) < 1e-3 && Math.abs(x.data[1]! - 2) < 1e-3);
  const net = new Mlp([2, 16, 1], new Rng(1));
  const X = new Tensor(new Rng(2).uniforms(64, -1, 1), [32, 2]);
  const Y = new Tensor(
    Float64Array.from({ length: 32 }, (_, i) => X.data[2 * i]! * X.data[2 * i + 1]!),
    [32, 1],
  );
  const nopt = new Adam(net.params, 1e-2);
  let loss = Infinity;
  for (let i = 0; i < 300; i++) {
    const l = mean(square(sub(net.forward(X), Y)));
    loss = l.item();
    net.params.forEach((p) => p.zeroGrad());
    backward(l);
    nopt.step(net.params.map((p) => p.grad));
  }
  assert.ok(loss < 0.01, `MLP loss ${loss}`);
});
