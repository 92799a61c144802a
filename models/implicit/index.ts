// Public API of the implicit layers (models/implicit): outputs defined by F(x, y) = 0 and
// differentiated by the implicit function theorem, not by unrolling the solver.
export {
  implicitSolution,
  ImplicitError,
  NonConvergenceError,
  SingularJacobianError,
  type Params,
  type BackwardOptions,
  type BackwardInfo,
  type ImplicitSpec,
  type AdjointSolver,
} from './ift.ts';
export { gmres, type GmresOptions, type GmresResult } from './gmres.ts';
export { rootFind, rootFindTf, type RootFindOptions, type SolverInfo } from './root.ts';
export {
  fixedPoint,
  deq,
  deqTf,
  deqLayer,
  tanhCell,
  andersonSolve,
  type FixedPointOptions,
  type FixedPointBackwardOptions,
  type AndersonOptions,
  type DeqOptions,
  type DeqLayerConfig,
  type StopMode,
} from './fixed-point.ts';
export { remoteCell, deqThreadCount, DEQ_MIN_WORK_PER_THREAD, type DeqCell, type RemoteCell } from './deq-parallel.ts';
export { argmin, argminTf, type ArgminOptions, type ArgminInfo } from './argmin.ts';
export { kktLayer, kktLayerTf, type KktProblem, type KktSolution, type KktOptions, type KktInfo } from './kkt.ts';
export {
  odeint,
  odeintSensitivities,
  OdeError,
  type OdeFunc,
  type OdeMethod,
  type OdeOptions,
  type OdeStats,
  type OdeSolution,
  type OdeErrorKind,
  type AdjointStats,
  type OdeSensitivityOptions,
  type OdeSensitivitySolution,
} from './ode.ts';
export { odeintTf } from './ode-tf.ts';
export { remoteField, odeGroupThreadCount, type RemoteField } from './ode-groups.ts';
export { mlpField, mlpSpecOf, type MlpField, type MlpSpec, type MlpActivation } from './mlp-field.ts';
export { qp, QPError, type QPProblem, type QPOptions, type QPResult, type QPInfo, type QPStatus, type IpmTrace } from './qp.ts';
export { qpTf, type QPProblemTf } from './qp-tf.ts';
export { randomKktQP, randomBenchQP, type KnownQP, type KnownQPSpec } from './qp-random.ts';
export { WorkerError, defaultThreads, closeWorkers, threadsUnavailable } from './worker-pool.ts';
