// General KKT layer (models/implicit): given a primal-dual solution (x*, lambda*, nu*) of
// min f(x, theta) s.t. g(x, theta) <= 0, h(x, theta) = 0 from ANY solver, puts it on the tape
// as a function of theta, differentiated by the IFT on the KKT system
// G = [grad_x L; lambda o g; h] = 0 with L = f + lambda.g + nu.h (all terms from the core).
import { Tensor, add, concat, dot, gradients, reshape, slice, withGradMode, zeros, ShapeError, fmtShape, mul } from '../../sim/core/index.ts';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { tfOp } from '../tf/bridge.ts';
import {
  type BackwardInfo,
  type BackwardOptions,
  ImplicitError,
  type Params,
  checkOptionKeys,
  checkPositive,
  implicitSolution,
  packParams,
  paramList,
} from './ift.ts';

/** The problem min f(x, theta) s.t. g(x, theta) <= 0, h(x, theta) = 0, written with the core's ops. */
export interface KktProblem<T extends Params> {
  /** Objective: a scalar. */
  f: (x: Tensor, theta: T) => Tensor;
  /** Inequality constraints g(x) <= 0: a vector [m] (omit for none). */
  g?: (x: Tensor, theta: T) => Tensor;
  /** Equality constraints h(x) = 0: a vector [p] (omit for none). */
  h?: (x: Tensor, theta: T) => Tensor;
}

/** A primal-dual solution from any solver (lambda for g, nu for h). */
export interface KktSolution {
  x: Tensor;
  lambda?: Tensor;
  nu?: Tensor;
}

/** Options of `kktLayer`. */
export interface KktOptions {
  /** Tolerance of the check that the given point satisfies the KKT conditions (default 1e-8, scaled by max(1, max|grad f|)). */
  tol?: number;
  /** Check the KKT conditions at the given point and throw if they fail (default true). */
  check?: boolean;
  /** How the backward solves the adjoint of the KKT system (dense by default for small problems). */
  backward?: BackwardOptions;
}

/** KKT residuals at the given point. */
export interface KktInfo {
  /** max |grad_x L|. */
  stationarity: number;
  /** max |lambda_i g_i|. */
  complementarity: number;
  /** max(0, max g_i, max |h_j|). */
  primalInfeasibility: number;
  /** max(0, -min lambda_i). */
  dualInfeasibility: number;
  /** Indices of inequality constraints with lambda_i > 0 (active). */
  active: number[];
  /** Filled in when a backward pass runs. */
  backward?: BackwardInfo;
}

function flat(t: Tensor): Tensor {
  return reshape(t, [t.size]);
}

/**
 * Differentiable primal-dual solution of a constrained problem: returns (x*, lambda*, nu*)
 * as tensors on the tape whose gradients with respect to theta come from the IFT on the KKT
 * conditions (Gould et al.; the seed slides' constrained optimizer). The values are the
 * ones given; the layer checks that they satisfy the KKT conditions. Strict
 * complementarity is needed (a constraint with lambda_i = 0 and g_i = 0 makes the KKT
 * Jacobian singular; the backward then raises and names it).
 *
 * @example
 * // argmin x w s.t. x^2 - 1 <= 0, w = 2: x* = -1, lambda* = 1, d(x*, lambda*)/dw = (0, 0.5)
 * const w = scalar(2).requireGrad();
 * const r = kktLayer({ f: (x, w) => mul(x, w), g: (x) => sub(mul(x, x), 1) }, w, { x: tensor([-1]), lambda: tensor([1]) });
 */
export function kktLayer<T extends Params>(
  problem: KktProblem<T>,
  theta: T,
  solution: KktSolution,
  opts: KktOptions = {},
): { x: Tensor; lambda: Tensor; nu: Tensor; info: KktInfo } {
  const layer = 'kktLayer';
  checkOptionKeys(opts, ['tol', 'check', 'backward'], layer);
  checkOptionKeys(solution, ['x', 'lambda', 'nu'], `${layer} solution`);
  checkOptionKeys(problem, ['f', 'g', 'h'], `${layer} problem`);
  checkPositive(opts.tol, 'tol', layer);
  if (typeof problem.f !== 'function') throw new TypeError(`${layer}: problem.f must be a function`);
  const thetas = paramList(theta, layer);
  const detached = thetas.map((t) => t.detach());
  const pt = packParams(theta, detached);
  if (!(solution.x instanceof Tensor)) throw new TypeError(`${layer}: solution.x must be a Tensor`);
  const xShape = solution.x.shape;
  const n = solution.x.size;

  // constraint counts from one evaluation at the solution
  const [g0, h0] = withGradMode(false, () => [problem.g?.(solution.x.detach(), pt), problem.h?.(solution.x.detach(), pt)]);
  const m = g0 ? g0.size : 0;
  const p = h0 ? h0.size : 0;
  const lambda = solution.lambda ?? zeros([m]);
  const nu = solution.nu ?? zeros([p]);
  if (lambda.size !== m)
    throw new ShapeError(`${layer}: solution.lambda has ${lambda.size} entries (shape ${fmtShape(lambda.shape)}) but g returns ${m} constraints`);
  if (nu.size !== p) throw new ShapeError(`${layer}: solution.nu has ${nu.size} entries (shape ${fmtShape(nu.shape)}) but h returns ${p} constraints`);
  for (const [name, t] of [
    ['x', solution.x],
    ['lambda', lambda],
    ['nu', nu],
  ] as const) {
    for (let i = 0; i < t.size; i++)
      if (!Number.isFinite(t.data[i]!))
        throw new ImplicitError(`${layer}: solution.${name} has ${t.data[i]} at flat index ${i}`, layer, 'forward', undefined, i);
  }

  /** The KKT residual G(theta, z), z = [x; lambda; nu]. */
  const G = (th: T, z: Tensor): Tensor =>
    withGradMode(true, () => {
      const zz = z.requiresGrad ? z : z.detach().requireGrad();
      const xv = reshape(slice(zz, [0], [n]), xShape);
      const parts: Tensor[] = [];
      let L = problem.f(xv, th);
      if (!(L instanceof Tensor) || L.size !== 1) throw new TypeError(`${layer}: f(x, theta) must return a scalar Tensor`);
      L = reshape(L, []);
      let gv: Tensor | null = null;
      let lam: Tensor | null = null;
      if (problem.g && m > 0) {
        gv = flat(problem.g(xv, th));
        lam = slice(zz, [n], [m]);
        L = add(L, dot(lam, gv));
      }
      let hv: Tensor | null = null;
      if (problem.h && p > 0) {
        hv = flat(problem.h(xv, th));
        L = add(L, dot(slice(zz, [n + m], [p]), hv));
      }
      const [gx] = gradients([L], [xv], undefined, { createGraph: true, allowUnused: true });
      parts.push(gx ? flat(gx) : zeros([n]));
      if (gv && lam) parts.push(mul(lam, gv));
      if (hv) parts.push(hv);
      return parts.length === 1 ? parts[0]! : concat(parts, 0);
    });

  const z0 = new Float64Array(n + m + p);
  z0.set(solution.x.data, 0);
  z0.set(lambda.data, n);
  z0.set(nu.data, n + m);

  // KKT residuals at the given point
  const info = kktResiduals(G(pt, new Tensor(Float64Array.from(z0), [n + m + p])).data, n, m, lambda.data, g0);
  const gradF = withGradMode(true, () => {
    const xl = solution.x.detach().clone().requireGrad();
    const [gf] = gradients([reshape(problem.f(xl, pt), [])], [xl], undefined, { allowUnused: true });
    return gf ? Math.max(...Array.from(gf.data, Math.abs)) : 0;
  });
  const tol = (opts.tol ?? 1e-8) * Math.max(1, gradF);
  if (opts.check !== false) {
    const fails: string[] = [];
    if (!(info.stationarity <= tol)) fails.push(`stationarity max|grad_x L| = ${info.stationarity.toExponential(3)}`);
    if (!(info.complementarity <= tol)) fails.push(`complementarity max|lambda_i g_i| = ${info.complementarity.toExponential(3)}`);
    if (!(info.primalInfeasibility <= tol)) fails.push(`primal feasibility violated by ${info.primalInfeasibility.toExponential(3)}`);
    if (!(info.dualInfeasibility <= tol)) fails.push(`dual feasibility: min lambda = ${(-info.dualInfeasibility).toExponential(3)} < 0`);
    if (fails.length) {
      throw new ImplicitError(
        `${layer}: the given (x, lambda, nu) does not satisfy the KKT conditions (tol ${tol.toExponential(2)}): ${fails.join('; ')}`,
        layer,
        'forward',
      );
    }
  }

  const explain = (): string => {
    const weak: number[] = [];
    for (let i = 0; i < m; i++) {
      if (Math.abs(lambda.data[i]!) <= 1e-9 && Math.abs(g0!.data[i]!) <= 1e-9) weak.push(i);
    }
    return weak.length
      ? `inequality constraint(s) g[${weak.join(', ')}] are weakly active (lambda_i = 0 and g_i = 0): strict complementarity fails there, so the solution is not differentiable in theta`
      : 'the KKT Jacobian is singular (check linear independence of the active constraint gradients and second-order sufficiency)';
  };
  const z = implicitSolution(
    {
      layer,
      F: G,
      x: theta,
      backward: opts.backward,
      explainSingular: explain,
      onBackward: (b) => {
        info.backward = b;
      },
    },
    z0,
    [n + m + p],
  );
  return {
    x: reshape(slice(z, [0], [n]), xShape),
    lambda: reshape(slice(z, [n], [m]), lambda.shape),
    nu: reshape(slice(z, [n + m], [p]), nu.shape),
    info,
  };
}

function kktResiduals(Gv: Float64Array, n: number, m: number, lambda: Float64Array, g0: Tensor | undefined): KktInfo {
  let stat = 0;
  for (let i = 0; i < n; i++) stat = Math.max(stat, Math.abs(Gv[i]!));
  let comp = 0;
  let primal = 0;
  let dual = 0;
  const active: number[] = [];
  for (let i = 0; i < m; i++) {
    const gi = g0!.data[i]!;
    const li = lambda[i]!;
    comp = Math.max(comp, Math.abs(li * gi));
    primal = Math.max(primal, gi);
    dual = Math.max(dual, -li);
    if (li > 0) active.push(i);
  }
  for (let i = n + m; i < Gv.length; i++) primal = Math.max(primal, Math.abs(Gv[i]!));
  return { stationarity: stat, complementarity: comp, primalInfeasibility: primal, dualInfeasibility: dual, active };
}

/**
 * The KKT layer as a tfjs op: `op(...thetas)` runs `solve` (any solver, on the float64
 * parameter values) for a primal-dual solution and returns x* (or [x*, lambda*, nu*] with
 * `duals: true`, each non-empty) as float32 tf tensors differentiable in theta.
 * Call `await initTf()` first.
 */
export function kktLayerTf(
  problem: KktProblem<Tensor[]>,
  solve: (theta: readonly Tensor[]) => KktSolution,
  opts: KktOptions & { duals?: boolean } = {},
): (...thetas: TfTensor[]) => TfTensor | TfTensor[] {
  const { duals, ...rest } = opts;
  if (!duals) return tfOp((...th: Tensor[]) => kktLayer(problem, th, solve(th.map((t) => t.detach())), rest).x, { name: 'kktLayer' });
  return tfOp(
    (...th: Tensor[]) => {
      const r = kktLayer(problem, th, solve(th.map((t) => t.detach())), rest);
      return [r.x, r.lambda, r.nu].filter((t) => t.size > 0);
    },
    { name: 'kktLayer' },
  );
}
