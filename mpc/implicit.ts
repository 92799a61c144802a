// The implicit backward of the MPC layer (mpc/), after Amos et al. (NeurIPS 2018): at the
// converged solution, with the active control bounds held fixed, one more LQR solve of the
// same structure (lqr.ts) gives the derivatives with respect to x_init, C, c, the dynamics
// parameters theta and an FnCost's parameters. The dynamics' second-order terms come from the
// tape (createGraph), or from central differences of VJPs for first-order-only dynamics.
import { Tensor, gradients, sum, withGradMode } from '../sim/core/index.ts';
import { quadratizeFnCost, type Cost } from './cost.ts';
import { FD_STEP, dynamicsVjp, fdLagrangianHessian, linearize, makeContext, type Dynamics, type StepContext } from './dynamics.ts';
import { MpcError } from './errors.ts';
import type { IlqrSolution } from './ilqr.ts';
import { RiccatiWork, costate, lqrRollout, riccati } from './lqr.ts';
import type { MpcOptions, PreparedProblem } from './mpc.ts';

/** What the backward needs from the forward solve. */
export interface BackwardState {
  prep: PreparedProblem;
  sol: IlqrSolution;
  quad?: { C: Float64Array; c: Float64Array };
  dyn: Dynamics;
  cost: Cost;
  x_init: Tensor;
  dynParams: readonly Tensor[];
  costParams: readonly Tensor[];
  opts: MpcOptions;
  /** Filled by the backward (shared with the MpcResult). */
  info: BackwardInfo;
}

/** What the implicit backward did, per call (the MpcResult's `backwardInfo`). */
export interface BackwardInfo {
  /** Number of backward passes run through this solve. */
  runs: number;
  /** Batch items whose exact reduced Hessian was not positive definite and that used the Gauss-Newton one instead. */
  gaussNewtonFallback: number[];
}

/** Sums a [B, T, K] array over the leading dimensions the input shape does not have. */
function reduceBT(G: Float64Array, B: number, T: number, shape: readonly number[], tail: number): Tensor {
  const K = G.length / (B * T);
  const lead = shape.length - tail;
  if (lead === 2) return new Tensor(G, shape);
  const out = new Float64Array(lead === 1 ? T * K : K);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * K;
      const dst = lead === 1 ? t * K : 0;
      for (let i = 0; i < K; i++) out[dst + i]! += G[src + i]!;
    }
  }
  return new Tensor(out, shape);
}

/** Rows (item-major) of all items and the first `steps` time steps. */
function rowsContext(B: number, T: number, steps: number): StepContext {
  const N = B * steps;
  const times = new Int32Array(N);
  const items = new Int32Array(N);
  for (let b = 0, r = 0; b < B; b++) {
    for (let t = 0; t < steps; t++, r++) {
      times[r] = t;
      items[r] = b;
    }
  }
  return makeContext(times, items, T, B);
}

/**
 * The dynamics' second-order pieces at the solution, over rows (b, t < T-1) with costates
 * lambda_{t+1}: the Hessian term d2(lambda' f)/dtau2 and the parameter gradient
 * d/dtheta [dlambda' f(tau, theta) + lambda' F(theta) dtau].
 */
interface SecondOrder {
  /** S [N, nt, nt]. */
  hessian(): Float64Array;
  /** Gradients for the parameters flagged in `want` (rows: dx [N*n], du [N*m], dlambda_{t+1} [N*n]). */
  theta(dx: Float64Array, du: Float64Array, dl: Float64Array, want: readonly boolean[]): (Tensor | null)[];
}

/** Second-order pieces from the tape: y = f(x, u, theta), v = J' lambda with createGraph. */
function tapeSecondOrder(
  dyn: Dynamics,
  xr: Float64Array,
  ur: Float64Array,
  lam: Float64Array,
  params: readonly Tensor[],
  ctx: StepContext,
  needTheta: readonly boolean[],
): SecondOrder {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  const nt = n + m;
  const g = withGradMode(true, () => {
    const xl = new Tensor(xr, [N, n]).requireGrad();
    const ul = new Tensor(ur, [N, m]).requireGrad();
    const thetas = params.map((p, i) => (needTheta[i] ? new Tensor(p.data, p.shape).requireGrad() : p.detach()));
    const y = dyn.step(xl, ul, thetas, ctx);
    if (!y.requiresGrad) return { xl, ul, thetas, y, vx: null, vu: null };
    const [vx, vu] = gradients([y], [xl, ul], [new Tensor(lam, y.shape)], { createGraph: true, allowUnused: true });
    return { xl, ul, thetas, y, vx: vx ?? null, vu: vu ?? null };
  });
  return {
    hessian() {
      const S = new Float64Array(N * nt * nt);
      const outs = [g.vx, g.vu].filter((v): v is Tensor => !!v && v.requiresGrad);
      if (outs.length === 0) return S;
      withGradMode(true, () => {
        for (let j = 0; j < nt; j++) {
          const seeds = outs.map((o) => {
            const d = new Float64Array(o.size);
            const w = o.shape[1]!;
            const col = o === g.vx ? j : j - n;
            if (col >= 0 && col < w) for (let r = 0; r < N; r++) d[r * w + col] = 1;
            return new Tensor(d, o.shape);
          });
          const [hx, hu] = gradients(outs, [g.xl, g.ul], seeds, { allowUnused: true });
          for (let r = 0; r < N; r++) {
            const o = (r * nt + j) * nt;
            if (hx) for (let i = 0; i < n; i++) S[o + i] = hx.data[r * n + i]!;
            if (hu) for (let i = 0; i < m; i++) S[o + n + i] = hu.data[r * m + i]!;
          }
        }
      });
      return S;
    },
    theta(dx, du, dl, want) {
      const wanted = g.thetas.filter((_, i) => want[i]);
      if (wanted.length === 0) return g.thetas.map(() => null);
      const outs: Tensor[] = [];
      const seeds: Tensor[] = [];
      if (g.y.requiresGrad) {
        outs.push(g.y);
        seeds.push(new Tensor(dl, g.y.shape));
      }
      if (g.vx?.requiresGrad) {
        outs.push(g.vx);
        seeds.push(new Tensor(dx, g.vx.shape));
      }
      if (g.vu?.requiresGrad) {
        outs.push(g.vu);
        seeds.push(new Tensor(du, g.vu.shape));
      }
      const gw = outs.length ? withGradMode(true, () => gradients(outs, wanted, seeds, { allowUnused: true })) : [];
      return g.thetas.map((t, i) => {
        if (!want[i]) return null;
        const gi = gw[wanted.indexOf(t)];
        return new Tensor(gi ? new Float64Array(gi.data) : new Float64Array(t.size), t.shape);
      });
    },
  };
}

/**
 * Second-order pieces for first-order-only dynamics, by central differences of VJPs (error
 * O(h^2), h = 1e-5 (1 + |tau|)): the Hessian column j is (J(tau + h e_j)' lambda -
 * J(tau - h e_j)' lambda) / 2h (2 nt VJPs), and the theta term lambda' dF/dtheta dtau is the
 * difference of two theta-VJPs at tau +- h dtau.
 */
function fdSecondOrder(dyn: Dynamics, xr: Float64Array, ur: Float64Array, lam: Float64Array, params: readonly Tensor[], ctx: StepContext): SecondOrder {
  const N = ctx.rows;
  const n = dyn.nx;
  const m = dyn.nu;
  const nt = n + m;
  return {
    hessian() {
      const S = new Float64Array(N * nt * nt);
      fdLagrangianHessian(dyn, xr, ur, params, ctx, lam, S);
      return S;
    },
    theta(dx, du, dl, want) {
      if (!want.some((w) => w)) return params.map(() => null);
      const g1 = dynamicsVjp(dyn, xr, ur, params, ctx, dl, want).gtheta;
      const xp = new Float64Array(xr);
      const xm = new Float64Array(xr);
      const up = new Float64Array(ur);
      const um = new Float64Array(ur);
      const w = new Float64Array(N * n);
      for (let r = 0; r < N; r++) {
        let dmax = 0;
        let tmax = 0;
        for (let i = 0; i < n; i++) {
          dmax = Math.max(dmax, Math.abs(dx[r * n + i]!));
          tmax = Math.max(tmax, Math.abs(xr[r * n + i]!));
        }
        for (let i = 0; i < m; i++) {
          dmax = Math.max(dmax, Math.abs(du[r * m + i]!));
          tmax = Math.max(tmax, Math.abs(ur[r * m + i]!));
        }
        if (dmax === 0) continue;
        const s = (FD_STEP * (1 + tmax)) / dmax;
        for (let i = 0; i < n; i++) {
          xp[r * n + i]! += s * dx[r * n + i]!;
          xm[r * n + i]! -= s * dx[r * n + i]!;
          w[r * n + i] = lam[r * n + i]! / (2 * s);
        }
        for (let i = 0; i < m; i++) {
          up[r * m + i]! += s * du[r * m + i]!;
          um[r * m + i]! -= s * du[r * m + i]!;
        }
      }
      const gp = dynamicsVjp(dyn, xp, up, params, ctx, w, want).gtheta;
      const gm = dynamicsVjp(dyn, xm, um, params, ctx, w, want).gtheta;
      return params.map((p, i) => {
        if (!want[i]) return null;
        const out = new Float64Array(p.size);
        for (let k = 0; k < p.size; k++) out[k] = g1[i]![k]! + gp[i]![k]! - gm[i]![k]!;
        return new Tensor(out, p.shape);
      });
    },
  };
}

/** dL/dphi of an FnCost = d/dphi sum_rows [dtau . grad_tau l(tau, phi) + gObj_b l(tau, phi)]. */
function costParamGradients(
  cost: Extract<Cost, { kind: 'fn' }>,
  params: readonly Tensor[],
  tau: Float64Array,
  dtau: Float64Array,
  gObj: Float64Array | undefined,
  ctx: StepContext,
  nt: number,
  T: number,
): (Tensor | null)[] {
  const N = ctx.rows;
  return withGradMode(true, () => {
    const tl = new Tensor(tau, [N, nt]).requireGrad();
    const phis = params.map((p) => (p.requiresGrad ? new Tensor(p.data, p.shape).requireGrad() : p.detach()));
    const wanted = phis.filter((p) => p.requiresGrad);
    const l = cost.fn(tl, phis, ctx);
    if (!l.requiresGrad) return phis.map((p) => (p.requiresGrad ? new Tensor(new Float64Array(p.size), p.shape) : null));
    const [gl] = gradients([sum(l)], [tl], undefined, { createGraph: true, allowUnused: true });
    const outs: Tensor[] = [];
    const seeds: Tensor[] = [];
    if (gl?.requiresGrad) {
      outs.push(gl);
      seeds.push(new Tensor(dtau, gl.shape));
    }
    if (gObj) {
      const w = new Float64Array(N);
      for (let r = 0; r < N; r++) w[r] = gObj[Math.floor(r / T)]!;
      outs.push(l);
      seeds.push(new Tensor(w, l.shape));
    }
    const gw = outs.length ? gradients(outs, wanted, seeds, { allowUnused: true }) : [];
    return phis.map((p) => {
      if (!p.requiresGrad) return null;
      const gi = gw[wanted.indexOf(p)];
      return new Tensor(gi ? new Float64Array(gi.data) : new Float64Array(p.size), p.shape);
    });
  });
}

/**
 * The implicit backward. At the solution (tau, lambda) with the active bounds pinned, solve the
 * LQR  min sum 1/2 dtau' H dtau + g' dtau  s.t. dx_{t+1} = F_t dtau_t, dx_0 = 0  (g: the incoming
 * gradient), with H = C (+ lambda_{t+1}' d2f_t in the default exact mode; mpc.pytorch's
 * Gauss-Newton form drops it). Then dL/dx_init = dlambda_0, dL/dc_t = dtau_t,
 * dL/dC_t = 1/2 (dtau tau' + tau dtau'), and
 * dL/dtheta = d/dtheta sum_t [dlambda_{t+1}' f(tau_t, theta) + lambda_{t+1}' F_t(theta) dtau_t].
 * `want` flags the op inputs ([x_init, (C, c,) theta..., phi...]) that need a gradient; `off`
 * is the index of the first dynamics parameter.
 */
export function implicitBackward(st: BackwardState, gs: readonly (Tensor | null)[], want: boolean[], off: number): (Tensor | null)[] {
  const { B, T, n, m } = st.prep.dims;
  const nt = n + m;
  const { x, u } = st.sol;
  const dims = st.prep.dims;
  const exact = (st.opts.backward ?? 'implicit') === 'implicit';
  const activeTol = st.opts.activeTol ?? 1e-9;
  const nDyn = st.dynParams.length;
  const gX = gs[0]?.data;
  const gU = gs[1]?.data;
  const gObj = gs[2]?.data;

  // active set, linearisation and cost derivatives at the solution
  const pinned = new Uint8Array(B * T * m);
  for (let i = 0; i < B * T * m; i++) {
    const lo = st.prep.lower[i]!;
    const hi = st.prep.upper[i]!;
    pinned[i] = Math.abs(u[i]! - lo) <= activeTol * (1 + Math.abs(lo)) || Math.abs(u[i]! - hi) <= activeTol * (1 + Math.abs(hi)) ? 1 : 0;
  }
  const Nd = B * (T - 1);
  const dctx = rowsContext(B, T, T - 1);
  const xr = new Float64Array(Nd * n);
  const ur = new Float64Array(Nd * m);
  for (let b = 0, r = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++, r++) {
      xr.set(x.subarray((b * T + t) * n, (b * T + t + 1) * n), r * n);
      ur.set(u.subarray((b * T + t) * m, (b * T + t + 1) * m), r * m);
    }
  }
  const F = new Float64Array(B * T * n * nt);
  if (T > 1) {
    const Fr = new Float64Array(Nd * n * nt);
    linearize(st.dyn, xr, ur, st.dynParams, dctx, Fr);
    for (let b = 0; b < B; b++) F.set(Fr.subarray(b * (T - 1) * n * nt, (b + 1) * (T - 1) * n * nt), b * T * n * nt);
  }
  const tau = new Float64Array(B * T * nt);
  for (let r = 0; r < B * T; r++) {
    tau.set(x.subarray(r * n, r * n + n), r * nt);
    tau.set(u.subarray(r * m, r * m + m), r * nt + n);
  }
  const gradL = new Float64Array(B * T * nt);
  const H = new Float64Array(B * T * nt * nt);
  const cctx = rowsContext(B, T, T);
  if (st.quad) {
    H.set(st.quad.C);
    for (let r = 0; r < B * T; r++) {
      for (let i = 0; i < nt; i++) {
        let s = st.quad.c[r * nt + i]!;
        for (let j = 0; j < nt; j++) s += st.quad.C[(r * nt + i) * nt + j]! * tau[r * nt + j]!;
        gradL[r * nt + i] = s;
      }
    }
  } else {
    quadratizeFnCost(st.cost as Extract<Cost, { kind: 'fn' }>, tau, nt, st.costParams, cctx, gradL, H);
  }
  // incoming gradient g, costate lambda
  const g = new Float64Array(B * T * nt);
  for (let r = 0; r < B * T; r++) {
    const b = Math.floor(r / T);
    for (let i = 0; i < n; i++) g[r * nt + i] = (gX ? gX[r * n + i]! : 0) + (gObj ? gObj[b]! * gradL[r * nt + i]! : 0);
    for (let i = 0; i < m; i++) g[r * nt + n + i] = (gU ? gU[r * m + i]! : 0) + (gObj ? gObj[b]! * gradL[r * nt + n + i]! : 0);
  }
  const lambda = new Float64Array(B * T * n);
  for (let b = 0; b < B; b++) costate(dims, F, gradL, b, lambda);

  // the dynamics' second-order pieces at the solution (rows t < T-1, costates lambda_{t+1})
  const wantTheta = want.slice(off, off + nDyn);
  const needTheta = wantTheta.some((w) => w);
  let second: SecondOrder | null = null;
  let Hgn: Float64Array | null = null;
  if (T > 1 && (exact || needTheta)) {
    const lam = new Float64Array(Nd * n);
    for (let b = 0, r = 0; b < B; b++) for (let t = 0; t < T - 1; t++, r++) lam.set(lambda.subarray((b * T + t + 1) * n, (b * T + t + 2) * n), r * n);
    second = st.dyn.firstOrderOnly
      ? fdSecondOrder(st.dyn, xr, ur, lam, st.dynParams, dctx)
      : tapeSecondOrder(st.dyn, xr, ur, lam, st.dynParams, dctx, wantTheta);
    if (exact) {
      Hgn = H.slice();
      const S = second.hessian();
      for (let b = 0, r = 0; b < B; b++) {
        for (let t = 0; t < T - 1; t++, r++) {
          const o = (b * T + t) * nt * nt;
          for (let i = 0; i < nt * nt; i++) H[o + i]! += S[r * nt * nt + i]!;
        }
      }
    }
  }

  // the backward LQR with the active set pinned
  const K = new Float64Array(B * T * m * n);
  const k = new Float64Array(B * T * m);
  const free = new Uint8Array(B * T * m);
  const dV = new Float64Array(2 * B);
  const work = new RiccatiWork(dims);
  const args = { dims, H, q: g, F, mu: new Float64Array(B), pinned, K, k, free, dV };
  const dtau = new Float64Array(B * T * nt);
  const dlambda = new Float64Array(B * T * n);
  const r = new Float64Array(B * T * nt);
  st.info.runs++;
  for (let b = 0; b < B; b++) {
    let bad = riccati(args, b, work);
    if (bad >= 0 && Hgn && (st.opts.onIndefiniteBackward ?? 'gauss-newton') === 'gauss-newton') {
      // not a strict local minimum in the exact sense (non-converged, or a kink of the dynamics): Gauss-Newton for this item
      const o = b * T * nt * nt;
      H.set(Hgn.subarray(o, o + T * nt * nt), o);
      bad = riccati(args, b, work);
      if (bad < 0 && !st.info.gaussNewtonFallback.includes(b)) st.info.gaussNewtonFallback.push(b);
    }
    if (bad >= 0) {
      throw new MpcError(
        `mpc backward: the reduced Hessian is not positive definite at step ${bad} of batch item ${b} (${exact ? "with the dynamics' second-order term; onIndefiniteBackward: 'gauss-newton' falls back" : 'Q_uu of the free controls is singular'})${st.sol.converged[b] ? '' : '; this item did not converge: ' + st.sol.message[b]}`,
        b,
        bad,
      );
    }
    lqrRollout(dims, F, K, k, b, dtau);
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * nt;
      for (let i = 0; i < nt; i++) {
        let s = g[o + i]!;
        for (let j = 0; j < nt; j++) s += H[(o + i) * nt + j]! * dtau[o + j]!;
        r[o + i] = s;
      }
    }
    costate(dims, F, r, b, dlambda);
  }

  const grads: (Tensor | null)[] = new Array(want.length).fill(null);
  if (want[0]) {
    const gx0 = new Float64Array(B * n);
    for (let b = 0; b < B; b++) gx0.set(dlambda.subarray(b * T * n, b * T * n + n), b * n);
    grads[0] = new Tensor(gx0, st.x_init.shape);
  }
  if (st.cost.kind === 'quad') {
    if (want[1]) {
      const gC = new Float64Array(B * T * nt * nt);
      for (let rr = 0; rr < B * T; rr++) {
        const w = gObj ? gObj[Math.floor(rr / T)]! : 0;
        const o = rr * nt;
        for (let i = 0; i < nt; i++) {
          for (let j = 0; j < nt; j++)
            gC[(o + i) * nt + j] = 0.5 * (dtau[o + i]! * tau[o + j]! + tau[o + i]! * dtau[o + j]!) + 0.5 * w * tau[o + i]! * tau[o + j]!;
        }
      }
      grads[1] = reduceBT(gC, B, T, st.cost.C.shape, 2);
    }
    if (want[2]) {
      const gc = new Float64Array(B * T * nt);
      for (let rr = 0; rr < B * T; rr++) {
        const w = gObj ? gObj[Math.floor(rr / T)]! : 0;
        for (let i = 0; i < nt; i++) gc[rr * nt + i] = dtau[rr * nt + i]! + w * tau[rr * nt + i]!;
      }
      grads[2] = reduceBT(gc, B, T, st.cost.c.shape, 1);
    }
  }
  if (needTheta && second) {
    const dl = new Float64Array(Nd * n);
    const dx = new Float64Array(Nd * n);
    const du = new Float64Array(Nd * m);
    for (let b = 0, rr = 0; b < B; b++) {
      for (let t = 0; t < T - 1; t++, rr++) {
        const bt = b * T + t;
        dl.set(dlambda.subarray((bt + 1) * n, (bt + 2) * n), rr * n);
        dx.set(dtau.subarray(bt * nt, bt * nt + n), rr * n);
        du.set(dtau.subarray(bt * nt + n, (bt + 1) * nt), rr * m);
      }
    }
    const th = second.theta(dx, du, dl, wantTheta);
    for (let i = 0; i < nDyn; i++) if (wantTheta[i]) grads[off + i] = th[i] ?? null;
  } else if (needTheta) {
    for (let i = 0; i < nDyn; i++) if (wantTheta[i]) grads[off + i] = new Tensor(new Float64Array(st.dynParams[i]!.size), st.dynParams[i]!.shape);
  }
  const costWant = want.slice(off + nDyn);
  if (st.cost.kind === 'fn' && costWant.some((w) => w)) {
    const gphi = costParamGradients(st.cost, st.costParams, tau, dtau, gObj, cctx, nt, T);
    costWant.forEach((w, i) => {
      if (w) grads[off + nDyn + i] = gphi[i] ?? null;
    });
  }
  return grads;
}
