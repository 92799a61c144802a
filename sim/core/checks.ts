// Gradient checks of every core op, registered for `impulse gradcheck`: first order for all,
// second order (`.grad2`) for ops whose backward is written with ops. Random inputs from
// fixed seeds, kept away from kinks (abs at 0, ties of min/max, clamp bounds).
import { registerGradcheck, type GradcheckOptions } from './gradcheck.ts';
import { Rng } from './random.ts';
import { Tensor, rand, randn, tensor } from './tensor.ts';
import * as E from './ops/elementwise.ts';
import * as S from './ops/shape.ts';
import * as R from './ops/reduce.ts';
import { matmul, outer } from './ops/matmul.ts';
import * as G from './ops/geometry.ts';
import { checkpoint } from './checkpoint.ts';

type Fn = (...xs: Tensor[]) => Tensor;

/** Inputs away from 0 (for abs, sign-sensitive ops): |x| in [0.2, 1.5] with random signs. */
function awayFromZero(shape: number[], rng: Rng): Tensor {
  const t = rand(shape, rng, 0.2, 1.5);
  for (let i = 0; i < t.size; i++) if (rng.uniform() < 0.5) t.data[i] = -t.data[i]!;
  return t;
}

/** Pairs whose elements differ by at least 0.1 (no ties for min/max). */
function distinctPair(shape: number[], rng: Rng): [Tensor, Tensor] {
  const a = randn(shape, rng);
  const b = randn(shape, rng);
  for (let i = 0; i < a.size; i++) if (Math.abs(a.data[i]! - b.data[i]!) < 0.1) b.data[i] = a.data[i]! + 0.3;
  return [a, b];
}

function reg(name: string, fn: Fn, make: (rng: Rng) => Tensor[], second = true, opts?: GradcheckOptions): void {
  let seed = 0;
  for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  registerGradcheck(`core.${name}`, () => ({ fn, inputs: make(new Rng(seed)), opts }));
  if (second) registerGradcheck(`core.${name}.grad2`, () => ({ fn, inputs: make(new Rng(seed)), opts, order: 2 }));
}

const r34 = (rng: Rng): Tensor[] => [randn([3, 4], rng)];
const pos34 = (rng: Rng): Tensor[] => [rand([3, 4], rng, 0.3, 2)];

reg('add', E.add, (rng) => [randn([3, 4], rng), randn([4], rng)]);
reg('sub', E.sub, (rng) => [randn([2, 3, 1], rng), randn([3, 4], rng)]);
reg('mul', E.mul, (rng) => [randn([3, 4], rng), randn([3, 1], rng)]);
reg('div', E.div, (rng) => [randn([3, 4], rng), rand([4], rng, 0.5, 2)]);
reg('pow', E.pow, (rng) => [rand([3, 4], rng, 0.5, 2), randn([3, 4], rng)]);
reg('pow.scalar-exponent', (x) => E.pow(x, 3), r34);
reg('neg', E.neg, r34);
reg('abs', E.abs, (rng) => [awayFromZero([3, 4], rng)]);
reg('sqrt', E.sqrt, pos34);
reg('exp', E.exp, r34);
reg('log', E.log, pos34);
reg('sin', E.sin, r34);
reg('cos', E.cos, r34);
reg('tanh', E.tanh, r34);
reg('sigmoid', E.sigmoid, r34);
reg('softplus', E.softplus, r34);
reg('relu', E.relu, (rng) => [awayFromZero([3, 4], rng)]);
reg('square', E.square, r34);
reg('minimum', E.minimum, (rng) => distinctPair([3, 4], rng));
reg('maximum', E.maximum, (rng) => distinctPair([3, 4], rng));
reg(
  'clamp',
  (x) => E.clamp(x, -0.5, 0.5),
  (rng) => [tensor([-1.2, -0.3, 0.1, 0.4, 0.9, 2.0]).clone(), ...[]].map((t) => E.add(t, rng.range(-0.05, 0.05))),
);
reg(
  'where',
  (a, b) => E.where(E.greater(a, 0), a, b),
  (rng) => [awayFromZero([3, 4], rng), randn([4], rng)],
);

reg('reshape', (x) => S.reshape(x, [4, -1]), r34);
reg(
  'broadcastTo',
  (x) => S.broadcastTo(x, [2, 3, 4]),
  (rng) => [randn([3, 1], rng)],
);
reg(
  'sumTo',
  (x) => S.sumTo(x, [3, 1]),
  (rng) => [randn([2, 3, 4], rng)],
);
reg(
  'transpose',
  (x) => S.transpose(x, [2, 0, 1]),
  (rng) => [randn([2, 3, 4], rng)],
);
reg('matrixTranspose', S.matrixTranspose, (rng) => [randn([2, 3, 4], rng)]);
reg(
  'slice',
  (x) => S.slice(x, [1, 0, 2], [1, -1, 2]),
  (rng) => [randn([2, 3, 4], rng)],
);
reg(
  'concat',
  (a, b) => S.concat([a, b], 1),
  (rng) => [randn([2, 3], rng), randn([2, 2], rng)],
);
reg(
  'stack',
  (a, b) => S.stack([a, b], 1),
  (rng) => [randn([2, 3], rng), randn([2, 3], rng)],
);
reg('split', (x) => E.mul(S.split(x, [1, 3], 1)[1]!, 2), r34);
reg(
  'gather',
  (x) => S.gather(x, [2, 0, 2, 1], 1),
  (rng) => [randn([2, 3, 4], rng)],
);
reg(
  'scatterAdd',
  (x, u) => S.scatterAdd(x, x.shape, [1, 1, 0], u, 0),
  (rng) => [randn([3, 2], rng), randn([3, 2], rng)],
);

reg(
  'sum.axes',
  (x) => R.sum(x, [0, 2]),
  (rng) => [randn([2, 3, 4], rng)],
);
reg('sum.all', (x) => R.sum(x), r34);
reg('mean', (x) => R.mean(x, 1, true), r34);
reg('max', (x) => R.max(x, 1), r34);
reg('min', (x) => R.min(x, 0), r34);

reg('matmul', matmul, (rng) => [randn([3, 4], rng), randn([4, 2], rng)]);
reg('matmul.batched', matmul, (rng) => [randn([2, 3, 4], rng), randn([4, 5], rng)]);
reg('matmul.vector', matmul, (rng) => [randn([3, 4], rng), randn([4], rng)]);
reg('outer', outer, (rng) => [randn([2, 3], rng), randn([2, 4], rng)]);

reg(
  'dot',
  (a, b) => G.dot(a, b),
  (rng) => [randn([5, 3], rng), randn([5, 3], rng)],
);
reg(
  'norm',
  (x) => G.norm(x, 1),
  (rng) => [randn([5, 3], rng)],
);
reg('cross', G.cross, (rng) => [randn([5, 3], rng), randn([3], rng)]);
reg('quatMul', G.quatMul, (rng) => [randn([5, 4], rng), randn([5, 4], rng)]);
reg('quatConj', G.quatConj, (rng) => [randn([5, 4], rng)]);
reg('quatNormalize', G.quatNormalize, (rng) => [randn([5, 4], rng)]);
reg(
  'quatRotate',
  (q, v) => G.quatRotate(G.quatNormalize(q), v),
  (rng) => [randn([5, 4], rng), randn([5, 3], rng)],
);
reg(
  'quatRotateInv',
  (q, v) => G.quatRotateInv(G.quatNormalize(q), v),
  (rng) => [randn([5, 4], rng), randn([3], rng)],
);
reg(
  'quatToMatrix',
  (q) => G.quatToMatrix(G.quatNormalize(q)),
  (rng) => [randn([2, 4], rng)],
);
reg('quatExp', G.quatExp, (rng) => [randn([5, 3], rng)], false);
reg('quatExp.small-angle', G.quatExp, (rng) => [E.mul(1e-5, randn([5, 3], rng))], false);

reg(
  'checkpoint',
  (x) => checkpoint((z) => E.sin(matmul(z, z)), x)[0]!,
  (rng) => [randn([3, 3], rng)],
);
