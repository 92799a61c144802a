// Elementwise ops of the float64 core with NumPy broadcasting: arithmetic, unary math,
// min/max/clamp/where and comparisons. Each op computes into a fresh Float64Array and
// records a backward written with these same ops (so it can be differentiated again).
import { record1, needsGrad } from '../autograd.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastOffsets, broadcastShapes, sameShape } from '../shape.ts';
import { Tensor, asTensor, type TensorLike } from '../tensor.ts';
import { sumTo } from './shape.ts';

type Bin = (x: number, y: number) => number;

/** Applies `f` with broadcasting; same-shape and scalar operands take fast paths. */
function broadcastApply(a: Tensor, b: Tensor, op: string, f: Bin): Tensor {
  const x = a.data;
  const y = b.data;
  if (sameShape(a.shape, b.shape)) {
    const out = new Float64Array(x.length);
    for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, y[i]!);
    return new Tensor(out, a.shape);
  }
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = new Float64Array(sizeFromShape(shape));
  if (b.size === 1 && out.length === a.size) {
    const yv = y[0]!;
    for (let i = 0; i < out.length; i++) out[i] = f(x[i]!, yv);
  } else if (a.size === 1 && out.length === b.size) {
    const xv = x[0]!;
    for (let i = 0; i < out.length; i++) out[i] = f(xv, y[i]!);
  } else {
    const oa = broadcastOffsets(a.shape, shape);
    const ob = broadcastOffsets(b.shape, shape);
    for (let i = 0; i < out.length; i++) out[i] = f(x[oa[i]!]!, y[ob[i]!]!);
  }
  return new Tensor(out, shape);
}

function sizeFromShape(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** a + b with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  let out: Tensor;
  if (sameShape(A.shape, B.shape)) {
    const x = A.data;
    const y = B.data;
    const o = new Float64Array(x.length);
    for (let i = 0; i < o.length; i++) o[i] = x[i]! + y[i]!;
    out = new Tensor(o, A.shape);
  } else out = broadcastApply(A, B, 'add', (p, q) => p + q);
  if (!needsGrad(A, B)) return out;
  return record1('add', [A, B], out, (g) => [sumTo(g, A.shape), sumTo(g, B.shape)]);
}

/** a - b with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  let out: Tensor;
  if (sameShape(A.shape, B.shape)) {
    const x = A.data;
    const y = B.data;
    const o = new Float64Array(x.length);
    for (let i = 0; i < o.length; i++) o[i] = x[i]! - y[i]!;
    out = new Tensor(o, A.shape);
  } else out = broadcastApply(A, B, 'sub', (p, q) => p - q);
  if (!needsGrad(A, B)) return out;
  return record1('sub', [A, B], out, (g) => [sumTo(g, A.shape), B.requiresGrad ? sumTo(neg(g), B.shape) : null]);
}

/** a * b with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  let out: Tensor;
  if (sameShape(A.shape, B.shape)) {
    const x = A.data;
    const y = B.data;
    const o = new Float64Array(x.length);
    for (let i = 0; i < o.length; i++) o[i] = x[i]! * y[i]!;
    out = new Tensor(o, A.shape);
  } else out = broadcastApply(A, B, 'mul', (p, q) => p * q);
  if (!needsGrad(A, B)) return out;
  return record1('mul', [A, B], out, (g) => [A.requiresGrad ? sumTo(mul(g, B), A.shape) : null, B.requiresGrad ? sumTo(mul(g, A), B.shape) : null]);
}

/** a / b with broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  let out: Tensor;
  if (sameShape(A.shape, B.shape)) {
    const x = A.data;
    const y = B.data;
    const o = new Float64Array(x.length);
    for (let i = 0; i < o.length; i++) o[i] = x[i]! / y[i]!;
    out = new Tensor(o, A.shape);
  } else out = broadcastApply(A, B, 'div', (p, q) => p / q);
  if (!needsGrad(A, B)) return out;
  return record1('div', [A, B], out, (g) => [
    A.requiresGrad ? sumTo(div(g, B), A.shape) : null,
    B.requiresGrad ? sumTo(neg(div(mul(g, out), B)), B.shape) : null,
  ]);
}

/** a ** b with broadcasting. The gradient in b uses log(a) and is formed only when b requires grad. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  const out = broadcastApply(A, B, 'pow', Math.pow);
  if (!needsGrad(A, B)) return out;
  return record1('pow', [A, B], out, (g) => [
    A.requiresGrad ? sumTo(mul(g, mul(B, pow(A, sub(B, 1)))), A.shape) : null,
    B.requiresGrad ? sumTo(mul(g, mul(out, log(A))), B.shape) : null,
  ]);
}

function unary(x: Tensor, f: (v: number) => number): Tensor {
  const d = x.data;
  const o = new Float64Array(d.length);
  for (let i = 0; i < o.length; i++) o[i] = f(d[i]!);
  return new Tensor(o, x.shape);
}

/** -x. */
export function neg(x: TensorLike): Tensor {
  const X = asTensor(x);
  const d = X.data;
  const o = new Float64Array(d.length);
  for (let i = 0; i < o.length; i++) o[i] = -d[i]!;
  return record1('neg', [X], new Tensor(o, X.shape), (g) => [neg(g)]);
}

/** |x|; the gradient at 0 is taken as 0. */
export function abs(x: TensorLike): Tensor {
  const X = asTensor(x);
  return record1('abs', [X], unary(X, Math.abs), (g) => [mul(g, sign(X))]);
}

/** sign(x) in {-1, 0, 1}; not differentiable (no gradient flows). */
export function sign(x: TensorLike): Tensor {
  return unary(asTensor(x), Math.sign);
}

/** Square root, elementwise (gradient 1 / (2 sqrt x); infinite at 0). */
export function sqrt(x: TensorLike): Tensor {
  const X = asTensor(x);
  const out = unary(X, Math.sqrt);
  return record1('sqrt', [X], out, (g) => [div(g, mul(2, out))]);
}

/** e^x, elementwise. */
export function exp(x: TensorLike): Tensor {
  const X = asTensor(x);
  const out = unary(X, Math.exp);
  return record1('exp', [X], out, (g) => [mul(g, out)]);
}

/** Natural logarithm, elementwise. */
export function log(x: TensorLike): Tensor {
  const X = asTensor(x);
  return record1('log', [X], unary(X, Math.log), (g) => [div(g, X)]);
}

/** sin x, elementwise. */
export function sin(x: TensorLike): Tensor {
  const X = asTensor(x);
  return record1('sin', [X], unary(X, Math.sin), (g) => [mul(g, cos(X))]);
}

/** cos x, elementwise. */
export function cos(x: TensorLike): Tensor {
  const X = asTensor(x);
  return record1('cos', [X], unary(X, Math.cos), (g) => [neg(mul(g, sin(X)))]);
}

/** tanh x, elementwise. */
export function tanh(x: TensorLike): Tensor {
  const X = asTensor(x);
  const out = unary(X, Math.tanh);
  return record1('tanh', [X], out, (g) => [mul(g, sub(1, mul(out, out)))]);
}

/** Logistic sigmoid 1 / (1 + exp(-x)), computed without overflow. */
export function sigmoid(x: TensorLike): Tensor {
  const X = asTensor(x);
  const out = unary(X, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
  return record1('sigmoid', [X], out, (g) => [mul(g, mul(out, sub(1, out)))]);
}

/** x*x (faster than pow(x, 2)). */
export function square(x: TensorLike): Tensor {
  const X = asTensor(x);
  return mul(X, X);
}

/** Softplus log(1 + exp(x)), stable for large |x|. */
export function softplus(x: TensorLike): Tensor {
  const X = asTensor(x);
  const out = unary(X, (v) => (v > 30 ? v : v < -30 ? Math.exp(v) : Math.log1p(Math.exp(v))));
  return record1('softplus', [X], out, (g) => [mul(g, sigmoid(X))]);
}

/** max(x, 0). */
export function relu(x: TensorLike): Tensor {
  const X = asTensor(x);
  return record1(
    'relu',
    [X],
    unary(X, (v) => (v > 0 ? v : 0)),
    (g) => [mul(g, greater(X, 0))],
  );
}

// ---------- comparisons (constants: no gradient) ----------

/** 1 where a > b else 0 (broadcasting); not differentiable. */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return broadcastApply(asTensor(a), asTensor(b), 'greater', (p, q) => (p > q ? 1 : 0));
}
/** 1 where a >= b else 0. */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return broadcastApply(asTensor(a), asTensor(b), 'greaterEqual', (p, q) => (p >= q ? 1 : 0));
}
/** 1 where a < b else 0. */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return broadcastApply(asTensor(a), asTensor(b), 'less', (p, q) => (p < q ? 1 : 0));
}
/** 1 where a <= b else 0. */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return broadcastApply(asTensor(a), asTensor(b), 'lessEqual', (p, q) => (p <= q ? 1 : 0));
}
/** 1 where a == b else 0. */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return broadcastApply(asTensor(a), asTensor(b), 'equal', (p, q) => (p === q ? 1 : 0));
}

// ---------- selection ----------

/** Elementwise minimum; at ties the gradient goes to `a`. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  const out = broadcastApply(A, B, 'minimum', (p, q) => (p <= q ? p : q));
  if (!needsGrad(A, B)) return out;
  return record1('minimum', [A, B], out, (g) => {
    const m = lessEqual(A, B);
    return [A.requiresGrad ? sumTo(mul(g, m), A.shape) : null, B.requiresGrad ? sumTo(mul(g, sub(1, m)), B.shape) : null];
  });
}

/** Elementwise maximum; at ties the gradient goes to `a`. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const A = asTensor(a);
  const B = asTensor(b);
  const out = broadcastApply(A, B, 'maximum', (p, q) => (p >= q ? p : q));
  if (!needsGrad(A, B)) return out;
  return record1('maximum', [A, B], out, (g) => {
    const m = greaterEqual(A, B);
    return [A.requiresGrad ? sumTo(mul(g, m), A.shape) : null, B.requiresGrad ? sumTo(mul(g, sub(1, m)), B.shape) : null];
  });
}

/** Clamps x to [lo, hi]; the gradient is 1 inside the closed interval, 0 outside. */
export function clamp(x: TensorLike, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new ShapeError(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  const X = asTensor(x);
  const out = unary(X, (v) => (v < lo ? lo : v > hi ? hi : v));
  return record1('clamp', [X], out, (g) => [
    mul(
      g,
      unary(X, (v) => (v >= lo && v <= hi ? 1 : 0)),
    ),
  ]);
}

/**
 * Picks `a` where `cond` is non-zero, else `b` (all three broadcast). `cond` is a constant
 * mask (no gradient flows into it).
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const C = asTensor(cond);
  const A = asTensor(a);
  const B = asTensor(b);
  const shape = broadcastShapes(broadcastShapes(C.shape, A.shape, 'where'), B.shape, 'where');
  const n = sizeFromShape(shape);
  const oc = broadcastOffsets(C.shape, shape);
  const oa = broadcastOffsets(A.shape, shape);
  const ob = broadcastOffsets(B.shape, shape);
  const o = new Float64Array(n);
  const c = C.data;
  const x = A.data;
  const y = B.data;
  for (let i = 0; i < n; i++) o[i] = c[oc[i]!] !== 0 ? x[oa[i]!]! : y[ob[i]!]!;
  const out = new Tensor(o, shape);
  if (!needsGrad(A, B)) return out;
  return record1('where', [A, B], out, (g) => [A.requiresGrad ? sumTo(where(C, g, 0), A.shape) : null, B.requiresGrad ? sumTo(where(C, 0, g), B.shape) : null]);
}

/** Throws a ShapeError unless the two shapes are equal; `op` names the caller. */
export function assertSameShape(a: Tensor, b: Tensor, op: string): void {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError(`${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
}
