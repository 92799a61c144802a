// Public API of the TensorFlow.js bridge (models/tf): backend selection (`initTf`, `getTf`)
// and `tfOp`, which turns a float64 core function into a differentiable tfjs op.
export * from './backend.ts';
export * from './bridge.ts';
