// Gradient checks of the MPC layer (mpc/) for `impulse gradcheck`: the implicit backward
// against central differences through the whole solver (float64, 1e-6 bar), on problems whose
// control bounds are strictly active or strictly inactive, plus the unrolled backward and the
// differentiable SPD solve. Importing this module registers the checks `mpc.*`.
import {
  Rng,
  Tensor,
  add,
  concat,
  matmul,
  matrixTranspose,
  mul,
  randn,
  registerGradcheck,
  reshape,
  square,
  slice,
  sub,
  sum,
  tensor,
  cos,
  div,
  sin,
} from '../sim/core/index.ts';
import { odeDynamics } from './ode-dynamics.ts';
import { cartpole, cartpoleCost, cartpoleState } from './cartpole.ts';
import { fnCost, quadCost } from './cost.ts';
import { affineDynamics } from './dynamics.ts';
import { mpc, type MpcOptions } from './mpc.ts';
import { pendulum, pendulumCost, pendulumState } from './pendulum.ts';
import { spdSolve } from './spdsolve.ts';

/** Solver options of the checks: converged far below the finite-difference step. */
export const CHECK_OPTS: MpcOptions = { tol: 1e-11, maxIter: 300 };

const flat = (r: { x: Tensor; u: Tensor }): Tensor => concat([reshape(r.x, [r.x.size]), reshape(r.u, [r.u.size])], 0);

/** The LQR check problem: time-varying affine dynamics, n = 3, m = 2, T = 5, B = 2, |u| <= 0.6 (some bounds active). */
export function lqrCheckProblem(): { F: Tensor; f: Tensor; C: Tensor; c: Tensor; x_init: Tensor; T: number; bound: number } {
  const rng = new Rng(7);
  const n = 3;
  const m = 2;
  const T = 5;
  const nt = n + m;
  const Fd = new Float64Array((T - 1) * n * nt);
  const noise = rng.normals(Fd.length);
  for (let t = 0; t < T - 1; t++)
    for (let i = 0; i < n; i++) for (let j = 0; j < nt; j++) Fd[(t * n + i) * nt + j] = (i === j ? 1 : 0) + 0.3 * noise[(t * n + i) * nt + j]!;
  const L = randn([nt, nt], rng);
  const C = add(
    mul(0.3, matmul(L, matrixTranspose(L))),
    tensor(
      Array.from({ length: nt * nt }, (_, i) => (Math.floor(i / nt) === i % nt ? 0.5 : 0)),
      [nt, nt],
    ),
  );
  return { F: new Tensor(Fd, [T - 1, n, nt]), f: mul(0.2, randn([T - 1, n], rng)), C, c: randn([T, nt], rng), x_init: randn([2, n], rng), T, bound: 0.6 };
}

registerGradcheck('mpc.lqr', () => {
  const p = lqrCheckProblem();
  return {
    fn: (F, f, C, c, x) =>
      flat(mpc({ dynamics: affineDynamics(F, f), cost: quadCost(C, c), x_init: x, T: p.T, u_lower: -p.bound, u_upper: p.bound }, CHECK_OPTS)),
    inputs: [p.F, p.f, p.C, p.c, p.x_init],
  };
});

registerGradcheck('mpc.lqr_gauss_newton', () => {
  // the Gauss-Newton (mpc.pytorch) backward is exact for affine dynamics
  const p = lqrCheckProblem();
  return {
    fn: (F, f, c, x) =>
      flat(
        mpc(
          { dynamics: affineDynamics(F, f), cost: quadCost(p.C, c), x_init: x, T: p.T, u_lower: -p.bound, u_upper: p.bound },
          { ...CHECK_OPTS, backward: 'implicit-gn' },
        ),
      ),
    inputs: [p.F, p.f, p.c, p.x_init],
  };
});

/** Pendulum check states: item 0 saturates the torque for the first steps, item 1 stays inside the bounds. */
export const PENDULUM_CHECK_X = (): Tensor => pendulumState([0.2, -0.3], [0.1, 0.5]);

registerGradcheck('mpc.pendulum', () => {
  const { C, c } = pendulumCost();
  return {
    fn: (theta, x, cc, CC) => mpc({ dynamics: pendulum(theta), cost: quadCost(CC, cc), x_init: x, T: 6, u_lower: -2, u_upper: 2 }, CHECK_OPTS).u,
    inputs: [tensor([10, 1, 1]), PENDULUM_CHECK_X(), c, C],
  };
});

registerGradcheck('mpc.pendulum_states_objective', () => {
  const { C, c } = pendulumCost();
  return {
    fn: (theta, x, cc) => {
      const r = mpc({ dynamics: pendulum(theta), cost: quadCost(C, cc), x_init: x, T: 6, u_lower: -2, u_upper: 2 }, CHECK_OPTS);
      return concat([reshape(r.x, [r.x.size]), r.objective], 0);
    },
    inputs: [tensor([10, 1, 1]), PENDULUM_CHECK_X(), c],
  };
});

registerGradcheck('mpc.cartpole', () => {
  const { C, c } = cartpoleCost();
  return {
    fn: (theta, x, cc) => mpc({ dynamics: cartpole(theta), cost: quadCost(C, cc), x_init: x, T: 6, u_lower: -100, u_upper: 100 }, CHECK_OPTS).u,
    inputs: [tensor([9.8, 1.0, 0.1, 0.5]), cartpoleState([0.1, -0.2], [0, 0.3], [0.3, -0.2], [0.2, 0]), c],
  };
});

/** A non-quadratic pendulum cost with parameters phi: phi0 (1 - cos th) + 1/2 phi1 thdot^2 + 1/2 phi2 u^2 + 0.01 thdot^4 + 0.1 (1 - cos u). */
export function pendulumFnCost(phi: Tensor) {
  return fnCost(
    'pendulum-nonquadratic',
    (tau, params) => {
      const N = tau.shape[0]!;
      const p = params[0]!;
      const col = (i: number): Tensor => reshape(slice(tau, [0, i], [N, 1]), [N]);
      const [c0, w, u] = [col(0), col(2), col(3)];
      const pi = (i: number): Tensor => reshape(slice(p, [i], [1]), []);
      return add(
        add(mul(pi(0), sub(1, c0)), add(mul(mul(0.5, pi(1)), square(w)), mul(mul(0.5, pi(2)), square(u)))),
        add(mul(0.01, square(square(w))), mul(0.1, sub(1, cos(u)))),
      );
    },
    [phi],
  );
}

registerGradcheck('mpc.fn_cost', () => ({
  fn: (phi, theta, x) => mpc({ dynamics: pendulum(theta), cost: pendulumFnCost(phi), x_init: x, T: 6, u_lower: -2, u_upper: 2 }, CHECK_OPTS).u,
  inputs: [tensor([1, 0.1, 0.01]), tensor([10, 1, 1]), PENDULUM_CHECK_X()],
}));

registerGradcheck('mpc.unrolled', () => {
  const { C, c } = pendulumCost();
  return {
    fn: (theta, x) =>
      mpc({ dynamics: pendulum(theta), cost: quadCost(C, c), x_init: x, T: 5, u_lower: -2, u_upper: 2 }, { ...CHECK_OPTS, backward: 'unrolled' }).u,
    inputs: [tensor([10, 1, 1]), pendulumState([0.1], [0.2])],
  };
});

const spdInputs = (): Tensor[] => {
  const rng = new Rng(3);
  const L = randn([2, 3, 3], rng);
  const M = add(
    matmul(L, matrixTranspose(L)),
    tensor(
      Array.from({ length: 18 }, (_, i) => ((i % 9) % 4 === 0 ? 1 : 0)),
      [2, 3, 3],
    ),
  );
  return [M, randn([2, 3, 2], rng)];
};
// spdSolve treats M as symmetric; check through a symmetric parametrisation M = 1/2 (S + S').
const sym = (S: Tensor): Tensor => mul(0.5, add(S, matrixTranspose(S)));
registerGradcheck('mpc.spd_solve', () => ({ fn: (S, R) => spdSolve(sym(S), R), inputs: spdInputs() }));
registerGradcheck('mpc.spd_solve_2nd', () => ({ fn: (S, R) => sum(square(spdSolve(sym(S), R))), inputs: spdInputs(), order: 2 }));

/** The pendulum seen as a first-order-only dynamics (no raw paths, no createGraph): the finite-difference second-order terms. */
export function firstOrderPendulum(theta: Tensor) {
  const d = pendulum(theta);
  return { name: 'pendulum-first-order', nx: d.nx, nu: d.nu, params: d.params, step: d.step.bind(d), firstOrderOnly: true };
}

registerGradcheck('mpc.first_order_dynamics', () => {
  const { C, c } = pendulumCost();
  return {
    fn: (theta, x, cc) => mpc({ dynamics: firstOrderPendulum(theta), cost: quadCost(C, cc), x_init: x, T: 6, u_lower: -2, u_upper: 2 }, CHECK_OPTS).u,
    inputs: [tensor([10, 1, 1]), PENDULUM_CHECK_X(), c],
  };
});

/** The pendulum as an ODE (state th, thdot; upright at th = 0) for the ODE-dynamics checks. */
export function pendulumOde(theta: Tensor, adjoint = false) {
  return odeDynamics({
    name: 'pendulum-ode',
    nx: 2,
    nu: 1,
    dt: 0.05,
    params: [theta],
    adjoint,
    f: (x, u, [th]) => {
      const g = slice(th!, [0], [1]);
      const m = slice(th!, [1], [1]);
      const l = slice(th!, [2], [1]);
      const thdot = slice(x, [0, 1], [x.shape[0]!, 1]);
      const acc = add(mul(div(mul(1.5, g), l), sin(slice(x, [0, 0], [x.shape[0]!, 1]))), div(mul(3, u), mul(m, mul(l, l))));
      return concat([thdot, acc], 1);
    },
  });
}

const ODE_COST = (): { C: Tensor; c: Tensor } => ({
  C: tensor([
    [1, 0, 0],
    [0, 0.1, 0],
    [0, 0, 0.001],
  ]),
  c: tensor([0, 0, 0]),
});

for (const adjoint of [false, true]) {
  // u* of MPC over ODE dynamics (rk4 through the ODE layer) w.r.t. (g, m, l) and x_init; |u| <= 3 inactive
  registerGradcheck(adjoint ? 'mpc.ode_dynamics_adjoint' : 'mpc.ode_dynamics', () => {
    const { C, c } = ODE_COST();
    return {
      fn: (theta, x) => mpc({ dynamics: pendulumOde(theta, adjoint), cost: quadCost(C, c), x_init: x, T: 6, u_lower: -3, u_upper: 3 }, CHECK_OPTS).u,
      inputs: [tensor([10, 1, 1]), tensor([[0.3, -0.2]])],
    };
  });
}
