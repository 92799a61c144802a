// Public API of the data layer (data/, the bottom layer: it imports nothing from sim/models/mpc/app).
// Trajectories and their file formats, MCAP/ROS 2 logs (streaming reader, replay cursor, writer,
// TF buffer, extraction) and evo-compatible metrics (association, Umeyama, APE/RPE, statistics) plus
// prediction metrics (ADE/FDE/miss rate, MonoForce time-weighted error).
//
// Example:
//   import { readTrajectory, evaluateApe } from 'impulse/data';
//   const ref = await readTrajectory('KITTI_00_gt.txt');
//   const est = await readTrajectory('KITTI_00_ORB.txt');
//   console.log(evaluateApe(ref, est, { mode: 'se3' }).stats.rmse);

export * from './errors.ts';
export { Trajectory, checkQuaternion, type TrajectoryInit } from './trajectory.ts';
export {
  identityPose,
  quatToRotation,
  rotationToQuat,
  rotationAngle,
  poseFromPositionQuat,
  composePoses,
  invertPose,
  relativePose,
  det3,
  svd3,
  cross3,
  quatMultiply,
  quatSlerp,
  type Pose12,
  type Svd3,
} from './se3.ts';
export { TfBuffer, type TransformStamped, type TfLookupOptions } from './tf.ts';
export { writeFileAtomicSync, withAtomicFile, tempPathFor } from './fsutil.ts';
export { packageRoot, packagePath, packageVersion, runningCompiled } from './package-root.ts';

export { parseTum, formatTum } from './formats/tum.ts';
export { parseKitti, parseTimes, formatKitti, formatTimes } from './formats/kitti.ts';
export { parseEuroc, formatEuroc, stampNs } from './formats/euroc.ts';
export { parseMonoforce, formatMonoforce } from './formats/monoforce.ts';
export {
  parsePredictionsJson,
  formatPredictionsJson,
  predictionLabels,
  predictionSamples,
  predictionsJsonSchema,
  predictionSetJsonSchema,
  type PredictionsJson,
  type PredictionSetJson,
} from './formats/predictions.ts';
export { parseTrajectoryJson, formatTrajectoryJson, trajectoryToJson, trajectoryJsonSchema, type TrajectoryJson } from './formats/json.ts';
export { JsonTrajectorySource, readJsonTrajectoryFile, scanJsonTrajectory, type JsonPose, type JsonTrajectoryHead } from './formats/json-stream.ts';
export {
  TRAJECTORY_FORMATS,
  detectFormat,
  parseFormatName,
  readTrajectory,
  writeTrajectory,
  withRate,
  formatFromExtension,
  type TrajectoryFormat,
  type ReadOptions,
  type WriteOptions,
} from './formats/index.ts';

export {
  McapLog,
  ReplayCursor,
  secToNs,
  nsToSec,
  type LogMessage,
  type McapChannelInfo,
  type McapSchemaInfo,
  type McapSummary,
  type McapOpenOptions,
  type MessageFilter,
} from './mcap/reader.ts';
export { createDecoder, canDecode, DecoderCache, SUPPORTED_ENCODINGS, type MessageDecoder } from './mcap/decode.ts';
export {
  extractTrajectory,
  loadTfBuffer,
  summarizeTrajectories,
  readPredictionSamples,
  poseFromMessage,
  transformsFromMessage,
  normalizeSchemaName,
  POSE_SCHEMAS,
  TF_SCHEMAS,
  type PoseSample,
  type TransformSample,
  type ExtractOptions,
  type TrajectoryStats,
} from './mcap/extract.ts';
export { formatGridJson, writeGridJson } from './formats/grid.ts';
export {
  McapLogWriter,
  foxglovePose,
  foxgloveGrid,
  type GridInput,
  foxgloveTime,
  ROS2_POSE_STAMPED_DEFINITION,
  ROS2_ODOMETRY_DEFINITION,
  type McapWriterOptions,
  type McapCompression,
  type GridLayer,
  type PredictionSetInput,
  type PoseLike,
} from './mcap/writer.ts';
export {
  POSE_IN_FRAME_SCHEMA,
  POSES_IN_FRAME_SCHEMA,
  FRAME_TRANSFORM_SCHEMA,
  GRID_SCHEMA,
  PREDICTION_SET_SCHEMA,
  IMPULSE_JSON_SCHEMAS,
} from './mcap/schemas.ts';

export { errorStatistics, STATISTIC_NAMES, type ErrorStatistics } from './metrics/stats.ts';
export { associateTrajectories, matchingTimeIndices, type Association, type AssociationOptions } from './metrics/associate.ts';
export { umeyama, alignTrajectory, type Similarity, type AlignMode, type AlignOptions, type AlignResult } from './metrics/align.ts';
export { apeErrors, rpeErrors, rpePairs, relationUnit, relationTitle, type PoseRelation, type DeltaUnit, type RpeOptions } from './metrics/pose-error.ts';
export { evaluateApe, evaluateRpe, type EvaluateOptions, type EvaluationSetup, type ApeResult, type RpeResult } from './metrics/evaluate.ts';
export {
  predictionMetrics,
  timeWeightedPositionError,
  type PredictionSample,
  type PredictionMetricOptions,
  type HorizonMetrics,
} from './metrics/prediction.ts';
export { duplicateStamps, trajectoryWarnings, type DuplicateStamp } from './warnings.ts';
export { checkOutputPath, liveTempFiles } from './fsutil.ts';
export { convertTrajectoryFile, checkInputPath, onlyTrajectoryTopic, type ConvertOptions, type ConvertResult } from './formats/index.ts';
export { convertStreaming, canStream, STREAM_INPUTS, STREAM_OUTPUTS, type StreamConvertOptions, type StreamConvertResult } from './formats/stream.ts';
export { EXTENSION_FORMATS } from './formats/names.ts';
