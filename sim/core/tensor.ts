// The float64 tensor of the core (sim/core): a Float64Array with a row-major shape, an
// optional leading batch dimension by convention, and the autograd links (`node`,
// `grad`). Tensors are immutable by convention: ops write fresh outputs (never overwrite
// an array recorded on the tape: Warp issue #1350), and reshape/detach share storage.
import { ShapeError, fmtShape } from './errors.ts';
import { sizeOf, stridesOf } from './shape.ts';
import { Rng } from './random.ts';

/**
 * What a first-order reverse pass offers a node's backward besides the output gradients,
 * so that a backward run once per step of a long rollout need not allocate per step.
 */
export interface GradAccumulator {
  /**
   * The buffer (shape of input i) in which the pass sums input i's gradient and which it
   * alone owns: the backward may add its contribution there in place and return null for
   * input i instead of a fresh gradient array. Null when it cannot be offered (the input
   * does not require grad).
   */
  into(i: number): Float64Array | null;
  /**
   * Whether the pass has let go of gradOutputs[j] (it is not kept for the caller). A
   * backward that itself created that array, and handed it to the pass once, may then
   * reuse its storage after reading it.
   */
  consumed(j: number): boolean;
}

/** A recorded operation: its inputs, its outputs and the map from output to input gradients. */
export interface Node {
  /** Op name, used in error messages and the non-finite trap. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /**
   * Vector-Jacobian product: given the gradients of the outputs (null for an output that
   * received none), returns one gradient per input (null where there is none). Written with
   * the core's ops, it is itself differentiable (second order); fused kernels may be first order.
   * `acc`, given by a first-order pass, lets it add gradients in place (see GradAccumulator).
   */
  backward(gradOutputs: readonly (Tensor | null)[], acc?: GradAccumulator | null): readonly (Tensor | null | undefined)[];
}

/** Nested number arrays accepted by `tensor()`. */
export type NestedArray = number | readonly NestedArray[];

/** A float64 n-dimensional array that can take part in reverse-mode differentiation. */
export class Tensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];
  readonly size: number;
  /** True for leaves the user wants gradients for, and for every result computed from one. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves). */
  node: Node | null = null;
  /** Optional label, shown in gradcheck reports. */
  name: string | undefined;

  constructor(data: Float64Array, shape: readonly number[]) {
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new ShapeError(`tensor: data of length ${data.length} does not fit shape ${fmtShape(shape)} (${n} elements)`);
    }
    this.data = data;
    this.shape = shape;
    this.size = n;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Marks this leaf as requiring gradients; returns this. */
  requireGrad(flag = true): this {
    if (this.node && !flag) throw new Error('requireGrad(false): only leaves can drop requiresGrad; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /** A leaf sharing this tensor's storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with its own storage (a leaf). */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0]!;
  }

  /** Element at a multi-index. */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ShapeError(`get: index of rank ${index.length} for a tensor of shape ${fmtShape(this.shape)}`);
    }
    const st = stridesOf(this.shape);
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i]!;
      if (k < 0 || k >= this.shape[i]!) throw new ShapeError(`get: index ${k} out of range for axis ${i} of shape ${fmtShape(this.shape)}`);
      off += k * st[i]!;
    }
    return this.data[off]!;
  }

  /** Nested plain arrays (numbers for a scalar). */
  toArray(): NestedArray {
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return this.data[off]!;
      const st = stridesOf(this.shape)[dim]!;
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, off + i * st));
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''}) ${JSON.stringify(this.toArray())}`;
  }
}

function flatten(x: NestedArray, shape: number[], out: number[], depth: number): void {
  if (typeof x === 'number') {
    if (depth !== shape.length) throw new ShapeError('tensor: ragged nested array');
    out.push(x);
    return;
  }
  if (depth === shape.length) shape.push(x.length);
  else if (shape[depth] !== x.length) throw new ShapeError(`tensor: ragged nested array at depth ${depth}`);
  for (const v of x) flatten(v, shape, out, depth + 1);
}

/**
 * Creates a tensor from nested arrays, a flat array with a shape, or a Float64Array
 * (taken without copying).
 */
export function tensor(values: NestedArray | Float64Array | readonly number[], shape?: readonly number[]): Tensor {
  if (values instanceof Float64Array) return new Tensor(values, shape ?? [values.length]);
  if (shape) {
    const flat = typeof values === 'number' ? [values] : ((values as readonly NestedArray[]).flat(Infinity as 1) as number[]);
    return new Tensor(Float64Array.from(flat), shape);
  }
  const sh: number[] = [];
  const out: number[] = [];
  flatten(values as NestedArray, sh, out, 0);
  return new Tensor(Float64Array.from(out), sh);
}

/** A 0-d tensor. */
export function scalar(v: number): Tensor {
  const d = new Float64Array(1);
  d[0] = v;
  return new Tensor(d, []);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return new Tensor(new Float64Array(sizeOf(shape)), shape);
}

/** A tensor of ones. */
export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

/** A tensor filled with v. */
export function full(shape: readonly number[], v: number): Tensor {
  return new Tensor(new Float64Array(sizeOf(shape)).fill(v), shape);
}

/** Zeros of x's shape. */
export function zerosLike(x: Tensor): Tensor {
  return zeros(x.shape);
}

/** Ones of x's shape. */
export function onesLike(x: Tensor): Tensor {
  return ones(x.shape);
}

/** n x n identity (or a batch of them with `batch`). */
export function eye(n: number, batch?: number): Tensor {
  const b = batch ?? 1;
  const d = new Float64Array(b * n * n);
  for (let k = 0; k < b; k++) for (let i = 0; i < n; i++) d[k * n * n + i * n + i] = 1;
  return new Tensor(d, batch === undefined ? [n, n] : [b, n, n]);
}

/** [start, start+step, ...) below stop. */
export function arange(start: number, stop?: number, step = 1): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return new Tensor(d, [n]);
}

/** Standard-normal tensor from a seeded generator. */
export function randn(shape: readonly number[], rng: Rng): Tensor {
  return new Tensor(rng.normals(sizeOf(shape)), shape);
}

/** Uniform tensor in [lo, hi) from a seeded generator. */
export function rand(shape: readonly number[], rng: Rng, lo = 0, hi = 1): Tensor {
  return new Tensor(rng.uniforms(sizeOf(shape), lo, hi), shape);
}

/** Accepts a tensor or a number (as a 0-d constant). */
export type TensorLike = Tensor | number;

/** A number as a 0-d tensor, a tensor as itself; anything else is a TypeError naming what it got. */
export function asTensor(x: TensorLike): Tensor {
  if (typeof x === 'number') return scalar(x);
  if (x instanceof Tensor) return x;
  const what = Array.isArray(x) ? 'an array (wrap it with tensor(...))' : x === null ? 'null' : typeof x;
  throw new TypeError(`expected a Tensor or a number, got ${what}`);
}
