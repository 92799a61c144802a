// Public API of the float64 reverse-mode core (sim/core): tensors, ops, the tape,
// functional helpers, checkpointing and gradient checks. Every layer above builds on it.
export * from './errors.ts';
export { expectShape, describeShapes, withArgShapes } from './arg-shapes.ts';
export * from './shape.ts';
export * from './random.ts';
export * from './tensor.ts';
export * from './autograd.ts';
export * from './ops/elementwise.ts';
export * from './ops/shape.ts';
export * from './ops/reduce.ts';
export * from './ops/matmul.ts';
export * from './ops/geometry.ts';
export * from './functional.ts';
export * from './checkpoint.ts';
export * from './gradcheck.ts';
