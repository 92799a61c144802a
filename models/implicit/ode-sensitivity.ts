// Forward sensitivities of the ODE layer (models/implicit): the joint system of the seed,
// x' = f(x, w), S' = df/dx S + df/dw with S = dx/dw, solved together under one error control.
// For problems with few parameters; gives y and dy/dparams (and dy/dy0) at the output times.
import {
  Tensor,
  add,
  fmtShape,
  gradients,
  isGradEnabled,
  anyNeedsGrad,
  mul,
  noGrad,
  recordN,
  reshape,
  sameShape,
  scalar,
  ShapeError,
  slice,
  sum,
  withGradMode,
  zeros,
} from '../../sim/core/index.ts';
import { assertFirstOrder, foreignLeaf } from './ode-adjoint.ts';
import { type Dyn, type OdeFunc, type OdeMethod, type OdeOptions, assertFinite, prepare, solve, val } from './ode-solvers.ts';

/** Options of `odeintSensitivities`: those of `odeint` for the solve, plus how J v is formed. */
export interface OdeSensitivityOptions extends Pick<OdeOptions, 'method' | 'rtol' | 'atol' | 'step' | 'maxSteps'> {
  /** Also integrate dy/dy0 (default: when y0 or ts requires grad). */
  wrtY0?: boolean;
  /**
   * How df/dx S + df/dw is formed at each evaluation: 'jacobian' (one reverse pass per state
   * element; for few states), 'double-backward' (forward-mode products through a
   * differentiated reverse pass, one pass per sensitivity column; f must be twice differentiable
   * with the core's ops), 'auto' (default: the fewer passes).
   */
  products?: 'jacobian' | 'double-backward' | 'auto';
}

/** Result of `odeintSensitivities`. */
export interface OdeSensitivitySolution {
  /** y at the output times, [T, ...y0.shape], on the tape (backward through the sensitivities, first order). */
  y: Tensor;
  /** dy/dparams[k] at the output times: [T, ...y0.shape, ...params[k].shape]. */
  dydp: Tensor[];
  /** dy/dy0 at the output times, [T, ...y0.shape, ...y0.shape], when integrated (else null). */
  dydy0: Tensor | null;
  stats: {
    method: OdeMethod;
    /** Evaluations of f. */
    nfe: number;
    /** Reverse passes spent on Jacobian products. */
    reversePasses: number;
    products: 'jacobian' | 'double-backward';
    /** Sensitivity columns integrated (parameter entries, plus y0's when wrtY0). */
    columns: number;
    acceptedSteps: number;
    rejectedSteps: number;
  };
}

/**
 * Solves dy/dt = f(t, y, params) jointly with its forward sensitivities S = dy/dw for every
 * entry w of the params (and of y0 with `wrtY0`): S' = df/dy S + df/dw, S(t0) = 0 (identity
 * for y0). One error control covers the joint state (worst RMS over the blocks y, S per
 * param, S for y0), as in the seed's Lorenz example. Cost grows with the number of columns, so
 * use it for few parameters; use `odeint` (adjoint) for many.
 *
 * @example
 * const { y, dydp } = odeintSensitivities(lorenz, tensor([1, 1, 1]), [0, 0.5], [tensor([10, 28, 8 / 3])], { rtol: 1e-10, atol: 1e-10 });
 * // dydp[0]: [2, 3, 3], d(x, y, z)/d(sigma, rho, beta) at t = 0 and t = 0.5
 */
export function odeintSensitivities(
  f: OdeFunc,
  y0: Tensor,
  ts: Tensor | readonly number[],
  params: readonly Tensor[] = [],
  opts: OdeSensitivityOptions = {},
): OdeSensitivitySolution {
  const where = 'odeintSensitivities';
  const P = prepare(where, f, y0, ts, params, opts);
  const { tab, tsT } = P;
  const shape = y0.shape;
  const n = y0.size;
  const T = P.ts.length;
  const inputs = [y0, ...params, tsT];
  const onTape = isGradEnabled() && anyNeedsGrad(inputs);
  const wrtY0 = opts.wrtY0 ?? (onTape && (y0.requiresGrad || tsT.requiresGrad));
  if (tsT.requiresGrad && onTape && !wrtY0) throw new Error(`${where}: gradients for ts need dy/dy0; do not set options.wrtY0 = false`);
  const pOff: number[] = [];
  let Q = 0;
  for (const p of params) {
    pOff.push(Q);
    Q += p.size;
  }
  const Pn = Q;
  if (wrtY0) Q += n;
  const m = n + Q * n;
  const mode: 'jacobian' | 'double-backward' =
    opts.products === 'jacobian' || opts.products === 'double-backward' ? opts.products : n <= Q ? 'jacobian' : 'double-backward';
  const stats: OdeSensitivitySolution['stats'] = { method: tab.name, nfe: 0, reversePasses: 0, products: mode, columns: Q, acceptedSteps: 0, rejectedSteps: 0 };
  const leaves = params.map((p) => new Tensor(p.data, p.shape).requireGrad());
  let checkedForeign = false;

  // joint state [x | S_0 | S_1 | ... | S_{Q-1}], S_q = dx/dw_q (column q, n entries)
  const dyn: Dyn = (tS, s, step) => {
    const t = val(tS);
    const sd = s.data;
    const ds = new Float64Array(m);
    withGradMode(true, () => {
      const xLeaf = new Tensor(sd.slice(0, n), shape).requireGrad();
      const out = f(scalar(t), xLeaf, leaves);
      stats.nfe++;
      if (!(out instanceof Tensor) || !sameShape(out.shape, shape)) {
        throw new ShapeError(
          `${where}: f(t, y, params) returned shape ${out instanceof Tensor ? fmtShape(out.shape) : typeof out}; the state y0 has shape ${fmtShape(shape)}`,
        );
      }
      assertFinite(out.data, where, 'f(t, y, params)', t, step);
      ds.set(out.data, 0);
      const wrt = [xLeaf, ...leaves];
      if (!checkedForeign) {
        checkedForeign = true;
        const bad = foreignLeaf(out, new Set(wrt));
        if (bad)
          throw new Error(
            `${where}: f uses a tensor of shape ${fmtShape(bad.shape)} that requires grad but is not in params: pass it in params (or detach it)`,
          );
      }
      if (!out.requiresGrad || Q === 0) return;
      if (mode === 'jacobian') {
        const Jx = new Float64Array(n * n);
        const Jp = new Float64Array(n * Pn);
        for (let r = 0; r < n; r++) {
          const e = new Float64Array(n);
          e[r] = 1;
          const gs = gradients([out], wrt, [new Tensor(e, shape)], { allowUnused: true });
          stats.reversePasses++;
          if (gs[0]) Jx.set(gs[0].data, r * n);
          params.forEach((p, k) => {
            const g = gs[k + 1];
            if (g) Jp.set(g.data, r * Pn + pOff[k]!);
          });
        }
        for (let q = 0; q < Q; q++) {
          const So = n + q * n;
          for (let r = 0; r < n; r++) {
            let acc = q < Pn ? Jp[r * Pn + q]! : 0;
            for (let k = 0; k < n; k++) acc += Jx[r * n + k]! * sd[So + k]!;
            ds[So + r] = acc;
          }
        }
      } else {
        // w(u) = u^T [df/dx, df/dw] is linear in u; d/du <w(u), (S_q, e_q)> = df/dx S_q + df/dw e_q
        const u = zeros(shape).requireGrad();
        const w = gradients([out], wrt, [u], { createGraph: true, allowUnused: true });
        stats.reversePasses++;
        const wFlat = w.map((g) => (g ? reshape(g, [g.size]) : null));
        for (let q = 0; q < Q; q++) {
          let acc: Tensor | null = null;
          const Sq = new Tensor(sd.slice(n + q * n, n + (q + 1) * n), shape);
          if (w[0]) acc = sum(mul(w[0], Sq));
          if (q < Pn) {
            const k = ownerOf(pOff, q);
            const wk = wFlat[k + 1];
            if (wk) {
              const e = reshape(slice(wk, [q - pOff[k]!], [1]), []);
              acc = acc ? add(acc, e) : e;
            }
          }
          if (!acc || !acc.requiresGrad) continue;
          const [gu] = gradients([acc], [u], undefined, { allowUnused: true });
          stats.reversePasses++;
          if (gu) ds.set(gu.data, n + q * n);
        }
      }
    });
    assertFinite(ds, where, 'the sensitivity right-hand side', t, step);
    return new Tensor(ds, [m]);
  };

  const s0 = new Float64Array(m);
  s0.set(y0.data, 0);
  if (wrtY0) for (let c = 0; c < n; c++) s0[n + (Pn + c) * n + c] = 1;
  const segs: [number, number][] = [[0, n]];
  params.forEach((p, k) => segs.push([n + pOff[k]! * n, p.size * n]));
  if (wrtY0) segs.push([n + Pn * n, n * n]);
  const res = noGrad(() =>
    solve({
      tab,
      fun: dyn,
      y0: new Tensor(s0, [m]),
      t0: P.ts[0]!,
      times: P.ts.slice(1),
      rtol: P.rtol,
      atol: P.atol,
      maxSteps: P.maxSteps,
      step: P.step,
      segments: segs,
      where,
    }),
  );
  stats.acceptedSteps = res.accepted;
  stats.rejectedSteps = res.rejected;
  const states = [s0, ...res.ys.map((y) => y.data)];
  const Y = new Float64Array(T * n);
  states.forEach((st, i) => Y.set(st.subarray(0, n), i * n));
  const dydp = params.map((p, k) => {
    const sk = p.size;
    const d = new Float64Array(T * n * sk);
    states.forEach((st, i) => {
      for (let r = 0; r < n; r++) for (let j = 0; j < sk; j++) d[i * n * sk + r * sk + j] = st[n + (pOff[k]! + j) * n + r]!;
    });
    return new Tensor(d, [T, ...shape, ...p.shape]);
  });
  let dydy0: Tensor | null = null;
  if (wrtY0) {
    const d = new Float64Array(T * n * n);
    states.forEach((st, i) => {
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) d[i * n * n + r * n + c] = st[n + (Pn + c) * n + r]!;
    });
    dydy0 = new Tensor(d, [T, ...shape, ...shape]);
  }
  const y = new Tensor(Y, [T, ...shape]);
  if (!onTape) return { y, dydp, dydy0, stats };
  recordN('odeintSensitivities', inputs, [y], ([g]) => {
    assertFirstOrder(where, isGradEnabled());
    if (!g) return inputs.map(() => null);
    const gd = g.data;
    const contract = (J: Tensor, cols: number): Float64Array => {
      const o = new Float64Array(cols);
      const jd = J.data;
      for (let i = 0; i < T * n; i++) {
        const gi = gd[i]!;
        if (gi === 0) continue;
        for (let c = 0; c < cols; c++) o[c]! += gi * jd[i * cols + c]!;
      }
      return o;
    };
    const gParams = params.map((p, k) => (p.requiresGrad ? new Tensor(contract(dydp[k]!, p.size), p.shape) : null));
    const gy0 = y0.requiresGrad ? new Tensor(contract(dydy0!, n), shape) : null;
    let gts: Tensor | null = null;
    if (tsT.requiresGrad) {
      const gt = new Float64Array(T);
      const fAt = (i: number): Float64Array => noGrad(() => f(scalar(P.ts[i]!), new Tensor(Y.slice(i * n, (i + 1) * n), shape), params)).data;
      const f0 = fAt(0);
      const J = dydy0!.data;
      for (let i = 1; i < T; i++) {
        const fi = fAt(i);
        let dot = 0;
        let dt0 = 0;
        for (let r = 0; r < n; r++) {
          const gi = gd[i * n + r]!;
          dot += gi * fi[r]!;
          let phiF = 0;
          for (let c = 0; c < n; c++) phiF += J[i * n * n + r * n + c]! * f0[c]!;
          dt0 -= gi * phiF;
        }
        gt[i] = dot;
        gt[0]! += dt0;
      }
      gts = new Tensor(gt, [T]);
    }
    return [gy0, ...gParams, gts];
  });
  return { y, dydp, dydy0, stats };
}

function ownerOf(offsets: readonly number[], q: number): number {
  let k = 0;
  while (k + 1 < offsets.length && offsets[k + 1]! <= q) k++;
  return k;
}
