// Public API of the differentiable physics engine (sim/physics, layer sim), after NVIDIA
// Warp's sim module: ModelBuilder -> Model / State / Control, one kernel per physical effect
// with a hand-written adjoint, a fused semi-implicit step on the core's tape, checkpointed
// rollouts and JSON scenes. (The gradient-descent experiments live in experiments/physics.)
//
// @example
// import { ModelBuilder, BodyDesc, rollout } from './sim/physics/index.ts';
// import { backward, sum } from './sim/core/index.ts';
// const b = new ModelBuilder().setGround({ mu: 0.5 });
// b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setMass(1).setTranslation(0, 0, 0.5).setLinvel(1, 0, 0));
// const model = b.finalize();
// model.groundMu.requireGrad();
// const { final } = rollout(model, model.state(), { steps: 200, dt: 1 / 200, substeps: 4 });
// backward(sum(final.bodyPos)); // model.groundMu.grad: d sum(x_T) / d mu
export {
  Model,
  State,
  Control,
  C1_CONTACT,
  type ContactSmoothing,
  MODEL_PARAMS,
  STATE_FIELDS,
  CONTROL_FIELDS,
  type ModelParamName,
  type TerrainGrid,
  type ModelInit,
} from './model.ts';
export { PARAMS, paramSpec, groupParams, groupDefaults, type ParamSpec, type ParamCounts, type ParamConstraint } from './params.ts';
export {
  ModelBuilder,
  BodyDesc,
  sphereShape,
  boxShape,
  capsuleShape,
  pointsShape,
  type ShapeInfo,
  type GroundOptions,
  type BodyContactOptions,
  type TerrainOptions,
  type ClothOptions,
} from './builder.ts';
export { simulate, SemiImplicitIntegrator, type SimulateOptions } from './integrator.ts';
export { rollout, trajectoryOf, type Rollout, type RolloutOptions, type ControlSchedule, type Trajectory } from './rollout.ts';
export {
  evalSprings,
  evalParticleDrag,
  evalParticleGroundContacts,
  evalParticleTerrainContacts,
  integrateParticles,
  evalBodyGroundContacts,
  evalBodyBodyContacts,
  evalBodyTerrainContacts,
  evalTrackDrive,
  integrateBodies,
  terrainHeight,
} from './ops.ts';
export { contactForce, adjContactForce, contactScratch, type ContactScratch } from './contact.ts';
export { bodyPairs } from './kernels/bodybody.ts';
export { modelData, zeroParamGrads, type ModelData, type ParamGrads, type TerrainData } from './data.ts';
export { ModelError, SceneError, SimulationError, StabilityError } from './errors.ts';
export {
  stabilityLimits,
  modelStability,
  autoSubsteps,
  checkStability,
  maxStableStep,
  MAX_AUTO_SUBSTEPS,
  type StabilityLimit,
  type ModelStability,
} from './stability.ts';
export { DivergenceMonitor, energies, type DivergenceOptions, type Energies } from './divergence.ts';
export { parseScene, loadScene, buildScene, SceneSchema, type Scene, type BuiltScene } from './scene.ts';
export { runSceneFile, type SimRunResult, type SimRunOptions } from './run.ts';
export { sceneJsonSink, bodyPoseSink, type StateSink } from './stream.ts';
