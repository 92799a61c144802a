// Tests of the data layer's float64 geometry (data/se3.ts, data/tf.ts, Umeyama in data/metrics/align.ts):
// SVD, quaternions, and Umeyama checked against an independent solver (Horn's quaternion method).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  svd3,
  det3,
  quatToRotation,
  rotationToQuat,
  rotationAngle,
  poseFromPositionQuat,
  composePoses,
  invertPose,
  quatSlerp,
  nearestRotation,
} from './se3.ts';
import { umeyama } from './metrics/align.ts';
import { TfBuffer } from './tf.ts';
import { AlignmentError, TfLookupError } from './errors.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function matmul3(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const o = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) o[3 * i + j]! += a[3 * i + k]! * b[3 * k + j]!;
  return o;
}
function transpose3(a: ArrayLike<number>): Float64Array {
  return Float64Array.of(a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!);
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
function randomQuat(r: () => number): [number, number, number, number] {
  const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
  const n = Math.hypot(...q);
  return q.map((x) => x / n) as [number, number, number, number];
}
function rot3(q: ArrayLike<number>): Float64Array {
  const R = new Float64Array(9);
  quatToRotation(q[0]!, q[1]!, q[2]!, q[3]!, R, 0, 3);
  return R;
}

test('svd3 reconstructs random, rank-2 and rank-1 matrices with orthogonal U, V and descending S', () => {
  const r = rng(7);
  const cases: Float64Array[] = [];
  for (let k = 0; k < 50; k++) cases.push(Float64Array.from({ length: 9 }, () => r() * 2 - 1));
  cases.push(Float64Array.of(1, 2, 3, 2, 4, 6, 1, 0, 1)); // rank 2
  cases.push(Float64Array.of(1, 2, 3, 2, 4, 6, 3, 6, 9)); // rank 1
  cases.push(Float64Array.of(1, 0, 0, 0, 1e-3, 0, 0, 0, 0)); // planar
  for (const A of cases) {
    const { U, S, V } = svd3(A);
    const US = Float64Array.from(U, (u, i) => u * S[i % 3]!);
    assert.ok(maxAbsDiff(matmul3(US, transpose3(V)), A) < 1e-14, 'A = U S V^T');
    const I = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    assert.ok(maxAbsDiff(matmul3(transpose3(U), U), I) < 1e-14, 'U orthogonal');
    assert.ok(maxAbsDiff(matmul3(transpose3(V), V), I) < 1e-14, 'V orthogonal');
    assert.ok(S[0]! >= S[1]! && S[1]! >= S[2]! && S[2]! >= 0);
  }
});

test('quaternion -> matrix -> quaternion round-trips (sign fixed to w >= 0) and the angle is 2 acos|w|', () => {
  const r = rng(11);
  for (let k = 0; k < 100; k++) {
    const q = randomQuat(r);
    const R = rot3(q);
    assert.ok(Math.abs(det3(R) - 1) < 1e-14);
    const back = rotationToQuat(R, 0, 3);
    const s = q[3] < 0 ? -1 : 1;
    assert.ok(
      maxAbsDiff(
        back,
        q.map((x) => s * x),
      ) < 1e-14,
    );
    assert.ok(Math.abs(rotationAngle(R, 0, 3) - 2 * Math.acos(Math.min(1, Math.abs(q[3])))) < 1e-7);
  }
  // the angle near pi and near 0 stays accurate (atan2 form)
  assert.ok(Math.abs(rotationAngle(rot3([1, 0, 0, 1e-9]), 0, 3) - (Math.PI - 2e-9)) < 1e-12);
  assert.ok(Math.abs(rotationAngle(rot3([1e-9, 0, 0, 1]), 0, 3) - 2e-9) < 1e-20);
});

test('nearestRotation projects a perturbed rotation onto SO(3) (orthogonal Procrustes) and keeps exact rotations', () => {
  const R = rot3([0.1, 0.2, 0.3, 0.9]);
  assert.deepEqual(Array.from(nearestRotation(R, 0, 3)), Array.from(R));
  const P = Float64Array.from(R, (x, i) => x + (i === 4 ? 1e-4 : 0));
  const Q = nearestRotation(P, 0, 3);
  assert.ok(maxAbsDiff(matmul3(transpose3(Q), Q), Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1)) < 1e-15);
  assert.ok(maxAbsDiff(Q, R) < 1e-4);
});

/** Horn (1987): the optimal rotation is the top eigenvector of a symmetric 4x4 built from the cross-covariance (Jacobi eigen-solve). */
function hornRotation(x: Float64Array, y: Float64Array): Float64Array {
  const n = x.length / 3;
  const mx = [0, 0, 0],
    my = [0, 0, 0];
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 3; k++) {
      mx[k]! += x[3 * i + k]! / n;
      my[k]! += y[3 * i + k]! / n;
    }
  const S = Array.from({ length: 3 }, () => [0, 0, 0]);
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) S[a]![b]! += (x[3 * i + a]! - mx[a]!) * (y[3 * i + b]! - my[b]!);
  const [[Sxx, Sxy, Sxz], [Syx, Syy, Syz], [Szx, Szy, Szz]] = S as [[number, number, number], [number, number, number], [number, number, number]];
  const N = [
    [Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx],
    [Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz],
    [Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy],
    [Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz],
  ];
  const Vm = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < 4; p++)
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(N[p]![q]!) < 1e-300) continue;
        const th = (N[q]![q]! - N[p]![p]!) / (2 * N[p]![q]!);
        const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < 4; k++) {
          const a = N[k]![p]!,
            b = N[k]![q]!;
          N[k]![p] = c * a - s * b;
          N[k]![q] = s * a + c * b;
        }
        for (let k = 0; k < 4; k++) {
          const a = N[p]![k]!,
            b = N[q]![k]!;
          N[p]![k] = c * a - s * b;
          N[q]![k] = s * a + c * b;
        }
        for (let k = 0; k < 4; k++) {
          const a = Vm[k]![p]!,
            b = Vm[k]![q]!;
          Vm[k]![p] = c * a - s * b;
          Vm[k]![q] = s * a + c * b;
        }
      }
  }
  let best = 0;
  for (let k = 1; k < 4; k++) if (N[k]![k]! > N[best]![best]!) best = k;
  const [w, qx, qy, qz] = [Vm[0]![best]!, Vm[1]![best]!, Vm[2]![best]!, Vm[3]![best]!];
  return rot3([qx, qy, qz, w]);
}

function sse(x: Float64Array, y: Float64Array, R: ArrayLike<number>, t: ArrayLike<number>, s: number): number {
  let e = 0;
  for (let i = 0; i < x.length / 3; i++)
    for (let a = 0; a < 3; a++) {
      const p = s * (R[3 * a]! * x[3 * i]! + R[3 * a + 1]! * x[3 * i + 1]! + R[3 * a + 2]! * x[3 * i + 2]!) + t[a]!;
      e += (p - y[3 * i + a]!) ** 2;
    }
  return e;
}

test('Umeyama rotation equals the independent Horn quaternion solution (brute-force cross-check) and no perturbation lowers the SSE', () => {
  const r = rng(3);
  for (const planar of [false, true]) {
    const n = 60;
    const x = new Float64Array(3 * n);
    for (let i = 0; i < 3 * n; i++) x[i] = (r() - 0.5) * 10;
    if (planar) for (let i = 0; i < n; i++) x[3 * i + 2] = 0;
    const Rt = rot3(randomQuat(r));
    const st = 1.7;
    const tt = [1, -2, 3];
    const y = new Float64Array(3 * n);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < 3; a++)
        y[3 * i + a] = st * (Rt[3 * a]! * x[3 * i]! + Rt[3 * a + 1]! * x[3 * i + 1]! + Rt[3 * a + 2]! * x[3 * i + 2]!) + tt[a]! + (r() - 0.5) * 0.1;
    const sim = umeyama(x, y, true);
    assert.ok(maxAbsDiff(sim.R, hornRotation(x, y)) < 1e-9, 'same rotation as Horn');
    assert.ok(Math.abs(det3(sim.R) - 1) < 1e-12);
    const e0 = sse(x, y, sim.R, sim.t, sim.s);
    const h = 1e-5;
    for (let k = 0; k < 3; k++) {
      for (const sg of [-1, 1]) {
        const axis = [0, 0, 0];
        axis[k] = sg * h;
        const dR = rot3([axis[0]! / 2, axis[1]! / 2, axis[2]! / 2, 1]);
        assert.ok(sse(x, y, matmul3(dR, sim.R), sim.t, sim.s) >= e0, 'rotation perturbation');
        const t2 = Array.from(sim.t);
        t2[k]! += sg * h;
        assert.ok(sse(x, y, sim.R, t2, sim.s) >= e0, 'translation perturbation');
      }
    }
    assert.ok(sse(x, y, sim.R, sim.t, sim.s * (1 + h)) >= e0 && sse(x, y, sim.R, sim.t, sim.s * (1 - h)) >= e0, 'scale perturbation');
  }
});

test('Umeyama on collinear points is a named AlignmentError (degenerate covariance rank)', () => {
  const x = Float64Array.of(0, 0, 0, 1, 1, 1, 2, 2, 2);
  assert.throws(
    () => umeyama(x, x, false),
    (e: unknown) => e instanceof AlignmentError && /degenerate covariance rank/.test((e as Error).message),
  );
});

test('TfBuffer composes a chain, interpolates (lerp + slerp) and answers the inverse direction', () => {
  const tf = new TfBuffer();
  tf.add({ parent: 'map', child: 'odom', time: 0, translation: [1, 0, 0], rotation: [0, 0, 0, 1] }, true);
  tf.add({ parent: 'odom', child: 'base', time: 10, translation: [0, 0, 0], rotation: [0, 0, 0, 1] });
  tf.add({ parent: 'odom', child: 'base', time: 20, translation: [2, 4, 0], rotation: [0, 0, Math.SQRT1_2, Math.SQRT1_2] });
  tf.add({ parent: 'base', child: 'laser', time: 0, translation: [0.5, 0, 0.2], rotation: [0, 0, 0, 1] }, true);
  const T = tf.lookup('map', 'laser', 15);
  // base at t=15: position (1, 2, 0), yaw 45 deg; laser 0.5 m ahead of base
  const c = Math.cos(Math.PI / 4);
  assert.ok(Math.abs(T[3]! - (1 + 1 + 0.5 * c)) < 1e-12);
  assert.ok(Math.abs(T[7]! - (2 + 0.5 * c)) < 1e-12);
  assert.ok(Math.abs(T[11]! - 0.2) < 1e-12);
  assert.ok(Math.abs(rotationAngle(T) - Math.PI / 4) < 1e-12);
  const Tinv = tf.lookup('laser', 'map', 15);
  const I = new Float64Array(12);
  composePoses(T, 0, Tinv, 0, I, 0);
  assert.ok(maxAbsDiff(I, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]) < 1e-12);
  const inv = new Float64Array(12);
  invertPose(T, 0, inv, 0);
  assert.ok(maxAbsDiff(inv, Tinv) < 1e-12);
  // a quaternion slerp halfway between identity and 90 deg yaw is 45 deg yaw
  assert.ok(maxAbsDiff(quatSlerp([0, 0, 0, 1], [0, 0, Math.SQRT1_2, Math.SQRT1_2], 0.5), [0, 0, Math.sin(Math.PI / 8), Math.cos(Math.PI / 8)]) < 1e-15);
  assert.ok(maxAbsDiff(poseFromPositionQuat([1, 2, 3], [0, 0, 0, 2]), [1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3]) < 1e-15);
});

test('TfBuffer names the missing link between unconnected frames, unknown frames and extrapolation', () => {
  const tf = new TfBuffer();
  tf.add({ parent: 'map', child: 'odom', time: 1, translation: [0, 0, 0], rotation: [0, 0, 0, 1] });
  tf.add({ parent: 'base', child: 'laser', time: 1, translation: [0, 0, 0], rotation: [0, 0, 0, 1] });
  assert.throws(
    () => tf.lookup('map', 'laser', 1),
    (e: unknown) => e instanceof TfLookupError && /missing link between 'map' and 'base'/.test((e as Error).message),
  );
  assert.throws(
    () => tf.lookup('map', 'nowhere', 1),
    (e: unknown) => e instanceof TfLookupError && /unknown frame 'nowhere'/.test((e as Error).message),
  );
  tf.add({ parent: 'map', child: 'odom', time: 2, translation: [1, 0, 0], rotation: [0, 0, 0, 1] });
  assert.throws(
    () => tf.lookup('map', 'odom', 5),
    (e: unknown) => e instanceof TfLookupError && /extrapolation into the future/.test((e as Error).message),
  );
  assert.equal(tf.lookup('map', 'odom', 2.5, { tolerance: 1 })[3], 1);
  assert.throws(() => tf.add({ parent: 'other', child: 'odom', time: 3, translation: [0, 0, 0], rotation: [0, 0, 0, 1] }), /two parents/);
});
