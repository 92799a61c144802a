// The TensorFlow.js bridge (models/tf): `tfOp` turns a differentiable function of the float64
// core (sim/core) into a tfjs op with a custom gradient (float32 at the boundary, float64
// inside), plus `toCore` / `toTf` conversions. Call `await initTf()` (backend.ts) first.
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
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
 *
 * @example
 * const { tf } = await initTf();
 * const energy = tfOp((q: Tensor, k: Tensor) => sum(mul(k, square(sin(q)))));
 * const g = tf.grad((q) => energy(q, tf.ones([3])))(tf.tensor1d([0.1, 0.2, 0.3]));
 */
export function tfOp<R extends Tensor | readonly Tensor[]>(fn: (...xs: Tensor[]) => R, opts: TfOpOptions = {}): (...xs: TfTensor[]) => TfOpResult<R> {
  const name = opts.name ?? (fn.name || 'anonymous');
  const checkFinite = opts.checkFinite ?? true;
  const op = (...xs: TfTensor[]): TfTensor | TfTensor[] => {
    const tf = getTf();
    if (xs.length === 0) throw new Error(`tfOp(${name}): called with no inputs; pass at least one tf.Tensor`);
    xs.forEach((x, i) => {
      if (!(x instanceof tf.Tensor)) throw new TypeError(`tfOp(${name}): input ${i} is not a tf.Tensor (got ${describe(x)})`);
      if (x.isDisposed) throw new Error(`tfOp(${name}): input ${i} (shape ${fmtShape(x.shape)}) has been disposed`);
    });
    let shapes: number[][] = [];
    let multi = false;
    const custom = tf.customGrad((...args: (TfTensor | ((save: TfTensor[]) => void))[]) => {
      const inputs = args.slice(0, xs.length) as TfTensor[];
      // Inside the custom op tfjs's own tape is paused; an outer gradient scope means this call is being recorded.
      const recording = tf.engine().state.gradientDepth > 0;
      const coreIn = inputs.map((x) => toCore(x));
      const raw = withGradMode(recording, () => {
        if (recording) coreIn.forEach((c, i) => c.requireGrad(isFloat(inputs[i]!)));
        return withArgShapes(`tfOp(${name})`, 'the op', Object.fromEntries(coreIn.map((c, i) => [`input ${i}`, c])), () => fn(...coreIn));
      });
      multi = Array.isArray(raw);
      const outs = checkOutputs(raw as Tensor | readonly Tensor[], name);
      shapes = outs.map((o) => [...o.shape]);
      const packed = packFloat32(outs, name, checkFinite, inputs);
      const value = multi ? tf.tensor1d(packed, 'float32') : tf.tensor(packed, shapes[0], 'float32');
      const gradFunc = (dy: TfTensor): TfTensor[] => {
        if (tf.engine().state.gradientDepth > 0) {
          throw new Error(
            `tfOp(${name}): second-order gradients through the tfjs bridge are not supported (its backward pass was called while an outer tfjs gradient tape is recording); use the core's createGraph/hvp`,
          );
        }
        if (!recording) throw new Error(`tfOp(${name}): backward called for a forward pass that ran without a tfjs gradient tape`);
        const dyData = dy.dataSync();
        let offset = 0;
        const gOuts = outs.map((o) => {
          const g = new Tensor(Float64Array.from(dyData.subarray(offset, offset + o.size)), o.shape);
          offset += o.size;
          return g;
        });
        const grads = outs.some((o) => o.requiresGrad) ? gradients(outs, coreIn, gOuts, { allowUnused: true }) : coreIn.map(() => null);
        return inputs.map((x, i) => {
          const g = grads[i];
          if (!g || !isFloat(x)) return tf.zeros(x.shape, 'float32');
          const data = Float32Array.from(g.data);
          if (checkFinite) {
            const hint = (): string => (allFinite(dyData) ? '' : ' (the upstream gradient dy already holds NaN/Inf)');
            assertFinite(data, name, 'backward', `gradient of input ${i} (shape ${fmtShape(x.shape)})`, hint);
          }
          return tf.tensor(data, x.shape, 'float32');
        });
      };
      return { value, gradFunc };
    });
    // Inside tidy so the packed tensor of a multi-output op is disposed once split.
    return tf.tidy(() => {
      const y = custom(...xs);
      return multi ? splitOutputs(y, shapes) : y;
    });
  };
  return op as (...xs: TfTensor[]) => TfOpResult<R>;
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

function packFloat32(outs: readonly Tensor[], name: string, checkFinite: boolean, inputs: readonly TfTensor[]): Float32Array {
  const total = outs.reduce((n, o) => n + o.size, 0);
  const packed = new Float32Array(total);
  let offset = 0;
  outs.forEach((o, i) => {
    packed.set(o.data, offset);
    if (checkFinite) {
      const hint = (): string => (inputs.some((x) => isFloat(x) && !allFinite(x.dataSync())) ? ' (an input already holds NaN/Inf)' : '');
      assertFinite(packed.subarray(offset, offset + o.size), name, 'forward', `output ${i} (shape ${fmtShape(o.shape)})`, hint, o.data);
    }
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
