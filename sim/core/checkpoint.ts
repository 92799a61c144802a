// Gradient checkpointing: run a function without keeping its intermediates on the tape and
// recompute them during the reverse pass. Long rollouts trade compute for memory this way.
import { gradients, isGradEnabled, noGrad, recordN, anyNeedsGrad, withGradMode } from './autograd.ts';
import { Tensor } from './tensor.ts';

/**
 * Calls `fn(...inputs)` without recording its internals; the returned tensors carry one
 * node that, in the reverse pass, re-runs `fn` with recording on and back-propagates
 * through that fresh graph. `fn` must be deterministic.
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor | Tensor[], ...inputs: Tensor[]): Tensor[] {
  const asList = (r: Tensor | Tensor[]): Tensor[] => (r instanceof Tensor ? [r] : r);
  if (!anyNeedsGrad(inputs)) return asList(fn(...inputs));
  const outs = noGrad(() => asList(fn(...inputs.map((x) => x.detach()))));
  recordN('checkpoint', inputs, outs, (gOuts) => {
    // With createGraph the recomputation hangs off the real inputs (so the gradient can be
    // differentiated again); otherwise off fresh leaves, so the pass stops there.
    const createGraph = isGradEnabled();
    const leaves = createGraph ? inputs : inputs.map((x) => (x.requiresGrad ? new Tensor(x.data, x.shape).requireGrad() : x.detach()));
    const redo = withGradMode(true, () => asList(fn(...leaves)));
    const live = redo.map((r, i) => (r.requiresGrad && gOuts[i] ? i : -1)).filter((i) => i >= 0);
    if (live.length === 0) return inputs.map(() => null);
    const gs = gradients(
      live.map((i) => redo[i]!),
      leaves,
      live.map((i) => gOuts[i]!),
      { createGraph, allowUnused: true },
    );
    return inputs.map((x, i) => (x.requiresGrad ? gs[i] : null));
  });
  return outs;
}
