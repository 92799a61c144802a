// Functional differentiation helpers over the tape: grad, valueAndGrad, vjp, jacobian, hvp.
// Inputs that already require grad are used as they are, so helpers nest (grad of grad);
// other inputs are wrapped as fresh leaves sharing their storage.
import { gradients, isGradEnabled } from './autograd.ts';
import { Tensor, zeros } from './tensor.ts';
import { mul } from './ops/elementwise.ts';
import { sum } from './ops/reduce.ts';
import { reshape, stack } from './ops/shape.ts';

function asLeaves(xs: readonly Tensor[]): Tensor[] {
  return xs.map((x) => (x.requiresGrad ? x : new Tensor(x.data, x.shape).requireGrad()));
}

/** Whether a nested call must record its reverse pass (an outer differentiation is running). */
function outerNeedsGraph(xs: readonly Tensor[]): boolean {
  return isGradEnabled() && xs.some((x) => x.requiresGrad);
}

function orZeros(g: Tensor | null, like: Tensor): Tensor {
  return g ?? zeros(like.shape);
}

/**
 * Value and gradients of a scalar function of tensors.
 * @example const [loss, [gx]] = valueAndGrad((x) => sum(mul(x, x)))(x);
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => [Tensor, Tensor[]] {
  return (...xs) => {
    const createGraph = outerNeedsGraph(xs);
    const leaves = asLeaves(xs);
    const y = f(...leaves);
    if (!y.requiresGrad) return [y, xs.map((x) => zeros(x.shape))];
    const gs = gradients(y, leaves, undefined, { createGraph, allowUnused: true });
    return [y, gs.map((g, i) => orZeros(g, xs[i]!))];
  };
}

/** Gradients of a scalar function with respect to each argument. */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...xs) => vg(...xs)[1];
}

/** Vector-Jacobian product: the output of f at xs and v^T J for each input. */
export function vjp(f: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], v: Tensor): [Tensor, Tensor[]] {
  const createGraph = outerNeedsGraph([...xs, v]);
  const leaves = asLeaves(xs);
  const y = f(...leaves);
  if (!y.requiresGrad) return [y, xs.map((x) => zeros(x.shape))];
  const gs = gradients([y], leaves, [v], { createGraph, allowUnused: true });
  return [y, gs.map((g, i) => orZeros(g, xs[i]!))];
}

/**
 * Dense Jacobian of f at x by one reverse pass per output element:
 * shape [...f(x).shape, ...x.shape].
 */
export function jacobian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  const createGraph = outerNeedsGraph([x]);
  const [leaf] = asLeaves([x]);
  const y = f(leaf!);
  const rows: Tensor[] = [];
  for (let i = 0; i < y.size; i++) {
    if (!y.requiresGrad) {
      rows.push(zeros(x.shape));
      continue;
    }
    const e = new Float64Array(y.size);
    e[i] = 1;
    const [g] = gradients([y], [leaf!], [new Tensor(e, y.shape)], { createGraph, allowUnused: true });
    rows.push(orZeros(g!, x));
  }
  return reshape(stack(rows, 0), [...y.shape, ...x.shape]);
}

/** Hessian-vector product H v of a scalar function at x (reverse over reverse). */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  const outer = outerNeedsGraph([x, v]);
  const [leaf] = asLeaves([x]);
  const y = f(leaf!);
  const [g] = gradients(y, [leaf!], undefined, { createGraph: true, allowUnused: true });
  if (!g || !g.requiresGrad) return zeros(x.shape);
  const [hv] = gradients(sum(mul(g, v)), [leaf!], undefined, { createGraph: outer, allowUnused: true });
  return orZeros(hv!, x);
}
