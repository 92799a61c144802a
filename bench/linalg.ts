// Benchmark of sim/linalg (`npm run bench -- linalg`): batched 6x6 LU solves per second for
// a 10k batch with the raw in-place kernels and with the `solve` tape op (forward only, and
// forward + backward), plus a single 64x64 solve both ways.
import { Rng, add, backward, eye, mul, noGrad, randn, sum, type Tensor } from '../sim/core/index.ts';
import { luFactor, luSolve, solve } from '../sim/linalg/index.ts';
import { rate, round, timeInterleavedMs } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'batched 6x6 and 64x64 solves and factorisations: raw kernels vs tape ops';

function wellConditioned(batch: number[], n: number, rng: Rng): Tensor {
  return add(randn([...batch, n, n], rng), mul(n, eye(n)));
}

/** Raw kernels on a batch: copy A, factor, solve in place; returns seconds per batch. */
function rawBatch(A: Float64Array, b: Float64Array, count: number, n: number): () => void {
  const lu = new Float64Array(A.length);
  const x = new Float64Array(b.length);
  const piv = new Int32Array(n);
  return () => {
    lu.set(A);
    x.set(b);
    for (let t = 0; t < count; t++) {
      if (luFactor(lu, t * n * n, n, piv) === 0) throw new Error(`bench: matrix ${t} is singular`);
      luSolve(lu, t * n * n, n, piv, x, t * n, 1);
    }
  };
}

export function batched(count: number, n: number): Record<string, unknown> {
  const rng = new Rng(7);
  const A = wellConditioned([count], n, rng);
  const b = randn([count, n], rng);
  const Ag = A.clone().requireGrad();
  const bg = b.clone().requireGrad();
  // raw kernel, tape op and forward+backward in turns, each after a GC (see timeInterleavedMs)
  const [tRaw, tOp, tGrad] = timeInterleavedMs(
    [
      rawBatch(A.data, b.data, count, n),
      () => void noGrad(() => solve(A, b)),
      () => {
        backward(sum(solve(Ag, bg)));
        Ag.grad = null;
        bg.grad = null;
      },
    ],
    15,
    12, // warm-up rounds: the tape op's code paths need about ten calls to be optimised
  ) as [number, number, number];
  return {
    batch: count,
    n,
    rawKernel: { msPerBatch: round(tRaw), solvesPerS: Math.round((count / tRaw) * 1e3) },
    tapeOpForward: { msPerBatch: round(tOp), solvesPerS: Math.round((count / tOp) * 1e3), ratioToRaw: round(tRaw / tOp) },
    tapeOpForwardBackward: { msPerBatch: round(tGrad), solvesPerS: Math.round((count / tGrad) * 1e3) },
    note: 'the raw kernel reuses its buffers; the tape op allocates its outputs (3 MB here). Whether glibc serves those from fresh mmaps (page faults on first touch, tape op about 0.3 of raw) or from its heap (about 0.95) varies between processes; MALLOC_MMAP_THRESHOLD_=33554432 fixes the heap case',
  };
}

function single(n: number): Record<string, unknown> {
  const rng = new Rng(8);
  const A = wellConditioned([], n, rng);
  const b = randn([n], rng);
  const raw = rawBatch(A.data, b.data, 1, n);
  const rawPerS = rate(raw, 300);
  const opPerS = rate(() => noGrad(() => solve(A, b)), 300);
  const Ag = A.clone().requireGrad();
  const bg = b.clone().requireGrad();
  const gradPerS = rate(() => {
    backward(sum(solve(Ag, bg)));
    Ag.grad = null;
    bg.grad = null;
  }, 300);
  return {
    n,
    rawKernelUs: round(1e6 / rawPerS, 2),
    tapeOpForwardUs: round(1e6 / opPerS, 2),
    tapeOpForwardBackwardUs: round(1e6 / gradPerS, 2),
  };
}

/** `npm run bench -- linalg`: returns the JSON object to print. */
export async function run(_args: string[]): Promise<Record<string, unknown>> {
  return {
    bench: 'linalg',
    lu6x6Batch10k: batched(10_000, 6),
    lu64x64: single(64),
  };
}
