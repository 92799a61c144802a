// Learning a pendulum's gravity and mass through the differentiable MPC layer: an expert MPC
// with the true (g, m) gives controls; a learner MPC starting from wrong values is trained by
// Adam on the imitation loss, its gradient from the implicit (Amos et al.) backward.
// Run: npx tsx examples/api/mpc-learn-pendulum.ts
import { Rng, concat, exp, gradients, log, mean, square, sub, tensor } from 'impulse/sim';
import { mpc, pendulum, pendulumCost, pendulumState, quadCost } from 'impulse/mpc';
import { Adam } from 'impulse/models';

const { C, c } = pendulumCost();
const rng = new Rng(1);
const x0 = pendulumState(
  Array.from({ length: 8 }, () => rng.range(-1.5, 1.5)),
  Array.from({ length: 8 }, () => rng.range(-1, 1)),
);
const problem = { cost: quadCost(C, c), x_init: x0, T: 20, u_lower: -2, u_upper: 2 };
const expert = mpc({ ...problem, dynamics: pendulum(tensor([10, 1, 1])) });

const logGm = log(tensor([7, 1.6])).requireGrad(); // learn log(g), log(m); l = 1 is held
const opt = new Adam([logGm], 0.1);
for (let epoch = 0; epoch <= 100; epoch++) {
  const theta = concat([exp(logGm), tensor([1])], 0);
  const r = mpc({ ...problem, dynamics: pendulum(theta) });
  const loss = mean(square(sub(r.u, expert.u)));
  if (epoch % 20 === 0)
    console.log(`epoch ${epoch}: imitation loss ${loss.item().toExponential(3)}, g = ${theta.data[0]!.toFixed(4)}, m = ${theta.data[1]!.toFixed(4)}`);
  opt.step(gradients(loss, [logGm]));
}
