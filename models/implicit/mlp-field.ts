// A known, serialisable MLP vector field for the ODE layer (models/implicit): `mlpField(sizes)`
// is an ordinary tape function f(t, y, [W1, b1, ..., WL, bL]) = act(... act(y W1 + b1) ...) WL + bL,
// and it carries its description, so `odeint` can evaluate it and its vector-Jacobian product
// numerically (MlpKernel: no tape, no per-op allocation; a tanh MLP whole in the wasm SIMD
// kernels, GEMM and vectorised tanh, from a size where that pays off; JS loops otherwise).
import { Tensor, add, fmtShape, matmul, relu, ShapeError, softplus, tanh } from '../../sim/core/index.ts';
import { gemm } from '../../sim/linalg/gemm.ts';
import { privateKernels, type WasmKernels } from '../../sim/linalg/wasm/loader.ts';
import { type Dyn, assertFinite, val } from './ode-solvers.ts';

/** Hidden-layer activations of `mlpField` (the last layer is linear). */
export type MlpActivation = 'tanh' | 'relu' | 'softplus';

/** The description of an MLP field: layer widths (input first, output last) and the hidden activation. */
export interface MlpSpec {
  readonly sizes: readonly number[];
  readonly activation: MlpActivation;
}

/** An ODE vector field (t, y, params) => Tensor that is a known MLP (see `mlpField`). */
export interface MlpField {
  (t: Tensor, y: Tensor, params: readonly Tensor[]): Tensor;
  /** What the field computes; `odeint` uses it to evaluate the field without the tape. */
  readonly mlp: MlpSpec;
}

const ACTS: Record<MlpActivation, (x: Tensor) => Tensor> = { tanh, relu, softplus };

/**
 * An MLP vector field for `odeint`: y' = act(... act(y W1 + b1) ...) WL + bL, autonomous (t is
 * unused), with the weights passed as odeint's params [W1 [s0, s1], b1 [s1], ..., WL, bL] and
 * y of shape [s0] or [batch, s0] (output width = input width). It is an ordinary tape
 * function, so it can be called anywhere; `odeint` recognises it and, in adjoint mode,
 * evaluates it and its vector-Jacobian product numerically (the same values up to rounding).
 *
 * @example
 * const f = mlpField([8, 64, 64, 8]); // tanh hidden layers
 * const { y } = odeint(f, y0, [0, 1], [W1, b1, W2, b2, W3, b3], { rtol: 1e-6, atol: 1e-6 });
 */
export function mlpField(sizes: readonly number[], opts: { activation?: MlpActivation } = {}): MlpField {
  const activation = opts.activation ?? 'tanh';
  if (!(activation in ACTS)) throw new Error(`mlpField: activation must be one of ${Object.keys(ACTS).join(', ')}, got '${String(activation)}'`);
  if (sizes.length < 2) throw new Error(`mlpField: sizes needs at least 2 widths (input, output), got ${sizes.length}`);
  sizes.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1) throw new Error(`mlpField: sizes[${i}] must be a positive integer, got ${s}`);
  });
  if (sizes[0] !== sizes[sizes.length - 1]) {
    throw new Error(
      `mlpField: a vector field maps the state to its derivative, so sizes[0] (${sizes[0]}) must equal the last width (${sizes[sizes.length - 1]})`,
    );
  }
  const spec: MlpSpec = { sizes: [...sizes], activation };
  const act = ACTS[activation];
  const f = (_t: Tensor, y: Tensor, params: readonly Tensor[]): Tensor => {
    checkMlpParams(spec, params, 'mlpField');
    let h = y;
    const L = sizes.length - 1;
    for (let l = 0; l < L; l++) {
      h = add(matmul(h, params[2 * l]!), params[2 * l + 1]!);
      if (l + 1 < L) h = act(h);
    }
    return h;
  };
  return Object.assign(f, { mlp: spec });
}

/** The MLP description of a field made by `mlpField`, or null for any other function. */
export function mlpSpecOf(f: unknown): MlpSpec | null {
  const s = typeof f === 'function' ? (f as Partial<MlpField>).mlp : undefined;
  return s && Array.isArray(s.sizes) ? s : null;
}

/** Throws a ShapeError naming the parameter whose shape does not fit the spec. */
export function checkMlpParams(spec: MlpSpec, params: readonly Tensor[], where: string): void {
  const L = spec.sizes.length - 1;
  if (params.length !== 2 * L)
    throw new ShapeError(`${where}: an MLP with sizes [${spec.sizes.join(', ')}] takes ${2 * L} params (W1, b1, ...), got ${params.length}`);
  for (let l = 0; l < L; l++) {
    const W = params[2 * l]!;
    const b = params[2 * l + 1]!;
    const p = spec.sizes[l]!;
    const q = spec.sizes[l + 1]!;
    if (W.ndim !== 2 || W.shape[0] !== p || W.shape[1] !== q)
      throw new ShapeError(`${where}: params[${2 * l}] (W${l + 1}) has shape ${fmtShape(W.shape)}, expected [${p}, ${q}]`);
    if (b.ndim !== 1 || b.shape[0] !== q) throw new ShapeError(`${where}: params[${2 * l + 1}] (b${l + 1}) has shape ${fmtShape(b.shape)}, expected [${q}]`);
  }
}

/** The dynamics of `odeint`'s solver for a known MLP field: numeric forward, counted and checked for NaN. */
export function mlpDyn(k: MlpKernel, shape: readonly number[], counter: { nfe: number }, where: string): Dyn {
  return (t, y, step) => {
    const out = new Float64Array(y.size);
    k.forward(y.data, out);
    counter.nfe++;
    assertFinite(out, where, 'f(t, y, params)', val(t), step);
    return new Tensor(out, shape);
  };
}

/** The batch size of a state of shape [s0] (1) or [B, s0] (B) for the field, or -1 when the shape does not fit (the tape path then reports it). */
export function batchOf(spec: MlpSpec, shape: readonly number[]): number {
  const s0 = spec.sizes[0]!;
  if (shape.length === 1 && shape[0] === s0) return 1;
  if (shape.length === 2 && shape[1] === s0) return shape[0]!;
  return -1;
}

/** Below this many multiply-adds a layer's products run in plain JS loops (no copies into wasm memory). */
const SMALL_WORK = 4096;
/** From this many multiply-adds per evaluation (all layers) a tanh MLP runs whole in the wasm kernels. */
const WASM_MLP_MIN_WORK = 1024;

/** Byte addresses of a kernel's weights and buffers in the private wasm instance. */
interface WasmLayout {
  w: WasmKernels;
  W: number[];
  b: number[];
  acts: number[];
  grads: number[];
  gW: number[];
  gb: number[];
}

/** The private wasm instance's first free address, and the layout (of one kernel) whose weights it holds. */
let wasmBase = -1;
let resident: WasmLayout | null = null;
/** Counts the layouts made on the private instance (a forward's activations are valid while it is unchanged). */
let layoutEpoch = 0;

/**
 * Numeric evaluation of an MLP field and its vector-Jacobian product for a fixed batch size.
 * A tanh MLP of at least WASM_MLP_MIN_WORK multiply-adds runs whole in the wasm SIMD kernels
 * (GEMM, vectorised tanh and its backward) on a private instance that holds the kernel's
 * weights (copied from the weights' arrays when the kernel first runs there, or again after
 * another kernel took the instance): a kernel serves one solve, whose weights do not change.
 * Otherwise the JS loops run (the reference), on the weights' arrays as they are at each call.
 * `forward` keeps the activations that the next `vjp` uses.
 */
export class MlpKernel {
  private readonly work: number;
  private lay: WasmLayout | null = null;
  private fwdEpoch = -1;
  private readonly L: number;
  private readonly acts: Float64Array[];
  private readonly grads: Float64Array[];
  private readonly wT: Float64Array[];
  private readonly xT: Float64Array[];
  private input: Float64Array = new Float64Array(0);

  constructor(
    readonly spec: MlpSpec,
    readonly batch: number,
    private readonly weights: readonly Float64Array[],
  ) {
    const s = spec.sizes;
    this.L = s.length - 1;
    let work = 0;
    for (let l = 0; l < this.L; l++) work += batch * s[l]! * s[l + 1]!;
    this.work = work;
    this.acts = s.map((w) => new Float64Array(batch * w));
    this.grads = s.map((w) => new Float64Array(batch * w));
    this.wT = [];
    this.xT = [];
    for (let l = 0; l < this.L; l++) {
      this.wT.push(new Float64Array(s[l]! * s[l + 1]!));
      this.xT.push(new Float64Array(s[l]! * batch));
    }
  }

  /** The wasm layout with this kernel's weights resident, or null when the JS loops run. */
  private wasm(): WasmLayout | null {
    if (this.spec.activation !== 'tanh' || this.work < WASM_MLP_MIN_WORK) return null;
    if (this.lay && resident === this.lay) return this.lay;
    const w = privateKernels('models/implicit/mlp-field');
    if (!w) return null;
    if (wasmBase < 0) wasmBase = w.mark();
    w.release(wasmBase);
    const s = this.spec.sizes;
    const B = this.batch;
    const lay: WasmLayout = { w, W: [], b: [], acts: [], grads: [], gW: [], gb: [] };
    for (let l = 0; l < this.L; l++) {
      const p = s[l]!;
      const q = s[l + 1]!;
      lay.W.push(w.alloc(p * q));
      lay.b.push(w.alloc(q));
      lay.gW.push(w.alloc(p * q));
      lay.gb.push(w.alloc(q));
      w.put(lay.W[l]!, this.weights[2 * l]!, 0, p * q);
      w.put(lay.b[l]!, this.weights[2 * l + 1]!, 0, q);
    }
    for (const width of s) {
      lay.acts.push(w.alloc(B * width));
      lay.grads.push(w.alloc(B * width));
    }
    this.lay = lay;
    resident = lay;
    layoutEpoch++;
    return lay;
  }

  /** out (batch x s_L) = f(x) for x (batch x s_0); keeps the hidden activations for `vjp`. */
  forward(x: Float64Array, out: Float64Array): void {
    const lay = this.wasm();
    if (lay) return this.forwardWasm(lay, x, out);
    const { L, batch: B } = this;
    const s = this.spec.sizes;
    this.input = x;
    let h = x;
    for (let l = 0; l < L; l++) {
      const p = s[l]!;
      const q = s[l + 1]!;
      const o = l + 1 === L ? out : this.acts[l + 1]!;
      affine(h, this.weights[2 * l]!, this.weights[2 * l + 1]!, o, B, p, q);
      if (l + 1 < L) activate(this.spec.activation, o, B * q);
      h = o;
    }
  }

  /**
   * The vector-Jacobian product at the last `forward`'s input with cotangent g (batch x s_L),
   * written times `scale` into dst: d/dx at dst[offX..] (skipped when offX < 0), d/dW_l at
   * dst[offP[2l]..] and d/db_l at dst[offP[2l+1]..] (each skipped when its offset is < 0).
   */
  vjp(g: Float64Array, dst: Float64Array, offX: number, offP: readonly number[], scale: number): void {
    const lay = this.wasm();
    if (lay) {
      // another kernel took the instance since this kernel's forward: recompute its activations
      if (this.fwdEpoch !== layoutEpoch) this.forwardWasm(lay, this.input, this.grads[this.L]!);
      return this.vjpWasm(lay, g, dst, offX, offP, scale);
    }
    const { L, batch: B } = this;
    const s = this.spec.sizes;
    let gl = g; // cotangent of layer l's output (pre-activation for the linear last layer)
    for (let l = L - 1; l >= 0; l--) {
      const p = s[l]!;
      const q = s[l + 1]!;
      if (l + 1 < L) {
        // through the activation: g_pre = g_out * act'(.) from the stored outputs
        const h = this.acts[l + 1]!;
        const gp = this.grads[l + 1]!;
        activationGrad(this.spec.activation, h, gl, gp, B * q);
        gl = gp;
      }
      const x = l === 0 ? this.input : this.acts[l]!;
      const oW = offP[2 * l]!;
      const ob = offP[2 * l + 1]!;
      if (oW >= 0) weightGrad(x, gl, dst, oW, B, p, q, scale, this.xT[l]!);
      if (ob >= 0) {
        for (let j = 0; j < q; j++) dst[ob + j] = 0;
        for (let r = 0; r < B; r++) for (let j = 0; j < q; j++) dst[ob + j] = dst[ob + j]! + gl[r * q + j]!;
        for (let j = 0; j < q; j++) dst[ob + j] = dst[ob + j]! * scale;
      }
      if (l > 0 || offX >= 0) {
        const gx = this.grads[l]!;
        inputGrad(gl, this.weights[2 * l]!, gx, B, p, q, this.wT[l]!);
        if (l === 0) for (let i = 0; i < B * p; i++) dst[offX + i] = scale * gx[i]!;
        gl = gx;
      }
    }
  }

  private forwardWasm(lay: WasmLayout, x: Float64Array, out: Float64Array): void {
    const { L, batch: B } = this;
    const s = this.spec.sizes;
    const { w } = lay;
    this.input = x;
    this.fwdEpoch = layoutEpoch;
    w.put(lay.acts[0]!, x, 0, B * s[0]!);
    for (let l = 0; l < L; l++) {
      const p = s[l]!;
      const q = s[l + 1]!;
      const o = lay.acts[l + 1]!;
      w.x.setRows(o, lay.b[l]!, B, q);
      w.x.gemm(lay.acts[l]!, lay.W[l]!, o, B, p, q, p, q, q, 1);
      if (l + 1 < L) w.x.tanhInPlace(o, B * q);
    }
    w.get(lay.acts[L]!, out, 0, B * s[L]!);
  }

  private vjpWasm(lay: WasmLayout, g: Float64Array, dst: Float64Array, offX: number, offP: readonly number[], scale: number): void {
    const { L, batch: B } = this;
    const s = this.spec.sizes;
    const { w } = lay;
    w.put(lay.grads[L]!, g, 0, B * s[L]!);
    for (let l = L - 1; l >= 0; l--) {
      const p = s[l]!;
      const q = s[l + 1]!;
      const gl = lay.grads[l + 1]!;
      if (l + 1 < L) w.x.tanhBackward(lay.acts[l + 1]!, gl, gl, B * q);
      const oW = offP[2 * l]!;
      const ob = offP[2 * l + 1]!;
      if (oW >= 0) {
        w.x.gemmTN(lay.acts[l]!, gl, lay.gW[l]!, B, p, q, scale);
        w.get(lay.gW[l]!, dst, oW, p * q);
      }
      if (ob >= 0) {
        w.x.colSums(gl, lay.gb[l]!, B, q, scale);
        w.get(lay.gb[l]!, dst, ob, q);
      }
      if (l > 0 || offX >= 0) w.x.gemmNT(gl, lay.W[l]!, lay.grads[l]!, B, q, p);
    }
    if (offX >= 0) {
      const f = w.f64;
      const at = lay.grads[0]! >> 3;
      for (let i = 0; i < B * s[0]!; i++) dst[offX + i] = scale * f[at + i]!;
    }
  }
}

/** o (B x q) = x (B x p) W (p x q) + b. */
function affine(x: Float64Array, W: Float64Array, b: Float64Array, o: Float64Array, B: number, p: number, q: number): void {
  if (B * p * q >= SMALL_WORK) {
    gemm(x, 0, W, 0, o, 0, B, p, q);
    for (let r = 0; r < B; r++) for (let j = 0; j < q; j++) o[r * q + j] = o[r * q + j]! + b[j]!;
    return;
  }
  for (let r = 0; r < B; r++) {
    const ro = r * q;
    for (let j = 0; j < q; j++) o[ro + j] = b[j]!;
    for (let i = 0; i < p; i++) {
      const xi = x[r * p + i]!;
      const wi = i * q;
      for (let j = 0; j < q; j++) o[ro + j] = o[ro + j]! + xi * W[wi + j]!;
    }
  }
}

function activate(act: MlpActivation, o: Float64Array, n: number): void {
  if (act === 'tanh') for (let i = 0; i < n; i++) o[i] = Math.tanh(o[i]!);
  else if (act === 'relu') for (let i = 0; i < n; i++) o[i] = o[i]! > 0 ? o[i]! : 0;
  else
    for (let i = 0; i < n; i++) {
      const v = o[i]!; // softplus, overflow-safe: max(v, 0) + log1p(exp(-|v|))
      o[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    }
}

/** gp = g * act'(pre), from the activation's output h: tanh' = 1 - h^2, relu' = [h > 0], softplus' = 1 - e^-h. */
function activationGrad(act: MlpActivation, h: Float64Array, g: Float64Array, gp: Float64Array, n: number): void {
  if (act === 'tanh') for (let i = 0; i < n; i++) gp[i] = g[i]! * (1 - h[i]! * h[i]!);
  else if (act === 'relu') for (let i = 0; i < n; i++) gp[i] = h[i]! > 0 ? g[i]! : 0;
  else for (let i = 0; i < n; i++) gp[i] = g[i]! * -Math.expm1(-h[i]!);
}

/** dst[off..] (p x q) = scale * x' g for x (B x p), g (B x q). */
function weightGrad(x: Float64Array, g: Float64Array, dst: Float64Array, off: number, B: number, p: number, q: number, scale: number, xT: Float64Array): void {
  if (B * p * q >= SMALL_WORK) {
    for (let r = 0; r < B; r++) for (let i = 0; i < p; i++) xT[i * B + r] = x[r * p + i]!;
    gemm(xT, 0, g, 0, dst, off, p, B, q);
    if (scale !== 1) for (let i = 0; i < p * q; i++) dst[off + i] = dst[off + i]! * scale;
    return;
  }
  for (let i = 0; i < p * q; i++) dst[off + i] = 0;
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < p; i++) {
      const v = scale * x[r * p + i]!;
      if (v === 0) continue;
      const oi = off + i * q;
      const gr = r * q;
      for (let j = 0; j < q; j++) dst[oi + j] = dst[oi + j]! + v * g[gr + j]!;
    }
  }
}

/** gx (B x p) = g (B x q) W' for W (p x q). */
function inputGrad(g: Float64Array, W: Float64Array, gx: Float64Array, B: number, p: number, q: number, wT: Float64Array): void {
  if (B * p * q >= SMALL_WORK) {
    for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) wT[j * p + i] = W[i * q + j]!;
    gemm(g, 0, wT, 0, gx, 0, B, q, p);
    return;
  }
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < p; i++) {
      const wi = i * q;
      const gr = r * q;
      let acc = 0;
      for (let j = 0; j < q; j++) acc += g[gr + j]! * W[wi + j]!;
      gx[r * p + i] = acc;
    }
  }
}
