// Public API of ego/: the ego-motion predictor. Ground-plane windows and the time split of a
// trajectory, the CV / CTRV baselines, metrics (ADE / FDE / miss rate through the data layer).
// Layer order: data <- sim <- models <- mpc <- ego <- app.
export * from './windows.ts';
export * from './baselines.ts';
export * from './metrics.ts';
export * from './kitti.ts';
export * from './features.ts';
export * from './vehicle.ts';
export * from './rng.ts';
export * from './net.ts';
export * from './predictors.ts';
export * from './config.ts';
export * from './dataset.ts';
export * from './run-folder.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './run.ts';
export * from './predict.ts';
