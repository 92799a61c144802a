// The LQR step of the MPC layer (mpc/), raw float64: the backward Riccati pass (with a box-QP
// per step for control limits, or with a fixed set of pinned controls for the implicit
// backward), the linear forward rollout, and the adjoint (costate) recursion. Names follow
// Amos et al. 2018 / mpc.pytorch: F (dynamics linearisation), C/H (cost Hessian), q (linear
// term in delta space), K, k (gains), V, v (value function).
import { cholFactor, cholSolve } from '../sim/linalg/dense.ts';
import { boxQP, boxQPWork } from './boxqp.ts';

/** Problem sizes: batch B, horizon T, state n, control m (tau = [x; u] has nt = n + m). */
export interface LqrDims {
  B: number;
  T: number;
  n: number;
  m: number;
}

/** Inputs and outputs of one Riccati pass; arrays are row-major [B, T, ...]. */
export interface RiccatiArgs {
  dims: LqrDims;
  /** Cost Hessian per step [B, T, nt, nt]. */
  H: Float64Array;
  /** Linear term per step [B, T, nt] (the gradient at the current iterate, delta space). */
  q: Float64Array;
  /** Dynamics Jacobians [A B] per step [B, T, n, nt] (steps 0..T-2 used). */
  F: Float64Array;
  /** Levenberg-Marquardt regularisation of Q_uu per batch item. */
  mu: Float64Array;
  /** Box on the step k (u_lower - u, u_upper - u) [B, T, m]: control limits by box-QP. */
  kLo?: Float64Array;
  kHi?: Float64Array;
  /** Controls held fixed (k = 0, K = 0) [B, T, m]: the active set of the implicit backward. */
  pinned?: Uint8Array;
  /** Outputs: feedback gains [B, T, m, n], feedforward [B, T, m] (box mode: holds the warm start on entry), free set [B, T, m]. */
  K: Float64Array;
  k: Float64Array;
  free: Uint8Array;
  /** Expected cost change terms per item [B, 2]: sum k'q_u and sum 1/2 k'Q_uu k. */
  dV: Float64Array;
}

/** Work space of `riccati` (allocate once per problem size). */
export class RiccatiWork {
  readonly V: Float64Array;
  readonly v: Float64Array;
  readonly Q: Float64Array;
  readonly qv: Float64Array;
  readonly W: Float64Array;
  readonly Quu: Float64Array;
  readonly Hff: Float64Array;
  readonly rhs: Float64Array;
  readonly idx: Int32Array;
  readonly qp;
  constructor(readonly dims: LqrDims) {
    const { n, m } = dims;
    const nt = n + m;
    this.V = new Float64Array(n * n);
    this.v = new Float64Array(n);
    this.Q = new Float64Array(nt * nt);
    this.qv = new Float64Array(nt);
    this.W = new Float64Array(n * nt);
    this.Quu = new Float64Array(m * m);
    this.Hff = new Float64Array(m * m);
    this.rhs = new Float64Array(m * (n + 1));
    this.idx = new Int32Array(m);
    this.qp = boxQPWork(m);
  }
}

/**
 * Backward Riccati pass of batch item b: for t = T-1..0, Q_t = H_t + F_t' V_{t+1} F_t,
 * q_t + F_t' v_{t+1}; the control step k_t from a box-QP (with kLo/kHi) or with the pinned
 * controls held at zero, K_t = -Q_uu,ff^{-1} Q_ux,f on the free set (zero rows elsewhere);
 * then the value function V_t, v_t. Returns -1, or the step t where the free block of
 * Q_uu + mu I was not positive definite.
 */
export function riccati(a: RiccatiArgs, b: number, w: RiccatiWork): number {
  const { T, n, m } = a.dims;
  const nt = n + m;
  const { V, v, Q, qv, W, Quu, Hff, rhs, idx } = w;
  const mu = a.mu[b]!;
  V.fill(0);
  v.fill(0);
  let dV1 = 0;
  let dV2 = 0;
  for (let t = T - 1; t >= 0; t--) {
    const bt = b * T + t;
    Q.set(a.H.subarray(bt * nt * nt, (bt + 1) * nt * nt));
    qv.set(a.q.subarray(bt * nt, (bt + 1) * nt));
    if (t < T - 1) {
      const Fo = bt * n * nt;
      const F = a.F;
      // W = V F (n x nt)
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < nt; j++) {
          let s = 0;
          for (let l = 0; l < n; l++) s += V[i * n + l]! * F[Fo + l * nt + j]!;
          W[i * nt + j] = s;
        }
      }
      // Q += F' W, q += F' v
      for (let i = 0; i < nt; i++) {
        for (let j = i; j < nt; j++) {
          let s = 0;
          for (let l = 0; l < n; l++) s += F[Fo + l * nt + i]! * W[l * nt + j]!;
          Q[i * nt + j]! += s;
          if (j !== i) Q[j * nt + i]! += s;
        }
        let s = 0;
        for (let l = 0; l < n; l++) s += F[Fo + l * nt + i]! * v[l]!;
        qv[i]! += s;
      }
    }
    // Quu (regularised copy for the solves)
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) Quu[i * m + j] = Q[(n + i) * nt + n + j]! + (i === j ? mu : 0);
    const ko = bt * m;
    const Ko = bt * m * n;
    if (a.pinned) {
      for (let i = 0; i < m; i++) {
        a.free[ko + i] = a.pinned[ko + i] ? 0 : 1;
        a.k[ko + i] = 0;
      }
    } else {
      const it = boxQP(Quu, 0, qv, n, a.kLo!, a.kHi!, ko, a.k, ko, a.free, ko, w.qp);
      if (it < 0) return t;
    }
    // K_f = -Quu_ff^{-1} Qux_f (and k_f for pinned mode)
    let nf = 0;
    for (let i = 0; i < m; i++) if (a.free[ko + i]) idx[nf++] = i;
    a.K.fill(0, Ko, Ko + m * n);
    if (nf > 0) {
      for (let r = 0; r < nf; r++) for (let c = 0; c < nf; c++) Hff[r * nf + c] = Quu[idx[r]! * m + idx[c]!]!;
      if (cholFactor(Hff, 0, nf) >= 0) return t;
      for (let r = 0; r < nf; r++) {
        const ur = n + idx[r]!;
        for (let j = 0; j < n; j++) rhs[r * (n + 1) + j] = Q[ur * nt + j]!;
        rhs[r * (n + 1) + n] = qv[ur]!;
      }
      cholSolve(Hff, 0, nf, rhs, 0, n + 1);
      for (let r = 0; r < nf; r++) {
        for (let j = 0; j < n; j++) a.K[Ko + idx[r]! * n + j] = -rhs[r * (n + 1) + j]!;
        if (a.pinned) a.k[ko + idx[r]!] = -rhs[r * (n + 1) + n]!;
      }
    }
    // expected change and value function (with the unregularised Q_uu)
    for (let i = 0; i < m; i++) {
      const ki = a.k[ko + i]!;
      dV1 += ki * qv[n + i]!;
      let s = 0;
      for (let j = 0; j < m; j++) s += Q[(n + i) * nt + n + j]! * a.k[ko + j]!;
      dV2 += 0.5 * ki * s;
    }
    // V = Qxx + K'Quu K + K'Qux + Qxu K ; v = qx + K'Quu k + K'qu + Qxu k
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let s = Q[i * nt + j]!;
        for (let r = 0; r < m; r++) {
          const Kri = a.K[Ko + r * n + i]!;
          const Krj = a.K[Ko + r * n + j]!;
          s += Kri * Q[(n + r) * nt + j]! + Q[i * nt + n + r]! * Krj;
          if (Kri !== 0) for (let c = 0; c < m; c++) s += Kri * Q[(n + r) * nt + n + c]! * a.K[Ko + c * n + j]!;
        }
        V[i * n + j] = s;
        V[j * n + i] = s;
      }
      let s = qv[i]!;
      for (let r = 0; r < m; r++) {
        const Kri = a.K[Ko + r * n + i]!;
        const kr = a.k[ko + r]!;
        s += Kri * qv[n + r]! + Q[i * nt + n + r]! * kr;
        if (Kri !== 0) for (let c = 0; c < m; c++) s += Kri * Q[(n + r) * nt + n + c]! * a.k[ko + c]!;
      }
      v[i] = s;
    }
  }
  a.dV[2 * b] = dV1;
  a.dV[2 * b + 1] = dV2;
  return -1;
}

/**
 * Linear forward rollout of an LQR solution in delta space for item b: dx_0 = 0,
 * du_t = K_t dx_t + k_t, dx_{t+1} = F_t [dx_t; du_t]. Writes dtau [B, T, nt].
 */
export function lqrRollout(dims: LqrDims, F: Float64Array, K: Float64Array, k: Float64Array, b: number, dtau: Float64Array): void {
  const { T, n, m } = dims;
  const nt = n + m;
  dtau.fill(0, b * T * nt, b * T * nt + n);
  for (let t = 0; t < T; t++) {
    const bt = b * T + t;
    const o = bt * nt;
    for (let i = 0; i < m; i++) {
      let s = k[bt * m + i]!;
      for (let j = 0; j < n; j++) s += K[bt * m * n + i * n + j]! * dtau[o + j]!;
      dtau[o + n + i] = s;
    }
    if (t < T - 1) {
      const Fo = bt * n * nt;
      const on = o + nt;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < nt; j++) s += F[Fo + i * nt + j]! * dtau[o + j]!;
        dtau[on + i] = s;
      }
    }
  }
}

/**
 * Costate recursion of item b: lambda_{T-1} = r_{T-1,x}, lambda_t = r_{t,x} + A_t' lambda_{t+1},
 * where r [B, T, nt] is the gradient of the Lagrangian's cost part (only its x part is read)
 * and A_t the first n columns of F_t. Writes lambda [B, T, n].
 */
export function costate(dims: LqrDims, F: Float64Array, r: Float64Array, b: number, lambda: Float64Array): void {
  const { T, n, m } = dims;
  const nt = n + m;
  for (let t = T - 1; t >= 0; t--) {
    const bt = b * T + t;
    for (let i = 0; i < n; i++) {
      let s = r[bt * nt + i]!;
      if (t < T - 1) {
        const Fo = bt * n * nt;
        for (let l = 0; l < n; l++) s += F[Fo + l * nt + i]! * lambda[(bt + 1) * n + l]!;
      }
      lambda[bt * n + i] = s;
    }
  }
}
