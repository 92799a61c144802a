// The WebAssembly SIMD kernels against the pure-JS kernels they replace (the reference), on
// random and edge-case shapes: LU and Cholesky factorisations and solves, GEMM (single,
// batched, broadcast, accumulating, K beyond one block), the QP's G' diag(w) G + Q. Each
// wasm export is called directly, so small sizes below the dispatch thresholds are covered;
// then the dispatching wrappers (operands at offsets) and the core's matmul.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, matmul } from '../../core/index.ts';
import { cholFactor, cholFactorJs, cholSolve, cholSolveJs, luFactor, luFactorJs, luSolve, luSolveJs } from '../dense.ts';
import { gemmBatch, gemmJs, gramLower, gramLowerJs } from '../gemm.ts';
import { kernelBackend, setKernelBackend, wasmKernels, type WasmKernels } from './loader.ts';

const forcedJs = process.env.IMPULSE_KERNELS === 'js';

function kernels(): WasmKernels {
  const w = wasmKernels();
  assert.ok(w, `wasm kernels unavailable: ${kernelBackend().reason}`);
  return w;
}

function randn(rng: Rng, k: number): Float64Array {
  return Float64Array.from(rng.normals(k));
}

/** Max |a - b| / max(1, max |b|). */
function relErr(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

/** Runs `fn` with the given arrays copied into wasm memory (addresses in order), then copies them back. */
function inWasm(w: WasmKernels, arrays: Float64Array[], fn: (p: number[]) => number | void): number | void {
  const mark = w.mark();
  const ps = arrays.map((a) => w.alloc(a.length));
  arrays.forEach((a, i) => w.put(ps[i]!, a, 0, a.length));
  const r = fn(ps);
  arrays.forEach((a, i) => w.get(ps[i]!, a, 0, a.length));
  w.release(mark);
  return r;
}

function spd(rng: Rng, n: number): Float64Array {
  const L = randn(rng, n * n);
  const A = new Float64Array(n * n);
  gemmJs(L, 0, transpose(L, n, n), 0, A, 0, n, n, n);
  for (let i = 0; i < n; i++) A[i * n + i]! += n;
  return A;
}

function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j]!;
  return t;
}

test('the wasm SIMD kernels are active in a source checkout unless forced off', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const info = kernelBackend();
  assert.equal(info.active, 'wasm-simd', info.reason);
  setKernelBackend('js');
  assert.equal(wasmKernels(), null);
  assert.match(kernelBackend().reason!, /forced/);
  setKernelBackend('auto');
  assert.ok(wasmKernels());
});

test('wasm cholesky factor and solve agree with the JS kernels', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const w = kernels();
  const rng = new Rng(1);
  for (const n of [1, 2, 3, 4, 7, 12, 13, 32, 50, 65]) {
    const A = spd(rng, n);
    const lj = A.slice();
    const lw = A.slice();
    assert.equal(cholFactorJs(lj, 0, n), -1);
    assert.equal(
      inWasm(w, [lw], ([p]) => w.x.cholFactor(p!, n)),
      -1,
    );
    assert.ok(relErr(lw, lj) < 1e-12, `n ${n}: factor rel err ${relErr(lw, lj)}`);
    for (const k of [1, 2, 5]) {
      const b = randn(rng, n * k);
      const xj = b.slice();
      const xw = b.slice();
      cholSolveJs(lj, 0, n, xj, 0, k);
      inWasm(w, [lw, xw], ([pl, pb]) => w.x.cholSolve(pl!, n, pb!, k));
      assert.ok(relErr(xw, xj) < 1e-12, `n ${n} k ${k}: solve rel err ${relErr(xw, xj)}`);
    }
  }
  // not positive definite at pivot 2; NaN at pivot 1: both report the same index
  const bad = new Float64Array([4, 0, 0, 0, 1, 0, 0, 0, -1]);
  assert.equal(
    inWasm(w, [bad.slice()], ([p]) => w.x.cholFactor(p!, 3)),
    cholFactorJs(bad.slice(), 0, 3),
  );
  const nan = new Float64Array([4, 0, 0, NaN, 1, 0, 0, 0, 1]);
  assert.equal(
    inWasm(w, [nan.slice()], ([p]) => w.x.cholFactor(p!, 3)),
    1,
  );
  assert.equal(cholFactorJs(nan.slice(), 0, 3), 1);
});

test('wasm LU factor and solves (both transposes) agree with the JS kernels, pivots identical', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const w = kernels();
  const rng = new Rng(2);
  for (const n of [1, 2, 3, 6, 11, 12, 33, 64, 75]) {
    const A = randn(rng, n * n);
    const fj = A.slice();
    const pj = new Int32Array(n);
    const sj = luFactorJs(fj, 0, n, pj);
    const fw = A.slice();
    const mark = w.mark();
    const pa = w.alloc(n * n);
    const pp = w.alloc(n);
    w.put(pa, fw, 0, n * n);
    const sw = w.x.luFactor(pa, n, pp, 0);
    w.get(pa, fw, 0, n * n);
    const pw = Int32Array.from(w.i32.subarray(pp >> 2, (pp >> 2) + n));
    assert.equal(sw, sj, `n ${n}: sign`);
    assert.deepEqual([...pw], [...pj], `n ${n}: pivots`);
    assert.ok(relErr(fw, fj) < 1e-12, `n ${n}: factor rel err ${relErr(fw, fj)}`);
    for (const k of [1, 3]) {
      for (const tr of [false, true]) {
        const b = randn(rng, n * k);
        const xj = b.slice();
        luSolveJs(fj, 0, n, pj, xj, 0, k, tr);
        const pb = w.alloc(n * k);
        w.put(pb, b, 0, n * k);
        w.x.luSolve(pa, n, pp, pb, k, tr ? 1 : 0);
        const xw = new Float64Array(n * k);
        w.get(pb, xw, 0, n * k);
        assert.ok(relErr(xw, xj) < 1e-10, `n ${n} k ${k} transpose ${tr}: rel err ${relErr(xw, xj)}`);
      }
    }
    w.release(mark);
  }
  // exactly singular (a zero column), and singular by tolerance: 0 in both
  const sing = new Float64Array([1, 0, 2, 3, 0, 4, 5, 0, 6]);
  assert.equal(
    inWasm(w, [sing.slice()], ([p]) => w.x.luFactor(p!, 3, w.alloc(3), 0)),
    0,
  );
  assert.equal(luFactorJs(sing.slice(), 0, 3, new Int32Array(3)), 0);
  const near = new Float64Array([1, 1, 1, 1 + 1e-14]);
  assert.equal(
    inWasm(w, [near.slice()], ([p]) => w.x.luFactor(p!, 2, w.alloc(2), 1e-10)),
    luFactorJs(near.slice(), 0, 2, new Int32Array(2), 1e-10),
  );
});

test('wasm GEMM agrees with the JS kernel on odd, tall, wide and blocked shapes, batched and accumulating', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const w = kernels();
  const rng = new Rng(3);
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 1],
    [3, 5, 7],
    [2, 9, 8],
    [17, 33, 9],
    [64, 64, 64],
    [5, 300, 11],
    [65, 8, 64],
  ];
  for (const [M, K, N] of shapes) {
    const A = randn(rng, M * K);
    const B = randn(rng, K * N);
    const C0 = randn(rng, M * N);
    for (const acc of [false, true]) {
      const cj = C0.slice();
      gemmJs(A, 0, B, 0, cj, 0, M, K, N, acc);
      const cw = C0.slice();
      inWasm(w, [A, B, cw], ([pa, pb, pc]) => w.x.gemm(pa!, pb!, pc!, M, K, N, K, N, N, acc ? 1 : 0));
      assert.ok(relErr(cw, cj) < 1e-12, `${M}x${K}x${N} acc ${acc}: rel err ${relErr(cw, cj)}`);
    }
  }
  // batch of 4 with a broadcast B (stride 0)
  const [M, K, N, count] = [6, 10, 12, 4];
  const A = randn(rng, count * M * K);
  const B = randn(rng, K * N);
  const cj = new Float64Array(count * M * N);
  for (let t = 0; t < count; t++) gemmJs(A, t * M * K, B, 0, cj, t * M * N, M, K, N);
  const cw = new Float64Array(count * M * N);
  inWasm(w, [A, B, cw], ([pa, pb, pc]) => w.x.gemmBatch(count, pa!, M * K, pb!, 0, pc!, M, K, N));
  assert.ok(relErr(cw, cj) < 1e-12);
});

test(
  "wasm G' diag(w) G + Q is bit-identical to the JS kernel (m not a multiple of 4, zero rows and weights)",
  { skip: forcedJs && 'IMPULSE_KERNELS=js' },
  () => {
    const w = kernels();
    const rng = new Rng(4);
    for (const [n, m] of [
      [1, 1],
      [5, 7],
      [50, 50],
      [13, 0],
      [8, 33],
    ] as [number, number][]) {
      const Q = spd(rng, n);
      const G = randn(rng, m * n);
      if (m > 2) G.fill(0, n, 2 * n);
      const W = Float64Array.from(rng.normals(m), (v) => Math.abs(v));
      if (m > 5) W[5] = 0;
      const hj = new Float64Array(n * n).fill(7);
      gramLowerJs(hj, Q, G, W, n, m);
      const hw = new Float64Array(n * n).fill(7);
      inWasm(w, [hw, Q, G, W], ([ph, pq, pg, pw]) => w.x.gramLower(ph!, pq!, pg!, pw!, n, m));
      assert.deepEqual([...hw], [...hj], `n ${n} m ${m}`);
    }
  },
);

test('the peak loop returns a finite value that depends on its inputs', { skip: forcedJs && 'IMPULSE_KERNELS=js' }, () => {
  const w = kernels();
  const a = w.x.peakLoop(1000, 0.5, 0.25);
  const b = w.x.peakLoop(1000, 0.5, 0.5);
  assert.ok(Number.isFinite(a) && Number.isFinite(b) && a !== b);
});

test('the dispatching kernels (copies in and out at offsets) agree with the JS ones, wasm and JS modes alike', () => {
  const rng = new Rng(6);
  const [count, n] = [3, 13];
  // LU at offsets with one pivot array for the batch, then solves with many columns (wasm) and one (JS)
  const A = randn(rng, count * n * n);
  const fa = A.slice();
  const fj = A.slice();
  const pa = new Int32Array(count * n);
  const pj = new Int32Array(count * n);
  for (let t = 0; t < count; t++) {
    assert.equal(luFactor(fa, t * n * n, n, pa, 0, t * n), luFactorJs(fj, t * n * n, n, pj, 0, t * n));
  }
  assert.deepEqual([...pa], [...pj]);
  assert.ok(relErr(fa, fj) < 1e-12);
  for (const k of [1, 45]) {
    for (const tr of [false, true]) {
      const B = randn(rng, count * n * k);
      const xa = B.slice();
      const xj = B.slice();
      for (let t = 0; t < count; t++) {
        luSolve(fa, t * n * n, n, pa, xa, t * n * k, k, tr, t * n);
        luSolveJs(fj, t * n * n, n, pj, xj, t * n * k, k, tr, t * n);
      }
      assert.ok(relErr(xa, xj) < 1e-10, `lu solve k ${k} transpose ${tr}: ${relErr(xa, xj)}`);
    }
  }
  // Cholesky at an offset, solve with 40 columns
  const S = new Float64Array(5 + n * n);
  S.set(spd(rng, n), 5);
  const sj = S.slice();
  assert.equal(cholFactor(S, 5, n), cholFactorJs(sj, 5, n));
  assert.ok(relErr(S, sj) < 1e-12);
  const B = randn(rng, 7 + n * 40);
  const ba = B.slice();
  const bj = B.slice();
  cholSolve(S, 5, n, ba, 7, 40);
  cholSolveJs(sj, 5, n, bj, 7, 40);
  assert.ok(relErr(ba, bj) < 1e-10);
  // batched GEMM with a broadcast operand and accumulation, and the QP's gram
  const [M, K, N] = [9, 20, 24];
  const ga = randn(rng, 2 + 4 * M * K);
  const gb = randn(rng, K * N);
  const c0 = randn(rng, 4 * M * N);
  const ca = c0.slice();
  const cj = c0.slice();
  gemmBatch(4, ga, 2, M * K, gb, 0, 0, ca, 0, M, K, N, true);
  for (let t = 0; t < 4; t++) gemmJs(ga, 2 + t * M * K, gb, 0, cj, t * M * N, M, K, N, true);
  assert.ok(relErr(ca, cj) < 1e-12);
  const Q = spd(rng, n);
  const G = randn(rng, 10 * n);
  const W = Float64Array.from(rng.normals(10), Math.abs);
  const ha = new Float64Array(n * n);
  const hj = new Float64Array(n * n);
  gramLower(ha, Q, G, W, n, 10);
  gramLowerJs(hj, Q, G, W, n, 10);
  assert.deepEqual([...ha], [...hj]);
});

test('core matmul of large and broadcast batched products (wasm GEMM when active) equals the JS kernel', () => {
  const rng = new Rng(7);
  const a = new Tensor(randn(rng, 3 * 16 * 24), [3, 16, 24]);
  const b = new Tensor(randn(rng, 24 * 20), [24, 20]);
  const viaActive = matmul(a, b).data;
  setKernelBackend('js');
  let viaJs: Float64Array;
  try {
    viaJs = matmul(a, b).data;
  } finally {
    setKernelBackend('auto');
  }
  assert.ok(relErr(viaActive, viaJs) < 1e-12);
  const ref = new Float64Array(3 * 16 * 20);
  for (let t = 0; t < 3; t++) gemmJs(a.data, t * 16 * 24, b.data, 0, ref, t * 16 * 20, 16, 24, 20);
  assert.ok(relErr(viaActive, ref) < 1e-12);
});
