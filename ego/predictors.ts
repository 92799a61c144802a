// The learned ego-motion predictors (ego/), each a tfjs MLP on the window features in the
// heading-aligned frame:
// - 'nn' (pure neural baseline): the network regresses the 15 future positions directly.
// - 'physics' (model A): the network outputs an initial-speed correction and a control sequence
//   (acceleration, yaw rate or steering angle), bounded by the vehicle's limits with tanh scaling,
//   for a kinematic model integrated in float64 with the core's ops through `tfOp`; the ADE loss in
//   tfjs flows back through the dynamics.
// - 'mpc' (model B): the network outputs the cost of a box-constrained MPC over the same vehicle
//   (terminal goal, target speed and turn, weights); the prediction is the MPC solution, solved and
//   differentiated (implicit backward) by `mpcTf`, so predictions respect the limits by construction.
import type { LayersModel, Tensor as TfTensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import { bridgedRun, getTf, tfOp } from '../models/tf/index.ts';
import { mpcTf } from '../mpc/index.ts';
import type { Tensor } from '../sim/core/index.ts';
import { FEATURES, normalise, type Normaliser, type WindowSet } from './features.ts';
import { rollout, vehicleDynamics, type VehicleKind, type VehicleLimits } from './vehicle.ts';
import { HORIZON } from './windows.ts';

/** The learned model kinds. */
export const MODEL_KINDS = ['nn', 'physics', 'mpc'] as const;
/** One of {@link MODEL_KINDS}. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** What a predictor needs besides its network: kind, vehicle, limits and the data scales. */
export interface PredictorSpec {
  kind: ModelKind;
  vehicle: VehicleKind;
  limits: VehicleLimits;
  hidden: number[];
  /** Mean training speed (m/s): scales speed corrections and position outputs. */
  speedScale: number;
  /** Nominal horizon (s). */
  horizonTime: number;
  /** MPC solver settings (model B). */
  mpc: { maxIter: number; tol: number };
}

/** Network outputs per kind. */
export function outputCount(kind: ModelKind): number {
  return kind === 'nn' ? 2 * HORIZON : kind === 'physics' ? 1 + 2 * HORIZON : 9;
}

/** The label of a model in metrics and prediction files. */
export function modelLabel(spec: Pick<PredictorSpec, 'kind' | 'vehicle'>): string {
  return spec.kind === 'nn' ? 'pure-nn' : spec.kind === 'physics' ? `physics-${spec.vehicle}` : `mpc-${spec.vehicle}`;
}

/** A predictor: its network and the differentiable path from the network's outputs to positions. */
export class EgoPredictor {
  readonly spec: PredictorSpec;
  readonly net: LayersModel;
  private readonly rolloutOp: ((...xs: TfTensor[]) => TfTensor) | null = null;
  private readonly mpcOp: ReturnType<typeof mpcTf> | null = null;

  constructor(spec: PredictorSpec, net: LayersModel) {
    this.spec = spec;
    this.net = net;
    const { vehicle, limits } = spec;
    if (spec.kind === 'physics')
      this.rolloutOp = tfOp((s0: Tensor, raw: Tensor, dt: Tensor) => rollout(vehicle, limits, s0, raw, dt), { name: `ego-${vehicle}-rollout` });
    if (spec.kind === 'mpc')
      this.mpcOp = mpcTf(
        { dynamics: ([d]) => vehicleDynamics(vehicle, limits, d!), T: HORIZON + 1, u_lower: -1, u_upper: 1 },
        { allowNonConverged: true, maxIter: spec.mpc.maxIter, tol: spec.mpc.tol },
      );
  }

  /** Trainable variables of the network. */
  get variables(): TfTensor[] {
    return this.net.trainableWeights.map((w) => w.read());
  }

  /**
   * Predicted positions [B, HORIZON, 2] in each window's heading-aligned frame from normalised
   * features x [B, FEATURES], history speeds [B] and future time steps dt [B, HORIZON].
   */
  forward(x: Tensor2D, speed: TfTensor, dt: Tensor2D): Tensor3D {
    const tf = getTf();
    const B = x.shape[0];
    const o = this.net.apply(x) as Tensor2D;
    const sc = this.spec.speedScale;
    if (this.spec.kind === 'nn') return tf.mul(tf.reshape(o, [B, HORIZON, 2]), sc * this.spec.horizonTime) as Tensor3D;
    const col = (k: number): TfTensor => tf.reshape(tf.slice(o, [0, k], [B, 1]), [B]);
    const v0 = tf.add(speed, tf.mul(col(0), 0.2 * sc));
    const zeros = tf.zeros([B]);
    const s0 = tf.stack([zeros, zeros, zeros, v0], 1);
    if (this.spec.kind === 'physics') {
      const raw = tf.reshape(tf.slice(o, [0, 1], [B, 2 * HORIZON]), [B, HORIZON, 2]);
      return this.rolloutOp!(s0, raw, dt) as Tensor3D;
    }
    // model B: the cost of the MPC over T = HORIZON + 1 states x_0..x_15, tau = [x, y, psi, v, u_a, u_turn]
    const T = HORIZON + 1;
    const sp = (k: number, floor: number): TfTensor => tf.add(tf.softplus(col(k)), floor);
    const wPos = sp(5, 1e-3),
      wV = sp(6, 1e-3),
      rA = sp(7, 1e-2),
      rW = sp(8, 1e-2);
    const horizon = tf.sum(dt, 1);
    const gx = tf.add(tf.mul(v0, horizon), tf.mul(col(3), 0.2 * sc * this.spec.horizonTime));
    const gy = tf.mul(col(4), 0.2 * sc * this.spec.horizonTime);
    const vT = tf.add(v0, tf.mul(col(1), 0.2 * sc));
    const uT = col(2);
    const mask = (cols: number[], lastOnly: boolean): TfTensor => {
      const m = new Float32Array(T * 6);
      for (let t = 0; t < T; t++) if (!lastOnly || t === T - 1) for (const c of cols) m[t * 6 + c] = 1;
      return tf.tensor3d(m, [1, T, 6]);
    };
    const e = (v: TfTensor): TfTensor => tf.reshape(v, [B, 1, 1]);
    const mX = mask([0], true),
      mY = mask([1], true),
      mV = mask([3], false),
      mA = mask([4], false),
      mW = mask([5], false);
    const d = tf.addN([tf.mul(e(wPos), tf.add(mX, mY)), tf.mul(e(wV), mV), tf.mul(e(rA), mA), tf.mul(e(rW), mW)]);
    const target = tf.addN([tf.mul(e(gx), mX), tf.mul(e(gy), mY), tf.mul(e(vT), mV), tf.mul(e(uT), mW)]);
    const C = tf.mul(tf.expandDims(d, 3), tf.reshape(tf.eye(6), [1, 1, 6, 6]));
    const c = tf.neg(tf.mul(d, target));
    const dtT = tf.concat([dt, tf.slice(dt, [0, HORIZON - 1], [B, 1])], 1);
    const { x: xs } = this.mpcOp!({ x_init: s0, C, c, theta: [dtT] });
    return tf.slice(xs, [0, 1, 0], [B, HORIZON, 2]) as Tensor3D;
  }

  /** Predictions of a window set (no gradients, in batches), local frame, [N * HORIZON * 2] float64. */
  predictLocal(set: WindowSet, nrm: Normaliser, batch = 256): Float64Array {
    const out = new Float64Array(set.frames.length * HORIZON * 2);
    for (const { start, y } of this.batches(set, nrm, batch)) {
      out.set(y.dataSync(), start * HORIZON * 2);
      y.dispose();
    }
    return out;
  }

  /**
   * predictLocal reading each batch with `await data()`: the form for tfjs backends that cannot
   * read synchronously (webgpu in Node). Same values as predictLocal.
   */
  async predictLocalAsync(set: WindowSet, nrm: Normaliser, batch = 256): Promise<Float64Array> {
    const out = new Float64Array(set.frames.length * HORIZON * 2);
    for (const { start, inputs } of this.batchInputs(set, nrm, batch)) {
      // the bridged physics / mpc layer joins asynchronously (bridgedRun) instead of reading with dataSync
      const y = await bridgedRun(() => this.forward(...inputs)).finally(() => getTf().dispose(inputs));
      try {
        out.set(await y.data(), start * HORIZON * 2);
      } finally {
        y.dispose();
      }
    }
    return out;
  }

  /** The network inputs of a window set in batches of `batch` windows (tensors to dispose), yielded one batch at a time. */
  private *batchInputs(set: WindowSet, nrm: Normaliser, batch: number): Generator<{ start: number; inputs: [Tensor2D, TfTensor, Tensor2D] }> {
    const tf = getTf();
    const N = set.frames.length;
    const x = normalise(set, nrm);
    for (let a = 0; a < N; a += batch) {
      const b = Math.min(N, a + batch);
      yield {
        start: a,
        inputs: [
          tf.tensor2d(x.subarray(a * FEATURES, b * FEATURES), [b - a, FEATURES]),
          tf.tensor1d(Float32Array.from(set.speed.subarray(a, b))),
          tf.tensor2d(Float32Array.from(set.dt.subarray(a * HORIZON, b * HORIZON)), [b - a, HORIZON]),
        ],
      };
    }
  }

  /** The forward pass of a window set in batches of `batch` windows, yielded one at a time. */
  private *batches(set: WindowSet, nrm: Normaliser, batch: number): Generator<{ start: number; y: TfTensor }> {
    const tf = getTf();
    for (const { start, inputs } of this.batchInputs(set, nrm, batch)) {
      const y = tf.tidy(() => this.forward(...inputs));
      tf.dispose(inputs);
      yield { start, y };
    }
  }
}

/** Average displacement error of predictions [B, HORIZON, 2] against targets (tfjs, differentiable). */
export function adeLoss(pred: TfTensor, target: TfTensor): TfTensor {
  const tf = getTf();
  return tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(pred, target)), 2), 1e-6)));
}
