// Tests of the ego models through the asynchronous join of the tf bridge (bridgedVariableGrads,
// bridgedRun) on the cpu backend: for the physics (model A, both vehicles) and the mpc (model B)
// predictors, one training step (loss, weight gradients, weights after an Adam step) and the
// predictions equal those of the synchronous tfOp path (bit-identical here; asserted to 1e-6).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scalar, Tensor2D, Variable } from '@tensorflow/tfjs';
import { bridgedRun, bridgedVariableGrads, initTf, type TfModule } from '../models/tf/index.ts';
import { FEATURES } from './features.ts';
import { buildMlp } from './net.ts';
import { EgoPredictor, adeLoss, outputCount, type ModelKind, type PredictorSpec } from './predictors.ts';
import { HORIZON } from './windows.ts';
import { relErr } from '../models/tf/test-util.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf('cpu')).tf;
});

/** A predictor with a non-zero head (every weight gets a gradient) and a seeded batch of 6 windows. */
function setup(kind: ModelKind, vehicle: 'unicycle' | 'bicycle', seed: number) {
  const spec: PredictorSpec = {
    kind,
    vehicle,
    limits: { accel: 3, yawRate: 0.6, steer: 0.5, wheelbase: 2.7 },
    hidden: [8],
    speedScale: 5,
    horizonTime: 1.5,
    mpc: { maxIter: 15, tol: 1e-4 },
  };
  const p = new EgoPredictor(spec, buildMlp(FEATURES, spec.hidden, outputCount(kind), seed, false));
  const B = 6;
  const x = tf.randomNormal([B, FEATURES], 0, 1, 'float32', seed + 1) as Tensor2D;
  const v = tf.randomUniform([B], 2, 8, 'float32', seed + 2);
  const dt = tf.fill([B, HORIZON], 0.1) as Tensor2D;
  const y = tf.randomNormal([B, HORIZON, 2], 0, 3, 'float32', seed + 3);
  const vars = p.net.trainableWeights.map((w) => w.read() as Variable);
  const loss = (): Scalar => adeLoss(p.forward(x, v, dt), y) as Scalar;
  return { p, vars, loss, x, v, dt, y };
}

for (const [kind, vehicle] of [
  ['physics', 'unicycle'],
  ['physics', 'bicycle'],
  ['mpc', 'unicycle'],
] as const) {
  test(`${kind}-${vehicle}: one training step through the async join equals the synchronous bridge (cpu)`, async () => {
    const a = setup(kind, vehicle, 11);
    const b = setup(kind, vehicle, 11);
    try {
      const sync = tf.variableGrads(a.loss, a.vars);
      const join = await bridgedVariableGrads(b.loss, b.vars);
      assert.equal((await join.value.data())[0], (await sync.value.data())[0], 'loss');
      let worst = 0;
      let identical = true;
      for (let i = 0; i < a.vars.length; i++) {
        const gs = await sync.grads[a.vars[i]!.name]!.data();
        const gj = await join.grads[b.vars[i]!.name]!.data();
        worst = Math.max(worst, relErr(gj, gs));
        identical &&= gs.every((g, k) => g === gj[k]);
      }
      assert.ok(worst <= 1e-6, `weight gradients: relative error ${worst}`);
      // the same Adam step from both gradient sets
      tf.train.adam(0.01).applyGradients(sync.grads as Record<string, Variable>);
      tf.train.adam(0.01).applyGradients(join.grads as Record<string, Variable>);
      for (let i = 0; i < a.vars.length; i++) {
        const e = relErr(await b.vars[i]!.data(), await a.vars[i]!.data());
        assert.ok(e <= 1e-6, `weights after the step, ${a.vars[i]!.name}: ${e}`);
      }
      // the forward-only join (bridgedRun, used by predictLocalAsync) gives the synchronous predictions
      const ys = tf.tidy(() => a.p.forward(a.x, a.v, a.dt));
      const yj = await bridgedRun(() => a.p.forward(a.x, a.v, a.dt));
      assert.deepEqual(await yj.data(), await ys.data(), 'predictions');
      tf.dispose([ys, yj]);
      tf.dispose([sync.value, join.value, ...Object.values(sync.grads), ...Object.values(join.grads)]);
      if (!identical) console.log(`${kind}-${vehicle}: gradients agree to ${worst.toExponential(2)} (not bit-identical)`);
    } finally {
      tf.dispose([a.x, a.v, a.dt, a.y, b.x, b.v, b.dt, b.y]);
      a.p.net.dispose();
      b.p.net.dispose();
    }
  });
}
