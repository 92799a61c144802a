// The DEQ block's batch over worker threads (worker-pool.ts). The forward (Anderson or Picard)
// stops each sample on its own (fixed-point.ts freezes a converged sample), so a contiguous
// range of samples solved alone takes the iterates it takes inside the whole batch; the
// implicit backward (dense LU, GMRES or the adjoint fixed point) also treats samples one by
// one. Each thread solves its range with the same code (a worker rebuilds the cell from
// `cell.remote`); z*, the solver report and dL/dx are those of one thread bit for bit, and
// the gradients of the shared parameters (sums over the batch) are the per-thread partial
// sums added in thread order: equal to one thread's up to rounding (a few ulp).
import { Tensor, anyNeedsGrad, gradients, isGradEnabled, recordN, withGradMode } from '../../sim/core/index.ts';
import { type BackwardInfo, NonConvergenceError } from './ift.ts';
import type { SolverInfo } from './root.ts';
import {
  type DeqOptions,
  type FixedPointBackwardOptions,
  type FixedPointOptions,
  type StopMode,
  checkedCell,
  fixedPointForward,
  fixedPointOnTape,
  fixedPointOutcome,
} from './fixed-point.ts';
import { defaultThreads, runOnWorkers, type WorkerAnswer, type WorkerJob } from './worker-pool.ts';
import { loadWorkerModule } from './worker-serve.ts';

/** Where a worker finds a DEQ cell: the module (a URL, e.g. `import.meta.url`) and the name it exports. */
export interface RemoteCell {
  module: string;
  name: string;
}

/** A DEQ cell f(z, [x, ...params]); with `remote`, the DEQ can split its batch over worker threads. */
export type DeqCell = ((z: Tensor, xp: readonly Tensor[]) => Tensor) & { remote?: RemoteCell };

/**
 * Marks `cell` as rebuildable in a worker thread: `module` (a URL) exports it as `name`.
 * The cell must treat the rows of z and x independently and take the same parameters for
 * every sample.
 *
 * @example
 * export const myCell = remoteCell((z, [x, W]) => tanh(add(matmul(z, W!), x!)), { module: import.meta.url, name: 'myCell' });
 */
export function remoteCell<C extends (z: Tensor, xp: readonly Tensor[]) => Tensor>(cell: C, remote: RemoteCell): C & { remote: RemoteCell } {
  if (typeof remote?.module !== 'string' || typeof remote.name !== 'string')
    throw new TypeError('remoteCell: remote must be { module: string (a URL), name: string }');
  return Object.assign(cell, { remote });
}

/** Below this many multiply-adds of one z W product per thread (rows x n^2) a split does not pay for the messages. */
export const DEQ_MIN_WORK_PER_THREAD = 65536;

/**
 * How many threads a DEQ uses (1: stay on this thread): needs a remote cell, Anderson or
 * Picard, an IFT backward. An explicit `threads` is taken as asked (at most one sample per
 * thread); the default (`threads` left out) splits only where each thread gets at least
 * DEQ_MIN_WORK_PER_THREAD.
 */
export function deqThreadCount(threads: number | undefined, cell: DeqCell, B: number, n: number, opts: FixedPointOptions): number {
  const solver = opts.solver ?? 'anderson';
  const t = threads ?? defaultThreads();
  if (t <= 1 || !cell.remote || solver === 'broyden' || opts.backward?.solver === 'phantom' || opts.batched === false) return 1;
  if (threads !== undefined) return Math.min(t, B);
  return Math.max(1, Math.min(t, B, Math.floor((B * n * n) / DEQ_MIN_WORK_PER_THREAD)));
}

/** The forward settings a thread needs (plain data). */
interface ForwardSettings {
  solver: 'anderson' | 'picard';
  tol: number;
  maxIter: number;
  stop: StopMode;
  anderson?: FixedPointOptions['anderson'];
  damping?: number;
}

/** Shapes and offsets (doubles) of the tensors in a shared buffer; `rows` marks a batched one. */
interface Field {
  off: number;
  shape: number[];
  rows: boolean;
}

/** What a worker needs for samples [start, end). */
interface RangePayload {
  remote: RemoteCell;
  sab: SharedArrayBuffer;
  /** x, z (z0 or z*), g (backward), then the parameters. */
  fields: Field[];
  settings: ForwardSettings;
  backward: FixedPointBackwardOptions;
  want: boolean[];
  start: number;
  end: number;
}

/** What the forward of a range gives. */
interface ForwardPart {
  z: Float64Array;
  itemResidual: Float64Array;
  iterations: number;
  hist: number[];
  evaluations: number;
}

/** What the backward of a range gives: dL/dx for its rows and its share of dL/dparams. */
interface BackwardPart {
  grads: (Float64Array | null)[];
  info: BackwardInfo | null;
}

const LAYER = 'fixedPoint';

function view(sab: SharedArrayBuffer, f: Field, start: number, end: number): Tensor {
  // copied out of the shared buffer: typed arrays over a SharedArrayBuffer reaching the core's
  // ops beside ordinary ones make their element accesses polymorphic (measured slower)
  const row = f.shape.slice(1).reduce((a, b) => a * b, 1);
  const size = f.rows ? (end - start) * row : f.shape.reduce((a, b) => a * b, 1);
  const off = f.off + (f.rows ? start * row : 0);
  return new Tensor(new Float64Array(sab, off * 8, size).slice(), f.rows ? [end - start, ...f.shape.slice(1)] : f.shape);
}

/** Forward of samples given as tensors (rows of x and z0, the whole parameters). */
function forwardRows(cell: DeqCell, x: Tensor, params: readonly Tensor[], z0: Tensor, s: ForwardSettings): ForwardPart {
  const xs = [x, ...params];
  const { r, evaluations } = fixedPointForward(LAYER, checkedCell(LAYER, cell), xs, xs, z0, z0.shape[0]!, z0.size / z0.shape[0]!, true, s.solver, s);
  return { z: r.z, itemResidual: r.itemResidual!, iterations: r.iterations, hist: r.residualHistory, evaluations };
}

/** Backward of samples: the IFT on their rows, seeded with their rows of dL/dz. */
function backwardRows(cell: DeqCell, xs: readonly Tensor[], zStar: Tensor, g: Tensor, want: readonly boolean[], bw: FixedPointBackwardOptions): BackwardPart {
  const leaves = xs.map((t, i) => (want[i] ? new Tensor(t.data, t.shape).requireGrad() : t.detach()));
  let info: BackwardInfo | null = null;
  // recorded even inside the caller's (unrecorded) reverse pass
  const z = withGradMode(true, () =>
    fixedPointOnTape(LAYER, checkedCell(LAYER, cell), leaves, zStar.data, zStar.shape, true, bw, (b) => {
      info = b;
    }),
  );
  const need = leaves.filter((t) => t.requiresGrad);
  const gs = gradients([z], need, [g], { allowUnused: true });
  let k = 0;
  return { grads: leaves.map((t) => (t.requiresGrad ? (gs[k++]?.data.slice() ?? null) : null)), info };
}

async function loadCell(remote: RemoteCell): Promise<DeqCell> {
  const cell = (await loadWorkerModule(remote.module))[remote.name];
  if (typeof cell !== 'function') throw new Error(`deq: ${remote.module} exports no function ${remote.name} (cell.remote)`);
  return cell as DeqCell;
}

function renumber(e: unknown, start: number, end: number): unknown {
  // the solver numbers samples within this range
  if (e instanceof Error && start > 0) e.message += ` (item numbers count within batch items ${start}..${end - 1}: add ${start})`;
  return e;
}

function unpack(q: RangePayload): { x: Tensor; z: Tensor; g: Tensor | null; params: Tensor[] } {
  const [fx, fz, fg, ...fp] = q.fields;
  return {
    x: view(q.sab, fx!, q.start, q.end),
    z: view(q.sab, fz!, q.start, q.end),
    g: fg!.shape.length ? view(q.sab, fg!, q.start, q.end) : null,
    params: fp.map((f) => view(q.sab, f, q.start, q.end)),
  };
}

/** Worker task: the forward solve of samples [start, end). */
export async function deqForwardRange(payload: unknown, progress: (k: number) => void): Promise<WorkerAnswer<ForwardPart>> {
  const q = payload as RangePayload;
  const cell = await loadCell(q.remote);
  const { x, z, params } = unpack(q);
  let part: ForwardPart;
  try {
    part = forwardRows(cell, x, params, z, q.settings);
  } catch (e) {
    throw renumber(e, q.start, q.end);
  }
  progress(q.end - q.start);
  return { result: part, transfer: [part.z.buffer as ArrayBuffer, part.itemResidual.buffer as ArrayBuffer] };
}

/** Worker task: the implicit backward of samples [start, end). */
export async function deqBackwardRange(payload: unknown, progress: (k: number) => void): Promise<WorkerAnswer<BackwardPart>> {
  const q = payload as RangePayload;
  const cell = await loadCell(q.remote);
  const { x, z, g, params } = unpack(q);
  let part: BackwardPart;
  try {
    part = backwardRows(cell, [x, ...params], z, g!, q.want, q.backward);
  } catch (e) {
    throw renumber(e, q.start, q.end);
  }
  progress(q.end - q.start);
  return { result: part, transfer: part.grads.filter((a): a is Float64Array => a !== null).map((a) => a.buffer as ArrayBuffer) };
}

/** Copies x, z, g and the parameters into one shared buffer. */
function share(tensors: (Tensor | null)[], rows: boolean[]): { sab: SharedArrayBuffer; fields: Field[] } {
  const total = tensors.reduce((a, t) => a + (t?.size ?? 0), 0);
  const sab = new SharedArrayBuffer(Math.max(8, total * 8));
  const all = new Float64Array(sab);
  let off = 0;
  const fields = tensors.map((t, i) => {
    const f: Field = { off, shape: t ? [...t.shape] : [], rows: rows[i]! };
    if (t) all.set(t.data, off);
    off += t?.size ?? 0;
    return f;
  });
  return { sab, fields };
}

/**
 * The DEQ z* = cell(z*, [x, ...params]) with its batch split over `threads` threads (options
 * already checked, `threads` from deqThreadCount): this thread takes the first range with
 * `cell`, workers rebuild it from cell.remote. Throws WorkerError naming the samples when a
 * worker fails.
 */
export function deqParallel(
  cell: DeqCell,
  x: Tensor,
  params: readonly Tensor[],
  z0: Tensor,
  opts: Omit<DeqOptions, 'z0' | 'd' | 'threads'>,
  threads: number,
): { z: Tensor; info: SolverInfo } {
  const B = z0.shape[0]!;
  const bounds: number[] = [];
  for (let t = 0; t <= threads; t++) bounds.push(Math.round((t * B) / threads));
  const settings: ForwardSettings = {
    solver: opts.solver === 'picard' ? 'picard' : 'anderson',
    tol: opts.tol ?? 1e-10,
    maxIter: opts.maxIter ?? 200,
    stop: opts.stop ?? 'rel',
    anderson: opts.anderson,
    damping: opts.damping,
  };
  const bw: FixedPointBackwardOptions = opts.backward ?? {};
  const xs = [x, ...params];
  const rows = [true, true, true, ...params.map(() => false)];
  const jobsFor = (fn: string, sab: SharedArrayBuffer, fields: Field[], want: boolean[]): WorkerJob[] => {
    const jobs: WorkerJob[] = [];
    for (let t = 1; t < threads; t++) {
      const [start, end] = [bounds[t]!, bounds[t + 1]!];
      const payload: RangePayload = { remote: cell.remote!, sab, fields, settings, backward: bw, want, start, end };
      jobs.push({ module: import.meta.url, fn, payload, start, end });
    }
    return jobs;
  };

  // forward
  const fwd = share([x, z0, null, ...params], rows);
  const local = unpack({ sab: fwd.sab, fields: fwd.fields, start: 0, end: bounds[1]! } as RangePayload);
  const [first, rest] = runOnWorkers<ForwardPart, ForwardPart>(
    () => forwardRows(cell, local.x, local.params, local.z, settings),
    jobsFor('deqForwardRange', fwd.sab, fwd.fields, []),
    'deq',
  );
  const parts = [first, ...rest];
  const n = z0.size / B;
  const zs = new Float64Array(B * n);
  const res = new Float64Array(B);
  parts.forEach((p, t) => {
    zs.set(p.z, bounds[t]! * n);
    res.set(p.itemResidual, bounds[t]!);
  });
  const iterations = Math.max(...parts.map((p) => p.iterations));
  // a finished range's samples are frozen: its last residual stands for the later iterations
  const hist = Array.from({ length: iterations + 1 }, (_, i) => Math.max(...parts.map((p) => p.hist[Math.min(i, p.hist.length - 1)]!)));
  const r = fixedPointOutcome(zs, res, iterations, hist, settings.tol, settings.stop);
  const info: SolverInfo = {
    converged: r.converged,
    iterations: r.iterations,
    residual: r.residual,
    residualHistory: r.residualHistory,
    method: settings.solver,
    evaluations: Math.max(...parts.map((p) => p.evaluations)),
    message: r.message,
  };
  if (!info.converged && opts.raiseOnNonConvergence) throw new NonConvergenceError(`${LAYER} (${settings.solver}): ${info.message}`, LAYER, 'forward', info);
  const zOut = new Tensor(zs, z0.shape);
  if (!isGradEnabled() || !anyNeedsGrad(xs)) return { z: zOut, info };

  recordN(LAYER, xs, [zOut], ([g]) => {
    if (!g) return xs.map(() => null);
    const t0 = performance.now();
    const onBackward = (b: BackwardInfo): void => {
      info.backward = b;
    };
    if (isGradEnabled()) {
      // a recorded reverse pass (higher order): the whole batch on this thread
      const zi = fixedPointOnTape(LAYER, checkedCell(LAYER, cell), xs, zs, z0.shape, true, bw, onBackward);
      const need = xs.filter((t) => t.requiresGrad);
      const gs = gradients([zi], need, [g], { createGraph: true, allowUnused: true });
      let k = 0;
      return xs.map((t) => (t.requiresGrad ? (gs[k++] ?? null) : null));
    }
    const want = xs.map((t) => t.requiresGrad);
    const sh = share([x, zOut, g, ...params], rows);
    const mine = unpack({ sab: sh.sab, fields: sh.fields, start: 0, end: bounds[1]! } as RangePayload);
    const [b0, brest] = runOnWorkers<BackwardPart, BackwardPart>(
      () => backwardRows(cell, [mine.x, ...mine.params], mine.z, mine.g!, want, bw),
      jobsFor('deqBackwardRange', sh.sab, sh.fields, want),
      'deq',
    );
    const bparts = [b0, ...brest];
    const out = xs.map((t, i) => {
      if (!want[i]) return null;
      const d = new Float64Array(t.size);
      bparts.forEach((p, k) => {
        const gi = p.grads[i];
        if (!gi) return;
        if (i === 0) d.set(gi, bounds[k]! * (t.size / B));
        else for (let j = 0; j < d.length; j++) d[j] = d[j]! + gi[j]!;
      });
      return new Tensor(d, t.shape);
    });
    const infos = bparts.map((p) => p.info).filter((b): b is BackwardInfo => b !== null);
    if (infos.length)
      onBackward({
        solver: infos[0]!.solver,
        iterations: Math.max(...infos.map((b) => b.iterations)),
        residual: Math.max(...infos.map((b) => b.residual)),
        ms: performance.now() - t0,
      });
    return out;
  });
  return { z: zOut, info };
}
