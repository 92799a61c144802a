// Public API of models/: implicit layers (root-find, DEQ, argmin, QP/KKT, ODE) and the
// TensorFlow.js bridge, and the Adam optimiser. Layer order: data <- sim <- models <- mpc <- app.
export * from './tf/index.ts';
export * from './implicit/index.ts';
export * from './optim/index.ts';
