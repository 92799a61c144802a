// Gradient checks of the MPC experiments (experiments/mpc) for `impulse gradcheck`: MPC through
// the physics engine on the drone. Importing this module registers `mpc.physics_drone`.
import { Tensor, registerGradcheck, tensor } from '../../sim/core/index.ts';
import { bodyState, mpc, quadCost, type MpcOptions } from '../../mpc/index.ts';
import { DRONE, droneCost, droneDynamics } from './drone.ts';

/** Solver options of the check: converged far below the finite-difference step. */
const CHECK_OPTS: MpcOptions = { tol: 1e-11, maxIter: 300 };

registerGradcheck('mpc.physics_drone', () => {
  // MPC through the physics engine (first-order-only fused step): u* w.r.t. the drone mass and x_init
  const T = 4;
  const { C, c } = droneCost(0.5, T);
  const x = bodyState(droneDynamics().modelFor(1));
  const xd = x.data.slice();
  xd[7] = 0.3;
  xd[8] = -0.2;
  xd[10] = 0.1;
  return {
    fn: (mass, xi) => mpc({ dynamics: droneDynamics(mass), cost: quadCost(C, c), x_init: xi, T, u_lower: 0, u_upper: DRONE.uMax }, CHECK_OPTS).u,
    inputs: [tensor([DRONE.mass]), new Tensor(xd, [1, 13])],
  };
});
