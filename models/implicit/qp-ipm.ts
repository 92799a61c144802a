// The float64 interior-point solver behind the QP layer (models/implicit): one problem
// min 1/2 x'Qx + p'x s.t. Gx <= h, Ax = b at a time, on raw Float64Arrays, with the dense
// kernels of sim/linalg/dense.ts. Homogeneous self-dual embedding (as in Clarabel), Mehrotra
// predictor-corrector, normal-equations (Schur complement) KKT solves with iterative
// refinement, infeasibility certificates, and an active-set polish whose LU factors the
// backward pass (qp-backward.ts) reuses.
import { cholFactor, cholFactorJs, cholSolve, luFactor, luSolve } from '../../sim/linalg/dense.ts';
import { gramLowerJs } from '../../sim/linalg/gemm.ts';
import { WasmReducedKkt } from './qp-wasm.ts';

/** Outcome of one QP. `numerical_error`: the KKT systems could not be solved or the iterates stalled before the tolerance. */
export type QPStatus = 'solved' | 'primal_infeasible' | 'dual_infeasible' | 'max_iterations' | 'numerical_error';

/** One QP's data as row-major float64 views. Q is symmetric (the layer passes (Q + Q')/2). */
export interface QPData {
  n: number;
  m: number;
  pe: number;
  Q: Float64Array;
  p: Float64Array;
  G: Float64Array;
  h: Float64Array;
  A: Float64Array;
  b: Float64Array;
  /** Warm start: the multipliers of a nearby problem's solution (length m); their positive entries guess the active set. */
  warm?: Float64Array;
}

/** Solver settings (see QPOptions in qp.ts for their meaning). */
export interface IpmSettings {
  tol: number;
  maxIter: number;
  polish: boolean;
  /** Keep the active-set KKT factors for a backward pass. */
  keepFactors: boolean;
  /** Called once per iteration with the embedding's state (for debugging and logs). */
  trace?: (t: IpmTrace) => void;
}

/** One line of the solver's trace. */
export interface IpmTrace {
  iteration: number;
  mu: number;
  tau: number;
  kappa: number;
  /** Primal residual of the embedding / tau (infinity norm). */
  primal: number;
  /** Dual residual of the embedding / tau (infinity norm). */
  dual: number;
  /** Step length of the previous iteration. */
  alpha: number;
}

/**
 * The active-set KKT system at a solution: K = [Q G_a' A'; G_a 0 0; A 0 0] (G_a: the rows of
 * the active constraints), factored as LU of K + diag(rho I, -delta I, -delta I). Solves are
 * refined against the unregularised K, so a non-singular K is solved exactly and a singular
 * one (degenerate active set, redundant rows) gets a finite regularised answer.
 */
export interface ActiveSetFactors {
  active: Int32Array;
  N: number;
  lu: Float64Array;
  piv: Int32Array;
}

/** Result of one solve. x, lambda, nu are NaN for infeasible or unbounded problems. */
export interface IpmResult {
  status: QPStatus;
  iterations: number;
  x: Float64Array;
  lambda: Float64Array;
  nu: Float64Array;
  primalResidual: number;
  dualResidual: number;
  gap: number;
  polished: boolean;
  /** The warm start's active set solved it (no interior-point iterations). */
  warmStarted: boolean;
  /** Indices of the constraints treated as active (lambda_i > 0 or Gx = h) at the answer. */
  active: Int32Array;
  /**
   * The answer is degenerate: a weakly active constraint (lambda_i = 0 with Gx = h) or a
   * singular active-set KKT matrix (dependent active rows). The solution map is then not
   * differentiable there and the backward pass returns a regularised one-sided gradient.
   */
  degenerate: boolean;
  factors: ActiveSetFactors | null;
}

const STEP_FRACTION = 0.99;
const KT_RATIO_INFEASIBLE = 1e9;
const TOL_INFEAS = 1e-8;
const REFINE_STEPS = 4;
const REFINE_TOL = 1e-13;
/** Schur-mode solves are refined once max(W) / min(W) exceeds this (the normal equations lose accuracy as W spreads). */
const REFINE_W_SPREAD = 1e6;

/** Reusable buffers for problems of one size (n variables, m inequalities, pe equalities). */
export class IpmWorkspace {
  // iterate
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly z: Float64Array;
  readonly s: Float64Array;
  // normalised iterate (x, y, z, s) / tau
  readonly xh: Float64Array;
  readonly yh: Float64Array;
  readonly zh: Float64Array;
  readonly sh: Float64Array;
  // residuals of the embedding
  readonly rx: Float64Array;
  readonly ry: Float64Array;
  readonly rz: Float64Array;
  readonly Qx: Float64Array;
  // reduced KKT: scaling W = z / s, factors of H and of the Schur complement S, M = H^-1 A'
  readonly W: Float64Array;
  readonly H: Float64Array;
  readonly Hcopy: Float64Array;
  readonly M: Float64Array;
  readonly S: Float64Array;
  readonly Sraw: Float64Array;
  readonly f1: Float64Array;
  readonly wr: Float64Array;
  readonly gdx: Float64Array;
  readonly k1: Float64Array;
  readonly k2: Float64Array;
  readonly k3: Float64Array;
  readonly cdx: Float64Array;
  readonly cdy: Float64Array;
  readonly cdz: Float64Array;
  // step: right-hand sides, constant part v, variable part u (then the step), ds
  readonly r1: Float64Array;
  readonly r2: Float64Array;
  readonly r3: Float64Array;
  readonly dsRhs: Float64Array;
  readonly vx: Float64Array;
  readonly vy: Float64Array;
  readonly vz: Float64Array;
  readonly ux: Float64Array;
  readonly uy: Float64Array;
  readonly uz: Float64Array;
  readonly ds: Float64Array;
  readonly dsA: Float64Array;
  readonly dzA: Float64Array;
  readonly xi: Float64Array;
  readonly diff: Float64Array;
  readonly qd: Float64Array;
  readonly c1: Float64Array;
  // scratch for residual checks and certificates
  readonly kn: Float64Array;
  readonly km: Float64Array;
  readonly kp: Float64Array;
  readonly kn2: Float64Array;

  constructor(
    readonly n: number,
    readonly m: number,
    readonly pe: number,
  ) {
    const f = (k: number): Float64Array => new Float64Array(k);
    this.x = f(n);
    this.y = f(pe);
    this.z = f(m);
    this.s = f(m);
    this.xh = f(n);
    this.yh = f(pe);
    this.zh = f(m);
    this.sh = f(m);
    this.rx = f(n);
    this.ry = f(pe);
    this.rz = f(m);
    this.Qx = f(n);
    this.W = f(m);
    this.H = f(n * n);
    this.Hcopy = f(n * n);
    this.M = f(n * pe);
    this.S = f(pe * pe);
    this.Sraw = f(pe * pe);
    this.f1 = f(n);
    this.wr = f(m);
    this.gdx = f(m);
    this.k1 = f(n);
    this.k2 = f(pe);
    this.k3 = f(m);
    this.cdx = f(n);
    this.cdy = f(pe);
    this.cdz = f(m);
    this.r1 = f(n);
    this.r2 = f(pe);
    this.r3 = f(m);
    this.dsRhs = f(m);
    this.vx = f(n);
    this.vy = f(pe);
    this.vz = f(m);
    this.ux = f(n);
    this.uy = f(pe);
    this.uz = f(m);
    this.ds = f(m);
    this.dsA = f(m);
    this.dzA = f(m);
    this.xi = f(n);
    this.diff = f(n);
    this.qd = f(n);
    this.c1 = f(n);
    this.kn = f(n);
    this.km = f(m);
    this.kp = f(pe);
    this.kn2 = f(n);
  }
}

// ---------------------------------------------------------------------------------------
// small dense helpers (row-major)

/** out = M v for the rows x cols matrix M. */
function gemv(M: Float64Array, rows: number, cols: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    const r = i * cols;
    for (let j = 0; j < cols; j++) acc += M[r + j]! * v[j]!;
    out[i] = acc;
  }
}

/** out += M' v for the rows x cols matrix M. */
function gemvTAdd(M: Float64Array, rows: number, cols: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const a = v[i]!;
    if (a === 0) continue;
    const r = i * cols;
    for (let j = 0; j < cols; j++) out[j]! += a * M[r + j]!;
  }
}

function dot(a: Float64Array, b: Float64Array, k: number): number {
  let acc = 0;
  for (let i = 0; i < k; i++) acc += a[i]! * b[i]!;
  return acc;
}

function normInf(a: Float64Array, k = a.length): number {
  let r = 0;
  for (let i = 0; i < k; i++) {
    const v = Math.abs(a[i]!);
    if (v > r || v !== v) r = v;
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// the KKT solves of one IPM iteration
//
// A Newton step of the embedding solves, for (dx, dy, dz, dtau) (ds, dkappa eliminated),
//   Q dx + A'dy + G'dz + p dtau = R1,  A dx - b dtau = R2,  G dx - W^-1 dz - h dtau = R3,
//   c1'dx + b'dy + h'dz - e dtau = R4,
// with W = z / s, c1 = p + 2 Q xi, e = xi'Q xi + kappa / tau, xi = x / tau. Eliminating
// dz = W (G dx - h dtau - R3) leaves the reduced matrix H = Q + G'W G.
//
// 'schur' (the usual case): Cholesky of H + rho I and of the Schur complement
// A (H + rho I)^-1 A' + delta I; the dtau column is handled by one more solve per iteration,
// K v = (-p, b, h), and dtau from the last row (OptNet / CVXOPT style normal equations).
// 'bordered': when H or the Schur complement is numerically singular (LPs with free
// directions, unbounded or infeasible problems, redundant rows of A), the (n + pe + 1)
// bordered system in (dx, dy, dtau) is LU-factored instead: it stays non-singular exactly
// where the problem is infeasible or unbounded, which is where tau must go to 0.
// Both are refined against the unregularised system.

class ReducedKkt {
  mode: 'schur' | 'bordered' = 'schur';
  /** Refine the Schur-mode solves (off while the scaling W is mild and the plain solve is accurate). */
  refine = true;
  private rho = 0;
  private delta = 0;
  private den = 0;
  private readonly dataScale: number;
  private B: Float64Array | null = null;
  private Bpiv: Int32Array | null = null;
  private Bwork: Float64Array[] = [];
  private e = 0;
  private hWh = 0;
  /** Q, G, H and the factor in wasm memory when the wasm kernels run (null: JS kernels). */
  private readonly wz: WasmReducedKkt | null;

  constructor(
    private readonly d: QPData,
    private readonly ws: IpmWorkspace,
  ) {
    const { n, m, pe, Q, G, A } = d;
    this.dataScale = Math.max(1, normInf(Q, n * n), normInf(G, m * n) ** 2, normInf(A, pe * n) ** 2);
    this.wz = WasmReducedKkt.create(n, m, Q, G);
  }

  /** Frees the wasm-resident operands (call once the problem is done). */
  dispose(): void {
    this.wz?.dispose();
  }

  /** out = Q v (in wasm when the operands are there). */
  qTimes(v: Float64Array, out: Float64Array): void {
    if (this.wz) this.wz.qTimes(v, out);
    else gemv(this.d.Q, this.d.n, this.d.n, v, out);
  }

  /** out = G v. */
  gTimes(v: Float64Array, out: Float64Array): void {
    if (this.wz) this.wz.gTimes(v, out);
    else gemv(this.d.G, this.d.m, this.d.n, v, out);
  }

  /** out += G' v. */
  gtAdd(v: Float64Array, out: Float64Array): void {
    if (this.wz) this.wz.gtAdd(v, out);
    else gemvTAdd(this.d.G, this.d.m, this.d.n, v, out);
  }

  /**
   * Forms H = Q + G'W G and factors it (and the Schur complement) by Cholesky; sets `mode`
   * to 'bordered' when either is numerically singular. False when nothing is finite.
   */
  factor(): boolean {
    const { n, m, pe, Q, G, A } = this.d;
    const { H, Hcopy, W, M, S, Sraw } = this.ws;
    // H = Q + G'W G (lower triangle)
    if (this.wz) this.wz.gram(W, H);
    else gramLowerJs(H, Q, G, W, n, m);
    let maxDiag = 0;
    for (let j = 0; j < n; j++) maxDiag = Math.max(maxDiag, Math.abs(H[j * n + j]!));
    if (!Number.isFinite(maxDiag)) return false;
    let wLo = Infinity;
    let wHi = 0;
    for (let i = 0; i < m; i++) {
      wLo = Math.min(wLo, W[i]!);
      wHi = Math.max(wHi, W[i]!);
    }
    this.refine = !(wHi <= REFINE_W_SPREAD * wLo);
    Hcopy.set(H);
    this.mode = 'schur';
    const rho0 = 1e-13 * this.dataScale;
    let rho = rho0;
    let ok = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      let piv: number;
      if (this.wz) piv = this.wz.cholesky(Hcopy, rho, H);
      else {
        if (attempt > 0) H.set(Hcopy);
        for (let j = 0; j < n; j++) H[j * n + j]! += rho;
        piv = cholFactorJs(H, 0, n);
      }
      if (piv < 0) {
        ok = true;
        break;
      }
      rho *= 100;
    }
    this.rho = ok ? rho : 1e-8 * Math.max(maxDiag, this.dataScale);
    // a pivot at the level of the regularisation: H is singular for this data
    let minPiv = Infinity;
    if (ok) for (let j = 0; j < n; j++) minPiv = Math.min(minPiv, H[j * n + j]! * H[j * n + j]!);
    if (!ok || rho > rho0 || minPiv <= 1e4 * rho0) {
      this.mode = 'bordered';
      this.delta = 1e-12 * Math.max(1, normInf(A, pe * n)) ** 2;
      return true;
    }
    if (pe === 0) return true;
    // M = (H + rho I)^-1 A'  (n x pe), Schur complement S = A M
    for (let j = 0; j < n; j++) for (let r = 0; r < pe; r++) M[j * pe + r] = A[r * n + j]!;
    cholSolve(H, 0, n, M, 0, pe);
    let maxS = 0;
    for (let r = 0; r < pe; r++) {
      const ar = r * n;
      for (let c = 0; c <= r; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += A[ar + j]! * M[j * pe + c]!;
        Sraw[r * pe + c] = acc;
        Sraw[c * pe + r] = acc;
      }
      maxS = Math.max(maxS, Math.abs(Sraw[r * pe + r]!));
    }
    if (!Number.isFinite(maxS)) return false;
    const delta0 = Math.max(1e-13 * maxS, 1e-300);
    S.set(Sraw);
    for (let r = 0; r < pe; r++) S[r * pe + r]! += delta0;
    let minS = Infinity;
    if (cholFactor(S, 0, pe) < 0) for (let r = 0; r < pe; r++) minS = Math.min(minS, S[r * pe + r]! * S[r * pe + r]!);
    if (!(minS > 1e-10 * maxS)) {
      // redundant (or nearly redundant) equality rows
      this.mode = 'bordered';
      this.delta = 1e-12 * Math.max(1, normInf(A, pe * n)) ** 2;
      return true;
    }
    this.delta = delta0;
    return true;
  }

  /** Schur mode only: one regularised solve of H dx + A' dy = f1, A dx = f2. */
  private base(f1: Float64Array, f2: Float64Array, dx: Float64Array, dy: Float64Array): void {
    const { n, pe, A } = this.d;
    const { H, M, S } = this.ws;
    dx.set(f1);
    cholSolve(H, 0, n, dx, 0, 1);
    if (pe === 0) return;
    for (let r = 0; r < pe; r++) {
      let acc = 0;
      const ar = r * n;
      for (let j = 0; j < n; j++) acc += A[ar + j]! * dx[j]!;
      dy[r] = acc - f2[r]!;
    }
    cholSolve(S, 0, pe, dy, 0, 1);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      const mj = j * pe;
      for (let r = 0; r < pe; r++) acc += M[mj + r]! * dy[r]!;
      dx[j]! -= acc;
    }
  }

  /** Schur mode: one pass of K (dx, dy, dz) = (r1, r2, r3) through the reduced system. */
  private solveKOnce(r1: Float64Array, r2: Float64Array, r3: Float64Array, dx: Float64Array, dy: Float64Array, dz: Float64Array): void {
    const { n, m, pe, G } = this.d;
    const { W, f1, wr } = this.ws;
    for (let i = 0; i < m; i++) wr[i] = W[i]! * r3[i]!;
    if (this.wz && pe === 0) {
      this.wz.solve(r1, wr, r3, W, dx, dz);
      return;
    }
    f1.set(r1);
    gemvTAdd(G, m, n, wr, f1);
    this.base(f1, r2, dx, dy);
    gemv(G, m, n, dx, dz);
    for (let i = 0; i < m; i++) dz[i] = W[i]! * (dz[i]! - r3[i]!);
  }

  /** Residual of the full (unreduced) system K (dx, dy, dz) = (r1, r2, r3) into (k1, k2, k3); returns max |.|. */
  private fullResidual(r1: Float64Array, r2: Float64Array, r3: Float64Array, dx: Float64Array, dy: Float64Array, dz: Float64Array): number {
    const { n, m, pe, Q, G, A } = this.d;
    const { W, k1, k2, k3 } = this.ws;
    if (this.wz && pe === 0) this.wz.products(dx, dz, k1, k3);
    else {
      gemv(Q, n, n, dx, k1);
      gemvTAdd(A, pe, n, dy, k1);
      gemvTAdd(G, m, n, dz, k1);
    }
    let r = 0;
    for (let j = 0; j < n; j++) {
      k1[j] = r1[j]! - k1[j]!;
      r = Math.max(r, Math.abs(k1[j]!));
    }
    gemv(A, pe, n, dx, k2);
    for (let k = 0; k < pe; k++) {
      k2[k] = r2[k]! - k2[k]!;
      r = Math.max(r, Math.abs(k2[k]!));
    }
    if (!(this.wz && pe === 0)) gemv(G, m, n, dx, k3);
    for (let i = 0; i < m; i++) {
      k3[i] = r3[i]! - k3[i]! + dz[i]! / W[i]!;
      r = Math.max(r, Math.abs(k3[i]!));
    }
    return r;
  }

  /**
   * Schur mode: K (dx, dy, dz) = (r1, r2, r3), without the tau column, refined against the
   * full system: the reduced solve alone loses the accuracy of dz = W (G dx - r3) when W is
   * extreme (late iterations), which stalls the dual residual.
   */
  solveK(r1: Float64Array, r2: Float64Array, r3: Float64Array, dx: Float64Array, dy: Float64Array, dz: Float64Array): void {
    const { n, m, pe } = this.d;
    const { k1, k2, k3, cdx, cdy, cdz } = this.ws;
    this.solveKOnce(r1, r2, r3, dx, dy, dz);
    if (!this.refine) return;
    const scale = Math.max(normInf(r1, n), normInf(r2, pe), normInf(r3, m));
    let res = this.fullResidual(r1, r2, r3, dx, dy, dz);
    for (let k = 0; k < REFINE_STEPS && res > REFINE_TOL * scale; k++) {
      this.solveKOnce(k1, k2, k3, cdx, cdy, cdz);
      for (let j = 0; j < n; j++) dx[j]! += cdx[j]!;
      for (let r = 0; r < pe; r++) dy[r]! += cdy[r]!;
      for (let i = 0; i < m; i++) dz[i]! += cdz[i]!;
      const next = this.fullResidual(r1, r2, r3, dx, dy, dz);
      if (!(next < res)) {
        for (let j = 0; j < n; j++) dx[j]! -= cdx[j]!;
        for (let r = 0; r < pe; r++) dy[r]! -= cdy[r]!;
        for (let i = 0; i < m; i++) dz[i]! -= cdz[i]!;
        break;
      }
      res = next;
    }
  }

  /**
   * Prepares the tau row and column for this iteration: in Schur mode solves K v = (-p, b, h)
   * and the (negative) pivot of dtau; in bordered mode builds and LU-factors the bordered
   * matrix. False when the bordered matrix is exactly singular.
   */
  prepareTau(xi: Float64Array, c1: Float64Array, ktau: number): boolean {
    const { n, m, pe, p, G, h, A, b } = this.d;
    const { W, vx, vy, vz, r1, diff, qd } = this.ws;
    this.qTimes(xi, qd);
    const xQx = dot(xi, qd, n);
    this.e = xQx + ktau;
    if (this.mode === 'schur') {
      for (let j = 0; j < n; j++) r1[j] = -p[j]!;
      this.solveK(r1, b, h, vx, vy, vz);
      // -((vx - xi)'Q(vx - xi) + vz'W^-1 vz + kappa / tau) < 0
      for (let j = 0; j < n; j++) diff[j] = vx[j]! - xi[j]!;
      this.qTimes(diff, qd);
      let den = dot(diff, qd, n) + ktau;
      for (let i = 0; i < m; i++) den += (vz[i]! * vz[i]!) / W[i]!;
      this.den = -den;
      return true;
    }
    // bordered matrix [H + rho I, A', p - G'W h; A, -delta I, -b; (c1 + G'W h)', b', -(h'W h + e)]
    const N = n + pe + 1;
    if (!this.B || this.B.length !== N * N) {
      this.B = new Float64Array(N * N);
      this.Bpiv = new Int32Array(N);
      this.Bwork = [new Float64Array(N), new Float64Array(N), new Float64Array(N), new Float64Array(N), new Float64Array(n)];
    }
    const B = this.B;
    const gWh = this.Bwork[4]!;
    const { Hcopy, wr } = this.ws;
    for (let i = 0; i < m; i++) wr[i] = W[i]! * h[i]!;
    gWh.fill(0);
    gemvTAdd(G, m, n, wr, gWh);
    this.hWh = dot(h, wr, m);
    B.fill(0);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k <= j; k++) {
        const v = Hcopy[j * n + k]!;
        B[j * N + k] = v;
        B[k * N + j] = v;
      }
      B[j * N + j]! += this.rho;
      B[j * N + n + pe] = p[j]! - gWh[j]!;
      B[(n + pe) * N + j] = c1[j]! + gWh[j]!;
    }
    for (let r = 0; r < pe; r++) {
      for (let j = 0; j < n; j++) {
        const a = A[r * n + j]!;
        B[(n + r) * N + j] = a;
        B[j * N + n + r] = a;
      }
      B[(n + r) * N + n + r] = -this.delta;
      B[(n + r) * N + n + pe] = -b[r]!;
      B[(n + pe) * N + n + r] = b[r]!;
    }
    B[N * N - 1] = -(this.hWh + this.e);
    return luFactor(B, 0, N, this.Bpiv!) !== 0;
  }

  /** Bordered mode: out = B0 u with the unregularised bordered matrix. */
  private applyBordered(u: Float64Array, c1: Float64Array, out: Float64Array): void {
    const { n, m, pe, Q, p, G, A, b } = this.d;
    const { W, gdx } = this.ws;
    const gWh = this.Bwork[4]!;
    const dtau = u[n + pe]!;
    const dx = u.subarray(0, n);
    const dy = u.subarray(n, n + pe);
    const o1 = out.subarray(0, n);
    gemv(Q, n, n, dx, o1);
    gemv(G, m, n, dx, gdx);
    for (let i = 0; i < m; i++) gdx[i]! *= W[i]!;
    gemvTAdd(G, m, n, gdx, o1);
    gemvTAdd(A, pe, n, dy, o1);
    for (let j = 0; j < n; j++) o1[j]! += (p[j]! - gWh[j]!) * dtau;
    for (let r = 0; r < pe; r++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += A[r * n + j]! * dx[j]!;
      out[n + r] = acc - b[r]! * dtau;
    }
    let last = dot(b, dy, pe) - (this.hWh + this.e) * dtau;
    for (let j = 0; j < n; j++) last += (c1[j]! + gWh[j]!) * dx[j]!;
    out[n + pe] = last;
  }

  /**
   * One Newton direction: fills (dx, dy, dz) and returns dtau for the right-hand sides
   * (R1, R2, R3, R4) (see the system above).
   */
  step(R1: Float64Array, R2: Float64Array, R3: Float64Array, R4: number, c1: Float64Array, dx: Float64Array, dy: Float64Array, dz: Float64Array): number {
    const { n, m, pe, h, G } = this.d;
    const { W, vx, vy, vz } = this.ws;
    if (this.mode === 'schur') {
      this.solveK(R1, R2, R3, dx, dy, dz);
      const { b } = this.d;
      const dtau = (R4 - (dot(c1, dx, n) + dot(b, dy, pe) + dot(h, dz, m))) / this.den;
      for (let j = 0; j < n; j++) dx[j]! += dtau * vx[j]!;
      for (let k = 0; k < pe; k++) dy[k]! += dtau * vy[k]!;
      for (let i = 0; i < m; i++) dz[i]! += dtau * vz[i]!;
      return dtau;
    }
    const N = n + pe + 1;
    const [rhs, u, e, c] = this.Bwork as [Float64Array, Float64Array, Float64Array, Float64Array];
    const { wr } = this.ws;
    rhs.set(R1);
    for (let i = 0; i < m; i++) wr[i] = W[i]! * R3[i]!;
    const r1 = rhs.subarray(0, n);
    gemvTAdd(G, m, n, wr, r1);
    for (let r = 0; r < pe; r++) rhs[n + r] = R2[r]!;
    rhs[n + pe] = R4 + dot(h, wr, m);
    luSolveRefined(this.B!, this.Bpiv!, N, rhs, u, e, c, (v, out) => this.applyBordered(v, c1, out), REFINE_STEPS, REFINE_TOL, false);
    const dtau = u[n + pe]!;
    for (let j = 0; j < n; j++) dx[j] = u[j]!;
    for (let r = 0; r < pe; r++) dy[r] = u[n + r]!;
    gemv(G, m, n, dx, dz);
    for (let i = 0; i < m; i++) dz[i] = W[i]! * (dz[i]! - h[i]! * dtau - R3[i]!);
    return dtau;
  }
}

/**
 * Solves K u = r (N unknowns) from the LU factors (lu, piv) of K or of a regularised K, then
 * refines against K itself (`apply(v, out)` sets out = K v): up to `steps` corrections while
 * the max residual exceeds tol * max|r|, undoing a correction that does not lower it and,
 * with `stopWhenSlow`, stopping after one that does not halve it (the rounding floor).
 * `e` and `c` are work arrays of length N. Returns the final max residual.
 */
function luSolveRefined(
  lu: Float64Array,
  piv: Int32Array,
  N: number,
  r: Float64Array,
  u: Float64Array,
  e: Float64Array,
  c: Float64Array,
  apply: (v: Float64Array, out: Float64Array) => void,
  steps: number,
  tol: number,
  stopWhenSlow: boolean,
): number {
  u.set(r);
  luSolve(lu, 0, N, piv, u, 0, 1);
  const resid = (): number => {
    apply(u, e);
    let mx = 0;
    for (let i = 0; i < N; i++) {
      e[i] = r[i]! - e[i]!;
      mx = Math.max(mx, Math.abs(e[i]!));
    }
    return mx;
  };
  let res = resid();
  const scale = normInf(r, N);
  for (let k = 0; k < steps && res > tol * scale; k++) {
    c.set(e);
    luSolve(lu, 0, N, piv, c, 0, 1);
    for (let i = 0; i < N; i++) u[i]! += c[i]!;
    const next = resid();
    if (!(next < res)) {
      for (let i = 0; i < N; i++) u[i]! -= c[i]!;
      break;
    }
    const slow = stopWhenSlow && next > 0.5 * res;
    res = next;
    if (slow) break;
  }
  return res;
}

// ---------------------------------------------------------------------------------------
// residuals of a candidate solution

/** KKT residuals of a candidate (x, lambda, nu) and whether they meet the tolerance. */
export interface KktResiduals {
  /** max(|Ax - b|, (Gx - h)_+), infinity norm. */
  primal: number;
  /** max(|Qx + p + G'lambda + A'nu|, (-lambda)_+), infinity norm. */
  dual: number;
  /** Complementarity sum_i |lambda_i (h - Gx)_i|. */
  gap: number;
  /** primal <= tol (1 + max(|h|, |b|, |Gx|, |Ax|)), dual <= tol (1 + max(|p|, |Qx|)), gap <= tol (1 + |objective|). */
  ok: boolean;
}

/** Residuals of (x, lambda, nu) for the problem d; `work` holds four scratch vectors of sizes n, m, pe, n. */
export function kktResiduals(d: QPData, x: Float64Array, lambda: Float64Array, nu: Float64Array, tol: number, work: readonly Float64Array[]): KktResiduals {
  const { n, m, pe, Q, p, G, h, A, b } = d;
  const [Qx, gx, ax, rd] = work as [Float64Array, Float64Array, Float64Array, Float64Array];
  gemv(Q, n, n, x, Qx);
  gemv(G, m, n, x, gx);
  gemv(A, pe, n, x, ax);
  let primal = 0;
  let dual = 0;
  let gap = 0;
  let scaleP = Math.max(normInf(h, m), normInf(b, pe));
  for (let i = 0; i < m; i++) {
    const viol = gx[i]! - h[i]!;
    if (viol > primal || viol !== viol) primal = viol;
    gap += Math.abs(lambda[i]! * viol);
    scaleP = Math.max(scaleP, Math.abs(gx[i]!));
    if (-lambda[i]! > dual || lambda[i] !== lambda[i]) dual = -lambda[i]!;
  }
  for (let k = 0; k < pe; k++) {
    const r = Math.abs(ax[k]! - b[k]!);
    if (r > primal || r !== r) primal = r;
    scaleP = Math.max(scaleP, Math.abs(ax[k]!));
  }
  rd.set(Qx);
  for (let j = 0; j < n; j++) rd[j]! += p[j]!;
  gemvTAdd(G, m, n, lambda, rd);
  gemvTAdd(A, pe, n, nu, rd);
  const st = normInf(rd, n);
  if (st > dual || st !== st) dual = st;
  const obj = Math.abs(0.5 * dot(x, Qx, n) + dot(p, x, n));
  const scaleD = Math.max(normInf(p, n), normInf(Qx, n));
  const ok = primal <= tol * (1 + scaleP) && dual <= tol * (1 + scaleD) && gap <= tol * (1 + obj);
  return { primal, dual, gap, ok };
}

// ---------------------------------------------------------------------------------------
// degeneracy of a solution

const WEAK = 1e-9;

/** Weakly active constraints, nearly active inactive ones, or a (numerically) singular active-set KKT matrix. */
function isDegenerate(d: QPData, x: Float64Array, lambda: Float64Array, active: Int32Array, f: ActiveSetFactors | null): boolean {
  const { n, m, pe, G, h } = d;
  if (active.length + pe > n) return true;
  let lScale = 0;
  for (let i = 0; i < m; i++) lScale = Math.max(lScale, Math.abs(lambda[i]!));
  const isActive = new Uint8Array(m);
  for (const i of active) {
    isActive[i] = 1;
    if (lambda[i]! <= WEAK * Math.max(1, lScale)) return true;
  }
  let hScale = 1;
  for (let i = 0; i < m; i++) hScale = Math.max(hScale, Math.abs(h[i]!));
  for (let i = 0; i < m; i++) {
    if (isActive[i]) continue;
    let gx = 0;
    for (let j = 0; j < n; j++) gx += G[i * n + j]! * x[j]!;
    if (h[i]! - gx <= WEAK * hScale) return true;
  }
  if (f) {
    let lo = Infinity;
    let hi = 0;
    for (let i = 0; i < f.N; i++) {
      const u = Math.abs(f.lu[i * f.N + i]!);
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    if (lo <= 1e-11 * hi) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// active-set polish: solve the equality-constrained QP on the guessed active set exactly

function buildActiveKkt(d: QPData, active: Int32Array, K: Float64Array, rho: number, delta: number): void {
  const { n, pe, Q, G, A } = d;
  const na = active.length;
  const N = n + na + pe;
  K.fill(0, 0, N * N);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) K[i * N + j] = Q[i * n + j]!;
    K[i * N + i]! += rho;
  }
  for (let a = 0; a < na; a++) {
    const gi = active[a]! * n;
    const r = n + a;
    for (let j = 0; j < n; j++) {
      const v = G[gi + j]!;
      K[r * N + j] = v;
      K[j * N + r] = v;
    }
    K[r * N + r] = -delta;
  }
  for (let k = 0; k < pe; k++) {
    const ak = k * n;
    const r = n + na + k;
    for (let j = 0; j < n; j++) {
      const v = A[ak + j]!;
      K[r * N + j] = v;
      K[j * N + r] = v;
    }
    K[r * N + r] = -delta;
  }
}

/** out = K_act v with the unregularised active-set KKT matrix (never formed). */
function applyActiveKkt(d: QPData, active: Int32Array, v: Float64Array, out: Float64Array): void {
  const { n, pe, Q, G, A } = d;
  const na = active.length;
  gemv(Q, n, n, v, out);
  for (let a = 0; a < na; a++) {
    const gi = active[a]! * n;
    const za = v[n + a]!;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const g = G[gi + j]!;
      out[j]! += g * za;
      acc += g * v[j]!;
    }
    out[n + a] = acc;
  }
  for (let k = 0; k < pe; k++) {
    const ak = k * n;
    const yk = v[n + na + k]!;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const g = A[ak + j]!;
      out[j]! += g * yk;
      acc += g * v[j]!;
    }
    out[n + na + k] = acc;
  }
}

/** Factors the regularised active-set KKT system; null when LU finds it exactly singular even after regularising. */
export function factorActiveSet(d: QPData, active: Int32Array): ActiveSetFactors | null {
  const { n, pe, Q, G, A } = d;
  const N = n + active.length + pe;
  const lu = new Float64Array(N * N);
  const piv = new Int32Array(N);
  let scale = 1;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(Q[i]!));
  for (const i of active) for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(G[i * n + j]!));
  for (let i = 0; i < pe * n; i++) scale = Math.max(scale, Math.abs(A[i]!));
  let reg = 1e-12 * scale;
  for (let attempt = 0; attempt < 6; attempt++) {
    buildActiveKkt(d, active, lu, reg, reg);
    if (luFactor(lu, 0, N, piv) !== 0) return { active, N, lu, piv };
    reg *= 100;
  }
  return null;
}

/**
 * Solves K_act u = r (K_act symmetric, so also K_act' u = r) from the factors, refining
 * against the unregularised matrix while the residual falls. Returns the final max residual.
 */
export function solveActiveSet(d: QPData, f: ActiveSetFactors, r: Float64Array, u: Float64Array): number {
  const { N, lu, piv, active } = f;
  return luSolveRefined(lu, piv, N, r, u, new Float64Array(N), new Float64Array(N), (v, out) => applyActiveKkt(d, active, v, out), 8, 1e-16, true);
}

interface PolishOutcome {
  x: Float64Array;
  lambda: Float64Array;
  nu: Float64Array;
  factors: ActiveSetFactors;
}

const POLISH_ROUNDS = 3;
/** Relative KKT residual below which polishing is attempted (again whenever the guessed active set changes). */
const POLISH_START = 1e-3;

/**
 * Active-set polish from the normalised iterate: guesses the active set (z_i > s_i), solves
 * the equality-constrained QP on it exactly, and when the answer has a negative multiplier or
 * violates an inactive constraint, drops / adds those constraints and tries again (a few
 * rounds of a primal-dual active-set method). Null when no round gives a KKT point.
 */
function polish(d: QPData, zHat: Float64Array, sHat: Float64Array): PolishOutcome | null {
  const isActive = new Uint8Array(d.m);
  for (let i = 0; i < d.m; i++) isActive[i] = zHat[i]! > sHat[i]! ? 1 : 0;
  return activeSetRounds(d, isActive);
}

/** The rounds of the primal-dual active-set method from a guessed active set (changed in place). */
function activeSetRounds(d: QPData, isActive: Uint8Array): PolishOutcome | null {
  const { n, m, pe, p, G, h, b } = d;
  const gx = new Float64Array(m);
  let hScale = 1;
  for (let i = 0; i < m; i++) hScale = Math.max(hScale, Math.abs(h[i]!));
  for (let round = 0; round < POLISH_ROUNDS; round++) {
    const act: number[] = [];
    for (let i = 0; i < m; i++) if (isActive[i]) act.push(i);
    const active = Int32Array.from(act);
    const f = factorActiveSet(d, active);
    if (!f) return null;
    const N = f.N;
    const rhs = new Float64Array(N);
    for (let j = 0; j < n; j++) rhs[j] = -p[j]!;
    for (let a = 0; a < active.length; a++) rhs[n + a] = h[active[a]!]!;
    for (let k = 0; k < pe; k++) rhs[n + active.length + k] = b[k]!;
    const u = new Float64Array(N);
    solveActiveSet(d, f, rhs, u);
    for (let i = 0; i < N; i++) if (!Number.isFinite(u[i]!)) return null;
    const x = u.slice(0, n);
    const lambda = new Float64Array(m);
    const nu = u.slice(n + active.length, N);
    let zScale = 1;
    for (let a = 0; a < active.length; a++) zScale = Math.max(zScale, Math.abs(u[n + a]!));
    gemv(G, m, n, x, gx);
    let scale = hScale;
    for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(gx[i]!));
    let wrong = false;
    for (let a = 0; a < active.length; a++) {
      const za = u[n + a]!;
      // a clearly negative multiplier: the constraint should not be active
      if (za < -1e-9 * zScale) {
        isActive[active[a]!] = 0;
        wrong = true;
      }
      lambda[active[a]!] = Math.max(za, 0);
    }
    for (let i = 0; i < m; i++) {
      // a violated inactive constraint: it should be active
      if (!isActive[i] && gx[i]! - h[i]! > 1e-9 * scale) {
        isActive[i] = 1;
        wrong = true;
      }
    }
    if (!wrong) return { x, lambda, nu, factors: f };
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// the interior-point method

function shiftToInterior(v: Float64Array, k: number): void {
  if (k === 0) return;
  let mn = Infinity;
  let pos = 0;
  for (let i = 0; i < k; i++) {
    mn = Math.min(mn, v[i]!);
    pos += Math.max(v[i]!, 0);
  }
  const target = Math.max(1, (0.1 * pos) / k);
  if (mn <= 0) for (let i = 0; i < k; i++) v[i] = v[i]! - mn + target;
  else if (mn < target) for (let i = 0; i < k; i++) v[i] = v[i]! + (target - mn);
}

function stepLength(v: Float64Array, dv: Float64Array, k: number, alpha: number): number {
  for (let i = 0; i < k; i++) {
    const d = dv[i]!;
    if (d < 0) {
      const a = -v[i]! / d;
      if (a < alpha) alpha = a;
    }
  }
  return alpha;
}

/**
 * Solves one QP. The iterate lives in the homogeneous self-dual embedding
 * Qx + A'y + G'z + p tau = 0, Ax = b tau, Gx + s = h tau, kappa = -(p'x + b'y + h'z + x'Qx / tau),
 * s, z, tau, kappa >= 0; tau -> 0 with kappa > 0 certifies infeasibility (a Farkas vector in
 * (y, z) when h'z + b'y < 0, an unbounded direction x when p'x < 0).
 */
export function solveQP(d: QPData, ws: IpmWorkspace, st: IpmSettings): IpmResult {
  if (d.warm) {
    const r = warmStart(d, ws, st);
    if (r) return r;
  }
  const kkt = new ReducedKkt(d, ws);
  try {
    return interiorPoint(d, ws, st, kkt);
  } finally {
    kkt.dispose();
  }
}

/**
 * Warm start: the active set guessed from the warm multipliers (lambda_i > 0), solved exactly
 * and corrected by a few active-set rounds; the answer when it meets the KKT conditions at
 * tol (0 interior-point iterations), else null (the interior point then solves from scratch).
 */
function warmStart(d: QPData, ws: IpmWorkspace, st: IpmSettings): IpmResult | null {
  const isActive = new Uint8Array(d.m);
  for (let i = 0; i < d.m; i++) isActive[i] = d.warm![i]! > 0 ? 1 : 0;
  return polishedResult(d, activeSetRounds(d, isActive), st, [ws.kn, ws.km, ws.kp, ws.kn2], 0, true);
}

/**
 * The solved result of an active-set solution when it meets the KKT conditions at tol (else
 * null): the interior point's polish and the warm start end here.
 */
function polishedResult(
  d: QPData,
  pol: PolishOutcome | null,
  st: IpmSettings,
  work: readonly [Float64Array, Float64Array, Float64Array, Float64Array],
  iterations: number,
  warmStarted: boolean,
): IpmResult | null {
  if (!pol) return null;
  const r = kktResiduals(d, pol.x, pol.lambda, pol.nu, st.tol, work);
  if (!r.ok) return null;
  return {
    status: 'solved',
    iterations,
    x: pol.x,
    lambda: pol.lambda,
    nu: pol.nu,
    primalResidual: r.primal,
    dualResidual: r.dual,
    gap: r.gap,
    polished: true,
    warmStarted,
    active: pol.factors.active,
    degenerate: isDegenerate(d, pol.x, pol.lambda, pol.factors.active, pol.factors),
    factors: st.keepFactors ? pol.factors : null,
  };
}

function interiorPoint(d: QPData, ws: IpmWorkspace, st: IpmSettings, kkt: ReducedKkt): IpmResult {
  const { n, m, pe, p, G, h, A, b } = d;
  const { x, y, z, s, xh, yh, zh, sh, W, rx, ry, rz, Qx, r1, r2, r3, dsRhs, ux, uy, uz, ds, dsA, dzA, xi, c1 } = ws;
  const work = [ws.kn, ws.km, ws.kp, ws.kn2] as const;
  const tol = st.tol;
  const normP = normInf(p, n);
  const normH = normInf(h, m);
  const normB = normInf(b, pe);

  const nanResult = (status: QPStatus, iterations: number): IpmResult => ({
    status,
    iterations,
    x: new Float64Array(n).fill(NaN),
    lambda: new Float64Array(m).fill(NaN),
    nu: new Float64Array(pe).fill(NaN),
    primalResidual: NaN,
    dualResidual: NaN,
    gap: NaN,
    polished: false,
    warmStarted: false,
    active: new Int32Array(0),
    degenerate: false,
    factors: null,
  });
  // An active-set polish from the current normalised iterate: a solved result, or null.
  const tryPolish = (iterations: number): IpmResult | null => polishedResult(d, polish(d, zh, sh), st, work, iterations, false);
  // The IPM's own normalised answer (with the active-set factors for a backward pass when solved).
  const ipmAnswer = (status: QPStatus, iterations: number): IpmResult => {
    const xs = xh.slice();
    const ls = zh.slice();
    const ns = yh.slice();
    const r = kktResiduals(d, xs, ls, ns, tol, work);
    const act: number[] = [];
    for (let i = 0; i < m; i++) if (zh[i]! > sh[i]!) act.push(i);
    const active = Int32Array.from(act);
    const factors = status === 'solved' && st.keepFactors ? factorActiveSet(d, active) : null;
    const degenerate = status === 'solved' && isDegenerate(d, xs, ls, active, factors);
    return {
      status,
      iterations,
      x: xs,
      lambda: ls,
      nu: ns,
      primalResidual: r.primal,
      dualResidual: r.dual,
      gap: r.gap,
      polished: false,
      warmStarted: false,
      active,
      degenerate,
      factors,
    };
  };

  // Without inequalities the KKT system is linear: try it directly (infeasible or unbounded
  // problems, whose KKT systems are singular or inconsistent, fall through to the IPM).
  if (m === 0) {
    const pr = tryPolish(0);
    if (pr) return pr;
  }

  // ---- initial point: solve with W = I, then shift s and z into the interior (a cold start
  // x = 0, s = z = 1 when that system is singular)
  W.fill(1);
  if (!kkt.factor()) return nanResult('numerical_error', 0);
  if (kkt.mode === 'schur') {
    for (let j = 0; j < n; j++) r1[j] = -p[j]!;
    kkt.solveK(r1, b, h, x, y, z); // z = Gx - h
    for (let i = 0; i < m; i++) s[i] = -z[i]!;
    shiftToInterior(s, m);
    shiftToInterior(z, m);
  } else {
    x.fill(0);
    y.fill(0);
    s.fill(1);
    z.fill(1);
  }
  let tau = 1;
  let kappa = 1;
  // the active set of the last polish attempt (attempts are repeated only when it changes)
  let lastTried: Uint8Array | null = null;
  const activeSetChanged = (): boolean => {
    let changed = lastTried === null;
    const cur = lastTried ?? new Uint8Array(m);
    for (let i = 0; i < m; i++) {
      const a = zh[i]! > sh[i]! ? 1 : 0;
      if (cur[i] !== a) {
        cur[i] = a;
        changed = true;
      }
    }
    lastTried = cur;
    return changed;
  };
  let lastAlpha = 1;

  for (let iter = 0; ; iter++) {
    // ---- residuals of the embedding
    kkt.qTimes(x, Qx);
    for (let j = 0; j < n; j++) rx[j] = Qx[j]! + p[j]! * tau;
    gemvTAdd(A, pe, n, y, rx);
    kkt.gtAdd(z, rx);
    gemv(A, pe, n, x, ry);
    for (let k = 0; k < pe; k++) ry[k]! -= b[k]! * tau;
    kkt.gTimes(x, rz);
    for (let i = 0; i < m; i++) rz[i]! += s[i]! - h[i]! * tau;
    const xQx = dot(x, Qx, n);
    const px = dot(p, x, n);
    const by = dot(b, y, pe);
    const hz = dot(h, z, m);
    const rtau = px + by + hz + xQx / tau + kappa;
    const mu = (dot(s, z, m) + tau * kappa) / (m + 1);
    if (!Number.isFinite(mu) || !Number.isFinite(rtau)) return nanResult('numerical_error', iter);

    // ---- termination, on the normalised iterate
    const it = 1 / tau;
    for (let j = 0; j < n; j++) xh[j] = x[j]! * it;
    for (let k = 0; k < pe; k++) yh[k] = y[k]! * it;
    for (let i = 0; i < m; i++) {
      zh[i] = z[i]! * it;
      sh[i] = s[i]! * it;
    }
    const ktratio = kappa / tau;
    st.trace?.({ iteration: iter, mu, tau, kappa, primal: Math.max(normInf(ry, pe), normInf(rz, m)) * it, dual: normInf(rx, n) * it, alpha: lastAlpha });
    if (ktratio <= 1) {
      const pres = Math.max(normInf(ry, pe), normInf(rz, m)) * it;
      const dres = normInf(rx, n) * it;
      const xQxh = xQx * it * it;
      const pcost = px * it + 0.5 * xQxh;
      const dcost = -(by + hz) * it - 0.5 * xQxh;
      const gap = Math.abs(pcost - dcost);
      const scaleP = Math.max(normB, normH, normInf(sh, m));
      const scaleD = Math.max(normP, normInf(Qx, n) * it);
      const meets = (t: number): boolean => pres <= t * (1 + scaleP) && dres <= t * (1 + scaleD) && gap <= t * (1 + Math.min(Math.abs(pcost), Math.abs(dcost)));
      if (meets(tol)) {
        if (st.polish) {
          const pr = tryPolish(iter);
          if (pr) return pr;
        }
        if (kktResiduals(d, xh, zh, yh, tol, work).ok) return ipmAnswer('solved', iter);
        // the embedding's test passes but the plain KKT test does not yet: keep iterating
      } else if (st.polish && meets(POLISH_START) && activeSetChanged()) {
        // close enough to guess the active set: an exact polish may end the solve early
        const pr = tryPolish(iter);
        if (pr) return pr;
      }
    } else if (ktratio > KT_RATIO_INFEASIBLE) {
      // certificates on the unnormalised iterate (max(tau, kappa) = 1 after rescaling)
      const dotHz = hz + by;
      if (dotHz < -TOL_INFEAS) {
        const gz = ws.kn;
        gz.fill(0);
        gemvTAdd(G, m, n, z, gz);
        gemvTAdd(A, pe, n, y, gz);
        const res = normInf(gz, n) / Math.max(1, normInf(z, m), normInf(y, pe));
        if (res < -TOL_INFEAS * dotHz) return nanResult('primal_infeasible', iter);
      }
      if (px < -TOL_INFEAS) {
        const gx = ws.km;
        const ax = ws.kp;
        gemv(G, m, n, x, gx);
        gemv(A, pe, n, x, ax);
        let cres = normInf(ax, pe);
        for (let i = 0; i < m; i++) cres = Math.max(cres, Math.abs(gx[i]! + s[i]!));
        const res = Math.max(normInf(Qx, n) / Math.max(1, normInf(x, n)), cres / Math.max(1, normInf(x, n) + normInf(s, m)));
        if (res < -TOL_INFEAS * px) return nanResult('dual_infeasible', iter);
      }
    }
    if (iter >= st.maxIter || lastAlpha < 1e-10) {
      if (st.polish && ktratio <= 1) {
        const pr = tryPolish(iter);
        if (pr) return pr;
      }
      return ipmAnswer(iter >= st.maxIter ? 'max_iterations' : 'numerical_error', iter);
    }

    // ---- Newton steps
    for (let i = 0; i < m; i++) W[i] = z[i]! / s[i]!;
    if (!kkt.factor()) {
      if (st.polish && ktratio <= 1) {
        const pr = tryPolish(iter);
        if (pr) return pr;
      }
      return ipmAnswer('numerical_error', iter);
    }
    for (let j = 0; j < n; j++) {
      xi[j] = x[j]! / tau;
      c1[j] = p[j]! + (2 * Qx[j]!) / tau;
    }
    if (!kkt.prepareTau(xi, c1, kappa / tau)) {
      if (st.polish && ktratio <= 1) {
        const pr = tryPolish(iter);
        if (pr) return pr;
      }
      return ipmAnswer('numerical_error', iter);
    }

    // Direction for residual weight eta and complementarity right-hand sides dsRhs (vector)
    // and dkRhs: leaves (dx, dy, dz) in (ux, uy, uz), ds in ds, returns [dtau, dkappa].
    const direction = (eta: number, dkRhs: number): [number, number] => {
      for (let j = 0; j < n; j++) r1[j] = -eta * rx[j]!;
      for (let k = 0; k < pe; k++) r2[k] = -eta * ry[k]!;
      for (let i = 0; i < m; i++) r3[i] = -eta * rz[i]! + dsRhs[i]! / z[i]!;
      const dtau = kkt.step(r1, r2, r3, -eta * rtau + dkRhs / tau, c1, ux, uy, uz);
      for (let i = 0; i < m; i++) ds[i] = -(dsRhs[i]! + s[i]! * uz[i]!) / z[i]!;
      return [dtau, -(dkRhs + kappa * dtau) / tau];
    };
    const maxStep = (dtau: number, dkappa: number): number => {
      let a = 1;
      if (dtau < 0) a = Math.min(a, -tau / dtau);
      if (dkappa < 0) a = Math.min(a, -kappa / dkappa);
      a = stepLength(s, ds, m, a);
      return stepLength(z, uz, m, a);
    };

    // affine (predictor) step
    for (let i = 0; i < m; i++) dsRhs[i] = s[i]! * z[i]!;
    const [dtauA, dkappaA] = direction(1, tau * kappa);
    const alphaA = maxStep(dtauA, dkappaA);
    dsA.set(ds);
    dzA.set(uz);
    const sigma = Math.pow(1 - alphaA, 3);
    // a reduced Mehrotra correction in the first iteration, for badly centred starts
    const corr = iter > 0 ? 1 : alphaA;
    // combined (corrector) step
    for (let i = 0; i < m; i++) dsRhs[i] = s[i]! * z[i]! + corr * dsA[i]! * dzA[i]! - sigma * mu;
    const [dtau, dkappa] = direction(1 - sigma, tau * kappa + corr * dtauA * dkappaA - sigma * mu);
    const alpha = Math.min(1, maxStep(dtau, dkappa) * STEP_FRACTION);
    if (!Number.isFinite(alpha)) return ipmAnswer('numerical_error', iter);
    lastAlpha = alpha;
    for (let j = 0; j < n; j++) x[j]! += alpha * ux[j]!;
    for (let k = 0; k < pe; k++) y[k]! += alpha * uy[k]!;
    for (let i = 0; i < m; i++) {
      z[i]! += alpha * uz[i]!;
      s[i]! += alpha * ds[i]!;
    }
    tau += alpha * dtau;
    kappa += alpha * dkappa;
    // the embedding is homogeneous: rescale so that max(tau, kappa) = 1
    const sc = 1 / Math.max(tau, kappa);
    for (let j = 0; j < n; j++) x[j]! *= sc;
    for (let k = 0; k < pe; k++) y[k]! *= sc;
    for (let i = 0; i < m; i++) {
      z[i]! *= sc;
      s[i]! *= sc;
    }
    tau *= sc;
    kappa *= sc;
  }
}
