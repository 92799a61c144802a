// The standard pendulum problem of differentiable MPC (mpc/), exactly as in Amos et al. 2018 /
// mpc.pytorch: state (cos th, sin th, thdot), dt = 0.05, params theta = (g, m, l) = (10, 1, 1),
// torque u in [-2, 2], cost C = diag(1, 1, 0.1, 0.001), c = (-1, 0, 0, 0) (upright is th = 0).
import { Tensor, concat, cos, div, mul, add, sin, slice, sub, tensor } from '../sim/core/index.ts';
import type { Dynamics } from './dynamics.ts';

/** Constants of the standard pendulum. */
export const PENDULUM = { dt: 0.05, params: [10, 1, 1], u_lower: -2, u_upper: 2, nx: 3, nu: 1 } as const;

/**
 * Pendulum dynamics with parameters theta = [g, m, l] (a [3] tensor; may require grad):
 * thdot' = thdot + dt (3 g / (2 l) sin th + 3 u / (m l^2)), th' = th + dt thdot'. The angle
 * update is written as a rotation of (cos th, sin th) by dt thdot' (equal to mpc.pytorch's
 * atan2 form on the unit circle). Supplies analytic `stepRaw` / `jacobianRaw`.
 *
 * @example
 * const dyn = pendulum();                                   // true parameters
 * const learner = pendulum(tensor([8, 1.5, 0.8]).requireGrad());
 */
export function pendulum(theta: Tensor = tensor([...PENDULUM.params]), dt: number = PENDULUM.dt): Dynamics {
  if (theta.size !== 3) throw new Error(`pendulum: theta must hold [g, m, l], got ${theta.size} values`);
  return {
    name: 'pendulum',
    remote: { module: import.meta.url, name: 'pendulumFromParams', options: { dt } },
    nx: 3,
    nu: 1,
    params: [theta],
    step(x, u, params) {
      const p = params[0]!;
      const g = slice(p, [0], [1]);
      const m = slice(p, [1], [1]);
      const l = slice(p, [2], [1]);
      const N = x.shape[0]!;
      const c = slice(x, [0, 0], [N, 1]);
      const s = slice(x, [0, 1], [N, 1]);
      const w = slice(x, [0, 2], [N, 1]);
      const acc = add(mul(div(mul(1.5, g), l), s), div(mul(3, u), mul(m, mul(l, l))));
      const w1 = add(w, mul(dt, acc));
      const phi = mul(dt, w1);
      const cp = cos(phi);
      const sp = sin(phi);
      return concat([sub(mul(c, cp), mul(s, sp)), add(mul(s, cp), mul(c, sp)), w1], 1);
    },
    stepRaw(x, u, params, ctx, out) {
      pendulumRaw(dt, x, u, params[0]!, ctx.rows, out, null);
    },
    jacobianRaw(x, u, params, ctx, F) {
      pendulumRaw(dt, x, u, params[0]!, ctx.rows, null, F);
    },
  };
}

/** The pendulum step on raw arrays for `rows` rows: x' into `out` and/or the Jacobian [A B] (3 x 4 per row) into `F`. */
function pendulumRaw(dt: number, x: Float64Array, u: Float64Array, theta: Float64Array, rows: number, out: Float64Array | null, F: Float64Array | null): void {
  const g = theta[0]!;
  const m = theta[1]!;
  const l = theta[2]!;
  const a = (1.5 * g) / l;
  const bu = 3 / (m * l * l);
  for (let r = 0; r < rows; r++) {
    const c = x[3 * r]!;
    const s = x[3 * r + 1]!;
    const w1 = x[3 * r + 2]! + dt * (a * s + bu * u[r]!);
    const cp = Math.cos(dt * w1);
    const sp = Math.sin(dt * w1);
    const c1 = c * cp - s * sp;
    const s1 = s * cp + c * sp;
    if (out) {
      out[3 * r] = c1;
      out[3 * r + 1] = s1;
      out[3 * r + 2] = w1;
    }
    if (!F) continue;
    // d w1 / d(c, s, thdot, u) = (0, dt a, 1, dt bu); d phi = dt d w1
    const o = 12 * r;
    F[o] = cp;
    F[o + 1] = -sp - s1 * dt * dt * a;
    F[o + 2] = -s1 * dt;
    F[o + 3] = -s1 * dt * dt * bu;
    F[o + 4] = sp;
    F[o + 5] = cp + c1 * dt * dt * a;
    F[o + 6] = c1 * dt;
    F[o + 7] = c1 * dt * dt * bu;
    F[o + 8] = 0;
    F[o + 9] = dt * a;
    F[o + 10] = 1;
    F[o + 11] = dt * bu;
  }
}

/** The standard pendulum cost: C = diag(1, 1, 0.1, 0.001), c = (-1, 0, 0, 0) over tau = (cos th, sin th, thdot, u). */
export function pendulumCost(): { C: Tensor; c: Tensor } {
  const w = [1, 1, 0.1, 0.001];
  const C = new Float64Array(16);
  w.forEach((v, i) => (C[i * 4 + i] = v));
  return { C: new Tensor(C, [4, 4]), c: tensor([-1, 0, 0, 0]) };
}

/** Pendulum states [B, 3] from angles th (rad, 0 = upright) and rates thdot. */
export function pendulumState(th: readonly number[], thdot: readonly number[]): Tensor {
  if (th.length !== thdot.length) throw new Error(`pendulumState: ${th.length} angles but ${thdot.length} rates`);
  const d = new Float64Array(th.length * 3);
  th.forEach((a, i) => {
    d[3 * i] = Math.cos(a);
    d[3 * i + 1] = Math.sin(a);
    d[3 * i + 2] = thdot[i]!;
  });
  return new Tensor(d, [th.length, 3]);
}

/** Rebuilds `pendulum(params[0], options.dt)` (the factory of its Dynamics.remote, for worker threads). */
export function pendulumFromParams(params: Tensor[], options: unknown): Dynamics {
  return pendulum(params[0], (options as { dt?: number } | undefined)?.dt);
}
