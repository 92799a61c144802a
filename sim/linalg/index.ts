// Public API of sim/linalg: float64 dense linear algebra, batched and differentiable as tape
// ops (solve, det, slogdet, inv, cholesky, choleskySolve, triangularSolve, qr, lstsq, eigh),
// and the raw in-place kernels they are built on (dense.ts, gemm.ts) for solvers' hot loops,
// which run in WebAssembly SIMD where available (kernelBackend says which are active).
export * from './dense.ts';
export { solve, inv, det, slogdet, type SlogdetResult } from './lu.ts';
export { cholesky, choleskySolve } from './cholesky.ts';
export { triangularSolve, type TriangularSolveOptions } from './triangular.ts';
export { qr, lstsq, type QRResult } from './qr.ts';
export { eigh, EIGH_DEGENERATE_RTOL, type EighResult } from './eigh.ts';
export { gemm, gemmBatch, gramLower } from './gemm.ts';
export { tanhArray } from './vector-math.ts';
export { kernelBackend, setKernelBackend, type KernelBackendInfo } from './wasm/loader.ts';
