// The TensorFlow.js bridge (models/tf): `tfOp` turns a differentiable function of the float64
// core (sim/core) into a tfjs op with a custom gradient (float32 at the boundary, float64
// inside), plus `toCore` / `toTf` conversions, and the asynchronous join of those ops
// (`bridgedVariableGrads`, `bridgedRun`) for backends without synchronous reads (webgpu).
// Call `await initTf()` (backend.ts) first.
import type { NamedTensorMap, Scalar, Tensor as TfTensor, Variable } from '@tensorflow/tfjs';
import { NonFiniteError, Tensor, fmtShape, gradients, withArgShapes, withGradMode } from '../../sim/core/index.ts';
import { getTf } from './backend.ts';

/** Options of `tfOp`. */
export interface TfOpOptions {
  /** Name used in error messages (default: the function's name, else 'anonymous'). */
  name?: string;
  /**
   * Throw a NonFiniteError naming the output (or input gradient) and index when a value is NaN or
   * infinite after conversion to float32 (this includes float64 values beyond the float32 range,
   * about 3.4e38). Default true.
   */
  checkFinite?: boolean;
}

/** The tfjs result of a `tfOp`: one tf.Tensor for a core function returning a Tensor, an array for one returning Tensor[]. */
export type TfOpResult<R> = R extends readonly Tensor[] ? TfTensor[] : TfTensor;

/**
 * Copies a tfjs tensor into a new float64 core Tensor (a leaf) of the same shape. Reads the data
 * synchronously (`dataSync`); int32 and bool tensors become float64 numbers (bool as 0/1).
 */
export function toCore(x: TfTensor): Tensor {
  if (x.dtype === 'string' || x.dtype === 'complex64')
    throw new TypeError(`toCore: tf.Tensor of dtype '${x.dtype}' (shape ${fmtShape(x.shape)}) has no float64 equivalent`);
  const data = x.dataSync() as Float32Array | Int32Array | Uint8Array;
  return new Tensor(Float64Array.from(data), [...x.shape]);
}

/**
 * Copies a float64 core Tensor into a new float32 tfjs tensor of the same shape on the current
 * backend. Values beyond the float32 range become +-Infinity and precision drops to about 7
 * significant digits. Requires `initTf()` to have resolved.
 */
export function toTf(t: Tensor): TfTensor {
  return getTf().tensor(Float32Array.from(t.data), [...t.shape], 'float32');
}

/**
 * Wraps a differentiable function of the float64 core into a tfjs op with a custom gradient
 * (`tf.customGrad`), so a tfjs model can feed a core layer and receive its gradients.
 *
 * - Forward: each tf input is copied to float64 (`toCore`), `fn` runs on the copies, the
 *   result(s) are copied back to float32. When no tfjs gradient tape is recording, `fn` runs
 *   under `noGrad` (no float64 graph is kept).
 * - Backward: the upstream gradient dy (float32) is copied to float64 and the core's reverse pass
 *   (`gradients(outputs, inputs, dy)`) gives one float64 gradient per input, returned as float32
 *   tf tensors of the input shapes (zeros for inputs the outputs do not depend on, and for
 *   int32/bool inputs, which are treated as constants). The float64 graph of the forward call is
 *   held by the gradient closure, so no tf tensors need `save`-ing; it is freed with the tfjs tape.
 * - `fn` may return one Tensor (the op returns one tf.Tensor of its shape) or Tensor[] (the op
 *   returns tf.Tensor[]: tfjs custom gradients have one output, so the outputs travel packed in
 *   one flat tensor and are split and reshaped outside the custom op; tfjs differentiates that).
 * - First order only: differentiating the bridge's gradient again (tf.grad of tf.grad, gradient
 *   penalties) is not supported; calling the backward pass while an outer tfjs tape records
 *   throws rather than return a silently wrong second derivative. Use the core's own
 *   `createGraph` / `hvp` for second order.
 * - Reads its inputs and dy synchronously (`dataSync`): on backends that cannot (tfjs webgpu in
 *   Node) differentiate through it with {@link bridgedVariableGrads} and run it with
 *   {@link bridgedRun}, which give the same values and gradients with asynchronous reads.
 *
 * @example
 * const { tf } = await initTf();
 * const energy = tfOp((q: Tensor, k: Tensor) => sum(mul(k, square(sin(q)))));
 * const g = tf.grad((q) => energy(q, tf.ones([3])))(tf.tensor1d([0.1, 0.2, 0.3]));
 */
export function tfOp<R extends Tensor | readonly Tensor[]>(fn: (...xs: Tensor[]) => R, opts: TfOpOptions = {}): (...xs: TfTensor[]) => TfOpResult<R> {
  const core: CoreOp = { fn: fn as CoreOp['fn'], name: opts.name ?? (fn.name || 'anonymous'), checkFinite: opts.checkFinite ?? true };
  const { name } = core;
  const op = (...xs: TfTensor[]): TfTensor | TfTensor[] => {
    const tf = getTf();
    if (xs.length === 0) throw new Error(`tfOp(${name}): called with no inputs; pass at least one tf.Tensor`);
    xs.forEach((x, i) => {
      if (!(x instanceof tf.Tensor)) throw new TypeError(`tfOp(${name}): input ${i} is not a tf.Tensor (got ${describe(x)})`);
      if (x.isDisposed) throw new Error(`tfOp(${name}): input ${i} (shape ${fmtShape(x.shape)}) has been disposed`);
    });
    if (activeJoin) return activeJoin.call(core, xs);
    let fwd: CoreForward | null = null;
    const custom = tf.customGrad((...args: (TfTensor | ((save: TfTensor[]) => void))[]) => {
      const inputs = args.slice(0, xs.length) as TfTensor[];
      // Inside the custom op tfjs's own tape is paused; an outer gradient scope means this call is being recorded.
      const recording = tf.engine().state.gradientDepth > 0;
      const f = coreForward(
        core,
        inputs.map((x) => ({ data: x.dataSync() as InputData, shape: [...x.shape], float: isFloat(x) })),
        recording,
      );
      fwd = f;
      const gradFunc = (dy: TfTensor): TfTensor[] => {
        if (tf.engine().state.gradientDepth > 0) {
          throw new Error(
            `tfOp(${name}): second-order gradients through the tfjs bridge are not supported (its backward pass was called while an outer tfjs gradient tape is recording); use the core's createGraph/hvp`,
          );
        }
        if (!recording) throw new Error(`tfOp(${name}): backward called for a forward pass that ran without a tfjs gradient tape`);
        return coreBackward(core, f, dy.dataSync() as Float32Array).map((g, i) =>
          g ? tf.tensor(g, inputs[i]!.shape, 'float32') : tf.zeros(inputs[i]!.shape, 'float32'),
        );
      };
      return { value: packedTensor(f), gradFunc };
    });
    // Inside tidy so the packed tensor of a multi-output op is disposed once split.
    return tf.tidy(() => {
      const y = custom(...xs);
      return fwd!.multi ? splitOutputs(y, fwd!.shapes) : y;
    });
  };
  return op as (...xs: TfTensor[]) => TfOpResult<R>;
}

/** A core function wrapped by `tfOp`, with its name and options. */
interface CoreOp {
  fn: (...xs: Tensor[]) => Tensor | readonly Tensor[];
  name: string;
  checkFinite: boolean;
}

type InputData = Float32Array | Int32Array | Uint8Array;

/** The host copy of one tf input of a bridged op. */
interface InputCopy {
  data: InputData;
  shape: number[];
  /** float32 inputs are differentiated; int32/bool ones are constants. */
  float: boolean;
}

/** One float64 forward call of a bridged op: its core inputs and outputs (with their graph) and the float32 result. */
interface CoreForward {
  inputs: InputCopy[];
  coreIn: Tensor[];
  outs: readonly Tensor[];
  shapes: number[][];
  multi: boolean;
  packed: Float32Array;
  recording: boolean;
}

/** Runs the core function on float64 copies of the inputs (recording its graph when `recording`). */
function coreForward(core: CoreOp, inputs: InputCopy[], recording: boolean): CoreForward {
  const { name } = core;
  const coreIn = inputs.map((x) => new Tensor(Float64Array.from(x.data), [...x.shape]));
  const raw = withGradMode(recording, () => {
    if (recording) coreIn.forEach((c, i) => c.requireGrad(inputs[i]!.float));
    return withArgShapes(`tfOp(${name})`, 'the op', Object.fromEntries(coreIn.map((c, i) => [`input ${i}`, c])), () => core.fn(...coreIn));
  });
  const multi = Array.isArray(raw);
  const outs = checkOutputs(raw, name);
  const hint = (): string => (inputs.some((x) => x.float && !allFinite(x.data)) ? ' (an input already holds NaN/Inf)' : '');
  const packed = packFloat32(outs, name, core.checkFinite, hint);
  return { inputs, coreIn, outs, shapes: outs.map((o) => [...o.shape]), multi, packed, recording };
}

/** The float32 tf tensor of a forward call's packed outputs (flat for several outputs, shaped for one). */
function packedTensor(f: CoreForward): TfTensor {
  const tf = getTf();
  return f.multi ? tf.tensor1d(f.packed, 'float32') : tf.tensor(f.packed, f.shapes[0], 'float32');
}

/** The float64 reverse pass of a forward call: one float32 gradient per input (null: zero, or a constant input). */
function coreBackward(core: CoreOp, f: CoreForward, dyData: Float32Array): (Float32Array | null)[] {
  let offset = 0;
  const gOuts = f.outs.map((o) => {
    const g = new Tensor(Float64Array.from(dyData.subarray(offset, offset + o.size)), o.shape);
    offset += o.size;
    return g;
  });
  const grads = f.outs.some((o) => o.requiresGrad) ? gradients(f.outs, f.coreIn, gOuts, { allowUnused: true }) : f.coreIn.map(() => null);
  return f.inputs.map((x, i) => {
    const g = grads[i];
    if (!g || !x.float) return null;
    const data = Float32Array.from(g.data);
    if (core.checkFinite) {
      const hint = (): string => (allFinite(dyData) ? '' : ' (the upstream gradient dy already holds NaN/Inf)');
      assertFinite(data, core.name, 'backward', `gradient of input ${i} (shape ${fmtShape(x.shape)})`, hint);
    }
    return data;
  });
}

// ---------------------------------------------------------------------------------------------
// The asynchronous join: the same ops and gradients without synchronous reads (tfjs on webgpu).

/** Thrown inside a join pass when a bridged op needs its inputs on the host; the driver reads them and runs the pass again. */
class NeedsInputs {
  constructor(
    readonly core: CoreOp,
    readonly kept: TfTensor[],
  ) {}
}

/** One bridged-op call of a join, in call order: its float64 forward and, after the backward pass, its input gradients. */
interface JoinCall {
  core: CoreOp;
  fwd: CoreForward;
  dy?: TfTensor;
  grads?: (Float32Array | null)[];
}

/** The state of one `bridgedVariableGrads` / `bridgedRun`, active only while a pass runs (synchronously). */
class Join {
  calls: JoinCall[] = [];
  index = 0;
  phase: 'discover' | 'taped' | 'surrogate' = 'discover';
  terms: TfTensor[] = [];

  constructor(readonly recording: boolean) {}

  /** A bridged op called during a pass. */
  call(core: CoreOp, xs: TfTensor[]): TfTensor | TfTensor[] {
    const tf = getTf();
    const k = this.index++;
    const c = this.calls[k];
    if (!c)
      throw new NeedsInputs(
        core,
        xs.map((x) => tf.keep(x.clone())),
      );
    if (c.core !== core || c.fwd.inputs.length !== xs.length || xs.some((x, i) => !sameShape(x.shape, c.fwd.inputs[i]!.shape)))
      throw new Error(
        `tfOp(${core.name}): the function passed to bridgedVariableGrads/bridgedRun called its bridged ops differently on a second run (call ${k}); it must be deterministic`,
      );
    if (this.phase === 'surrogate') {
      // d/dw sum(x * stopGradient(g)) = (dx/dw)^T g: the float64 input gradient g joins the tfjs tape
      c.grads!.forEach((g, i) => {
        if (g) this.terms.push(tf.sum(tf.mul(xs[i]!, tf.tensor(g, xs[i]!.shape, 'float32'))));
      });
      return tf.tidy(() => (c.fwd.multi ? splitOutputs(packedTensor(c.fwd), c.fwd.shapes) : packedTensor(c.fwd)));
    }
    if (this.phase === 'discover') return tf.tidy(() => (c.fwd.multi ? splitOutputs(packedTensor(c.fwd), c.fwd.shapes) : packedTensor(c.fwd)));
    // the same packed op as the synchronous path, whose backward keeps dy for the float64 reverse pass
    const custom = tf.customGrad((...args: (TfTensor | ((save: TfTensor[]) => void))[]) => {
      const inputs = args.slice(0, xs.length) as TfTensor[];
      const gradFunc = (dy: TfTensor): TfTensor[] => {
        c.dy?.dispose();
        c.dy = tf.keep(dy.clone());
        return inputs.map((x) => tf.zeros(x.shape, 'float32'));
      };
      return { value: packedTensor(c.fwd), gradFunc };
    });
    return tf.tidy(() => {
      const y = custom(...xs);
      return c.fwd.multi ? splitOutputs(y, c.fwd.shapes) : y;
    });
  }

  /** Runs one synchronous pass of `f` with this join active; resolves host reads and retries until every bridged op has run. */
  async pass<T>(f: () => T): Promise<T> {
    for (;;) {
      this.index = 0;
      this.terms = [];
      let need: NeedsInputs | null = null;
      // the bridged ops of this synchronous run find their join through the module's pointer
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      activeJoin = this;
      try {
        return f();
      } catch (e) {
        if (!(e instanceof NeedsInputs)) throw e;
        need = e;
      } finally {
        activeJoin = null;
      }
      try {
        const inputs = await Promise.all(need.kept.map(async (x) => ({ data: (await x.data()) as InputData, shape: [...x.shape], float: isFloat(x) })));
        this.calls.push({ core: need.core, fwd: coreForward(need.core, inputs, this.recording) });
      } finally {
        need.kept.forEach((x) => x.dispose());
      }
    }
  }

  dispose(): void {
    for (const c of this.calls) c.dy?.dispose();
  }
}

let activeJoin: Join | null = null;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * `tf.variableGrads` for a loss that passes through `tfOp` layers (the tf bridge, the MPC layer),
 * reading tensors only with `await data()`: the form for tfjs backends that cannot read
 * synchronously (webgpu in Node), with the same values and gradients as `tf.variableGrads` over
 * the synchronous bridge.
 *
 * How it joins: `f` runs (untaped) until it reaches a bridged op whose inputs are not yet on the
 * host; they are read asynchronously, the float64 forward runs on the CPU (recording its graph)
 * and `f` runs again, until every bridged op has its outputs. Then one taped run of `f`: the bridged ops keep their
 * upstream gradients dy, which are read and pulled back through the float64 graph (the op's VJP).
 * A final taped run of `f` then applies each input gradient g to the tfjs tape through the
 * surrogate `sum(x * stopGradient(g))`, whose gradient with respect to the weights is exactly the
 * chain rule through the op; its sum with the direct gradients is returned.
 *
 * `f` must be deterministic in the bridged ops it calls (it runs two or more times; tfjs ops with
 * random state, e.g. dropout, must be seeded). Bridged ops chained one after another (an op's
 * input computed from another op's output) are not supported: their gradients would miss the
 * chained path; the ego and MPC models use one bridged op per loss.
 *
 * @param f the loss, a scalar tensor built from the variables (tfjs ops and bridged ops)
 * @param varList the variables to differentiate (default: all trainable variables)
 * @returns the loss value and a gradient per variable name, as `tf.variableGrads`; dispose both
 *
 * @example
 * const { value, grads } = await bridgedVariableGrads(() => loss(model, batch), vars);
 * optimizer.applyGradients(grads);
 */
export async function bridgedVariableGrads(f: () => Scalar, varList?: Variable[]): Promise<{ value: Scalar; grads: NamedTensorMap }> {
  const tf = getTf();
  const join = new Join(true);
  try {
    // untaped runs until every bridged op has its float64 forward (an aborted taped run would leak tfjs tape tensors)
    await join.pass(() => tf.tidy(() => void f()));
    join.phase = 'taped';
    const { value, grads } = await join.pass(() => tf.variableGrads(f, varList));
    const taped = join.calls.filter((c) => c.dy);
    if (taped.length === 0) return { value, grads };
    for (const c of taped) c.grads = coreBackward(c.core, c.fwd, (await c.dy!.data()) as Float32Array);
    for (const c of join.calls) c.grads ??= c.fwd.inputs.map(() => null);
    join.phase = 'surrogate';
    const surrogate = await join.pass(() =>
      tf.variableGrads(() => {
        tf.dispose(f());
        return (join.terms.length ? tf.addN(join.terms) : tf.scalar(0)) as Scalar;
      }, varList),
    );
    surrogate.value.dispose();
    const out: NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) {
      const s = surrogate.grads[k];
      out[k] = s ? tf.add(g, s) : g;
      if (s) {
        g.dispose();
        s.dispose();
      }
    }
    for (const [k, s] of Object.entries(surrogate.grads)) if (!(k in out)) out[k] = s;
    return { value, grads: out };
  } finally {
    join.dispose();
  }
}

/**
 * Runs `f` (tfjs ops and `tfOp` layers) without a gradient tape, reading tensors only with
 * `await data()`: the forward-only form of {@link bridgedVariableGrads} for backends that cannot
 * read synchronously (webgpu in Node). Same values as calling `f` on the synchronous bridge; the
 * result tensors are kept (dispose them), intermediates are freed.
 */
export async function bridgedRun<T extends TfTensor | TfTensor[]>(f: () => T): Promise<T> {
  const tf = getTf();
  const join = new Join(false);
  return join.pass(() => tf.tidy(f));
}

/** Splits the packed flat output of a multi-output tfOp into tensors of the core outputs' shapes. */
function splitOutputs(y: TfTensor, shapes: number[][]): TfTensor[] {
  const tf = getTf();
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const parts = sizes.length === 1 ? [y] : tf.split(y, sizes);
  return parts.map((p, i) => tf.reshape(p, shapes[i]!));
}

function checkOutputs(raw: Tensor | readonly Tensor[], name: string): readonly Tensor[] {
  const outs = raw instanceof Tensor ? [raw] : raw;
  if (!Array.isArray(outs)) throw new TypeError(`tfOp(${name}): the core function must return a Tensor or Tensor[] (got ${describe(raw)})`);
  if (outs.length === 0) throw new Error(`tfOp(${name}): the core function returned an empty array`);
  outs.forEach((o, i) => {
    if (!(o instanceof Tensor)) throw new TypeError(`tfOp(${name}): output ${i} of the core function is not a core Tensor (got ${describe(o)})`);
  });
  return outs;
}

function packFloat32(outs: readonly Tensor[], name: string, checkFinite: boolean, hint: () => string): Float32Array {
  const total = outs.reduce((n, o) => n + o.size, 0);
  const packed = new Float32Array(total);
  let offset = 0;
  outs.forEach((o, i) => {
    packed.set(o.data, offset);
    if (checkFinite) assertFinite(packed.subarray(offset, offset + o.size), name, 'forward', `output ${i} (shape ${fmtShape(o.shape)})`, hint, o.data);
    offset += o.size;
  });
  return packed;
}

/** Throws a NonFiniteError at the first NaN/Inf of `data`; `hint` (called only then) says where it may come from. */
function assertFinite(data: Float32Array, name: string, phase: 'forward' | 'backward', what: string, hint: () => string, f64?: Float64Array): void {
  for (let j = 0; j < data.length; j++) {
    const v = data[j]!;
    if (Number.isFinite(v)) continue;
    const orig = f64?.[j];
    const detail = orig !== undefined && Number.isFinite(orig) ? `${orig} overflows float32` : `${v}`;
    throw new NonFiniteError(`tfOp(${name}): ${phase} ${what} is non-finite at flat index ${j}: ${detail}${hint()}`, name, phase, j);
  }
}

function allFinite(data: ArrayLike<number>): boolean {
  for (let j = 0; j < data.length; j++) if (!Number.isFinite(data[j]!)) return false;
  return true;
}

function isFloat(x: TfTensor): boolean {
  return x.dtype === 'float32';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
