// The ODE layer as a TensorFlow.js op (models/implicit): a tfjs model can feed an initial
// state and parameters to `odeint` and receive adjoint gradients (float64 inside, float32 at
// the boundary, first order).
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import type { Tensor } from '../../sim/core/index.ts';
import { tfOp } from '../tf/bridge.ts';
import { odeint, type OdeFunc, type OdeOptions } from './ode.ts';

/**
 * Wraps `odeint(f, y0, ts, params, opts)` as a tfjs op `(y0, ...params) => y(ts)` with shape
 * [T, ...y0.shape]. Call `await initTf()` first.
 *
 * @example
 * const decay = odeintTf((_t, y, [k]) => neg(mul(k!, y)), [0, 1]);
 * const g = tf.grad((k) => tf.sum(decay(tf.tensor1d([1]), k)))(tf.tensor1d([0.5]));
 */
export function odeintTf(f: OdeFunc, ts: readonly number[], opts: OdeOptions = {}): (y0: TfTensor, ...params: TfTensor[]) => TfTensor {
  const op = tfOp((y0: Tensor, ...params: Tensor[]) => odeint(f, y0, ts, params, opts).y, { name: 'odeint' });
  return (y0, ...params) => op(y0, ...params);
}
