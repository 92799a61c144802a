// The unrolled backward of the MPC layer (mpc/), for comparison with the implicit one: the
// iLQR iterations are replayed on the core's tape with the decisions of the raw solve held
// fixed (step sizes, regularisation, box-QP free sets, forward clamps), so gradients flow
// through every linearisation, Riccati pass and rollout. The replayed solve uses Gauss-Newton
// iLQR steps (as mpc.pytorch). Costly; exact for the iterate returned.
import {
  Tensor,
  add,
  concat,
  expandDims,
  gradients,
  matmul,
  matrixTranspose,
  mul,
  reshape,
  slice,
  squeeze,
  stack,
  sub,
  sum,
  where,
  withGradMode,
} from '../sim/core/index.ts';
import { expandQuadCost } from './cost.ts';
import { makeContext, type StepContext } from './dynamics.ts';
import { MpcError } from './errors.ts';
import { solveIlqr } from './ilqr.ts';
import type { MpcOptions, MpcProblem, MpcResult, PreparedProblem } from './mpc.ts';
import { spdSolve } from './spdsolve.ts';

const constant = (d: Float64Array, shape: readonly number[]): Tensor => new Tensor(d, shape);

/** Row-context of all items at time t (or a stack of times, t-major). */
function ctxFor(B: number, T: number, times: number[]): StepContext {
  const N = B * times.length;
  const ts = new Int32Array(N);
  const its = new Int32Array(N);
  times.forEach((t, j) => {
    for (let b = 0; b < B; b++) {
      ts[j * B + b] = t;
      its[j * B + b] = b;
    }
  });
  return makeContext(ts, its, T, B);
}

/** MPC with the unrolled backward (see `mpc` with `backward: 'unrolled'`). */
export function unrolledMpc(p: MpcProblem, prep: PreparedProblem, opts: MpcOptions): MpcResult {
  const { B, T, n, m } = prep.dims;
  const nt = n + m;
  const dyn = p.dynamics;
  const cost = p.cost;
  const theta = dyn.params;
  const phi = cost.kind === 'fn' ? cost.params : [];
  if (dyn.firstOrderOnly)
    throw new MpcError(
      `mpc: the unrolled backward differentiates the dynamics' Jacobians, but dynamics '${dyn.name}' is first-order only; use backward: 'implicit'`,
    );
  const quad = cost.kind === 'quad' ? expandQuadCost(cost, B, T, nt) : undefined;
  const sol = solveIlqr(
    {
      dims: prep.dims,
      dynamics: dyn,
      dynParams: theta.map((t) => t.detach()),
      cost,
      costParams: phi.map((t) => t.detach()),
      quad,
      x_init: p.x_init.data,
      u_lower: prep.lower,
      u_upper: prep.upper,
      u_init: prep.uInit,
    },
    { ...opts, trace: true, hessian: 'gauss-newton' },
  );
  if (opts.raiseOnNonConverged && sol.converged.some((c) => !c)) {
    const b = sol.converged.indexOf(false);
    throw new MpcError(`mpc: batch item ${b} did not converge: ${sol.message[b]}`, b);
  }
  const trace = sol.trace!;
  const lo = (t: number): Tensor => constant(pick(prep.lower, B, T, m, t), [B, m]);
  const hi = (t: number): Tensor => constant(pick(prep.upper, B, T, m, t), [B, m]);

  return withGradMode(true, () => {
    // C_t [B, nt, nt] (symmetrised) and c_t [B, nt] as tensors on the tape
    const Ct: Tensor[] = [];
    const ct: Tensor[] = [];
    if (cost.kind === 'quad') {
      const C4 = cost.C.ndim === 2 ? expandDims(expandDims(cost.C, 0), 0) : cost.C.ndim === 3 ? expandDims(cost.C, 0) : cost.C;
      const c3 = cost.c.ndim === 1 ? expandDims(expandDims(cost.c, 0), 0) : cost.c.ndim === 2 ? expandDims(cost.c, 0) : cost.c;
      const Bc = C4.shape[0]!;
      const Tc = C4.shape[1]!;
      for (let t = 0; t < T; t++) {
        const Cs = slice(C4, [0, Tc === 1 ? 0 : t, 0, 0], [Bc, 1, nt, nt]);
        const Csym = mul(0.5, add(Cs, matrixTranspose(Cs)));
        Ct.push(add(reshape(Csym, [Bc, nt, nt]), new Tensor(new Float64Array(B * nt * nt), [B, nt, nt])));
        const Bcc = c3.shape[0]!;
        const cs = slice(c3, [0, c3.shape[1] === 1 ? 0 : t, 0], [Bcc, 1, nt]);
        ct.push(add(reshape(cs, [Bcc, nt]), new Tensor(new Float64Array(B * nt), [B, nt])));
      }
    }
    const step = (x: Tensor, u: Tensor, t: number): Tensor => dyn.step(x, u, theta, ctxFor(B, T, [t]));

    // initial controls (clamped constants) and rollout
    let u: Tensor[] = [];
    const u0 = prep.uInit ?? new Float64Array(B * T * m);
    for (let t = 0; t < T; t++) {
      const d = pick(u0, B, T, m, t);
      const cl = pick8(trace.clampInit, B, T, m, t);
      for (let i = 0; i < d.length; i++) d[i] = cl[i] === -1 ? prep.lower[idx(B, T, m, t, i)]! : cl[i] === 1 ? prep.upper[idx(B, T, m, t, i)]! : d[i]!;
      u.push(constant(d, [B, m]));
    }
    let x: Tensor[] = [p.x_init];
    for (let t = 0; t < T - 1; t++) x.push(step(x[t]!, u[t]!, t));

    for (const s of trace.steps) {
      const stepping = new Float64Array(B);
      let any = false;
      for (let b = 0; b < B; b++) {
        stepping[b] = s.alpha[b]! > 0 ? 1 : 0;
        any ||= s.alpha[b]! > 0;
      }
      if (!any) continue;
      // linearisation on the tape (createGraph), all steps t < T-1 at once (t-major rows)
      const F: Tensor[] = [];
      if (T > 1) {
        const times = Array.from({ length: T - 1 }, (_, t) => t);
        const Xs = concat(x.slice(0, T - 1), 0);
        const Us = concat(u.slice(0, T - 1), 0);
        const y = dyn.step(Xs, Us, theta, ctxFor(B, T, times));
        const rows: Tensor[] = [];
        for (let i = 0; i < n; i++) {
          const seed = new Float64Array(y.size);
          for (let r = 0; r < y.shape[0]!; r++) seed[r * n + i] = 1;
          const [gx, gu] = gradients([y], [Xs, Us], [constant(seed, y.shape)], { createGraph: true, allowUnused: true });
          rows.push(concat([gx ?? constant(new Float64Array(Xs.size), Xs.shape), gu ?? constant(new Float64Array(Us.size), Us.shape)], 1));
        }
        const Fall = stack(rows, 1); // [(T-1) B, n, nt]
        for (let t = 0; t < T - 1; t++) F.push(slice(Fall, [t * B, 0, 0], [B, n, nt]));
      }
      // cost derivatives at the iterate
      const H: Tensor[] = [];
      const q: Tensor[] = [];
      if (cost.kind === 'quad') {
        for (let t = 0; t < T; t++) {
          H.push(Ct[t]!);
          q.push(add(squeeze(matmul(Ct[t]!, expandDims(concat([x[t]!, u[t]!], 1), 2)), 2), ct[t]!));
        }
      } else {
        const times = Array.from({ length: T }, (_, t) => t);
        const tau = concat(
          times.map((t) => concat([x[t]!, u[t]!], 1)),
          0,
        );
        const l = cost.fn(tau, phi, ctxFor(B, T, times));
        const [g] = gradients([sum(l)], [tau], undefined, { createGraph: true, allowUnused: true });
        const gg = g ?? constant(new Float64Array(tau.size), tau.shape);
        const hrows: Tensor[] = [];
        for (let j = 0; j < nt; j++) {
          const seed = new Float64Array(gg.size);
          for (let r = 0; r < gg.shape[0]!; r++) seed[r * nt + j] = 1;
          const [h] = gg.requiresGrad ? gradients([gg], [tau], [constant(seed, gg.shape)], { createGraph: true, allowUnused: true }) : [null];
          hrows.push(h ?? constant(new Float64Array(tau.size), tau.shape));
        }
        const Hall = stack(hrows, 1);
        for (let t = 0; t < T; t++) {
          H.push(slice(Hall, [t * B, 0, 0], [B, nt, nt]));
          q.push(slice(gg, [t * B, 0], [B, nt]));
        }
      }
      // Riccati pass on the tape with the recorded free sets and regularisation
      const K: Tensor[] = new Array(T);
      const k: Tensor[] = new Array(T);
      let V: Tensor | null = null;
      let v: Tensor | null = null;
      for (let t = T - 1; t >= 0; t--) {
        let Q = H[t]!;
        let qv = q[t]!;
        if (t < T - 1 && V && v) {
          const Ft = F[t]!;
          const FtT = matrixTranspose(Ft);
          Q = add(Q, matmul(FtT, matmul(V, Ft)));
          qv = add(qv, squeeze(matmul(FtT, expandDims(v, 2)), 2));
        }
        const Qxx = slice(Q, [0, 0, 0], [B, n, n]);
        const Qxu = slice(Q, [0, 0, n], [B, n, m]);
        const Qux = slice(Q, [0, n, 0], [B, m, n]);
        const Quu = slice(Q, [0, n, n], [B, m, m]);
        const qx = slice(qv, [0, 0], [B, n]);
        const qu = slice(qv, [0, n], [B, m]);
        // masks: D = diag(free), E = I - D; k_c = (u_lower - u) or (u_upper - u) on clamped controls
        const Dd = new Float64Array(B * m * m);
        const Ed = new Float64Array(B * m * m);
        const loSel = new Float64Array(B * m);
        const hiSel = new Float64Array(B * m);
        const muI = new Float64Array(B * m * m);
        const keep = new Float64Array(B * m * m);
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < m; i++) {
            const f = s.free[(b * T + t) * m + i]!;
            const st = stepping[b]!;
            Dd[(b * m + i) * m + i] = st && f === 0 ? 1 : 0;
            Ed[(b * m + i) * m + i] = st && f === 0 ? 0 : 1;
            loSel[b * m + i] = st && f === -1 ? 1 : 0;
            hiSel[b * m + i] = st && f === 1 ? 1 : 0;
            muI[(b * m + i) * m + i] = s.mu[b]!;
            for (let j = 0; j < m; j++) keep[(b * m + i) * m + j] = st ? 1 : 0;
          }
        }
        const D = constant(Dd, [B, m, m]);
        const E = constant(Ed, [B, m, m]);
        const kc = add(mul(constant(loSel, [B, m]), sub(lo(t), u[t]!)), mul(constant(hiSel, [B, m]), sub(hi(t), u[t]!)));
        const Mreg = add(matmul(D, matmul(add(Quu, constant(muI, [B, m, m])), D)), E);
        const M = where(constant(keep, [B, m, m]), Mreg, eyeB(B, m));
        const rk = add(mul(-1, matmul(D, expandDims(add(qu, squeeze(matmul(Quu, expandDims(kc, 2)), 2)), 2))), expandDims(kc, 2));
        const rK = mul(-1, matmul(D, Qux));
        const sol2 = spdSolve(M, concat([rK, rk], 2));
        const Kt = slice(sol2, [0, 0, 0], [B, m, n]);
        const kt = squeeze(slice(sol2, [0, 0, n], [B, m, 1]), 2);
        K[t] = Kt;
        k[t] = kt;
        const KT = matrixTranspose(Kt);
        V = add(add(Qxx, matmul(KT, matmul(Quu, Kt))), add(matmul(KT, Qux), matmul(Qxu, Kt)));
        V = mul(0.5, add(V, matrixTranspose(V)));
        const ke = expandDims(kt, 2);
        v = add(qx, squeeze(add(add(matmul(KT, matmul(Quu, ke)), matmul(KT, expandDims(qu, 2))), matmul(Qxu, ke)), 2));
      }
      // forward pass with the recorded step sizes and clamps
      const alpha = constant(Float64Array.from(s.alpha), [B, 1]);
      const stepMask = new Float64Array(B * m);
      const stepMaskX = new Float64Array(B * n);
      for (let b = 0; b < B; b++) {
        stepMask.fill(stepping[b]!, b * m, (b + 1) * m);
        stepMaskX.fill(stepping[b]!, b * n, (b + 1) * n);
      }
      const sm = constant(stepMask, [B, m]);
      const smx = constant(stepMaskX, [B, n]);
      const xn: Tensor[] = [p.x_init];
      const un: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const dx = expandDims(sub(xn[t]!, x[t]!), 2);
        const raw = add(add(u[t]!, mul(alpha, k[t]!)), squeeze(matmul(K[t]!, dx), 2));
        const cl = pick8(s.clamp, B, T, m, t);
        const atLo = Float64Array.from(cl, (c) => (c === -1 ? 1 : 0));
        const atHi = Float64Array.from(cl, (c) => (c === 1 ? 1 : 0));
        const ucl = where(constant(atLo, [B, m]), lo(t), where(constant(atHi, [B, m]), hi(t), raw));
        un.push(where(sm, ucl, u[t]!));
        if (t < T - 1) xn.push(where(smx, step(xn[t]!, un[t]!, t), x[t + 1]!));
      }
      x = xn;
      u = un;
    }
    const X = stack(x, 1);
    const U = stack(u, 1);
    const objective = objectiveOnTape(p, X, U, B, T, n, m, Ct, ct);
    return {
      x: X,
      u: U,
      objective,
      converged: sol.converged,
      iterations: sol.iterations,
      status: sol.status,
      message: sol.message,
      stepNorm: sol.stepNorm,
      backwardInfo: { runs: 0, gaussNewtonFallback: [] },
    };
  });
}

function objectiveOnTape(p: MpcProblem, X: Tensor, U: Tensor, B: number, T: number, n: number, m: number, Ct: Tensor[], ct: Tensor[]): Tensor {
  const nt = n + m;
  const tau = concat([X, U], 2); // [B, T, nt]
  if (p.cost.kind === 'quad') {
    const terms: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const tt = reshape(slice(tau, [0, t, 0], [B, 1, nt]), [B, nt]);
      const Ctau = squeeze(matmul(Ct[t]!, expandDims(tt, 2)), 2);
      terms.push(sum(mul(tt, add(mul(0.5, Ctau), ct[t]!)), 1));
    }
    return sum(stack(terms, 1), 1);
  }
  const rows = reshape(tau, [B * T, nt]);
  const times = new Int32Array(B * T);
  const items = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      times[b * T + t] = t;
      items[b * T + t] = b;
    }
  }
  const l = p.cost.fn(rows, p.cost.params, makeContext(times, items, T, B));
  return sum(reshape(l, [B, T]), 1);
}

function idx(_B: number, T: number, m: number, t: number, r: number): number {
  const b = Math.floor(r / m);
  return (b * T + t) * m + (r % m);
}

function pick(a: Float64Array, B: number, T: number, m: number, t: number): Float64Array {
  const out = new Float64Array(B * m);
  for (let b = 0; b < B; b++) for (let i = 0; i < m; i++) out[b * m + i] = a[(b * T + t) * m + i]!;
  return out;
}

function pick8(a: Int8Array, B: number, T: number, m: number, t: number): Int8Array {
  const out = new Int8Array(B * m);
  for (let b = 0; b < B; b++) for (let i = 0; i < m; i++) out[b * m + i] = a[(b * T + t) * m + i]!;
  return out;
}

function eyeB(B: number, m: number): Tensor {
  const d = new Float64Array(B * m * m);
  for (let b = 0; b < B; b++) for (let i = 0; i < m; i++) d[(b * m + i) * m + i] = 1;
  return new Tensor(d, [B, m, m]);
}
