// Gradient checks of sim/linalg for `impulse gradcheck` (names `linalg.*`): every tape op
// against central differences at the default bar (relative error 1e-6), on well-conditioned
// inputs from fixed-seed generators; `_grad2` checks differentiate the backward again.
import { Rng, Tensor, concat, matmul, mul, randn, registerGradcheck, reshape, tensor } from '../core/index.ts';
import { cholesky, choleskySolve } from './cholesky.ts';
import { eigh } from './eigh.ts';
import { det, inv, slogdet, solve } from './lu.ts';
import { lstsq, qr } from './qr.ts';
import { triangularSolve } from './triangular.ts';
import { randomSpd, symmetricWithEigenvalues, wellConditioned } from './fixtures.ts';

const flat = (ts: Tensor[]): Tensor => concat(ts.map((t) => reshape(t, [-1])));

/** Q and R of qr(A), flattened into one output. */
const qrFlat = (A: Tensor): Tensor => {
  const { Q, R } = qr(A);
  return flat([Q, R]);
};

/** The values and vectors of eigh(A), flattened into one output. */
const eighFlat = (A: Tensor): Tensor => {
  const { values, vectors } = eigh(A);
  return flat([values, vectors]);
};

registerGradcheck('linalg.solve', () => {
  const rng = new Rng(101);
  return { fn: solve, inputs: [wellConditioned([3], 4, rng), randn([3, 4], rng)] };
});

registerGradcheck('linalg.solve_matrix_rhs', () => {
  // one unbatched A against a batch of 3-column right-hand sides
  const rng = new Rng(102);
  return { fn: solve, inputs: [wellConditioned([], 4, rng), randn([2, 4, 3], rng)] };
});

registerGradcheck('linalg.solve_grad2', () => {
  const rng = new Rng(103);
  return { fn: solve, inputs: [wellConditioned([2], 3, rng), randn([2, 3], rng)], order: 2 };
});

registerGradcheck('linalg.det', () => {
  const rng = new Rng(104);
  return { fn: det, inputs: [wellConditioned([3], 4, rng)] };
});

registerGradcheck('linalg.det_grad2', () => {
  const rng = new Rng(105);
  return { fn: det, inputs: [wellConditioned([2], 3, rng)], order: 2 };
});

registerGradcheck('linalg.slogdet', () => {
  const rng = new Rng(106);
  // negate one matrix so a negative determinant is covered
  const A = mul(wellConditioned([3], 4, rng), tensor([[[1]], [[-1]], [[1]]]));
  return { fn: (a: Tensor) => slogdet(a).logabsdet, inputs: [A] };
});

registerGradcheck('linalg.inv', () => {
  const rng = new Rng(107);
  return { fn: inv, inputs: [wellConditioned([2], 4, rng)] };
});

registerGradcheck('linalg.cholesky', () => {
  const rng = new Rng(108);
  return { fn: cholesky, inputs: [randomSpd([3], 4, rng)] };
});

registerGradcheck('linalg.cholesky_grad2', () => {
  const rng = new Rng(109);
  return { fn: cholesky, inputs: [randomSpd([2], 3, rng)], order: 2 };
});

registerGradcheck('linalg.cholesky_solve', () => {
  const rng = new Rng(110);
  return { fn: choleskySolve, inputs: [randomSpd([3], 4, rng), randn([3, 4, 2], rng)] };
});

registerGradcheck('linalg.cholesky_solve_grad2', () => {
  const rng = new Rng(111);
  return { fn: choleskySolve, inputs: [randomSpd([2], 3, rng), randn([2, 3], rng)], order: 2 };
});

registerGradcheck('linalg.triangular_solve', () => {
  // a full matrix: only its lower triangle is read, so the rest must get zero gradient
  const rng = new Rng(112);
  return { fn: (T: Tensor, b: Tensor) => triangularSolve(T, b), inputs: [wellConditioned([3], 4, rng), randn([3, 4], rng)] };
});

registerGradcheck('linalg.triangular_solve_upper_transpose', () => {
  const rng = new Rng(113);
  return {
    fn: (T: Tensor, b: Tensor) => triangularSolve(T, b, { lower: false, transpose: true }),
    inputs: [wellConditioned([2], 4, rng), randn([2, 4, 3], rng)],
  };
});

registerGradcheck('linalg.triangular_solve_unit_diagonal', () => {
  const rng = new Rng(114);
  return { fn: (T: Tensor, b: Tensor) => triangularSolve(T, b, { unitDiagonal: true }), inputs: [mul(0.3, randn([4, 4], rng)), randn([4], rng)] };
});

registerGradcheck('linalg.triangular_solve_grad2', () => {
  const rng = new Rng(115);
  return { fn: (T: Tensor, b: Tensor) => triangularSolve(T, b, { transpose: true }), inputs: [wellConditioned([2], 3, rng), randn([2, 3], rng)], order: 2 };
});

registerGradcheck('linalg.qr', () => {
  const rng = new Rng(116);
  return { fn: qrFlat, inputs: [randn([2, 5, 3], rng)] };
});

registerGradcheck('linalg.qr_square', () => {
  const rng = new Rng(117);
  return { fn: qrFlat, inputs: [wellConditioned([], 4, rng)] };
});

registerGradcheck('linalg.qr_grad2', () => {
  const rng = new Rng(118);
  return { fn: qrFlat, inputs: [randn([4, 3], rng)], order: 2 };
});

registerGradcheck('linalg.lstsq', () => {
  const rng = new Rng(119);
  return { fn: lstsq, inputs: [randn([2, 6, 3], rng), randn([2, 6], rng)] };
});

registerGradcheck('linalg.lstsq_matrix_rhs', () => {
  const rng = new Rng(120);
  return { fn: lstsq, inputs: [randn([5, 3], rng), randn([5, 2], rng)] };
});

registerGradcheck('linalg.eigh', () => {
  const rng = new Rng(121);
  return { fn: eighFlat, inputs: [symmetricWithEigenvalues([-2, 0.5, 1.5, 4], rng)] };
});

registerGradcheck('linalg.eigh_values', () => {
  const rng = new Rng(122);
  return { fn: (A: Tensor) => eigh(A).values, inputs: [randomSpd([3], 4, rng)] };
});

registerGradcheck('linalg.eigh_grad2', () => {
  const rng = new Rng(123);
  return { fn: eighFlat, inputs: [symmetricWithEigenvalues([-1, 1, 2.5], rng)], order: 2 };
});

// sizes that run in the WebAssembly SIMD kernels when they are active (matmul from 16^3
// multiply-adds with m, k >= 8; LU and Cholesky from n = 12; solves from n k = 512)
registerGradcheck('linalg.wasm_matmul_16', () => {
  const rng = new Rng(131);
  return { fn: matmul, inputs: [randn([16, 16], rng), randn([16, 16], rng)] };
});

registerGradcheck('linalg.wasm_solve_12x48', () => {
  const rng = new Rng(132);
  return { fn: solve, inputs: [wellConditioned([], 12, rng), randn([12, 48], rng)] };
});

registerGradcheck('linalg.wasm_cholesky_solve_12x48', () => {
  const rng = new Rng(133);
  return { fn: choleskySolve, inputs: [randomSpd([], 12, rng), randn([12, 48], rng)] };
});
