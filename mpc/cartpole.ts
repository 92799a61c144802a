// The standard cartpole problem of differentiable MPC (mpc/), exactly as in Amos et al. 2018 /
// mpc.pytorch: state (x, xdot, cos th, sin th, thdot), dt = 0.05, params theta =
// (g, m_cart, m_pole, l) = (9.8, 1.0, 0.1, 0.5), force u in [-100, 100], explicit Euler; goal
// (0, 0, 1, 0, 0) with weights (0.1, 0.1, 1, 1, 0.1) and control weight 0.001.
import { Tensor, add, concat, cos, div, mul, sin, slice, square, sub, tensor } from '../sim/core/index.ts';
import type { Dynamics } from './dynamics.ts';

/** Constants of the standard cartpole. */
export const CARTPOLE = { dt: 0.05, params: [9.8, 1.0, 0.1, 0.5], u_lower: -100, u_upper: 100, nx: 5, nu: 1 } as const;

/**
 * Cartpole dynamics with parameters theta = [g, m_cart, m_pole, l] (a [4] tensor):
 * cart_in = (u + m_pole l thdot^2 sin th) / (m_cart + m_pole),
 * th_acc = (g sin th - cos th cart_in) / (l (4/3 - m_pole cos^2 th / (m_cart + m_pole))),
 * x_acc = cart_in - m_pole l th_acc cos th / (m_cart + m_pole), explicit Euler on x, xdot, th,
 * thdot (th advanced as a rotation of (cos th, sin th) by dt thdot). Analytic raw Jacobians.
 *
 * @example const dyn = cartpole(tensor([9.8, 1.0, 0.1, 0.5]).requireGrad());
 */
export function cartpole(theta: Tensor = tensor([...CARTPOLE.params]), dt: number = CARTPOLE.dt): Dynamics {
  if (theta.size !== 4) throw new Error(`cartpole: theta must hold [g, m_cart, m_pole, l], got ${theta.size} values`);
  return {
    name: 'cartpole',
    remote: { module: import.meta.url, name: 'cartpoleFromParams', options: { dt } },
    nx: 5,
    nu: 1,
    params: [theta],
    step(xs, u, params) {
      const p = params[0]!;
      const g = slice(p, [0], [1]);
      const mc = slice(p, [1], [1]);
      const mp = slice(p, [2], [1]);
      const l = slice(p, [3], [1]);
      const N = xs.shape[0]!;
      const col = (i: number): Tensor => slice(xs, [0, i], [N, 1]);
      const [x, v, c, s, w] = [col(0), col(1), col(2), col(3), col(4)];
      const M = add(mc, mp);
      const pml = mul(mp, l);
      const cartIn = div(add(u, mul(pml, mul(square(w), s))), M);
      const thAcc = div(sub(mul(g, s), mul(c, cartIn)), mul(l, sub(4 / 3, div(mul(mp, square(c)), M))));
      const xAcc = sub(cartIn, div(mul(pml, mul(thAcc, c)), M));
      const phi = mul(dt, w);
      const cp = cos(phi);
      const sp = sin(phi);
      return concat([add(x, mul(dt, v)), add(v, mul(dt, xAcc)), sub(mul(c, cp), mul(s, sp)), add(mul(s, cp), mul(c, sp)), add(w, mul(dt, thAcc))], 1);
    },
    stepRaw(xs, u, params, ctx, out) {
      const [g, mc, mp, l] = params[0]! as unknown as [number, number, number, number];
      const M = mc + mp;
      const pml = mp * l;
      for (let r = 0; r < ctx.rows; r++) {
        const o = 5 * r;
        const x = xs[o]!;
        const v = xs[o + 1]!;
        const c = xs[o + 2]!;
        const s = xs[o + 3]!;
        const w = xs[o + 4]!;
        const ci = (u[r]! + pml * w * w * s) / M;
        const ta = (g * s - c * ci) / (l * (4 / 3 - (mp * c * c) / M));
        const xa = ci - (pml * ta * c) / M;
        const cp = Math.cos(dt * w);
        const sp = Math.sin(dt * w);
        out[o] = x + dt * v;
        out[o + 1] = v + dt * xa;
        out[o + 2] = c * cp - s * sp;
        out[o + 3] = s * cp + c * sp;
        out[o + 4] = w + dt * ta;
      }
    },
    jacobianRaw(xs, u, params, ctx, F) {
      const [g, mc, mp, l] = params[0]! as unknown as [number, number, number, number];
      const M = mc + mp;
      const pml = mp * l;
      for (let r = 0; r < ctx.rows; r++) {
        const o = 5 * r;
        const c = xs[o + 2]!;
        const s = xs[o + 3]!;
        const w = xs[o + 4]!;
        const ci = (u[r]! + pml * w * w * s) / M;
        // partials over z = (x, v, c, s, w, u)
        const dci = [0, 0, 0, (pml * w * w) / M, (2 * pml * w * s) / M, 1 / M];
        const den = l * (4 / 3 - (mp * c * c) / M);
        const dden = [0, 0, (-2 * l * mp * c) / M, 0, 0, 0];
        const num = g * s - c * ci;
        const dnum = [0, 0, -ci, g - c * dci[3]!, -c * dci[4]!, -c * dci[5]!];
        const ta = num / den;
        const dta = dnum.map((dn, j) => dn / den - (num * dden[j]!) / (den * den));
        const dxa = dci.map((d, j) => d - (pml / M) * (dta[j]! * c + (j === 2 ? ta : 0)));
        const cp = Math.cos(dt * w);
        const sp = Math.sin(dt * w);
        const c1 = c * cp - s * sp;
        const s1 = s * cp + c * sp;
        const fo = 30 * r;
        for (let j = 0; j < 6; j++) {
          F[fo + j] = j === 0 ? 1 : j === 1 ? dt : 0;
          F[fo + 6 + j] = (j === 1 ? 1 : 0) + dt * dxa[j]!;
          F[fo + 24 + j] = (j === 4 ? 1 : 0) + dt * dta[j]!;
        }
        F[fo + 12] = 0;
        F[fo + 13] = 0;
        F[fo + 14] = cp;
        F[fo + 15] = -sp;
        F[fo + 16] = -s1 * dt;
        F[fo + 17] = 0;
        F[fo + 18] = 0;
        F[fo + 19] = 0;
        F[fo + 20] = sp;
        F[fo + 21] = cp;
        F[fo + 22] = c1 * dt;
        F[fo + 23] = 0;
      }
    },
  };
}

/** The standard cartpole cost: C = diag(0.1, 0.1, 1, 1, 0.1, 0.001), c = -w * goal = (0, 0, -1, 0, 0, 0). */
export function cartpoleCost(): { C: Tensor; c: Tensor } {
  const w = [0.1, 0.1, 1, 1, 0.1, 0.001];
  const goal = [0, 0, 1, 0, 0, 0];
  const C = new Float64Array(36);
  w.forEach((v, i) => (C[i * 6 + i] = v));
  return { C: new Tensor(C, [6, 6]), c: tensor(w.map((v, i) => -v * goal[i]!)) };
}

/** Cartpole states [B, 5] from cart positions, velocities, pole angles th (0 = upright) and rates. */
export function cartpoleState(x: readonly number[], xdot: readonly number[], th: readonly number[], thdot: readonly number[]): Tensor {
  const B = x.length;
  if (xdot.length !== B || th.length !== B || thdot.length !== B) throw new Error('cartpoleState: x, xdot, th and thdot must have the same length');
  const d = new Float64Array(B * 5);
  for (let i = 0; i < B; i++) d.set([x[i]!, xdot[i]!, Math.cos(th[i]!), Math.sin(th[i]!), thdot[i]!], 5 * i);
  return new Tensor(d, [B, 5]);
}

/** Rebuilds `cartpole(params[0], options.dt)` (the factory of its Dynamics.remote, for worker threads). */
export function cartpoleFromParams(params: Tensor[], options: unknown): Dynamics {
  return cartpole(params[0], (options as { dt?: number } | undefined)?.dt);
}
