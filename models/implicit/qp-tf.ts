// The QP layer as a TensorFlow.js op (models/implicit through models/tf's `tfOp`): a tfjs
// model can output Q, p, G, h, A, b and train through x* = argmin of the QP. Solving and
// differentiating run in float64 (qp.ts); the boundary is float32.
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import type { Tensor } from '../../sim/core/index.ts';
import { tfOp } from '../tf/bridge.ts';
import { qp, type QPOptions } from './qp.ts';

/** A QP with tfjs tensors; shapes and batching as in `QPProblem` (qp.ts). */
export interface QPProblemTf {
  Q: TfTensor;
  p: TfTensor;
  G?: TfTensor;
  h?: TfTensor;
  A?: TfTensor;
  b?: TfTensor;
}

type Key = 'Q' | 'p' | 'G' | 'h' | 'A' | 'b';
const KEYS: readonly Key[] = ['Q', 'p', 'G', 'h', 'A', 'b'];

/**
 * The batched QP layer as a tfjs op: `op({ Q, p, G, h, A, b })` returns the solution x* and
 * the multipliers lambda, nu as float32 tf tensors, with gradients to every input through
 * the KKT conditions (first order). Options as for `qp`; a problem that is not solved throws
 * (with `onFailure: 'status'` its x is NaN or the last iterate, as in `qp`, and the bridge's
 * non-finite check then throws for NaN). Call `await initTf()` first.
 *
 * @example
 * const layer = qpTf();
 * const loss = () => tf.sum(layer({ Q, p: net(u), G, h }).x);   // trains net through the QP
 */
export function qpTf(opts: QPOptions = {}): (problem: QPProblemTf) => { x: TfTensor; lambda: TfTensor; nu: TfTensor } {
  const ops = new Map<string, (...xs: TfTensor[]) => TfTensor[]>();
  return (problem) => {
    const present = KEYS.filter((k) => problem[k] !== undefined);
    const key = present.join(',');
    let op = ops.get(key);
    if (!op) {
      op = tfOp(
        (...xs: Tensor[]) => {
          const pr: Partial<Record<Key, Tensor>> = {};
          present.forEach((k, i) => (pr[k] = xs[i]!));
          const r = qp({ Q: pr.Q!, p: pr.p!, G: pr.G, h: pr.h, A: pr.A, b: pr.b }, opts);
          return [r.x, r.lambda, r.nu];
        },
        { name: 'qp' },
      );
      ops.set(key, op);
    }
    const [x, lambda, nu] = op(...present.map((k) => problem[k]!)) as [TfTensor, TfTensor, TfTensor];
    return { x, lambda, nu };
  };
}
