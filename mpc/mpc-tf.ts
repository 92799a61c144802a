// The MPC layer as a TensorFlow.js op (mpc/ through models/tf's `tfOp`): a tfjs model can
// output the cost (C, c), the initial states and the dynamics parameters theta, and train
// through the optimal controls. Solving and the implicit backward run in float64 (mpc.ts); the
// boundary is float32.
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import type { Tensor } from '../sim/core/index.ts';
import { tfOp } from '../models/tf/bridge.ts';
import { quadCost } from './cost.ts';
import type { Dynamics } from './dynamics.ts';
import { MpcError } from './errors.ts';
import { mpc, type MpcOptions } from './mpc.ts';

/** The fixed parts of the problem: the dynamics family, horizon and control bounds. */
export interface MpcTfSpec {
  /** Builds the dynamics from its parameters theta (float64 tensors; from the op's `theta` inputs). */
  dynamics: (theta: readonly Tensor[]) => Dynamics;
  T: number;
  u_lower?: number;
  u_upper?: number;
}

/** The op's inputs, tfjs tensors with the shapes `mpc` takes. */
export interface MpcTfInputs {
  /** Initial states [B, nx]. */
  x_init: TfTensor;
  /** Quadratic cost over tau = [x; u]: C [.., nt, nt], c [.., nt] (broadcast as in `quadCost`). */
  C: TfTensor;
  c: TfTensor;
  /** Dynamics parameters, in the order `spec.dynamics` reads them (default none). */
  theta?: readonly TfTensor[];
}

/**
 * The MPC layer as a tfjs op: `op({ x_init, C, c, theta })` returns the optimal states x
 * [B, T, nx], controls u [B, T, nu] and objectives [B] as float32 tf tensors, with gradients
 * to every input by the implicit (Amos et al.) backward, first order. Options as for `mpc`;
 * an item that does not converge throws an MpcError naming it unless `allowNonConverged`
 * (its gradient is then that of the last iterate, as `mpc` documents). Call `await initTf()`
 * first.
 *
 * @example
 * const layer = mpcTf({ dynamics: ([th]) => pendulum(th), T: 20, u_lower: -2, u_upper: 2 });
 * const theta = tf.variable(tf.tensor1d([9, 1.2, 1]));
 * const loss = () => tf.mean(tf.square(tf.sub(layer({ x_init, C, c, theta: [theta] }).u, uExpert)));
 * tf.train.adam(0.05).minimize(loss);   // theta learns through the MPC layer
 */
export function mpcTf(
  spec: MpcTfSpec,
  opts: MpcOptions & { allowNonConverged?: boolean } = {},
): (inputs: MpcTfInputs) => { x: TfTensor; u: TfTensor; objective: TfTensor } {
  const { allowNonConverged, ...mpcOpts } = opts;
  const ops = new Map<number, (...xs: TfTensor[]) => TfTensor[]>();
  return (inputs) => {
    const nTheta = inputs.theta?.length ?? 0;
    let op = ops.get(nTheta);
    if (!op) {
      op = tfOp(
        (xInit: Tensor, C: Tensor, c: Tensor, ...theta: Tensor[]) => {
          const r = mpc(
            { dynamics: spec.dynamics(theta), cost: quadCost(C, c), x_init: xInit, T: spec.T, u_lower: spec.u_lower, u_upper: spec.u_upper },
            mpcOpts,
          );
          const bad = r.converged.indexOf(false);
          if (bad >= 0 && !allowNonConverged)
            throw new MpcError(`mpcTf: batch item ${bad} did not converge (${r.status[bad]}); pass allowNonConverged to train through it anyway`, bad);
          return [r.x, r.u, r.objective];
        },
        { name: 'mpc' },
      );
      ops.set(nTheta, op);
    }
    const [x, u, objective] = op(inputs.x_init, inputs.C, inputs.c, ...(inputs.theta ?? [])) as [TfTensor, TfTensor, TfTensor];
    return { x, u, objective };
  };
}
