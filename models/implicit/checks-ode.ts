// Gradient checks of the ODE layer (models/implicit), run by `impulse gradcheck`: the adjoint
// (dopri5 at tight tolerances, so the flow's gradient and the discrete solve's agree to ~1e-8),
// backprop through the solver (the exact derivative of the discrete solve, any tolerance) and
// forward sensitivities, on the seed's Lorenz system, a batched neural ODE and a time-dependent field.
import { Rng, Tensor, add, matmul, mul, neg, randn, registerGradcheck, reshape, sin, slice, stack, sub, tanh, tensor } from '../../sim/core/index.ts';
import { odeint, odeintSensitivities, type OdeFunc } from './ode.ts';
import { mlpField } from './mlp-field.ts';

/**
 * The seed's Lorenz system: (x, y, z)' = (sigma (y - x), x (rho - z) - y, x y - beta z) with
 * params[0] = [sigma, rho, beta].
 */
export const lorenz: OdeFunc = (_t, s, [p]) => {
  const [x, y, z] = [0, 1, 2].map((i) => reshape(slice(s, [i], [1]), [])) as [Tensor, Tensor, Tensor];
  const [sigma, rho, beta] = [0, 1, 2].map((i) => reshape(slice(p!, [i], [1]), [])) as [Tensor, Tensor, Tensor];
  return stack([mul(sigma, sub(y, x)), sub(mul(x, sub(rho, z)), y), sub(mul(x, y), mul(beta, z))], 0);
};

/** A small neural ODE field on batched states [B, 3]: tanh(y W1 + b1) W2 + b2. */
export const smallMlp: OdeFunc = (_t, y, [W1, b1, W2, b2]) => add(matmul(tanh(add(matmul(y, W1!), b1!)), W2!), b2!);

/** A time-dependent field y' = -a y + sin(w t) (exercises dL/dts through df/dt). */
export const forcedDecay: OdeFunc = (t, y, [a, w]) => add(neg(mul(a!, y)), sin(mul(w!, t)));

const lorenzInputs = (): Tensor[] => [tensor([1, 1, 1]), tensor([10, 28, 8 / 3]), tensor([0, 0.1, 0.2])];
const mlpInputs = (): Tensor[] => {
  const rng = new Rng(11);
  return [
    randn([2, 3], rng),
    mul(randn([3, 4], rng), 0.5),
    mul(randn([4], rng), 0.1),
    mul(randn([4, 3], rng), 0.5),
    mul(randn([3], rng), 0.1),
    tensor([0, 0.5, 1]),
  ];
};
const forcedInputs = (): Tensor[] => [tensor([0.3, -0.7]), tensor([0.8, 1.3]), tensor([2.0]), tensor([0.1, 0.7, 1.5])];
const tight = { rtol: 1e-10, atol: 1e-10 };

registerGradcheck('implicit.ode.adjoint_dopri5_lorenz', () => ({
  fn: (y0, p, ts) => odeint(lorenz, y0!, ts!, [p!], tight).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.adjoint_dopri5_mlp_batched', () => ({
  fn: (y0, W1, b1, W2, b2, ts) => odeint(smallMlp, y0!, ts!, [W1!, b1!, W2!, b2!], tight).y,
  inputs: mlpInputs(),
}));

registerGradcheck('implicit.ode.adjoint_dopri5_time_dependent', () => ({
  fn: (y0, a, w, ts) => odeint(forcedDecay, y0!, ts!, [a!, w!], { rtol: 1e-11, atol: 1e-11 }).y,
  inputs: forcedInputs(),
}));

registerGradcheck('implicit.ode.adjoint_rk4_lorenz', () => ({
  fn: (y0, p, ts) => odeint(lorenz, y0!, ts!, [p!], { method: 'rk4', step: 0.0021 }).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.backprop_dopri5_lorenz', () => ({
  fn: (y0, p, ts) => odeint(lorenz, y0!, ts!, [p!], { rtol: 1e-6, atol: 1e-6, adjoint: false }).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.backprop_dopri5_mlp_batched', () => ({
  fn: (y0, W1, b1, W2, b2, ts) => odeint(smallMlp, y0!, ts!, [W1!, b1!, W2!, b2!], { rtol: 1e-5, atol: 1e-5, adjoint: false }).y,
  inputs: mlpInputs(),
}));

registerGradcheck('implicit.ode.backprop_rk4_lorenz', () => ({
  fn: (y0, p, ts) => odeint(lorenz, y0!, ts!, [p!], { method: 'rk4', step: 0.011, adjoint: false }).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.backprop_euler_lorenz', () => ({
  fn: (y0, p, ts) => odeint(lorenz, y0!, ts!, [p!], { method: 'euler', step: 0.011, adjoint: false }).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.sensitivities_lorenz', () => ({
  fn: (y0, p, ts) => odeintSensitivities(lorenz, y0!, ts!, [p!], tight).y,
  inputs: lorenzInputs(),
}));

registerGradcheck('implicit.ode.sensitivities_double_backward', () => ({
  fn: (y0, a, w, ts) => odeintSensitivities(forcedDecay, y0!, ts!, [a!, w!], { rtol: 1e-11, atol: 1e-11, products: 'double-backward' }).y,
  inputs: forcedInputs(),
}));

registerGradcheck('implicit.ode.sensitivities_time_dependent', () => ({
  fn: (y0, a, w, ts) => odeintSensitivities(forcedDecay, y0!, ts!, [a!, w!], { rtol: 1e-11, atol: 1e-11 }).y,
  inputs: forcedInputs(),
}));

/** Inputs of a known MLP field [3, 16, 16, 3] on a batch of 16 (its middle layer is 4096 multiply-adds: the wasm GEMM path). */
const mlpFieldInputs = (): Tensor[] => {
  const rng = new Rng(12);
  return [
    randn([16, 3], rng),
    mul(randn([3, 16], rng), 0.5),
    mul(randn([16], rng), 0.1),
    mul(randn([16, 16], rng), 0.25),
    mul(randn([16], rng), 0.1),
    mul(randn([16, 3], rng), 0.25),
    mul(randn([3], rng), 0.1),
  ];
};

registerGradcheck('implicit.ode.adjoint_dopri5_mlp_field_tanh', () => ({
  fn: (y0, ...ps) => odeint(mlpField([3, 16, 16, 3]), y0!, [0, 0.5, 1], ps, tight).y,
  inputs: mlpFieldInputs(),
}));

registerGradcheck('implicit.ode.adjoint_dopri5_mlp_field_softplus', () => ({
  fn: (y0, W1, b1, W2, b2) => odeint(mlpField([3, 4, 3], { activation: 'softplus' }), y0!, [0, 1], [W1!, b1!, W2!, b2!], tight).y,
  inputs: mlpInputs().slice(0, 5),
}));

registerGradcheck('implicit.ode.adjoint_dopri5_step_groups_threads', () => ({
  fn: (y0, ...ps) => odeint(mlpField([3, 16, 16, 3]), y0!, [0, 0.5, 1], ps, { ...tight, stepGroup: 4, threads: 2 }).y,
  inputs: mlpFieldInputs(),
}));
