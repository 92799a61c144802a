// The interior-point QP's reduced-KKT work in the WebAssembly SIMD kernels (sim/linalg/wasm):
// Q and G copied into wasm memory once per problem, then per iteration H = Q + G'WG formed
// and Cholesky-factored there, and the reduced solves and residuals of the inequality-only
// case run against the factor where it lies. qp-ipm.ts uses it when the wasm kernels are
// active and the problem is large enough for it to pay off; its JS path is the reference.
import { wasmKernels, type WasmKernels } from '../../sim/linalg/wasm/loader.ts';

/** Smallest n for which the QP runs its reduced KKT in wasm. */
export const QP_WASM_MIN_N = 8;

/** One problem's operands resident in wasm memory (addresses are byte offsets). */
export class WasmReducedKkt {
  private readonly mark: number;
  private readonly pQ: number;
  private readonly pG: number;
  private readonly pH: number;
  private readonly pW: number;
  private readonly pa: number;
  private readonly pb: number;
  private readonly pn: number;
  private readonly pm: number;

  private constructor(
    private readonly w: WasmKernels,
    private readonly n: number,
    private readonly m: number,
    Q: Float64Array,
    G: Float64Array,
  ) {
    this.mark = w.mark();
    this.pQ = w.alloc(n * n);
    this.pG = w.alloc(m * n);
    this.pH = w.alloc(n * n);
    this.pW = w.alloc(m);
    this.pa = w.alloc(Math.max(n, m));
    this.pb = w.alloc(Math.max(n, m));
    this.pn = w.alloc(n);
    this.pm = w.alloc(m);
    w.put(this.pQ, Q, 0, n * n);
    w.put(this.pG, G, 0, m * n);
  }

  /** The resident block for a problem of this size, or null when the JS kernels are to run. */
  static create(n: number, m: number, Q: Float64Array, G: Float64Array): WasmReducedKkt | null {
    if (n < QP_WASM_MIN_N) return null;
    const w = wasmKernels();
    return w ? new WasmReducedKkt(w, n, m, Q, G) : null;
  }

  /** Frees the block (and everything allocated in wasm memory after it). */
  dispose(): void {
    this.w.release(this.mark);
  }

  /** Lower triangle of H = Q + G' diag(W) G into the JS array `H` (bit-identical to the JS kernel). */
  gram(W: Float64Array, H: Float64Array): void {
    const { w, n, m } = this;
    w.put(this.pW, W, 0, m);
    w.x.gramLower(this.pH, this.pQ, this.pG, this.pW, n, m);
    w.get(this.pH, H, 0, n * n);
  }

  /** Cholesky of Hreg = (lower triangle of) Hcopy + rho I in wasm; the factor is kept for `solve` and copied to `H`. -1 or the failing pivot. */
  cholesky(Hcopy: Float64Array, rho: number, H: Float64Array): number {
    const { w, n } = this;
    const f = w.f64;
    const o = this.pH >> 3;
    f.set(Hcopy.subarray(0, n * n), o);
    for (let j = 0; j < n; j++) f[o + j * n + j]! += rho;
    const r = w.x.cholFactor(this.pH, n);
    w.get(this.pH, H, 0, n * n);
    return r;
  }

  /**
   * The reduced solve without equalities: dx = Hreg^-1 (r1 + G'(W r3)), dz = W (G dx - r3),
   * with `wr` = W r3 given (computed by the caller).
   */
  solve(r1: Float64Array, wr: Float64Array, r3: Float64Array, W: Float64Array, dx: Float64Array, dz: Float64Array): void {
    const { w, n, m } = this;
    w.put(this.pn, r1, 0, n);
    w.put(this.pm, wr, 0, m);
    w.x.gemvTAdd(this.pG, m, n, this.pm, this.pn);
    w.x.cholSolve(this.pH, n, this.pn, 1);
    w.x.gemv(this.pG, m, n, this.pn, this.pm);
    w.get(this.pn, dx, 0, n);
    const f = w.f64;
    const om = this.pm >> 3;
    for (let i = 0; i < m; i++) dz[i] = W[i]! * (f[om + i]! - r3[i]!);
  }

  /** k1 = Q dx + G' dz and k3 = G dx (the products of the full system's residual without equalities). */
  products(dx: Float64Array, dz: Float64Array, k1: Float64Array, k3: Float64Array): void {
    const { w, n, m } = this;
    w.put(this.pa, dx, 0, n);
    w.put(this.pb, dz, 0, m);
    w.x.gemv(this.pQ, n, n, this.pa, this.pn);
    w.x.gemvTAdd(this.pG, m, n, this.pb, this.pn);
    w.x.gemv(this.pG, m, n, this.pa, this.pm);
    w.get(this.pn, k1, 0, n);
    w.get(this.pm, k3, 0, m);
  }

  /** out = Q v. */
  qTimes(v: Float64Array, out: Float64Array): void {
    const { w, n } = this;
    w.put(this.pa, v, 0, n);
    w.x.gemv(this.pQ, n, n, this.pa, this.pn);
    w.get(this.pn, out, 0, n);
  }

  /** out = G v (length m). */
  gTimes(v: Float64Array, out: Float64Array): void {
    const { w, n, m } = this;
    w.put(this.pa, v, 0, n);
    w.x.gemv(this.pG, m, n, this.pa, this.pm);
    w.get(this.pm, out, 0, m);
  }

  /** out += G' v (v of length m, out of length n). */
  gtAdd(v: Float64Array, out: Float64Array): void {
    const { w, n, m } = this;
    w.put(this.pb, v, 0, m);
    w.put(this.pn, out, 0, n);
    w.x.gemvTAdd(this.pG, m, n, this.pb, this.pn);
    w.get(this.pn, out, 0, n);
  }
}
