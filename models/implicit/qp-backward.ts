// Backward pass of the QP layer (models/implicit): differentiates the KKT conditions at the
// solution (OptNet, Amos & Kolter 2017) with the active-set KKT factors that the forward
// polish computed (qp-ipm.ts), giving the vector-Jacobian products for Q, p, G, h, A, b.
import { factorActiveSet, solveActiveSet, type ActiveSetFactors, type IpmResult, type QPData } from './qp-ipm.ts';

/**
 * Which gradients to form and where they go. Each buffer is null when its input does not
 * need a gradient; `batched*` says whether the input has a batch axis (a shared input's
 * gradient is the sum over the batch).
 */
export interface QPGradBuffers {
  Q: Float64Array | null;
  p: Float64Array | null;
  G: Float64Array | null;
  h: Float64Array | null;
  A: Float64Array | null;
  b: Float64Array | null;
  batchedQ: boolean;
  batchedP: boolean;
  batchedG: boolean;
  batchedH: boolean;
  batchedA: boolean;
  batchedB: boolean;
}

/**
 * Adds batch item k's contribution to the gradients. The KKT conditions
 * Qx + p + G'lambda + A'nu = 0, lambda_i (Gx - h)_i = 0, Ax = b, differentiated at a strictly
 * complementary solution, reduce to the symmetric active-set system
 *   [Q G_a' A'; G_a 0 0; A 0 0] (w_x, u, w_nu) = (g_x, g_lambda[active], g_nu)
 * (inactive multipliers are locally constant at 0, so their upstream gradients drop out), and
 *   dL/dp = -w_x, dL/dQ = -(w_x x' + x w_x') / 2, dL/dh_a = u, dL/dG_a = -(lambda_a w_x' + u x'),
 *   dL/db = w_nu, dL/dA = -(nu w_x' + w_nu x'); rows of inactive constraints get 0.
 * `factors` are reused from the forward pass when present. Returns false when the
 * active-set system could not be factored at all (the gradient is then left at 0).
 */
export function accumulateItemGrad(
  k: number,
  d: QPData,
  res: IpmResult,
  gx: Float64Array | null,
  gl: Float64Array | null,
  gn: Float64Array | null,
  out: QPGradBuffers,
): boolean {
  const { n, m, pe } = d;
  let f: ActiveSetFactors | null = res.factors;
  if (!f) {
    f = factorActiveSet(d, res.active);
    if (!f) return false;
  }
  const { active, N } = f;
  const na = active.length;
  const rhs = new Float64Array(N);
  if (gx) for (let j = 0; j < n; j++) rhs[j] = gx[k * n + j]!;
  if (gl) for (let a = 0; a < na; a++) rhs[n + a] = gl[k * m + active[a]!]!;
  if (gn) for (let r = 0; r < pe; r++) rhs[n + na + r] = gn[k * pe + r]!;
  let any = false;
  for (let i = 0; i < N; i++) if (rhs[i] !== 0) any = true;
  if (!any) return true;
  const w = new Float64Array(N);
  solveActiveSet(d, f, rhs, w);
  const x = res.x;
  const lambda = res.lambda;
  const nu = res.nu;
  if (out.p) {
    const o = out.batchedP ? k * n : 0;
    for (let j = 0; j < n; j++) out.p[o + j]! -= w[j]!;
  }
  if (out.Q) {
    const o = out.batchedQ ? k * n * n : 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i]!;
      const xi = x[i]!;
      for (let j = 0; j < n; j++) out.Q[o + i * n + j]! -= 0.5 * (wi * x[j]! + xi * w[j]!);
    }
  }
  if (out.h) {
    const o = out.batchedH ? k * m : 0;
    for (let a = 0; a < na; a++) out.h[o + active[a]!]! += w[n + a]!;
  }
  if (out.G) {
    const o = out.batchedG ? k * m * n : 0;
    for (let a = 0; a < na; a++) {
      const i = active[a]!;
      const li = lambda[i]!;
      const ua = w[n + a]!;
      const row = o + i * n;
      for (let j = 0; j < n; j++) out.G[row + j]! -= li * w[j]! + ua * x[j]!;
    }
  }
  if (out.b) {
    const o = out.batchedB ? k * pe : 0;
    for (let r = 0; r < pe; r++) out.b[o + r]! += w[n + na + r]!;
  }
  if (out.A) {
    const o = out.batchedA ? k * pe * n : 0;
    for (let r = 0; r < pe; r++) {
      const nr = nu[r]!;
      const wr = w[n + na + r]!;
      const row = o + r * n;
      for (let j = 0; j < n; j++) out.A[row + j]! -= nr * w[j]! + wr * x[j]!;
    }
  }
  return true;
}
