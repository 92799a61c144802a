// Gradient checking against central differences in float64, and the registry of checks
// that `impulse gradcheck` runs. Every differentiable op, kernel, layer and solver of
// Impulse registers a check here (see each folder's checks.ts).
import { gradients, noGrad, withGradMode } from './autograd.ts';
import { Rng } from './random.ts';
import { Tensor } from './tensor.ts';
import { add, mul } from './ops/elementwise.ts';
import { sum } from './ops/reduce.ts';

/** Options of a gradient check. */
export interface GradcheckOptions {
  /** Central-difference step (default 1e-6). */
  eps?: number;
  /** Bar on the relative error (default 1e-6). */
  rtol?: number;
  /** An input whose max absolute error is at most this passes regardless (default 1e-10). */
  atol?: number;
  /** Seed of the random output projection (default 0). */
  seed?: number;
}

/** Errors of one input's analytic gradient against central differences. */
export interface InputReport {
  input: number;
  name: string | undefined;
  maxAbsErr: number;
  /** max |analytic - numeric| / max |numeric| over this input's elements. */
  maxRelErr: number;
  /** Flat index of the largest absolute error. */
  worstIndex: number;
  passed: boolean;
}

/** Result of `gradcheck`: the worst errors over all inputs and a report per input. */
export interface GradcheckReport {
  passed: boolean;
  maxAbsErr: number;
  maxRelErr: number;
  inputs: InputReport[];
}

/**
 * Checks the reverse-mode gradient of `fn` at `inputs` against central differences. A
 * non-scalar output is projected on fixed-seed random weights, so the whole
 * vector-Jacobian product is checked. An input passes when
 * max|a - n| <= rtol * max|n| or max|a - n| <= atol.
 *
 * @example
 * const r = gradcheck((x) => sum(sin(x)), [randn([5], new Rng(1))]);
 * r.passed; // true
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-6;
  const atol = opts.atol ?? 1e-10;
  const leaves = inputs.map((x) => {
    const t = new Tensor(new Float64Array(x.data), x.shape).requireGrad();
    t.name = x.name;
    return t;
  });
  const y0 = fn(...leaves);
  const rng = new Rng(opts.seed ?? 0);
  const w = new Tensor(y0.size === 1 ? new Float64Array([1]) : rng.normals(y0.size), y0.shape);
  const project = (y: Tensor): number => {
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i]! * w.data[i]!;
    return s;
  };
  const analytic = y0.requiresGrad ? gradients([y0], leaves, [w], { allowUnused: true }) : leaves.map(() => null);
  const reports: InputReport[] = leaves.map((leaf, k) => {
    const a = analytic[k]?.data ?? new Float64Array(leaf.size);
    const d = leaf.data;
    let maxAbs = 0;
    let maxNum = 0;
    let worst = 0;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      d[i] = v + eps;
      const fp = noGrad(() => project(fn(...leaves)));
      d[i] = v - eps;
      const fm = noGrad(() => project(fn(...leaves)));
      d[i] = v;
      const num = (fp - fm) / (2 * eps);
      const err = Math.abs(a[i]! - num);
      if (!(err <= maxAbs)) {
        maxAbs = err;
        worst = i;
      }
      maxNum = Math.max(maxNum, Math.abs(num));
    }
    const rel = maxAbs === 0 ? 0 : maxAbs / Math.max(maxNum, 1e-300);
    const passed = Number.isFinite(maxAbs) && (rel <= rtol || maxAbs <= atol);
    return { input: k, name: leaf.name, maxAbsErr: maxAbs, maxRelErr: rel, worstIndex: worst, passed };
  });
  return {
    passed: reports.every((r) => r.passed),
    maxAbsErr: Math.max(0, ...reports.map((r) => r.maxAbsErr)),
    maxRelErr: Math.max(0, ...reports.map((r) => r.maxRelErr)),
    inputs: reports,
  };
}

/**
 * Checks second derivatives: the gradient of `fn` (taken with createGraph), projected on
 * fixed-seed random weights, is itself gradchecked.
 */
export function gradgradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const rng = new Rng((opts.seed ?? 0) + 1);
  const ws = inputs.map((x) => rng.normals(x.size));
  let wOut: Tensor | null | undefined;
  const g = (...xs: Tensor[]): Tensor =>
    withGradMode(true, () => {
      const leaves = xs.map((x) => (x.requiresGrad ? x : new Tensor(x.data, x.shape).requireGrad()));
      const y = fn(...leaves);
      wOut ??= y.size === 1 ? null : new Tensor(rng.normals(y.size), y.shape);
      const gs = gradients(y, leaves, [wOut], { createGraph: true, allowUnused: true });
      let acc: Tensor = new Tensor(new Float64Array(1), []);
      gs.forEach((gi, i) => {
        if (gi) acc = add(acc, sum(mul(gi, new Tensor(ws[i]!, gi.shape))));
      });
      return acc;
    });
  return gradcheck(g, inputs, opts);
}

/** A registered check: builds its function and inputs and runs a gradcheck. */
export interface GradcheckCase {
  name: string;
  run: () => GradcheckReport;
}

const registry = new Map<string, GradcheckCase>();

/**
 * Registers a named check for `impulse gradcheck`. `make` returns the function, its
 * inputs and options; it runs only when the check does.
 */
export function registerGradcheck(
  name: string,
  make: () => { fn: (...xs: Tensor[]) => Tensor; inputs: Tensor[]; opts?: GradcheckOptions; order?: 1 | 2 },
): void {
  if (registry.has(name)) throw new Error(`registerGradcheck: a check named '${name}' is already registered`);
  registry.set(name, {
    name,
    run: () => {
      const { fn, inputs, opts, order } = make();
      return order === 2 ? gradgradcheck(fn, inputs, opts) : gradcheck(fn, inputs, opts);
    },
  });
}

/** All registered checks, in registration order. */
export function registeredGradchecks(): GradcheckCase[] {
  return [...registry.values()];
}

/** One line of `impulse gradcheck --json`. */
export interface GradcheckResult {
  name: string;
  maxAbsErr: number;
  maxRelErr: number;
  passed: boolean;
  error?: string;
}

/** Runs the registered checks whose names contain `filter` (all by default). */
export function runGradchecks(filter?: string, onResult?: (r: GradcheckResult, i: number, n: number) => void): GradcheckResult[] {
  const cases = registeredGradchecks().filter((c) => !filter || c.name.includes(filter));
  return cases.map((c, i) => {
    let r: GradcheckResult;
    try {
      const rep = c.run();
      r = { name: c.name, maxAbsErr: rep.maxAbsErr, maxRelErr: rep.maxRelErr, passed: rep.passed };
    } catch (e) {
      r = { name: c.name, maxAbsErr: NaN, maxRelErr: NaN, passed: false, error: (e as Error).message };
    }
    onResult?.(r, i, cases.length);
    return r;
  });
}
