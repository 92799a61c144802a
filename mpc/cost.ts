// Costs of the MPC layer (mpc/): the quadratic cost 1/2 tau' C_t tau + c_t' tau over
// tau = [x; u], and any differentiable per-step cost written with the core's ops, quadratised
// (gradient and Hessian from the tape) at each iterate. Includes the PSD check of C.
import { ShapeError, Tensor, fmtShape, gradients, noGrad, sum, withGradMode } from '../sim/core/index.ts';
import { cholFactor } from '../sim/linalg/dense.ts';
import type { StepContext } from './dynamics.ts';
import { MpcError } from './errors.ts';

/** Quadratic cost sum_t 1/2 tau_t' C_t tau_t + c_t' tau_t; C and c are differentiable. */
export interface QuadCost {
  readonly kind: 'quad';
  /** [nt, nt], [T, nt, nt] or [B, T, nt, nt] with nt = nx + nu; must be PSD (its symmetric part is used). */
  readonly C: Tensor;
  /** [nt], [T, nt] or [B, T, nt]. */
  readonly c: Tensor;
}

/** A differentiable per-step cost l(tau, phi) over rows tau [N, nt] -> [N], quadratised at each iterate. */
export interface FnCost {
  readonly kind: 'fn';
  readonly name: string;
  /** Parameters phi; gradients flow to those that require grad. */
  readonly params: readonly Tensor[];
  fn(tau: Tensor, params: readonly Tensor[], ctx: StepContext): Tensor;
}

/** A cost of the MPC problem: quadratic (raw fast path) or a differentiable function quadratised per iterate. */
export type Cost = QuadCost | FnCost;

/**
 * A quadratic cost.
 * @example const cost = quadCost(tensor([[1, 0], [0, 0.1]]), tensor([-1, 0])); // nx = 1, nu = 1
 */
export function quadCost(C: Tensor, c: Tensor): QuadCost {
  return { kind: 'quad', C, c };
}

/**
 * A cost given by a differentiable function of tau = [x; u] per row (rows of every time
 * step and batch item; read `ctx.times` / `ctx.items` for time-varying or per-item costs).
 * @example const cost = fnCost('tracking', (tau) => sum(square(sub(tau, goal)), 1));
 */
export function fnCost(name: string, fn: FnCost['fn'], params: readonly Tensor[] = []): FnCost {
  return { kind: 'fn', name, fn, params };
}

/**
 * Expands C (symmetrised) to [B, T, nt, nt] and c to [B, T, nt] as raw arrays, checking
 * shapes, finiteness and that every C_t is positive semidefinite (error names the index).
 */
export function expandQuadCost(cost: QuadCost, B: number, T: number, nt: number): { C: Float64Array; c: Float64Array } {
  const { C, c } = cost;
  const okC =
    C.ndim >= 2 &&
    C.ndim <= 4 &&
    C.shape[C.ndim - 1] === nt &&
    C.shape[C.ndim - 2] === nt &&
    (C.ndim < 3 || C.shape[C.ndim - 3] === T) &&
    (C.ndim < 4 || C.shape[0] === B);
  if (!okC)
    throw new ShapeError(
      `mpc: cost C has shape ${fmtShape(C.shape)}, expected [${nt}, ${nt}], [${T}, ${nt}, ${nt}] or [${B}, ${T}, ${nt}, ${nt}] (nt = nx + nu, T = ${T}, B = ${B})`,
    );
  const okc = c.ndim >= 1 && c.ndim <= 3 && c.shape[c.ndim - 1] === nt && (c.ndim < 2 || c.shape[c.ndim - 2] === T) && (c.ndim < 3 || c.shape[0] === B);
  if (!okc) throw new ShapeError(`mpc: cost c has shape ${fmtShape(c.shape)}, expected [${nt}], [${T}, ${nt}] or [${B}, ${T}, ${nt}]`);
  const nn = nt * nt;
  const nC = C.size / nn;
  const sym = new Float64Array(C.size);
  const work = new Float64Array(nn);
  for (let k = 0; k < nC; k++) {
    let scale = 0;
    for (let i = 0; i < nt; i++) {
      for (let j = 0; j < nt; j++) {
        const v = 0.5 * (C.data[k * nn + i * nt + j]! + C.data[k * nn + j * nt + i]!);
        if (!Number.isFinite(v)) throw new MpcError(`mpc: cost C${where(k, C.ndim, T)} has a non-finite entry ${v} at (${i}, ${j})`);
        sym[k * nn + i * nt + j] = v;
        scale = Math.max(scale, Math.abs(v));
      }
    }
    work.set(sym.subarray(k * nn, (k + 1) * nn));
    const delta = 1e-10 * Math.max(scale, 1e-300);
    for (let i = 0; i < nt; i++) work[i * nt + i]! += delta;
    const bad = cholFactor(work, 0, nt);
    if (bad >= 0) {
      throw new MpcError(
        `mpc: cost C${where(k, C.ndim, T)} is not positive semidefinite (Cholesky pivot ${bad} is not positive); the cost must be convex in tau = [x; u]`,
        C.ndim === 4 ? Math.floor(k / T) : undefined,
        C.ndim >= 3 ? k % T : undefined,
      );
    }
  }
  const outC = new Float64Array(B * T * nn);
  const outc = new Float64Array(B * T * nt);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const kC = C.ndim === 2 ? 0 : C.ndim === 3 ? t : b * T + t;
      outC.set(sym.subarray(kC * nn, (kC + 1) * nn), (b * T + t) * nn);
      const kc = c.ndim === 1 ? 0 : c.ndim === 2 ? t : b * T + t;
      for (let i = 0; i < nt; i++) {
        const v = c.data[kc * nt + i]!;
        if (!Number.isFinite(v)) throw new MpcError(`mpc: cost c${where(kc, c.ndim + 1, T)} has a non-finite entry ${v} at ${i}`);
        outc[(b * T + t) * nt + i] = v;
      }
    }
  }
  return { C: outC, c: outc };
}

function where(k: number, ndim: number, T: number): string {
  if (ndim === 2) return '';
  if (ndim === 3) return `[t=${k}]`;
  return `[b=${Math.floor(k / T)}, t=${k % T}]`;
}

/** Values of an FnCost at rows tau [N*nt] (under noGrad), checked to be [N]. */
export function fnCostValues(cost: FnCost, tau: Float64Array, nt: number, params: readonly Tensor[], ctx: StepContext): Float64Array {
  const N = ctx.rows;
  const y = noGrad(() => cost.fn(new Tensor(tau, [N, nt]), params, ctx));
  if (y.size !== N) throw new ShapeError(`mpc: cost '${cost.name}' returned shape ${fmtShape(y.shape)} for ${N} rows, expected [${N}]`);
  return y.data;
}

/**
 * Quadratises an FnCost at rows tau [N*nt]: values l [N], gradients [N*nt] and Hessians
 * [N*nt*nt] from the tape (one reverse pass for the gradient, nt for the Hessian).
 */
export function quadratizeFnCost(
  cost: FnCost,
  tau: Float64Array,
  nt: number,
  params: readonly Tensor[],
  ctx: StepContext,
  grad: Float64Array,
  hess: Float64Array,
): Float64Array {
  const N = ctx.rows;
  return withGradMode(true, () => {
    const tl = new Tensor(tau, [N, nt]).requireGrad();
    const consts = params.map((p) => p.detach());
    const l = cost.fn(tl, consts, ctx);
    if (l.size !== N) throw new ShapeError(`mpc: cost '${cost.name}' returned shape ${fmtShape(l.shape)} for ${N} rows, expected [${N}]`);
    grad.fill(0, 0, N * nt);
    hess.fill(0, 0, N * nt * nt);
    if (!l.requiresGrad) return l.data;
    const [g] = gradients([sum(l)], [tl], undefined, { createGraph: true, allowUnused: true });
    if (!g) return l.data;
    grad.set(g.data);
    if (!g.requiresGrad) return l.data;
    for (let j = 0; j < nt; j++) {
      const seed = new Float64Array(N * nt);
      for (let r = 0; r < N; r++) seed[r * nt + j] = 1;
      const [h] = gradients([g], [tl], [new Tensor(seed, g.shape)], { allowUnused: true });
      if (!h) continue;
      for (let r = 0; r < N; r++) for (let i = 0; i < nt; i++) hess[r * nt * nt + j * nt + i] = h.data[r * nt + i]!;
    }
    return l.data;
  });
}
