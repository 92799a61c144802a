// The wasm SIMD tanh (vector-math.ts, kernels tanhInPlace/tanhBackward) against Math.tanh, the
// reference: within 4 ulp over a wide range of magnitudes of both signs, and the special
// values (NaN, +-Inf, +-0, subnormals, large |x|) as Math.tanh gives them; the short-array
// (JS) path and offsets; tanh's backward g (1 - h^2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.ts';
import { tanhArray } from './vector-math.ts';
import { wasmKernels } from './wasm/loader.ts';

const forcedJs = process.env.IMPULSE_KERNELS === 'js';

/** Distance in units in the last place between two finite doubles of the same sign. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const v = new DataView(new ArrayBuffer(16));
  v.setFloat64(0, a);
  v.setFloat64(8, b);
  return Math.abs(Number(v.getBigInt64(0) - v.getBigInt64(8)));
}

test('tanh is within 4 ulp of Math.tanh from 1e-300 to 1e300, both signs', () => {
  const rng = new Rng(1);
  const n = 200_000;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mag = i % 10 === 0 ? 10 ** (-300 + 600 * rng.uniform()) : 10 ** (-20 + 23 * rng.uniform()); // mostly 1e-20 .. 1e3
    x[i] = (rng.uniform() < 0.5 ? -1 : 1) * mag * (1 + rng.uniform());
  }
  for (let i = 0; i < 40_000; i++) x[i] = -25 + 50 * rng.uniform(); // where tanh bends
  const y = tanhArray(x);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const u = ulps(y[i]!, Math.tanh(x[i]!));
    if (u > worst) [worst, at] = [u, x[i]!];
  }
  assert.ok(worst <= 4, `max error ${worst} ulp at x = ${at}`);
});

test('tanh of special values as Math.tanh: NaN, +-Inf, +-0, subnormals, large |x|', () => {
  const xs = [NaN, Infinity, -Infinity, 0, -0, 5e-324, -5e-324, 1e-310, 19.06, 20, 20.5, 700, -710, 1e308, -Number.MAX_VALUE, 0.5, -0.5];
  const pad = new Float64Array(32).fill(0.25); // long enough for the wasm path, odd tail included
  pad.set(xs);
  const y = tanhArray(pad, undefined, xs.length);
  xs.forEach((v, i) => {
    const want = Math.tanh(v);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(y[i]!), `tanh(${v}) = ${y[i]}`);
    else assert.ok(Object.is(y[i], want) || ulps(y[i]!, want) <= 4, `tanh(${v}) = ${y[i]}, Math.tanh gives ${want}`);
  });
  assert.ok(Object.is(y[4], -0), 'tanh(-0) is -0');
});

test('tanh at offsets into another array, and the short (JS) path', () => {
  const x = Float64Array.from({ length: 40 }, (_, i) => (i - 20) / 7);
  const out = new Float64Array(45).fill(9);
  tanhArray(x, out, 37, 3, 5);
  for (let i = 0; i < 37; i++) assert.ok(ulps(out[5 + i]!, Math.tanh(x[3 + i]!)) <= 4);
  assert.deepEqual(Array.from(out.subarray(0, 5)), [9, 9, 9, 9, 9]);
  assert.deepEqual(Array.from(out.subarray(42)), [9, 9, 9]);
  const short = tanhArray(Float64Array.of(0.1, -2));
  assert.deepEqual(Array.from(short), [Math.tanh(0.1), Math.tanh(-2)]);
});

test('tanhBackward is g (1 - h^2) exactly', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const w = wasmKernels();
  assert.ok(w);
  const rng = new Rng(3);
  const n = 33;
  const h = Float64Array.from(rng.normals(n)).map(Math.tanh);
  const g = Float64Array.from(rng.normals(n));
  const mark = w.mark();
  const [ph, pg, po] = [w.alloc(n), w.alloc(n), w.alloc(n)];
  w.put(ph, h, 0, n);
  w.put(pg, g, 0, n);
  w.x.tanhBackward(ph, pg, po, n);
  const out = new Float64Array(n);
  w.get(po, out, 0, n);
  w.release(mark);
  for (let i = 0; i < n; i++) assert.equal(out[i], g[i]! * (1 - h[i]! * h[i]!));
});
