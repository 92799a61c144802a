// Random QPs for the QP layer's tests, gradient checks and benchmark (models/implicit):
// problems built around a known strictly complementary KKT point, and the OptNet-style
// benchmark distribution. Float64 core tensors from a seeded Rng.
import { Rng, Tensor } from '../../sim/core/index.ts';

/** A QP with the KKT point it was built around (x, lambda, nu). Unbatched tensors, or [B, ...] when `batch` was given. */
export interface KnownQP {
  Q: Tensor;
  p: Tensor;
  G: Tensor;
  h: Tensor;
  A: Tensor;
  b: Tensor;
  x: Tensor;
  lambda: Tensor;
  nu: Tensor;
  /** A factor of Q: Q = Lq Lq' (+ 0.5 I when Q has full rank); [n, rank], or [B, n, rank]. */
  Lq: Tensor;
}

/** Sizes of `randomKktQP`. */
export interface KnownQPSpec {
  n: number;
  m: number;
  pe: number;
  /** Number of active inequalities (the first `active` rows), at most n - pe. */
  active: number;
  /** Leading batch size; omitted for unbatched tensors. */
  batch?: number;
  /** Rank of Q (default n): a smaller rank gives a positive semidefinite, singular Q. */
  rankQ?: number;
  /**
   * With `batch`: inputs shared by all items (returned unbatched). G with h, or A with b,
   * cannot both be shared (the known solutions would have to coincide).
   */
  shared?: readonly ('Q' | 'G' | 'h' | 'A' | 'b')[];
}

/**
 * A random convex QP whose solution is known: picks x*, nu*, lambda* in [0.5, 1.5] on the
 * first `active` rows (0 elsewhere) and slacks in [0.5, 1.5] on the others, then sets
 * h = G x* + slack, b = A x*, p = -(Q x* + G' lambda* + A' nu*). Strictly complementary, so
 * the solution map is differentiable there (the setting of the gradient checks). A shared h
 * (or b) is met by moving each item's rows of G (or A) along x*.
 */
export function randomKktQP(rng: Rng, spec: KnownQPSpec): KnownQP {
  const { n, m, pe, active } = spec;
  if (active + pe > n) throw new RangeError(`randomKktQP: active (${active}) + pe (${pe}) must be at most n (${n}) for a unique solution`);
  if (active > m) throw new RangeError(`randomKktQP: active (${active}) exceeds m (${m})`);
  const shared = new Set(spec.batch === undefined ? [] : (spec.shared ?? []));
  if (shared.has('G') && shared.has('h')) throw new RangeError('randomKktQP: G and h cannot both be shared');
  if (shared.has('A') && shared.has('b')) throw new RangeError('randomKktQP: A and b cannot both be shared');
  const rank = spec.rankQ ?? n;
  const B = spec.batch ?? 1;
  const Q = new Float64Array(B * n * n);
  const p = new Float64Array(B * n);
  const G = new Float64Array(B * m * n);
  const h = new Float64Array(B * m);
  const A = new Float64Array(B * pe * n);
  const b = new Float64Array(B * pe);
  const X = new Float64Array(B * n);
  const Lm = new Float64Array(B * m);
  const V = new Float64Array(B * pe);
  const LQ = new Float64Array(B * n * rank);
  // moves row `row` of M (width n) along x so that row . x = target
  const hit = (M: Float64Array, row: number, x: Float64Array, target: number): void => {
    let mx = 0;
    let xx = 0;
    for (let j = 0; j < n; j++) {
      mx += M[row + j]! * x[j]!;
      xx += x[j]! * x[j]!;
    }
    for (let j = 0; j < n; j++) M[row + j]! += ((target - mx) * x[j]!) / xx;
  };
  for (let k = 0; k < B; k++) {
    const q = Q.subarray(k * n * n, (k + 1) * n * n);
    if (k > 0 && shared.has('Q')) {
      q.set(Q.subarray(0, n * n));
      LQ.copyWithin(k * n * rank, 0, n * rank);
    } else {
      const L = rng.normals(n * rank);
      for (let i = 0; i < n * rank; i++) LQ[k * n * rank + i] = L[i]! / Math.sqrt(Math.max(rank, 1));
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let r = 0; r < rank; r++) acc += L[i * rank + r]! * L[j * rank + r]!;
          q[i * n + j] = acc / Math.max(rank, 1) + (rank === n && i === j ? 0.5 : 0);
        }
      }
    }
    const gk = G.subarray(k * m * n, (k + 1) * m * n);
    const ak = A.subarray(k * pe * n, (k + 1) * pe * n);
    gk.set(k > 0 && shared.has('G') ? G.subarray(0, m * n) : rng.normals(m * n));
    ak.set(k > 0 && shared.has('A') ? A.subarray(0, pe * n) : rng.normals(pe * n));
    const x = rng.normals(n);
    X.set(x, k * n);
    const nu = rng.normals(pe);
    V.set(nu, k * pe);
    for (let i = 0; i < m; i++) {
      const lam = i < active ? rng.range(0.5, 1.5) : 0;
      const slack = i < active ? 0 : rng.range(0.5, 1.5);
      Lm[k * m + i] = lam;
      if (k > 0 && shared.has('h')) {
        hit(gk, i * n, x, h[i]! - slack);
        h[k * m + i] = h[i]!;
      } else {
        let gx = 0;
        for (let j = 0; j < n; j++) gx += gk[i * n + j]! * x[j]!;
        h[k * m + i] = gx + slack;
      }
    }
    for (let r = 0; r < pe; r++) {
      if (k > 0 && shared.has('b')) {
        hit(ak, r * n, x, b[r]!);
        b[k * pe + r] = b[r]!;
      } else {
        let ax = 0;
        for (let j = 0; j < n; j++) ax += ak[r * n + j]! * x[j]!;
        b[k * pe + r] = ax;
      }
    }
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += q[j * n + i]! * x[i]!;
      for (let i = 0; i < m; i++) acc += gk[i * n + j]! * Lm[k * m + i]!;
      for (let r = 0; r < pe; r++) acc += ak[r * n + j]! * nu[r]!;
      p[k * n + j] = -acc;
    }
  }
  const batched = spec.batch !== undefined;
  const make = (data: Float64Array, name: string, ...s: number[]): Tensor => {
    if (batched && shared.has(name as 'Q'))
      return new Tensor(
        data.slice(
          0,
          s.reduce((u, v) => u * v, 1),
        ),
        s,
      );
    return new Tensor(data, batched ? [B, ...s] : s);
  };
  return {
    Q: make(Q, 'Q', n, n),
    p: make(p, 'p', n),
    G: make(G, 'G', m, n),
    h: make(h, 'h', m),
    A: make(A, 'A', pe, n),
    b: make(b, 'b', pe),
    x: make(X, 'x', n),
    lambda: make(Lm, 'lambda', m),
    nu: make(V, 'nu', pe),
    Lq: make(LQ, 'Q', n, rank),
  };
}

/**
 * The benchmark distribution (OptNet / qpth style): batch B of independent problems with
 * Q = L L' / n + 0.1 I (L standard normal), p and G standard normal, h = G z0 + U(0, 1) for a
 * standard-normal z0 (so z0 is strictly feasible). No equalities.
 */
export function randomBenchQP(rng: Rng, B: number, n: number, m: number): { Q: Tensor; p: Tensor; G: Tensor; h: Tensor } {
  const Q = new Float64Array(B * n * n);
  const p = new Float64Array(B * n);
  const G = new Float64Array(B * m * n);
  const h = new Float64Array(B * m);
  for (let k = 0; k < B; k++) {
    const L = rng.normals(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let r = 0; r < n; r++) acc += L[i * n + r]! * L[j * n + r]!;
        Q[k * n * n + i * n + j] = acc / n + (i === j ? 0.1 : 0);
      }
    }
    p.set(rng.normals(n), k * n);
    G.set(rng.normals(m * n), k * m * n);
    const z0 = rng.normals(n);
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += G[k * m * n + i * n + j]! * z0[j]!;
      h[k * m + i] = acc + rng.uniform();
    }
  }
  return { Q: new Tensor(Q, [B, n, n]), p: new Tensor(p, [B, n]), G: new Tensor(G, [B, m, n]), h: new Tensor(h, [B, m]) };
}
