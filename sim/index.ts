// Public API of sim/: the float64 reverse-mode core, dense linear algebra and the physics
// engine. Layer order: data <- sim <- models <- mpc <- app.
export * from './core/index.ts';
export * from './linalg/index.ts';
export * from './physics/index.ts';
export * from './gpu/index.ts';
