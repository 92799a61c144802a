// Tests of the tfjs paths of the ego-motion predictors: tfjs gradients through the bridge (model A:
// controls -> kinematic model) and through mpcTf (model B: cost -> MPC over the vehicle) equal the
// float64 core's gradients to float32 precision; every model kind runs forward on a batch.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, add, gradients, mean, randn, slice, sqrt, square, sub, sum, tensor, mul } from '../sim/core/index.ts';
import { initTf, tfOp, type TfModule } from '../models/tf/index.ts';
import { mpc, mpcTf, quadCost } from '../mpc/index.ts';
import { rollout, vehicleDynamics } from './vehicle.ts';
import { CHECK_LIMITS, mpcCheckCost } from './checks.ts';
import { buildMlp } from './net.ts';
import { EgoPredictor, MODEL_KINDS, outputCount } from './predictors.ts';
import { FEATURES } from './features.ts';

let tf: TfModule;
before(async () => {
  tf = (await initTf()).tf;
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 2e-4 * (1 + Math.abs(a[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const ade = (p: Tensor, t: Tensor): Tensor => mean(sqrt(add(sum(square(sub(p, t)), 2), 1e-6)));

test('model A path: tfjs gradients through tfOp(rollout) equal the float64 gradients (unicycle and bicycle)', () => {
  const rng = new Rng(2);
  const raw = randn([3, 8, 2], rng);
  const s0 = tensor([
    [0, 0, 0, 5],
    [0, 0, 0, 9],
    [0, 0, 0, 1],
  ]);
  const dt = new Tensor(new Float64Array(24).fill(0.1), [3, 8]);
  const target = mul(5, randn([3, 8, 2], rng));
  for (const kind of ['unicycle', 'bicycle'] as const) {
    const op = tfOp((a: Tensor, b: Tensor, c: Tensor) => rollout(kind, CHECK_LIMITS, a, b, c));
    const tt = tf.tensor(Array.from(target.data), [3, 8, 2]);
    const [gs, gr] = tf.grads((a, b) => tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(op(a, b, tf.tensor(Array.from(dt.data), [3, 8])), tt)), 2), 1e-6))))([
      tf.tensor(Array.from(s0.data), [3, 4]),
      tf.tensor(Array.from(raw.data), [3, 8, 2]),
    ]);
    const a = s0.clone().requireGrad();
    const b = raw.clone().requireGrad();
    const [ga, gb] = gradients(ade(rollout(kind, CHECK_LIMITS, a, b, dt), target), [a, b]);
    close(ga!.data, gs!.dataSync(), `${kind} ds0`);
    close(gb!.data, gr!.dataSync(), `${kind} draw`);
  }
});

test('model B path: tfjs gradients through mpcTf over the vehicle equal the float64 implicit gradients', () => {
  const T = 6;
  const w = tensor([
    [0.2, -0.5, -1, -1.5],
    [-0.3, 0.1, -0.8, -1.2],
  ]);
  const g = tensor([
    [4.5, 0.4, 7, 0.3],
    [7, -0.6, 10, -0.25],
  ]);
  const { C, c } = mpcCheckCost(w, g, T);
  const x0 = tensor([
    [0, 0, 0, 6],
    [0, 0, 0, 11],
  ]);
  const dt = new Tensor(new Float64Array(2 * T).fill(0.1), [2, T]);
  const target = mul(3, randn([2, T - 1, 2], new Rng(4)));
  const layer = mpcTf({ dynamics: ([d]) => vehicleDynamics('unicycle', CHECK_LIMITS, d!), T, u_lower: -1, u_upper: 1 }, { tol: 1e-10 });
  const tt = tf.tensor(Array.from(target.data), [2, T - 1, 2]);
  const [gc, gx] = tf.grads((cc, xx) => {
    const { x } = layer({ x_init: xx, C: tf.tensor(Array.from(C.data), [2, T, 6, 6]), c: cc, theta: [tf.tensor(Array.from(dt.data), [2, T])] });
    return tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(tf.slice(x, [0, 1, 0], [2, T - 1, 2]), tt)), 2), 1e-6)));
  })([tf.tensor(Array.from(c.data), [2, T, 6]), tf.tensor(Array.from(x0.data), [2, 4])]);
  const cc = c.clone().requireGrad();
  const xx = x0.clone().requireGrad();
  const r = mpc({ dynamics: vehicleDynamics('unicycle', CHECK_LIMITS, dt), cost: quadCost(C, cc), x_init: xx, T, u_lower: -1, u_upper: 1 }, { tol: 1e-10 });
  const [g1, g2] = gradients(ade(slice(r.x, [0, 1, 0], [2, T - 1, 2]), target), [cc, xx]);
  close(g1!.data, gc!.dataSync(), 'dc');
  close(g2!.data, gx!.dataSync(), 'dx_init');
});

test('every model kind predicts finite positions of shape [B, 15, 2]; physics models start as constant velocity', () => {
  for (const kind of MODEL_KINDS) {
    const spec = { kind, vehicle: 'unicycle' as const, limits: CHECK_LIMITS, hidden: [8], speedScale: 5, horizonTime: 1.5, mpc: { maxIter: 30, tol: 1e-6 } };
    const p = new EgoPredictor(spec, buildMlp(FEATURES, [8], outputCount(kind), 1, kind !== 'nn'));
    const y = p.forward(tf.randomNormal([4, FEATURES], 0, 1, 'float32', 1) as never, tf.tensor1d([1, 2, 3, 4]), tf.fill([4, 15], 0.1) as never);
    assert.deepEqual(y.shape, [4, 15, 2]);
    const d = y.dataSync();
    assert.ok(d.every(Number.isFinite));
    if (kind === 'physics') assert.ok(Math.abs(d[2 * 14]! - 1.5) < 1e-5 && Math.abs(d[2 * 14 + 1]!) < 1e-6, `CV start: ${d[28]}, ${d[29]}`);
  }
});

test('predictLocalAsync (await data(), any backend) gives the same predictions as predictLocal, across batch boundaries', async () => {
  const N = 7;
  const rng = new Rng(5);
  const set = {
    frames: Array.from({ length: N }, (_, i) => i),
    x: Float64Array.from(randn([N, FEATURES], rng).data),
    speed: Float64Array.from({ length: N }, (_, i) => 1 + i),
    yawRate: new Float64Array(N),
    dt: new Float64Array(N * 15).fill(0.1),
    target: new Float64Array(N * 30),
    pose: new Float64Array(N * 3),
  };
  const nrm = { mean: new Array<number>(FEATURES).fill(0), std: new Array<number>(FEATURES).fill(1) };
  for (const kind of MODEL_KINDS) {
    const spec = { kind, vehicle: 'unicycle' as const, limits: CHECK_LIMITS, hidden: [8], speedScale: 5, horizonTime: 1.5, mpc: { maxIter: 30, tol: 1e-6 } };
    const p = new EgoPredictor(spec, buildMlp(FEATURES, [8], outputCount(kind), 3, kind !== 'nn'));
    const sync = p.predictLocal(set, nrm, 3);
    const async_ = await p.predictLocalAsync(set, nrm, 3);
    assert.equal(async_.length, N * 30);
    assert.ok(
      sync.some((v) => v !== 0),
      `${kind}: predictions are all zero`,
    );
    assert.deepEqual(Array.from(async_), Array.from(sync), kind);
  }
});
