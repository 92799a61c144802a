// Matrix-free restarted GMRES (models/implicit): solves A x = b given only x -> A x, on flat
// float64 vectors, for B independent block-diagonal systems at once (one operator call
// serves every item). The implicit layers' backward uses it with A = (dF/dy)^T as a VJP.

/** Options of `gmres`. */
export interface GmresOptions {
  /** Relative residual target per item: ||b - A x|| <= tol * ||b|| (default 1e-10). */
  tol?: number;
  /** Absolute residual below which an item counts as solved regardless (default 1e-300). */
  atol?: number;
  /** Krylov dimension before a restart (default min(n, 50)). */
  restart?: number;
  /** Cap on operator applications in all (default min(20 n, 2000), at least restart). */
  maxIter?: number;
  /** Initial guess (flat, length B * n); zeros by default. */
  x0?: Float64Array;
}

/** Result of `gmres`. */
export interface GmresResult {
  x: Float64Array;
  /** All items reached tol. */
  converged: boolean;
  /** Operator applications used. */
  iterations: number;
  /** Largest relative residual ||b - A x|| / ||b|| over items (0 for b = 0). */
  residual: number;
  /** Per item: whether it converged. */
  itemConverged: boolean[];
  /**
   * Per item: the Krylov space became invariant (breakdown) while the residual was still
   * above tol, which happens when A is singular on it; -1 where this did not happen.
   */
  breakdown: boolean[];
}

/**
 * Restarted GMRES(restart) with modified Gram-Schmidt and one re-orthogonalisation pass.
 * `apply(v)` must map a flat vector of B items (n each) to A v, item by item (A is block
 * diagonal with B blocks of n x n; B = 1 for one system). Items converge independently:
 * a converged item's basis vectors are zero, so it costs nothing in later products.
 *
 * @example
 * const r = gmres((v) => matVec(A, v), b, 1, n, { tol: 1e-12 });
 */
export function gmres(apply: (v: Float64Array) => Float64Array, b: Float64Array, B: number, n: number, opts: GmresOptions = {}): GmresResult {
  if (b.length !== B * n) throw new Error(`gmres: right-hand side has length ${b.length}, expected B * n = ${B} * ${n}`);
  const tol = opts.tol ?? 1e-10;
  const atol = opts.atol ?? 1e-300;
  const m = Math.max(1, Math.min(opts.restart ?? Math.min(n, 50), n));
  const maxIter = Math.max(opts.maxIter ?? Math.min(20 * n, 2000), m);
  const N = B * n;
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(N);
  if (x.length !== N) throw new Error(`gmres: x0 has length ${x.length}, expected ${N}`);
  const bnorm = itemNorms(b, B, n);
  const done = new Array<boolean>(B).fill(false);
  const breakdown = new Array<boolean>(B).fill(false);
  const relRes = new Float64Array(B);
  let iterations = 0;

  // residual r = b - A x
  const residualOf = (): Float64Array => {
    const r = new Float64Array(N);
    let anyNonZero = false;
    for (let i = 0; i < N; i++) if (x[i] !== 0) anyNonZero = true;
    if (!anyNonZero) {
      r.set(b);
      return r;
    }
    const ax = apply(x);
    iterations++;
    for (let i = 0; i < N; i++) r[i] = b[i]! - ax[i]!;
    return r;
  };

  let r = residualOf();
  while (true) {
    const beta = itemNorms(r, B, n);
    let allDone = true;
    for (let k = 0; k < B; k++) {
      relRes[k] = bnorm[k]! === 0 ? 0 : beta[k]! / bnorm[k]!;
      if (!done[k] && (beta[k]! <= tol * bnorm[k]! || beta[k]! <= atol)) done[k] = true;
      if (!done[k] && !breakdown[k]) allDone = false;
    }
    if (allDone || iterations >= maxIter) break;

    // Arnoldi on the active items
    const V: Float64Array[] = [];
    const v0 = new Float64Array(N);
    for (let k = 0; k < B; k++) {
      if (done[k] || breakdown[k]) continue;
      const s = 1 / beta[k]!;
      for (let i = k * n; i < (k + 1) * n; i++) v0[i] = r[i]! * s;
    }
    V.push(v0);
    const H = new Float64Array(B * (m + 1) * m); // per item, row-major (m+1) x m
    const cs = new Float64Array(B * m);
    const sn = new Float64Array(B * m);
    const g = new Float64Array(B * (m + 1));
    const cols = new Int32Array(B); // columns used per item
    const active = new Array<boolean>(B).fill(false);
    for (let k = 0; k < B; k++) {
      if (done[k] || breakdown[k]) continue;
      active[k] = true;
      g[k * (m + 1)] = beta[k]!;
    }
    for (let j = 0; j < m && iterations < maxIter; j++) {
      if (!active.some((a) => a)) break;
      const w = apply(V[j]!).slice();
      iterations++;
      const vNext = new Float64Array(N);
      for (let k = 0; k < B; k++) {
        const o = k * n;
        if (!active[k]) continue;
        const hk = k * (m + 1) * m;
        let hn = orthogonalize(w, V, j, o, n, H, hk, m);
        hn = Math.sqrt(hn);
        H[hk + (j + 1) * m + j] = hn;
        // apply previous rotations to column j
        for (let i = 0; i < j; i++) {
          const a = H[hk + i * m + j]!;
          const c = H[hk + (i + 1) * m + j]!;
          H[hk + i * m + j] = cs[k * m + i]! * a + sn[k * m + i]! * c;
          H[hk + (i + 1) * m + j] = -sn[k * m + i]! * a + cs[k * m + i]! * c;
        }
        const a = H[hk + j * m + j]!;
        const rho = Math.hypot(a, hn);
        // scale of the column, to judge a vanishing pivot and breakdown
        let colScale = hn;
        for (let i = 0; i <= j; i++) colScale = Math.max(colScale, Math.abs(H[hk + i * m + j]!));
        if (rho <= 1e-14 * colScale || colScale === 0) {
          // A is singular on the Krylov space: drop this column and stop the item
          cols[k] = j;
          active[k] = false;
          breakdown[k] = true;
          continue;
        }
        const ck = a / rho;
        const sk = hn / rho;
        cs[k * m + j] = ck;
        sn[k * m + j] = sk;
        H[hk + j * m + j] = rho;
        H[hk + (j + 1) * m + j] = 0;
        const gk = k * (m + 1);
        g[gk + j + 1] = -sk * g[gk + j]!;
        g[gk + j] = ck * g[gk + j]!;
        cols[k] = j + 1;
        const res = Math.abs(g[gk + j + 1]!);
        if (res <= tol * bnorm[k]! || res <= atol || hn <= 1e-14 * colScale) {
          // converged, or happy breakdown (the solution lies in the current space)
          active[k] = false;
          continue;
        }
        const s = 1 / hn;
        for (let t = 0; t < n; t++) vNext[o + t] = w[o + t]! * s;
      }
      V.push(vNext);
    }
    // back substitution and update per item
    for (let k = 0; k < B; k++) {
      const kc = cols[k]!;
      if (kc === 0) continue;
      const hk = k * (m + 1) * m;
      const gk = k * (m + 1);
      const yv = new Float64Array(kc);
      for (let i = kc - 1; i >= 0; i--) {
        let s = g[gk + i]!;
        for (let t = i + 1; t < kc; t++) s -= H[hk + i * m + t]! * yv[t]!;
        yv[i] = s / H[hk + i * m + i]!;
      }
      const o = k * n;
      for (let i = 0; i < kc; i++) {
        const vi = V[i]!;
        const c = yv[i]!;
        for (let t = 0; t < n; t++) x[o + t]! += c * vi[o + t]!;
      }
    }
    r = residualOf();
  }
  const beta = itemNorms(r, B, n);
  const itemConverged: boolean[] = [];
  let worst = 0;
  for (let k = 0; k < B; k++) {
    const rel = bnorm[k]! === 0 ? (beta[k]! === 0 ? 0 : Infinity) : beta[k]! / bnorm[k]!;
    const ok = beta[k]! <= tol * bnorm[k]! * 1.0000001 || beta[k]! <= atol || done[k]!;
    itemConverged.push(ok && Number.isFinite(rel));
    if (ok) breakdown[k] = false;
    worst = Math.max(worst, Number.isNaN(rel) ? Infinity : rel);
  }
  return { x, converged: itemConverged.every((c) => c), iterations, residual: worst, itemConverged, breakdown };
}

/**
 * Modified Gram-Schmidt of item w[o..o+n) against V[0..j] (same item), adding the
 * coefficients into column j of H (row stride m at hk); re-orthogonalises once when the
 * norm drops below 1/sqrt(2) of its start (DGKS). Returns the squared norm left.
 */
function orthogonalize(w: Float64Array, V: readonly Float64Array[], j: number, o: number, n: number, H: Float64Array, hk: number, m: number): number {
  const end = o + n;
  let before = 0;
  for (let t = o; t < end; t++) before += w[t]! * w[t]!;
  let left = before;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i <= j; i++) {
      const vi = V[i]!;
      let h = 0;
      for (let t = o; t < end; t++) h += w[t]! * vi[t]!;
      if (h === 0) continue;
      for (let t = o; t < end; t++) w[t] = w[t]! - h * vi[t]!;
      H[hk + i * m + j] = H[hk + i * m + j]! + h;
    }
    left = 0;
    for (let t = o; t < end; t++) left += w[t]! * w[t]!;
    if (left > 0.5 * before) break;
    before = left;
  }
  return left;
}

/** 2-norm of each of the B items (n entries each) of a flat vector. */
export function itemNorms(v: Float64Array, B: number, n: number): Float64Array {
  const out = new Float64Array(B);
  for (let k = 0; k < B; k++) {
    let s = 0;
    for (let i = k * n; i < (k + 1) * n; i++) s += v[i]! * v[i]!;
    out[k] = Math.sqrt(s);
  }
  return out;
}
