// Benchmark of the float64 core (`npm run bench -- core`): elementwise throughput against a
// bare loop in the same run, per-op overhead on tiny arrays, batched 6x6 LU solves (raw
// kernel and tape op, shared with bench/linalg.ts), and the
// tape's memory per recorded op.
import { Rng, Tensor, add, backward, exp, mul, noGrad, randn, sum } from '../sim/core/index.ts';
import { batched } from './linalg.ts';
import { heapUsed, rate, round, timeInterleavedMs } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'elementwise throughput vs a bare loop, per-op overhead, batched 6x6 LU solves, tape memory per op';

function elementwise(n: number): Record<string, unknown> {
  const rng = new Rng(1);
  const a = randn([n], rng);
  const b = randn([n], rng);
  const x = a.data;
  const y = b.data;
  const bareAdd = (): Float64Array => {
    const o = new Float64Array(n);
    for (let i = 0; i < n; i++) o[i] = x[i]! + y[i]!;
    return o;
  };
  const bareMul = (): Float64Array => {
    const o = new Float64Array(n);
    for (let i = 0; i < n; i++) o[i] = x[i]! * y[i]!;
    return o;
  };
  const bareExp = (): Float64Array => {
    const o = new Float64Array(n);
    for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!);
    return o;
  };
  const res: Record<string, unknown> = {};
  const cases: [string, () => unknown, () => unknown][] = [
    ['add', bareAdd, () => add(a, b)],
    ['mul', bareMul, () => mul(a, b)],
    ['exp', bareExp, () => exp(a)],
  ];
  for (const [name, bare, op] of cases) {
    // interleaved, each after a GC: freeing 8 MB buffers (and the page faults of fresh ones)
    // otherwise lands on whichever side happens to trigger the collection
    const [tBare, tOp] = timeInterleavedMs([bare, op], 15, 3) as [number, number];
    res[name] = { bareMs: round(tBare), opMs: round(tOp), opMelemPerS: round(n / tOp / 1e3, 1), ratioToBare: round(tBare / tOp) };
  }
  return res;
}

function smallOps(): Record<string, unknown> {
  const a = new Tensor(new Float64Array([1, 2, 3]), [3]);
  const b = new Tensor(new Float64Array([4, 5, 6]), [3]);
  const noRecord = rate(() => add(a, b));
  const ag = a.clone().requireGrad();
  const recording = rate(() => add(ag, b));
  // forward + backward of a 3-op expression on 3-vectors
  const fb = rate(() => {
    const y = sum(mul(add(ag, b), b));
    backward(y);
    ag.grad = null;
  }, 300);
  return {
    addNoGradUs: round(1e6 / noRecord, 3),
    addRecordedUs: round(1e6 / recording, 3),
    threeOpForwardBackwardUs: round(1e6 / fb, 3),
    perOpForwardBackwardUs: round(1e6 / fb / 3, 3),
  };
}

function tapeMemory(): Record<string, unknown> {
  const x = new Tensor(new Float64Array(3).fill(1), [3]).requireGrad();
  const nOps = 100000;
  const before = heapUsed();
  let y = x;
  const keep: Tensor[] = [];
  for (let i = 0; i < nOps; i++) y = mul(y, 1.0000001);
  keep.push(y);
  const after = heapUsed();
  const noTapeBefore = heapUsed();
  const z = noGrad(() => {
    let t = x;
    const ts: Tensor[] = [];
    for (let i = 0; i < nOps; i++) {
      t = mul(t, 1.0000001);
      ts.push(t);
    }
    return ts;
  });
  const noTapeAfter = heapUsed();
  return {
    ops: nOps,
    bytesPerRecordedOp3Elem: Math.round((after - before) / nOps),
    bytesPerResultTensorAlone3Elem: Math.round((noTapeAfter - noTapeBefore) / nOps),
    note: keep.length + z.length > 0 ? 'recorded op = result tensor (data + shape) + node (inputs, outputs, closure)' : '',
  };
}

export async function run(_args: string[]): Promise<Record<string, unknown>> {
  return {
    elementwise1M: elementwise(1_000_000),
    perOpOverhead3Elem: smallOps(),
    batchedLU6x6: batched(10_000, 6),
    tapeMemory: tapeMemory(),
  };
}
