// Public API of the run reports (app/report): `writeReport` turns a run folder (docs/RUNS.md) into
// report/index.html with inline SVG plots and PNG copies; the prediction-file helpers behind
// `impulse eval pred` (ADE / FDE / miss rate per model label from JSON or MCAP).

export { writeReport, REPORT_PLOTS, type ReportOptions, type ReportResult, type ReportPlotName } from './write-report.ts';
export {
  loadRun,
  parseRunFile,
  RUN_FILES,
  runConfigSchema,
  runMetricsSchema,
  runHistorySchema,
  modelMetricsSchema,
  dataEfficiencySchema,
  historyEpochSchema,
  type RunData,
  type RunConfig,
  type RunMetrics,
  type RunHistory,
  type ModelMetrics,
  type HistoryEpoch,
  type DataEfficiencyPoint,
} from './run-files.ts';
export { RunFileError } from './errors.ts';
export {
  loadPredictionFile,
  metricsByLabel,
  labelSamples,
  defaultHorizons,
  commonHorizon,
  errorByStep,
  finalErrors,
  type LoadPredictionOptions,
  type LabelMetrics,
  type LabelHorizonMetrics,
  type LabelMetricOptions,
} from './prediction-metrics.ts';
export { specToSvg, svgToPng } from './render.ts';
export { fmtSig, fmtPercent, fmtMeanStd, meanStd, fmtHorizon } from './format.ts';
