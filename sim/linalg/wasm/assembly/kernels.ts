// AssemblyScript source of the WebAssembly SIMD (f64x2) float64 kernels of sim/linalg,
// compiled by scripts/build-wasm.mjs to sim/linalg/wasm/kernels.wasm. Every matrix is
// row-major at a byte address of the module's linear memory; the JS side (wasm/kernels.ts)
// copies operands in and out. Each kernel mirrors a JS kernel of dense.ts (the reference the
// tests compare against): same algorithm, lanes of two doubles where the loop allows.
// Not part of the TypeScript project (excluded in tsconfig.json and eslint.config.js).

// @ts-nocheck: AssemblyScript types (usize, i32, f64, v128) and builtins (load, store, f64x2)

/** Byte address of element (i, j) of a row-major matrix with `ld` columns at `base`. */
@inline
function at(base: usize, i: i32, j: i32, ld: i32): usize {
  return base + ((<usize>(i * ld + j)) << 3);
}

/** Dot product of the `len` doubles at `x` and `y`, two lanes (pairwise partial sums). */
@inline
function dotv(x: usize, y: usize, len: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const o = (<usize>k) << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    acc1 = f64x2.add(acc1, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  for (; k + 2 <= len; k += 2) {
    const o = (<usize>k) << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
  }
  const s = f64x2.add(acc0, acc1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (k < len) r += load<f64>(x + ((<usize>k) << 3)) * load<f64>(y + ((<usize>k) << 3));
  return r;
}

/** y[0..len) -= a * x[0..len) (two lanes). */
@inline
function axpyNeg(a: f64, x: usize, y: usize, len: i32): void {
  const va = f64x2.splat(a);
  let k = 0;
  for (; k + 2 <= len; k += 2) {
    const o = (<usize>k) << 3;
    v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(va, v128.load(x + o))));
  }
  if (k < len) {
    const o = (<usize>k) << 3;
    store<f64>(y + o, load<f64>(y + o) - a * load<f64>(x + o));
  }
}

// ---------------------------------------------------------------------------------------
// the QP's reduced KKT matrix

/**
 * Lower triangle of H = Q + G' diag(w) G (n x n; G is m x n), four constraints per pass
 * over H with the same expression per entry as the JS kernel (bit-identical results).
 */
export function gramLower(h: usize, q: usize, g: usize, w: usize, n: i32, m: i32): void {
  for (let j = 0; j < n; j++) memory.copy(at(h, j, 0, n), at(q, j, 0, n), (<usize>(j + 1)) << 3);
  const m4 = m - (m % 4);
  let i = 0;
  for (; i < m4; i += 4) {
    const g0 = at(g, i, 0, n);
    const g1 = at(g, i + 1, 0, n);
    const g2 = at(g, i + 2, 0, n);
    const g3 = at(g, i + 3, 0, n);
    const w0 = load<f64>(w + ((<usize>i) << 3));
    const w1 = load<f64>(w + ((<usize>(i + 1)) << 3));
    const w2 = load<f64>(w + ((<usize>(i + 2)) << 3));
    const w3 = load<f64>(w + ((<usize>(i + 3)) << 3));
    for (let j = 0; j < n; j++) {
      const oj = (<usize>j) << 3;
      const a0 = w0 * load<f64>(g0 + oj);
      const a1 = w1 * load<f64>(g1 + oj);
      const a2 = w2 * load<f64>(g2 + oj);
      const a3 = w3 * load<f64>(g3 + oj);
      if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0) continue;
      const v0 = f64x2.splat(a0);
      const v1 = f64x2.splat(a1);
      const v2 = f64x2.splat(a2);
      const v3 = f64x2.splat(a3);
      const rj = at(h, j, 0, n);
      const len = j + 1;
      let k = 0;
      for (; k + 2 <= len; k += 2) {
        const o = (<usize>k) << 3;
        const s = f64x2.add(
          f64x2.add(f64x2.add(f64x2.mul(v0, v128.load(g0 + o)), f64x2.mul(v1, v128.load(g1 + o))), f64x2.mul(v2, v128.load(g2 + o))),
          f64x2.mul(v3, v128.load(g3 + o)),
        );
        v128.store(rj + o, f64x2.add(v128.load(rj + o), s));
      }
      if (k < len) {
        const o = (<usize>k) << 3;
        const s = a0 * load<f64>(g0 + o) + a1 * load<f64>(g1 + o) + a2 * load<f64>(g2 + o) + a3 * load<f64>(g3 + o);
        store<f64>(rj + o, load<f64>(rj + o) + s);
      }
    }
  }
  for (; i < m; i++) {
    const gi = at(g, i, 0, n);
    const wi = load<f64>(w + ((<usize>i) << 3));
    for (let j = 0; j < n; j++) {
      const a = wi * load<f64>(gi + ((<usize>j) << 3));
      if (a == 0) continue;
      const va = f64x2.splat(a);
      const rj = at(h, j, 0, n);
      const len = j + 1;
      let k = 0;
      for (; k + 2 <= len; k += 2) {
        const o = (<usize>k) << 3;
        v128.store(rj + o, f64x2.add(v128.load(rj + o), f64x2.mul(va, v128.load(gi + o))));
      }
      if (k < len) {
        const o = (<usize>k) << 3;
        store<f64>(rj + o, load<f64>(rj + o) + a * load<f64>(gi + o));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Cholesky

/**
 * Cholesky factor (lower, strict upper zeroed) of the n x n matrix at `a`, in place, reading
 * its lower triangle (row-oriented Crout as dense.ts's cholFactor). -1 on success, else the
 * index of the first non-positive pivot.
 */
export function cholFactor(a: usize, n: i32): i32 {
  for (let j = 0; j < n; j++) {
    const rj = at(a, j, 0, n);
    const d = load<f64>(rj + ((<usize>j) << 3)) - dotv(rj, rj, j);
    if (!(d > 0)) return j;
    const ljj = Math.sqrt(d);
    store<f64>(rj + ((<usize>j) << 3), ljj);
    let i = j + 1;
    for (; i + 2 <= n; i += 2) {
      const ri = at(a, i, 0, n);
      const ri1 = ri + ((<usize>n) << 3);
      // two rows against row j at once: row j is loaded once for both
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      let k = 0;
      for (; k + 2 <= j; k += 2) {
        const o = (<usize>k) << 3;
        const vj = v128.load(rj + o);
        s0 = f64x2.add(s0, f64x2.mul(v128.load(ri + o), vj));
        s1 = f64x2.add(s1, f64x2.mul(v128.load(ri1 + o), vj));
      }
      let d0 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
      let d1 = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
      if (k < j) {
        const o = (<usize>k) << 3;
        const x = load<f64>(rj + o);
        d0 += load<f64>(ri + o) * x;
        d1 += load<f64>(ri1 + o) * x;
      }
      const oj = (<usize>j) << 3;
      store<f64>(ri + oj, (load<f64>(ri + oj) - d0) / ljj);
      store<f64>(ri1 + oj, (load<f64>(ri1 + oj) - d1) / ljj);
    }
    if (i < n) {
      const ri = at(a, i, 0, n);
      const oj = (<usize>j) << 3;
      store<f64>(ri + oj, (load<f64>(ri + oj) - dotv(ri, rj, j)) / ljj);
    }
    for (let k = j + 1; k < n; k++) store<f64>(rj + ((<usize>k) << 3), 0);
  }
  return -1;
}

/** Cholesky of `count` n x n matrices stored one after another; the first failing item's index * n + pivot, or -1. */
export function cholFactorBatch(a: usize, count: i32, n: i32): i32 {
  const stride = (<usize>(n * n)) << 3;
  for (let t = 0; t < count; t++) {
    const r = cholFactor(a + stride * t, n);
    if (r >= 0) return t * n + r;
  }
  return -1;
}

/** Solves (L L') X = B in place for B n x k at `b`, from the factor of cholFactor at `l`. */
export function cholSolve(l: usize, n: i32, b: usize, k: i32): void {
  if (k == 1) {
    // L y = b: row dots; L' x = y: column updates with row i of L (contiguous)
    for (let i = 0; i < n; i++) {
      const ri = at(l, i, 0, n);
      const o = (<usize>i) << 3;
      store<f64>(b + o, (load<f64>(b + o) - dotv(ri, b, i)) / load<f64>(ri + o));
    }
    for (let i = n - 1; i >= 0; i--) {
      const ri = at(l, i, 0, n);
      const o = (<usize>i) << 3;
      const xi = load<f64>(b + o) / load<f64>(ri + o);
      store<f64>(b + o, xi);
      axpyNeg(xi, ri, b, i);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const bi = at(b, i, 0, k);
    for (let j = 0; j < i; j++) {
      const v = load<f64>(at(l, i, j, n));
      if (v != 0) axpyNeg(v, at(b, j, 0, k), bi, k);
    }
    scaleInv(bi, load<f64>(at(l, i, i, n)), k);
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = at(b, i, 0, k);
    scaleInv(bi, load<f64>(at(l, i, i, n)), k);
    for (let j = 0; j < i; j++) {
      const v = load<f64>(at(l, i, j, n));
      if (v != 0) axpyNeg(v, bi, at(b, j, 0, k), k);
    }
  }
}

@inline
function scaleInv(x: usize, d: f64, len: i32): void {
  for (let c = 0; c < len; c++) {
    const o = (<usize>c) << 3;
    store<f64>(x + o, load<f64>(x + o) / d);
  }
}

// ---------------------------------------------------------------------------------------
// LU with partial pivoting

/**
 * LU with partial pivoting of the n x n matrix at `a`, in place (as dense.ts's luFactor:
 * unit L below the diagonal, U on and above, the same pivots and operation order per entry).
 * `piv` receives n i32 row indices. Returns the permutation's sign, or 0 when a pivot
 * |p| <= tol * max|A| (or exactly zero).
 */
export function luFactor(a: usize, n: i32, piv: usize, tol: f64): i32 {
  let sign = 1;
  let scale = 0.0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(load<f64>(a + ((<usize>i) << 3))));
  const thresh = tol * scale;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(load<f64>(at(a, k, k, n)));
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(load<f64>(at(a, i, k, n)));
      if (v > best) {
        best = v;
        p = i;
      }
    }
    store<i32>(piv + ((<usize>k) << 2), p);
    if (!(best > thresh) || best == 0) return 0;
    const rk = at(a, k, 0, n);
    if (p != k) {
      sign = -sign;
      const rp = at(a, p, 0, n);
      let j = 0;
      for (; j + 2 <= n; j += 2) {
        const o = (<usize>j) << 3;
        const t = v128.load(rk + o);
        v128.store(rk + o, v128.load(rp + o));
        v128.store(rp + o, t);
      }
      if (j < n) {
        const o = (<usize>j) << 3;
        const t = load<f64>(rk + o);
        store<f64>(rk + o, load<f64>(rp + o));
        store<f64>(rp + o, t);
      }
    }
    const d = load<f64>(rk + ((<usize>k) << 3));
    const tail = rk + ((<usize>(k + 1)) << 3);
    const len = n - k - 1;
    for (let i = k + 1; i < n; i++) {
      const ri = at(a, i, 0, n);
      const l = load<f64>(ri + ((<usize>k) << 3)) / d;
      store<f64>(ri + ((<usize>k) << 3), l);
      if (l == 0) continue;
      axpyNeg(l, tail, ri + ((<usize>(k + 1)) << 3), len);
    }
  }
  return sign;
}

/** LU of `count` n x n matrices one after another (pivots n per item at `piv`); signs as f64 to `signs`. Returns the first singular item or -1. */
export function luFactorBatch(a: usize, count: i32, n: i32, piv: usize, signs: usize, tol: f64): i32 {
  const stride = (<usize>(n * n)) << 3;
  for (let t = 0; t < count; t++) {
    const s = luFactor(a + stride * t, n, piv + ((<usize>(t * n)) << 2), tol);
    store<f64>(signs + ((<usize>t) << 3), <f64>s);
    if (s == 0) return t;
  }
  return -1;
}

/** Solves A X = B (or A' X = B with `transpose` != 0) in place for B n x k at `b`, from luFactor's output. */
export function luSolve(lu: usize, n: i32, piv: usize, b: usize, k: i32, transpose: i32): void {
  if (transpose == 0) {
    for (let i = 0; i < n; i++) {
      const p = load<i32>(piv + ((<usize>i) << 2));
      if (p != i) swapRows(at(b, i, 0, k), at(b, p, 0, k), k);
    }
    for (let i = 0; i < n; i++) {
      const bi = at(b, i, 0, k);
      if (k == 1) {
        store<f64>(bi, load<f64>(bi) - dotv(at(lu, i, 0, n), b, i));
        continue;
      }
      for (let j = 0; j < i; j++) {
        const v = load<f64>(at(lu, i, j, n));
        if (v != 0) axpyNeg(v, at(b, j, 0, k), bi, k);
      }
    }
    for (let i = n - 1; i >= 0; i--) {
      const bi = at(b, i, 0, k);
      if (k == 1) {
        const o = (<usize>(i + 1)) << 3;
        store<f64>(bi, (load<f64>(bi) - dotv(at(lu, i, i + 1, n), b + o, n - i - 1)) / load<f64>(at(lu, i, i, n)));
        continue;
      }
      for (let j = i + 1; j < n; j++) {
        const v = load<f64>(at(lu, i, j, n));
        if (v != 0) axpyNeg(v, at(b, j, 0, k), bi, k);
      }
      scaleInv(bi, load<f64>(at(lu, i, i, n)), k);
    }
    return;
  }
  // A' = U' L' P: U' z = b (forward, column updates with row i of U), L' w = z, x = P' w
  for (let i = 0; i < n; i++) {
    const bi = at(b, i, 0, k);
    scaleInv(bi, load<f64>(at(lu, i, i, n)), k);
    for (let j = i + 1; j < n; j++) {
      const v = load<f64>(at(lu, i, j, n));
      if (v != 0) axpyNeg(v, bi, at(b, j, 0, k), k);
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const bi = at(b, i, 0, k);
    for (let j = 0; j < i; j++) {
      const v = load<f64>(at(lu, i, j, n));
      if (v != 0) axpyNeg(v, bi, at(b, j, 0, k), k);
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = load<i32>(piv + ((<usize>i) << 2));
    if (p != i) swapRows(at(b, i, 0, k), at(b, p, 0, k), k);
  }
}

@inline
function swapRows(x: usize, y: usize, len: i32): void {
  for (let c = 0; c < len; c++) {
    const o = (<usize>c) << 3;
    const t = load<f64>(x + o);
    store<f64>(x + o, load<f64>(y + o));
    store<f64>(y + o, t);
  }
}

// ---------------------------------------------------------------------------------------
// matrix-vector products (the QP's solves and residuals)

/** out = M v for the rows x cols matrix M. */
export function gemv(mat: usize, rows: i32, cols: i32, v: usize, out: usize): void {
  for (let i = 0; i < rows; i++) store<f64>(out + ((<usize>i) << 3), dotv(at(mat, i, 0, cols), v, cols));
}

/** out += M' v for the rows x cols matrix M. */
export function gemvTAdd(mat: usize, rows: i32, cols: i32, v: usize, out: usize): void {
  for (let i = 0; i < rows; i++) {
    const a = load<f64>(v + ((<usize>i) << 3));
    if (a != 0) axpyNeg(-a, at(mat, i, 0, cols), out, cols);
  }
}

// ---------------------------------------------------------------------------------------
// GEMM

/**
 * C = A B (`accumulate` 0) or C += A B (M x K times K x N, row-major, leading dimensions
 * lda, ldb, ldc): panels of two rows by eight columns held in eight f64x2 accumulators,
 * K in blocks of 256 so that B's panel stays in cache.
 */
export function gemm(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, lda: i32, ldb: i32, ldc: i32, accumulate: i32): void {
  if (accumulate == 0) for (let i = 0; i < M; i++) memory.fill(at(c, i, 0, ldc), 0, (<usize>N) << 3);
  const KB = 256;
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = min(K, k0 + KB);
    let i = 0;
    for (; i + 2 <= M; i += 2) {
      const a0 = at(a, i, 0, lda);
      const a1 = at(a, i + 1, 0, lda);
      const c0 = at(c, i, 0, ldc);
      const c1 = at(c, i + 1, 0, ldc);
      let j = 0;
      for (; j + 8 <= N; j += 8) {
        const oj = (<usize>j) << 3;
        let x0 = v128.load(c0 + oj);
        let x1 = v128.load(c0 + oj, 16);
        let x2 = v128.load(c0 + oj, 32);
        let x3 = v128.load(c0 + oj, 48);
        let y0 = v128.load(c1 + oj);
        let y1 = v128.load(c1 + oj, 16);
        let y2 = v128.load(c1 + oj, 32);
        let y3 = v128.load(c1 + oj, 48);
        for (let k = k0; k < k1; k++) {
          const bk = at(b, k, j, ldb);
          const b0 = v128.load(bk);
          const b1 = v128.load(bk, 16);
          const b2 = v128.load(bk, 32);
          const b3 = v128.load(bk, 48);
          const ok = (<usize>k) << 3;
          const s0 = f64x2.splat(load<f64>(a0 + ok));
          const s1 = f64x2.splat(load<f64>(a1 + ok));
          x0 = f64x2.add(x0, f64x2.mul(s0, b0));
          x1 = f64x2.add(x1, f64x2.mul(s0, b1));
          x2 = f64x2.add(x2, f64x2.mul(s0, b2));
          x3 = f64x2.add(x3, f64x2.mul(s0, b3));
          y0 = f64x2.add(y0, f64x2.mul(s1, b0));
          y1 = f64x2.add(y1, f64x2.mul(s1, b1));
          y2 = f64x2.add(y2, f64x2.mul(s1, b2));
          y3 = f64x2.add(y3, f64x2.mul(s1, b3));
        }
        v128.store(c0 + oj, x0);
        v128.store(c0 + oj, x1, 16);
        v128.store(c0 + oj, x2, 32);
        v128.store(c0 + oj, x3, 48);
        v128.store(c1 + oj, y0);
        v128.store(c1 + oj, y1, 16);
        v128.store(c1 + oj, y2, 32);
        v128.store(c1 + oj, y3, 48);
      }
      for (; j + 2 <= N; j += 2) {
        const oj = (<usize>j) << 3;
        let x0 = v128.load(c0 + oj);
        let y0 = v128.load(c1 + oj);
        for (let k = k0; k < k1; k++) {
          const b0 = v128.load(at(b, k, j, ldb));
          const ok = (<usize>k) << 3;
          x0 = f64x2.add(x0, f64x2.mul(f64x2.splat(load<f64>(a0 + ok)), b0));
          y0 = f64x2.add(y0, f64x2.mul(f64x2.splat(load<f64>(a1 + ok)), b0));
        }
        v128.store(c0 + oj, x0);
        v128.store(c1 + oj, y0);
      }
      for (; j < N; j++) {
        const oj = (<usize>j) << 3;
        let x = load<f64>(c0 + oj);
        let y = load<f64>(c1 + oj);
        for (let k = k0; k < k1; k++) {
          const bv = load<f64>(at(b, k, j, ldb));
          const ok = (<usize>k) << 3;
          x += load<f64>(a0 + ok) * bv;
          y += load<f64>(a1 + ok) * bv;
        }
        store<f64>(c0 + oj, x);
        store<f64>(c1 + oj, y);
      }
    }
    if (i < M) {
      const a0 = at(a, i, 0, lda);
      const c0 = at(c, i, 0, ldc);
      for (let k = k0; k < k1; k++) {
        const v = load<f64>(a0 + ((<usize>k) << 3));
        if (v != 0) axpyNeg(-v, at(b, k, 0, ldb), c0, N);
      }
    }
  }
}

/**
 * `count` products C_t = A_t B_t (M x K times K x N, dense items one after another; an
 * operand's item stride in doubles may be 0 to broadcast it).
 */
export function gemmBatch(count: i32, a: usize, strideA: i32, b: usize, strideB: i32, c: usize, M: i32, K: i32, N: i32): void {
  for (let t = 0; t < count; t++) {
    gemm(a + ((<usize>(t * strideA)) << 3), b + ((<usize>(t * strideB)) << 3), c + ((<usize>(t * M * N)) << 3), M, K, N, K, N, N, 0);
  }
}

// ---------------------------------------------------------------------------------------
// vector math and the MLP layers of the ODE layer's known fields (models/implicit/mlp-field.ts)

const INV_LN2: f64 = 1.4426950408889634; // 1/ln 2
const LN2_HI: f64 = 6.93147180369123816490e-1; // ln 2 split so that k * LN2_HI is exact for |k| < 2^11
const LN2_LO: f64 = 1.90821492927058770002e-10;
const E2: f64 = 0.5; // 1/2!
const E3: f64 = 0.16666666666666666; // 1/3!
const E4: f64 = 0.041666666666666664; // 1/4!
const E5: f64 = 0.008333333333333333; // 1/5!
const E6: f64 = 0.001388888888888889; // 1/6!
const E7: f64 = 0.0001984126984126984; // 1/7!
const E8: f64 = 2.48015873015873e-05; // 1/8!
const E9: f64 = 2.7557319223985893e-06; // 1/9!
const E10: f64 = 2.755731922398589e-07; // 1/10!
const E11: f64 = 2.505210838544172e-08; // 1/11!
const E12: f64 = 2.08767569878681e-09; // 1/12!
const E13: f64 = 1.6059043836821613e-10; // 1/13!
const E14: f64 = 1.1470745597729725e-11; // 1/14!

/**
 * expm1 on two lanes for |x| <= 40: x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite), expm1(r)
 * by its Taylor series to r^14/14! (truncation below 2^-56 relative), then
 * expm1(x) = 2^k expm1(r) + (2^k - 1), where 2^k - 1 is exact.
 */
@inline
function expm1v(x: v128): v128 {
  const k = f64x2.nearest(f64x2.mul(x, f64x2.splat(INV_LN2)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(E14);
  p = f64x2.add(f64x2.splat(E13), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E12), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E11), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E10), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E9), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E8), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E7), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E6), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E5), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E4), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E3), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(E2), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0), f64x2.mul(r, p));
  p = f64x2.mul(r, p);
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  const two = i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52); // the bits of 2^k
  return f64x2.add(f64x2.mul(two, p), f64x2.sub(two, f64x2.splat(1.0)));
}

/**
 * tanh on two lanes: tanh|x| = u / (u + 2) with u = expm1(2|x|) (|x| clamped to 20, where
 * tanh rounds to 1), and x's sign put back; NaN stays NaN, +-Inf gives +-1, -0 gives -0.
 */
@inline
function tanh2(v: v128): v128 {
  const a = f64x2.min(f64x2.abs(v), f64x2.splat(20.0));
  const u = expm1v(f64x2.add(a, a));
  const t = f64x2.div(u, f64x2.add(u, f64x2.splat(2.0)));
  return v128.or(t, v128.and(v, i64x2.splat(0x8000000000000000)));
}

/** x[0..n) = tanh(x[0..n)) in place (two lanes; accurate to a few ulp). */
export function tanhInPlace(x: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = x + ((<usize>i) << 3);
    v128.store(o, tanh2(v128.load(o)));
  }
  if (i < n) {
    const o = x + ((<usize>i) << 3);
    store<f64>(o, f64x2.extract_lane(tanh2(f64x2.splat(load<f64>(o))), 0));
  }
}

/** out[0..n) = g * (1 - h^2): the cotangent before a tanh from its output h and the cotangent g after it. */
export function tanhBackward(h: usize, g: usize, out: usize, n: i32): void {
  const one = f64x2.splat(1.0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = (<usize>i) << 3;
    const hv = v128.load(h + o);
    v128.store(out + o, f64x2.mul(v128.load(g + o), f64x2.sub(one, f64x2.mul(hv, hv))));
  }
  if (i < n) {
    const o = (<usize>i) << 3;
    const hv = load<f64>(h + o);
    store<f64>(out + o, load<f64>(g + o) * (1.0 - hv * hv));
  }
}

/** Each of the B rows of out (B x q) = the row vector b (q). */
export function setRows(out: usize, b: usize, B: i32, q: i32): void {
  for (let r = 0; r < B; r++) memory.copy(at(out, r, 0, q), b, (<usize>q) << 3);
}

/** out[0..q) = scale * the column sums of g (B x q), rows added in order. */
export function colSums(g: usize, out: usize, B: i32, q: i32, scale: f64): void {
  memory.fill(out, 0, (<usize>q) << 3);
  for (let r = 0; r < B; r++) axpyNeg(-1.0, at(g, r, 0, q), out, q);
  if (scale != 1) for (let j = 0; j < q; j++) store<f64>(out + ((<usize>j) << 3), scale * load<f64>(out + ((<usize>j) << 3)));
}

/**
 * C (K x N) = Aᵀ B scaled, for A (M x K) and B (M x N): for each row r, C's row i gets
 * (scale A[r, i]) B's row r, the same expression per entry as the JS kernel (bit-identical).
 */
export function gemmTN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, scale: f64): void {
  for (let i = 0; i < K; i++) memory.fill(at(c, i, 0, N), 0, (<usize>N) << 3);
  for (let r = 0; r < M; r++) {
    const br = at(b, r, 0, N);
    for (let i = 0; i < K; i++) {
      const v = scale * load<f64>(at(a, r, i, K));
      if (v != 0) axpyNeg(-v, br, at(c, i, 0, N), N);
    }
  }
}

/** C (M x K) = A Bᵀ for A (M x N) and B (K x N): rows against rows (two-lane dot products). */
export function gemmNT(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32): void {
  for (let r = 0; r < M; r++) {
    const ar = at(a, r, 0, N);
    for (let i = 0; i < K; i++) store<f64>(at(c, r, i, K), dotv(ar, at(b, i, 0, N), N));
  }
}

// ---------------------------------------------------------------------------------------
// peak

/**
 * A tight loop of `iters` rounds over twelve independent f64x2 multiply-add chains
 * (acc = acc * x + y, 4 flops per vector and chain): enough chains to cover the latency of a
 * multiply followed by an add, so the loop runs at the throughput of the vector units: the
 * arithmetic peak of one core for float64 in wasm SIMD (which has no FMA). Returns a value
 * that depends on every accumulator (so nothing is optimised away).
 */
export function peakLoop(iters: i32, x: f64, y: f64): f64 {
  const vx = f64x2.splat(x);
  const vy = f64x2.splat(y);
  let a0 = f64x2.splat(1.0);
  let a1 = f64x2.splat(1.1);
  let a2 = f64x2.splat(1.2);
  let a3 = f64x2.splat(1.3);
  let a4 = f64x2.splat(1.4);
  let a5 = f64x2.splat(1.5);
  let a6 = f64x2.splat(1.6);
  let a7 = f64x2.splat(1.7);
  let a8 = f64x2.splat(1.8);
  let a9 = f64x2.splat(1.9);
  let a10 = f64x2.splat(2.0);
  let a11 = f64x2.splat(2.1);
  for (let i = 0; i < iters; i++) {
    a0 = f64x2.add(f64x2.mul(a0, vx), vy);
    a1 = f64x2.add(f64x2.mul(a1, vx), vy);
    a2 = f64x2.add(f64x2.mul(a2, vx), vy);
    a3 = f64x2.add(f64x2.mul(a3, vx), vy);
    a4 = f64x2.add(f64x2.mul(a4, vx), vy);
    a5 = f64x2.add(f64x2.mul(a5, vx), vy);
    a6 = f64x2.add(f64x2.mul(a6, vx), vy);
    a7 = f64x2.add(f64x2.mul(a7, vx), vy);
    a8 = f64x2.add(f64x2.mul(a8, vx), vy);
    a9 = f64x2.add(f64x2.mul(a9, vx), vy);
    a10 = f64x2.add(f64x2.mul(a10, vx), vy);
    a11 = f64x2.add(f64x2.mul(a11, vx), vy);
  }
  const s = f64x2.add(
    f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7))),
    f64x2.add(f64x2.add(a8, a9), f64x2.add(a10, a11)),
  );
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}
