// Public API of mpc/: differentiable model-predictive control. Box-constrained iLQR with an
// implicit (Amos et al. 2018) or unrolled backward, the Dynamics/Cost interfaces, the standard
// pendulum and cartpole problems and MPC through the physics engine (bodyDynamics). The
// experiments built on it (drone, terrain robot, imitation) live in experiments/mpc.
// Layer order: data <- sim <- models <- mpc <- ego <- app.
//
// @example
// import { mpc, pendulum, pendulumCost, pendulumState, quadCost } from './mpc/index.ts';
// import { backward, square, sum, tensor } from './sim/core/index.ts';
// const theta = tensor([10, 1, 1]).requireGrad();           // (g, m, l)
// const { C, c } = pendulumCost();
// const r = mpc({ dynamics: pendulum(theta), cost: quadCost(C, c), x_init: pendulumState([0.2], [0]), T: 20, u_lower: -2, u_upper: 2 });
// r.converged;                    // [true]
// backward(sum(square(r.u)));     // theta.grad: d sum(u*^2) / d(g, m, l), implicit backward
export { MpcError } from './errors.ts';
export { affineDynamics, dynamicsVjp, lagrangianHessian, linearize, makeContext, type Dynamics, type StepContext } from './dynamics.ts';
export { fnCost, quadCost, type Cost, type FnCost, type QuadCost } from './cost.ts';
export { boxQP, boxQPWork, type BoxQPWork } from './boxqp.ts';
export { RiccatiWork, costate, lqrRollout, riccati, type LqrDims, type RiccatiArgs } from './lqr.ts';
export { solveIlqr, type IlqrOptions, type IlqrProblem, type IlqrSolution, type IlqrStatus, type IlqrTraceStep } from './ilqr.ts';
export { mpc, shiftControls, type MpcOptions, type MpcProblem, type MpcResult } from './mpc.ts';
export type { BackwardInfo } from './implicit.ts';
export { spdSolve } from './spdsolve.ts';
export { PENDULUM, pendulum, pendulumCost, pendulumState } from './pendulum.ts';
export { CARTPOLE, cartpole, cartpoleCost, cartpoleState } from './cartpole.ts';
export { odeDynamics, type OdeDynamicsOptions } from './ode-dynamics.ts';
export { mpcTf, type MpcTfSpec, type MpcTfInputs } from './mpc-tf.ts';
export { BODY_NX, bodyDynamics, bodyState, type BodyDynamicsOptions } from './body-dynamics.ts';
