// Gradient checks of the ego-motion predictor (ego/) for `impulse gradcheck`: the kinematic
// unicycle and bicycle rollouts (tanh-bounded controls, float64 core ops), and the float64 parts
// the tfjs bridge wraps in models A and B: a network head -> control sequence -> vehicle model ->
// ADE loss (model A), and MPC cost (C, c) and initial state -> box-constrained MPC over the vehicle
// -> ADE loss (model B, implicit backward). Importing this module registers the checks `ego.*`.
import {
  Rng,
  Tensor,
  add,
  expandDims,
  eye,
  matmul,
  mean,
  mul,
  neg,
  randn,
  registerGradcheck,
  reshape,
  slice,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tensor,
} from '../sim/core/index.ts';
import { mpc, quadCost } from '../mpc/index.ts';
import { rollout, vehicleDynamics, type VehicleKind, type VehicleLimits } from './vehicle.ts';

/** Limits used by the checks (a car-like vehicle). */
export const CHECK_LIMITS: VehicleLimits = { accel: 3, yawRate: 0.8, steer: 0.5, wheelbase: 2.7 };

const B = 2;
const T = 6;
const dts = (): Tensor =>
  new Tensor(
    Float64Array.from({ length: B * T }, (_, i) => 0.1 + 0.004 * (i % 5)),
    [B, T],
  );
const s0 = (): Tensor =>
  tensor([
    [0, 0, 0.1, 6],
    [0.5, -0.2, -0.3, 11],
  ]);

/** ADE of positions [B, T, 2] against a target, with the same smoothing as the tfjs loss. */
function ade(pos: Tensor, target: Tensor): Tensor {
  return mean(sqrt(add(sum(square(sub(pos, target)), 2), 1e-6)));
}

for (const kind of ['unicycle', 'bicycle'] as VehicleKind[]) {
  registerGradcheck(`ego.${kind}_rollout`, () => ({
    fn: (x0, raw) => rollout(kind, CHECK_LIMITS, x0, raw, dts()),
    inputs: [s0(), randn([B, T, 2], new Rng(3))],
  }));
  registerGradcheck(`ego.${kind}_head_to_ade`, () => {
    // model A in float64: features h -> W h + b -> raw controls (tanh-bounded) -> rollout -> ADE
    const rng = new Rng(11);
    const h = randn([B, 8], rng);
    const target = mul(4, randn([B, T, 2], rng));
    return {
      fn: (W, b, x0) => ade(rollout(kind, CHECK_LIMITS, x0, reshape(add(matmul(h, W), b), [B, T, 2]), dts()), target),
      inputs: [mul(0.3, randn([8, 2 * T], rng)), mul(0.1, randn([2 * T], rng)), s0()],
    };
  });
}

/**
 * Model B's cost in float64, built as the tfjs head builds it: weights softplus(w) [B, 4] (terminal
 * position, speed, acceleration, turn) and targets g [B, 4] (goal x, goal y, speed, turn) give
 * C_t = diag(d_t), c_t = -d_t * target_t over tau = [x, y, psi, v, u_a, u_turn].
 */
export function mpcCheckCost(w: Tensor, g: Tensor, T: number): { C: Tensor; c: Tensor } {
  const Bn = w.shape[0]!;
  const Mw = new Float64Array(4 * T * 6);
  const Mg = new Float64Array(4 * T * 6);
  for (let t = 0; t < T; t++) {
    if (t === T - 1) {
      Mw[t * 6] = Mw[t * 6 + 1] = 1;
      Mg[t * 6] = Mg[T * 6 + t * 6 + 1] = 1;
    }
    Mw[T * 6 + t * 6 + 3] = Mw[2 * T * 6 + t * 6 + 4] = Mw[3 * T * 6 + t * 6 + 5] = 1;
    Mg[2 * T * 6 + t * 6 + 3] = Mg[3 * T * 6 + t * 6 + 5] = 1;
  }
  const d = reshape(add(matmul(softplus(w), new Tensor(Mw, [4, T * 6])), 1e-3), [Bn, T, 6]);
  const target = reshape(matmul(g, new Tensor(Mg, [4, T * 6])), [Bn, T, 6]);
  const C = mul(expandDims(d, 3), reshape(eye(6), [1, 1, 6, 6]));
  return { C, c: neg(mul(d, target)) };
}

registerGradcheck('ego.unicycle_mpc_to_ade', () => {
  // model B in float64: cost weights/targets and initial state -> MPC over the unicycle -> positions -> ADE
  const rng = new Rng(5);
  const target = mul(3, randn([B, T - 1, 2], rng));
  const d = dts();
  return {
    fn: (w, g, x0) => {
      const { C, c } = mpcCheckCost(w, g, T);
      const r = mpc(
        { dynamics: vehicleDynamics('unicycle', CHECK_LIMITS, d), cost: quadCost(C, c), x_init: x0, T, u_lower: -1, u_upper: 1 },
        { tol: 1e-11, maxIter: 200 },
      );
      return ade(slice(r.x, [0, 1, 0], [B, T - 1, 2]), target);
    },
    inputs: [
      tensor([
        [0.2, -0.5, -1, -1.5],
        [-0.3, 0.1, -0.8, -1.2],
      ]),
      tensor([
        [4.5, 0.4, 7, 0.3],
        [7, -0.6, 10, -0.25],
      ]),
      s0(),
    ],
  };
});
