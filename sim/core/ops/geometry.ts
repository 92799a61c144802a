// Geometry ops of the float64 core: dot, norm, cross products and quaternions.
// Quaternions are stored [x, y, z, w] (Warp, ROS and TUM order), Hamilton product, on the
// last axis; leading axes are batch axes.
import { record1, needsGrad } from '../autograd.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, normAxis } from '../shape.ts';
import { Tensor, asTensor, type TensorLike } from '../tensor.ts';
import { add, div, greater, mul, where } from './elementwise.ts';
import { sum } from './reduce.ts';
import { broadcastTo, concat, reshape, slice } from './shape.ts';

function lastDim(x: Tensor, n: number, op: string): void {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== n) throw new ShapeError(`${op}: last axis must have size ${n}, got shape ${fmtShape(x.shape)}`);
}

/** Broadcasts two operands to a common shape (materialising only when needed). */
function common(a: Tensor, b: Tensor, op: string): [Tensor, Tensor] {
  const s = broadcastShapes(a.shape, b.shape, op);
  return [broadcastTo(a, s), broadcastTo(b, s)];
}

/** Sum of a*b over `axis` (default the last). */
export function dot(a: TensorLike, b: TensorLike, axis = -1, keepDims = false): Tensor {
  return sum(mul(a, b), axis, keepDims);
}

/**
 * Euclidean norm over `axis` (all axes by default). The gradient at a zero vector is taken
 * as 0 (a subgradient) rather than NaN.
 */
export function norm(x: TensorLike, axis?: number, keepDims = false): Tensor {
  const X = asTensor(x);
  const ax = axis === undefined ? undefined : normAxis(axis, X.ndim, 'norm');
  const sq = sum(mul(X, X), ax, true);
  const d = sq.data;
  const o = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) o[i] = Math.sqrt(d[i]!);
  const n = new Tensor(o, sq.shape);
  const out = record1('norm', [X], n, (g) => [div(mul(g, X), where(greater(n, 0), n, 1))]);
  if (keepDims) return out;
  return reshape(out, ax === undefined ? [] : X.shape.filter((_, i) => i !== ax));
}

/** Cross product of 3-vectors on the last axis (broadcasting leading axes). */
export function cross(a: TensorLike, b: TensorLike): Tensor {
  let A = asTensor(a);
  let B = asTensor(b);
  lastDim(A, 3, 'cross');
  lastDim(B, 3, 'cross');
  [A, B] = common(A, B, 'cross');
  const x = A.data;
  const y = B.data;
  const o = new Float64Array(x.length);
  for (let i = 0; i < o.length; i += 3) {
    const a0 = x[i]!,
      a1 = x[i + 1]!,
      a2 = x[i + 2]!;
    const b0 = y[i]!,
      b1 = y[i + 1]!,
      b2 = y[i + 2]!;
    o[i] = a1 * b2 - a2 * b1;
    o[i + 1] = a2 * b0 - a0 * b2;
    o[i + 2] = a0 * b1 - a1 * b0;
  }
  const A2 = A;
  const B2 = B;
  return record1('cross', [A2, B2], new Tensor(o, A.shape), (g) => [A2.requiresGrad ? cross(B2, g) : null, B2.requiresGrad ? cross(g, A2) : null]);
}

/** Conjugate [-x, -y, -z, w]. */
export function quatConj(q: TensorLike): Tensor {
  const Q = asTensor(q);
  lastDim(Q, 4, 'quatConj');
  const d = Q.data;
  const o = new Float64Array(d.length);
  for (let i = 0; i < o.length; i += 4) {
    o[i] = -d[i]!;
    o[i + 1] = -d[i + 1]!;
    o[i + 2] = -d[i + 2]!;
    o[i + 3] = d[i + 3]!;
  }
  return record1('quatConj', [Q], new Tensor(o, Q.shape), (g) => [quatConj(g)]);
}

/** Hamilton product a ⊗ b of [x, y, z, w] quaternions (broadcasting leading axes). */
export function quatMul(a: TensorLike, b: TensorLike): Tensor {
  const A0 = asTensor(a);
  const B0 = asTensor(b);
  lastDim(A0, 4, 'quatMul');
  lastDim(B0, 4, 'quatMul');
  const [A, B] = common(A0, B0, 'quatMul');
  const p = A.data;
  const q = B.data;
  const o = new Float64Array(p.length);
  for (let i = 0; i < o.length; i += 4) {
    const ax = p[i]!,
      ay = p[i + 1]!,
      az = p[i + 2]!,
      aw = p[i + 3]!;
    const bx = q[i]!,
      by = q[i + 1]!,
      bz = q[i + 2]!,
      bw = q[i + 3]!;
    o[i] = aw * bx + bw * ax + ay * bz - az * by;
    o[i + 1] = aw * by + bw * ay + az * bx - ax * bz;
    o[i + 2] = aw * bz + bw * az + ax * by - ay * bx;
    o[i + 3] = aw * bw - ax * bx - ay * by - az * bz;
  }
  const out = new Tensor(o, A.shape);
  if (!needsGrad(A, B)) return out;
  // a⊗b is bilinear: d/da = right-multiplication by b, whose transpose is right-multiplication by conj(b).
  return record1('quatMul', [A, B], out, (g) => [A.requiresGrad ? quatMul(g, quatConj(B)) : null, B.requiresGrad ? quatMul(quatConj(A), g) : null]);
}

/** q / |q|. */
export function quatNormalize(q: TensorLike): Tensor {
  const Q = asTensor(q);
  lastDim(Q, 4, 'quatNormalize');
  return div(Q, norm(Q, -1, true));
}

/** Rotates 3-vectors v by unit quaternions q: v + w t + u × t with t = 2 u × v. */
export function quatRotate(q: TensorLike, v: TensorLike): Tensor {
  const Q = asTensor(q);
  const V = asTensor(v);
  lastDim(Q, 4, 'quatRotate');
  lastDim(V, 3, 'quatRotate');
  const u = slice(Q, [...Q.shape.slice(0, -1).map(() => 0), 0], [...Q.shape.slice(0, -1), 3]);
  const w = slice(Q, [...Q.shape.slice(0, -1).map(() => 0), 3], [...Q.shape.slice(0, -1), 1]);
  const t = mul(2, cross(u, V));
  return add(add(V, mul(w, t)), cross(u, t));
}

/** Rotates v by the inverse of unit quaternion q. */
export function quatRotateInv(q: TensorLike, v: TensorLike): Tensor {
  return quatRotate(quatConj(q), v);
}

/**
 * Exponential map so(3) -> unit quaternion: a rotation vector w (angle |w| about w/|w|)
 * to [sin(|w|/2) w/|w|, cos(|w|/2)], with Taylor series near 0 so value and gradient are
 * smooth there. Fused: its backward is first order only.
 */
export function quatExp(w: TensorLike): Tensor {
  const W = asTensor(w);
  lastDim(W, 3, 'quatExp');
  const d = W.data;
  const n = d.length / 3;
  const o = new Float64Array(n * 4);
  const s = new Float64Array(n); // sin(θ/2)/θ
  const c2 = new Float64Array(n); // (ds/dθ)/θ
  for (let k = 0; k < n; k++) {
    const x = d[3 * k]!,
      y = d[3 * k + 1]!,
      z = d[3 * k + 2]!;
    const th2 = x * x + y * y + z * z;
    const th = Math.sqrt(th2);
    let sk: number, ck: number;
    if (th < 1e-4) {
      sk = 0.5 - th2 / 48 + (th2 * th2) / 3840;
      ck = -1 / 24 + th2 / 960;
    } else {
      sk = Math.sin(th / 2) / th;
      ck = ((th / 2) * Math.cos(th / 2) - Math.sin(th / 2)) / (th2 * th);
    }
    s[k] = sk;
    c2[k] = ck;
    o[4 * k] = sk * x;
    o[4 * k + 1] = sk * y;
    o[4 * k + 2] = sk * z;
    o[4 * k + 3] = Math.cos(th / 2);
  }
  return record1('quatExp', [W], new Tensor(o, [...W.shape.slice(0, -1), 4]), (g) => {
    const gd = g.data;
    const gw = new Float64Array(d.length);
    for (let k = 0; k < n; k++) {
      const x = d[3 * k]!,
        y = d[3 * k + 1]!,
        z = d[3 * k + 2]!;
      const gx = gd[4 * k]!,
        gy = gd[4 * k + 1]!,
        gz = gd[4 * k + 2]!,
        gq = gd[4 * k + 3]!;
      const f = c2[k]! * (x * gx + y * gy + z * gz) - (s[k]! * gq) / 2;
      gw[3 * k] = s[k]! * gx + f * x;
      gw[3 * k + 1] = s[k]! * gy + f * y;
      gw[3 * k + 2] = s[k]! * gz + f * z;
    }
    return [new Tensor(gw, W.shape)];
  });
}

/** Rotation matrices [..., 3, 3] of unit quaternions [..., 4]. */
export function quatToMatrix(q: TensorLike): Tensor {
  const Q = asTensor(q);
  lastDim(Q, 4, 'quatToMatrix');
  const lead = Q.shape.slice(0, -1);
  const cols = [0, 1, 2].map((i) => {
    const e = new Float64Array(3);
    e[i] = 1;
    return quatRotate(Q, broadcastTo(new Tensor(e, [3]), [...lead, 3]));
  });
  // columns R e_i, stacked as the last axis
  return concat(
    cols.map((c) => reshape(c, [...lead, 3, 1])),
    -1,
  );
}
