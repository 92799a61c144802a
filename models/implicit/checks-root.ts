// Gradient checks of the root-find, fixed-point (DEQ), argmin and KKT layers for
// `impulse gradcheck` (names implicit.root.*, implicit.deq.*, implicit.argmin.*,
// implicit.kkt.*): IFT gradients against central differences of the re-solved layers, at
// the default bar (relative error 1e-6), on random inputs from fixed-seed generators.
import {
  Rng,
  Tensor,
  add,
  concat,
  dot,
  exp,
  eye,
  matmul,
  mul,
  noGrad,
  randn,
  registerGradcheck,
  reshape,
  sin,
  slice,
  square,
  sub,
  sum,
  tanh,
  tensor,
} from '../../sim/core/index.ts';
import { argmin } from './argmin.ts';
import { deq, tanhCell } from './fixed-point.ts';
import { kktLayer } from './kkt.ts';
import { rootFind } from './root.ts';

/** F(y; M, b, c) = M y + 0.3 tanh(y) + 0.2 sin(c * y) - b: a smooth, well-posed nonlinear system. */
export function randomRootSystem([M, b, c]: readonly Tensor[], y: Tensor): Tensor {
  return sub(add(add(matmul(M!, y), mul(0.3, tanh(y))), mul(0.2, sin(mul(c!, y)))), b!);
}

function rootInputs(seed: number, n: number): Tensor[] {
  const rng = new Rng(seed);
  return [add(randn([n, n], rng), mul(4, eye(n))), randn([n], rng), randn([n], rng)];
}

const rootStart = (n: number): Tensor => randn([n], new Rng(7));

registerGradcheck('implicit.root.newton_dense', () => ({
  fn: (M, b, c) => rootFind(randomRootSystem, [M, b, c], rootStart(4), { tol: 1e-14, backward: { solver: 'dense' } }).y,
  inputs: rootInputs(401, 4),
}));

registerGradcheck('implicit.root.newton_gmres', () => ({
  fn: (M, b, c) => rootFind(randomRootSystem, [M, b, c], rootStart(5), { tol: 1e-14, backward: { solver: 'gmres', tol: 1e-13 } }).y,
  inputs: rootInputs(402, 5),
}));

registerGradcheck('implicit.root.broyden', () => ({
  fn: (M, b, c) => rootFind(randomRootSystem, [M, b, c], rootStart(4), { method: 'broyden', tol: 1e-14 }).y,
  inputs: rootInputs(403, 4),
}));

registerGradcheck('implicit.root.batched', () => {
  // three independent systems y_k^3 + a_k y_k - b_k = 0 (a_k > 0: one real root each), plus a shared coupling s
  const rng = new Rng(404);
  const a = add(rng.uniform() + 1, tensor(Array.from(rng.uniforms(6, 0.5, 2)), [3, 2]));
  return {
    fn: (a, b, s) =>
      rootFind(([a, b, s], y) => sub(add(add(mul(y, square(y)), mul(a!, y)), mul(s!, tanh(y))), b!), [a, b, s], tensor([0, 0, 0, 0, 0, 0], [3, 2]), {
        batched: true,
        tol: 1e-14,
      }).y,
    inputs: [a, randn([3, 2], rng), tensor([0.3])],
  };
});

registerGradcheck('implicit.root.grad2', () => ({
  fn: (M, b, c) => rootFind(randomRootSystem, [M, b, c], rootStart(3), { tol: 1e-14 }).y,
  inputs: rootInputs(405, 3),
  order: 2,
}));

function deqInputs(seed: number, B: number, d: number, p: number): Tensor[] {
  const rng = new Rng(seed);
  return [randn([B, p], rng), mul(randn([d, d], rng), 0.4 / Math.sqrt(d)), mul(randn([d, p], rng), 1 / Math.sqrt(p)), randn([d], rng)];
}

registerGradcheck('implicit.deq.anderson_dense', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, backward: { solver: 'dense' } }).z,
  inputs: deqInputs(411, 3, 5, 4),
}));

registerGradcheck('implicit.deq.anderson_gmres', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, backward: { solver: 'gmres', tol: 1e-13 } }).z,
  inputs: deqInputs(412, 3, 5, 4),
}));

registerGradcheck('implicit.deq.adjoint_fixed_point', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, backward: { solver: 'fixed-point', tol: 1e-13 } }).z,
  inputs: deqInputs(413, 3, 5, 4),
}));

registerGradcheck('implicit.deq.broyden', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { solver: 'broyden', tol: 1e-14 }).z,
  inputs: deqInputs(414, 2, 5, 3),
}));

registerGradcheck('implicit.deq.grad2', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14 }).z,
  inputs: deqInputs(415, 2, 3, 2),
  order: 2,
}));

registerGradcheck('implicit.deq.threads_dense', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, threads: 2, backward: { solver: 'dense' } }).z,
  inputs: deqInputs(416, 4, 5, 4),
}));

registerGradcheck('implicit.deq.threads_gmres', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, threads: 2, backward: { solver: 'gmres', tol: 1e-13 } }).z,
  inputs: deqInputs(417, 4, 5, 4),
}));

registerGradcheck('implicit.deq.threads_grad2', () => ({
  fn: (x, W, U, b) => deq(tanhCell, x, [W, U, b], { tol: 1e-14, threads: 2 }).z,
  inputs: deqInputs(418, 2, 3, 2),
  order: 2,
}));

/** f(x; A, b) = sum exp(A x) - b.x + |x|^2 / 2: strictly convex, smooth. */
export function randomConvexObjective(x: Tensor, [A, b]: readonly Tensor[]): Tensor {
  return add(sub(sum(exp(matmul(A!, x))), dot(b!, x)), mul(0.5, sum(square(x))));
}

function argminInputs(seed: number): Tensor[] {
  const rng = new Rng(seed);
  return [mul(randn([5, 4], rng), 0.5), randn([4], rng)];
}

registerGradcheck('implicit.argmin.newton', () => ({
  fn: (A, b) => argmin(randomConvexObjective, [A, b], randn([4], new Rng(1)), { tol: 1e-13 }).x,
  inputs: argminInputs(421),
}));

registerGradcheck('implicit.argmin.newton_gmres', () => ({
  fn: (A, b) => argmin(randomConvexObjective, [A, b], randn([4], new Rng(1)), { tol: 1e-13, backward: { solver: 'gmres', tol: 1e-13 } }).x,
  inputs: argminInputs(422),
}));

registerGradcheck('implicit.argmin.lbfgs', () => ({
  fn: (A, b) => argmin(randomConvexObjective, [A, b], randn([4], new Rng(1)), { method: 'lbfgs', tol: 1e-13 }).x,
  inputs: argminInputs(423),
}));

registerGradcheck('implicit.argmin.unrolled', () => ({
  fn: (A, b) => argmin(randomConvexObjective, [A, b], randn([4], new Rng(1)), { mode: 'unrolled', steps: 8, lr: 0.1 }).x,
  inputs: argminInputs(424),
}));

registerGradcheck('implicit.argmin.grad2', () => ({
  fn: (A, b) => argmin(randomConvexObjective, [A, b], randn([3], new Rng(1)), { tol: 1e-13 }).x,
  inputs: (() => {
    const rng = new Rng(425);
    return [mul(randn([3, 3], rng), 0.5), randn([3], rng)];
  })(),
  order: 2,
}));

/**
 * Closed-form primal-dual solution of min |x - theta|^2 / 2 s.t. |x|^2 <= 1, x_0 <= 5,
 * a.x = b when the ball is active (the projection onto a circle): an independent solver
 * whose output the KKT layer differentiates.
 */
export function projectBallPlane(theta: Float64Array, a: Float64Array, b: number): { x: Float64Array; lambda: Float64Array; nu: Float64Array } {
  const n = theta.length;
  let aa = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    aa += a[i]! * a[i]!;
    at += a[i]! * theta[i]!;
  }
  const c = Array.from(a, (v) => (b / aa) * v);
  const rho = Math.sqrt(1 - (b * b) / aa);
  const u = Array.from(theta, (v, i) => v - ((at - b) / aa) * a[i]! - c[i]!);
  const un = Math.hypot(...u);
  if (!(un > rho)) throw new Error('projectBallPlane: the ball constraint is not active for this theta');
  const x = Float64Array.from(u, (v, i) => c[i]! + (rho * v) / un);
  // multipliers from stationarity (1 + 2 l) x + nu a = theta: least squares on [2x, a] [l; nu] = theta - x
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let r1 = 0;
  let r2 = 0;
  for (let i = 0; i < n; i++) {
    const q = 2 * x[i]!;
    const r = theta[i]! - x[i]!;
    s11 += q * q;
    s12 += q * a[i]!;
    s22 += a[i]! * a[i]!;
    r1 += q * r;
    r2 += a[i]! * r;
  }
  const det = s11 * s22 - s12 * s12;
  return { x, lambda: Float64Array.of((r1 * s22 - s12 * r2) / det, 0), nu: Float64Array.of((s11 * r2 - s12 * r1) / det) };
}

/** The ball-and-plane problem for the KKT layer, parameterised by [theta, a, b]. */
export const ballPlaneProblem = {
  f: (x: Tensor, [theta]: readonly Tensor[]) => mul(0.5, sum(square(sub(x, theta!)))),
  g: (x: Tensor) => concat([reshape(sub(sum(square(x)), 1), [1]), sub(slice(x, [0], [1]), 5)]),
  h: (x: Tensor, [, a, b]: readonly Tensor[]) => reshape(sub(dot(a!, x), reshape(b!, [])), [1]),
};

registerGradcheck('implicit.kkt.ball_plane', () => {
  const rng = new Rng(431);
  const theta = mul(randn([4], rng), 3);
  const a = randn([4], rng);
  const b = tensor([0.2]);
  return {
    fn: (theta, a, b) => {
      const s = noGrad(() => projectBallPlane(theta.data, a.data, b.data[0]!));
      const r = kktLayer(ballPlaneProblem, [theta, a, b], { x: tensor(s.x), lambda: tensor(s.lambda), nu: tensor(s.nu) });
      return concat([r.x, r.lambda, r.nu]);
    },
    inputs: [theta, a, b],
  };
});

registerGradcheck('implicit.kkt.grad2', () => {
  const rng = new Rng(432);
  const theta = mul(randn([4], rng), 3);
  const a = randn([4], rng);
  return {
    fn: (theta, a, b) => {
      const s = noGrad(() => projectBallPlane(theta.data, a.data, b.data[0]!));
      const r = kktLayer(ballPlaneProblem, [theta, a, b], { x: tensor(s.x), lambda: tensor(s.lambda), nu: tensor(s.nu) });
      return concat([r.x, r.lambda, r.nu]);
    },
    inputs: [theta, a, tensor([0.2])],
    order: 2,
  };
});
