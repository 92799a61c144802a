// Public API of the terrain dataset and baselines (ego/terrain): procedural terrains with
// per-patch friction and stiffness, a tracked robot, Rapier ground truth, the dataset format
// and its reader, the engine's model of the same robot (batched rollouts), the
// default-parameter baselines, the CNN terrain model trained through the engine, and dataset
// generation as BullMQ jobs (jobs.ts, imported on its own: it loads bullmq).
export { ROBOT, TRACKS, robotPoints, comHeight, trackTargets, trackSpeeds, trackForce } from './robot.ts';
export {
  DEFAULT_SPEC,
  ID_KINDS,
  OOD_KINDS,
  MATERIAL,
  generateTerrain,
  sensorView,
  bilinearAt,
  patchOf,
  type TerrainSpec,
  type TerrainGridSpec,
  type TerrainSample,
  type ObstacleKind,
} from './generate.ts';
export { initRapier, rapierGroundTruth, rapierHeights, RAPIER_DT, SETTLE_TIME, type GroundTruth } from './rapier-truth.ts';
export {
  TERRAIN_FORMAT,
  TERRAIN_FORMAT_VERSION,
  ARRAY_NAMES,
  ManifestSchema,
  arrayLayout,
  encodeSample,
  sampleRecord,
  writeSampleFile,
  writeManifest,
  openTerrainDataset,
  checkGrid,
  type TerrainManifest,
  type SampleRecord,
  type StoredSample,
  type TerrainDataset,
} from './format.ts';
export { generateSampleBytes, generateDataset, checkGenerateArgs, type GenerateOptions, type GenerateResult } from './dataset.ts';
export { TerrainDataError, TerrainShapeError, RolloutNonFiniteError, QueueUnavailableError } from './errors.ts';
export {
  ENGINE,
  buildBatch,
  rolloutBatch,
  robotPath,
  tileMap,
  tiledTensor,
  tileOffset,
  timeWeight,
  trajectoryLoss,
  type TerrainMaps,
  type RobotRun,
  type BatchWorld,
  type EngineRollout,
  type RolloutBatchOptions,
  rolloutBatchGpu,
  robotWorld,
  type GpuEngineRollout,
  type RolloutBatchGpuOptions,
} from './engine.ts';
export {
  BASELINES,
  evaluateBaselines,
  baselineMaps,
  fillSensorMap,
  unicyclePath,
  truthPath,
  type BaselineName,
  type BaselineResult,
  type BaselineOptions,
} from './baseline.ts';
export { RolloutPool, type RolloutTask, type RolloutTaskResult } from './parallel.ts';
export {
  MAP_SCALES,
  createTerrainNet,
  networkInput,
  mapsFromOutput,
  tileCore,
  batchTrajectoryLoss,
  terrainModelLoss,
  type TerrainNetOptions,
  type TerrainLossOptions,
} from './model.ts';
export { TERRAIN_MODELS, terrainConfigSchema, parseTerrainConfig, readTerrainConfig, type TerrainTrainConfig, type TerrainModelName } from './config.ts';
export { PATCH, pureNnSizes, pureNnFeatures, pureNnTargets, createPureNn, pureNnTensors, pureNnLoss, pureNnPaths } from './pure-nn.ts';
export {
  trainTerrain,
  loadTerrainModels,
  predictMaps,
  cnnPaths,
  cnnLossAndGrads,
  heightTerm,
  adeFde,
  robotsOf,
  type TerrainSplit,
  type TrainedTerrainModel,
  type TerrainCheckpointState,
} from './train.ts';
export {
  TERRAIN_HORIZONS,
  RUN_BASELINES,
  runTerrain,
  evaluateTerrainRun,
  loadTerrainSplit,
  readTerrainRunConfig,
  terrainMetricsTable,
  terrainRow,
  writeTerrainMaps,
  terrainPredictions,
  type TerrainMetricsRow,
  type TerrainRunMetrics,
  type TerrainRunConfig,
} from './run.ts';
