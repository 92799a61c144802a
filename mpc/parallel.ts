// The MPC layer's batch over worker threads (models/implicit/worker-pool.ts): iLQR treats the
// batch items independently (each its own iterations, regularisation and line search), so a
// contiguous range of items solved alone gives bit for bit what it gives inside the whole
// batch. The dynamics must be rebuildable in a worker (`Dynamics.remote`: a module and the
// name of a factory it exports) and the cost quadratic (its expanded C, c are sent); each
// worker solves its range with the same solveIlqr, and the solutions are joined in item order.
import { Tensor } from '../sim/core/index.ts';
import { runOnWorkers, type WorkerAnswer, type WorkerJob } from '../models/implicit/worker-pool.ts';
import { loadWorkerModule } from '../models/implicit/worker-serve.ts';
import type { Dynamics, RemoteDynamics } from './dynamics.ts';
import { solveIlqr, type IlqrOptions, type IlqrProblem, type IlqrSolution } from './ilqr.ts';
import type { LqrDims } from './lqr.ts';

/** A factory a worker calls to rebuild dynamics: `(params, options) => Dynamics`. */
export type DynamicsFactory = (params: Tensor[], options: unknown) => Dynamics;

/** Below this many item-steps (items x T) per thread a split does not pay for the messages. */
export const MPC_MIN_STEPS_PER_THREAD = 40;

/** How many threads to use (1: stay on this thread): needs remote dynamics, a quadratic cost, no trace. */
export function mpcThreadCount(threads: number, p: IlqrProblem, opts: IlqrOptions): number {
  if (threads <= 1 || !p.dynamics.remote || !p.quad || opts.trace) return 1;
  const { B, T } = p.dims;
  return Math.max(1, Math.min(threads, B, Math.floor((B * T) / MPC_MIN_STEPS_PER_THREAD)));
}

/** What a worker needs to solve items [start, end). */
interface RangePayload {
  remote: RemoteDynamics;
  params: { data: Float64Array; shape: number[] }[];
  dims: LqrDims;
  C: Float64Array;
  c: Float64Array;
  x_init: Float64Array;
  u_lower: Float64Array;
  u_upper: Float64Array;
  u_init: Float64Array | null;
  opts: IlqrOptions;
  start: number;
  end: number;
}

/** The sub-problem of items [s, e) (views into p's arrays). */
function itemRange(p: IlqrProblem, s: number, e: number): IlqrProblem {
  const { T, n, m } = p.dims;
  const nt = n + m;
  const span = (a: Float64Array, k: number): Float64Array => a.subarray(s * k, e * k);
  return {
    ...p,
    dims: { B: e - s, T, n, m },
    quad: p.quad ? { C: span(p.quad.C, T * nt * nt), c: span(p.quad.c, T * nt) } : undefined,
    x_init: span(p.x_init, n),
    u_lower: span(p.u_lower, T * m),
    u_upper: span(p.u_upper, T * m),
    u_init: p.u_init ? span(p.u_init, T * m) : undefined,
  };
}

/** Worker task: rebuilds the dynamics from its module and solves items [start, end). */
export async function solveMpcRange(payload: unknown, progress: (k: number) => void): Promise<WorkerAnswer<IlqrSolution>> {
  const q = payload as RangePayload;
  const factory = (await loadWorkerModule(q.remote.module))[q.remote.name];
  if (typeof factory !== 'function') throw new Error(`mpc: ${q.remote.module} exports no function ${q.remote.name} (Dynamics.remote)`);
  const params = q.params.map((t) => new Tensor(t.data, t.shape));
  const dynamics = (factory as DynamicsFactory)(params, q.remote.options);
  let sol: IlqrSolution;
  try {
    sol = solveIlqr(
      {
        dims: q.dims,
        dynamics,
        dynParams: params,
        cost: { kind: 'quad', C: new Tensor(new Float64Array(0), [0]), c: new Tensor(new Float64Array(0), [0]) },
        costParams: [],
        quad: { C: q.C, c: q.c },
        x_init: q.x_init,
        u_lower: q.u_lower,
        u_upper: q.u_upper,
        u_init: q.u_init ?? undefined,
      },
      q.opts,
    );
  } catch (e) {
    // the solver numbers items within this range
    if (e instanceof Error) e.message += ` (item numbers count within batch items ${q.start}..${q.end - 1}: add ${q.start})`;
    throw e;
  }
  progress(q.end - q.start);
  return { result: sol, transfer: [sol.x.buffer as ArrayBuffer, sol.u.buffer as ArrayBuffer, sol.objective.buffer as ArrayBuffer] };
}

/**
 * Solves the batch split over `threads` threads (this one takes the first range with p's own
 * dynamics; workers rebuild it from `remote`); returns the solution in item order, bit for bit
 * that of one thread. Throws WorkerError naming the items when a worker fails.
 */
export function solveIlqrParallel(p: IlqrProblem, opts: IlqrOptions, threads: number): IlqrSolution {
  const remote = p.dynamics.remote!;
  const { B } = p.dims;
  const bounds: number[] = [];
  for (let t = 0; t <= threads; t++) bounds.push(Math.round((t * B) / threads));
  const params = p.dynParams.map((t) => ({ data: t.data.slice(), shape: [...t.shape] }));
  // the solver's settings are numbers and strings (a caller's wider options object may hold tensors)
  const settings = Object.fromEntries(Object.entries(opts).filter(([, v]) => typeof v !== 'object' && typeof v !== 'function')) as IlqrOptions;
  const jobs: WorkerJob[] = [];
  for (let t = 1; t < threads; t++) {
    const [start, end] = [bounds[t]!, bounds[t + 1]!];
    const r = itemRange(p, start, end);
    const payload: RangePayload = {
      remote,
      params,
      dims: r.dims,
      C: r.quad!.C.slice(),
      c: r.quad!.c.slice(),
      x_init: r.x_init.slice(),
      u_lower: r.u_lower.slice(),
      u_upper: r.u_upper.slice(),
      u_init: r.u_init ? r.u_init.slice() : null,
      opts: settings,
      start,
      end,
    };
    jobs.push({ module: import.meta.url, fn: 'solveMpcRange', payload, start, end });
  }
  const [first, rest] = runOnWorkers<IlqrSolution, IlqrSolution>(() => solveIlqr(itemRange(p, 0, bounds[1]!), opts), jobs, 'mpc');
  return joinSolutions([first, ...rest]);
}

function joinSolutions(parts: IlqrSolution[]): IlqrSolution {
  const cat = (k: 'x' | 'u' | 'objective'): Float64Array => {
    const out = new Float64Array(parts.reduce((a, s) => a + s[k].length, 0));
    let o = 0;
    for (const s of parts) {
      out.set(s[k], o);
      o += s[k].length;
    }
    return out;
  };
  return {
    x: cat('x'),
    u: cat('u'),
    objective: cat('objective'),
    converged: parts.flatMap((s) => s.converged),
    iterations: parts.flatMap((s) => s.iterations),
    status: parts.flatMap((s) => s.status),
    message: parts.flatMap((s) => s.message),
    stepNorm: parts.flatMap((s) => s.stepNorm),
  };
}
