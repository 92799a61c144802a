// The batched float64 QP layer (models/implicit), OptNet-style: x* = argmin 1/2 x'Qx + p'x
// s.t. Gx <= h, Ax = b for each batch item, as an op on the core's tape (sim/core). Forward:
// interior point (qp-ipm.ts); backward: the KKT conditions differentiated at the solution
// (qp-backward.ts). Layer order: data <- sim <- models <- mpc <- app.
import { LinalgError, ShapeError, Tensor, anyNeedsGrad, fmtShape, isGradEnabled, recordN } from '../../sim/core/index.ts';
import { cholFactor } from '../../sim/linalg/dense.ts';
import { accumulateItemGrad, type QPGradBuffers } from './qp-backward.ts';
import { IpmWorkspace, solveQP, type IpmResult, type IpmTrace, type QPData, type QPStatus } from './qp-ipm.ts';
import { qpThreadCount, solveParallel, type ParallelField } from './qp-parallel.ts';
import { checkThreads, threadsUnavailable } from './worker-pool.ts';

export type { QPStatus, IpmTrace } from './qp-ipm.ts';

/**
 * The problem min 1/2 x'Qx + p'x s.t. Gx <= h, Ax = b. Each tensor is either shared
 * (unbatched: Q [n, n], p [n], G [m, n], h [m], A [pe, n], b [pe]) or batched with a leading
 * axis B (Q [B, n, n], ...); all batched ones share B. G/h and A/b come in pairs; leave a
 * pair out (or give m = 0 / pe = 0 rows) for no inequalities / equalities. Only (Q + Q')/2
 * enters the objective, so Q need not be symmetric; it must be positive semidefinite.
 */
export interface QPProblem {
  Q: Tensor;
  p: Tensor;
  G?: Tensor | null;
  h?: Tensor | null;
  A?: Tensor | null;
  b?: Tensor | null;
}

/** Options of `qp`. */
export interface QPOptions {
  /**
   * Relative KKT tolerance (default 1e-10): a solution has primal residual
   * max(|Ax - b|, (Gx - h)_+) <= tol (1 + max(|h|, |b|, |Gx|, |Ax|)), dual residual
   * |Qx + p + G'lambda + A'nu| <= tol (1 + max(|p|, |Qx|)) and complementarity
   * sum |lambda_i (h - Gx)_i| <= tol (1 + |objective|), all infinity norms.
   */
  tol?: number;
  /** Interior-point iterations per item (default 100). */
  maxIter?: number;
  /**
   * Finish with an active-set polish (default true): the equality-constrained QP on the
   * active set the interior point identified is solved exactly, and kept when it satisfies
   * the KKT conditions. Gives solutions (and so gradients) accurate to rounding.
   */
  polish?: boolean;
  /**
   * What to do when an item is not solved (default 'raise'): 'raise' throws a QPError naming
   * the items and their statuses; 'status' returns them, with NaN in x, lambda, nu for
   * infeasible and unbounded items, the last iterate for 'max_iterations' and
   * 'numerical_error' items, and zero gradients for every item that is not solved.
   */
  onFailure?: 'raise' | 'status';
  /** Called for each iteration of each item (item index, state), for debugging. With a trace the batch runs on one thread. */
  trace?: (item: number, t: IpmTrace) => void;
  /**
   * Threads to split the batch over (default: IMPULSE_THREADS, else the machine's core
   * count). Items go to worker threads only when the batch is large enough to pay for it
   * (see qpThreadCount); the results are bit for bit those of one thread.
   */
  threads?: number;
  /**
   * Warm start from the solution of a nearby problem (e.g. the previous `qp` result, whose
   * `lambda` it reads: [B, m], or [m] for an unbatched problem). Each item first solves the
   * equality-constrained QP on the active set its multipliers give (lambda_i > 0), corrected
   * by a few active-set rounds; when that meets the KKT conditions at tol, it is the answer
   * (info.iterations 0, info.warmStarted true), else the interior point solves the item from
   * scratch. The answer is the same solution either way, to the tolerance; gradients too.
   */
  warmStart?: { lambda: Tensor };
}

/** Per-item report. Residuals are absolute infinity norms at the returned (x, lambda, nu). */
export interface QPInfo {
  status: QPStatus;
  iterations: number;
  /** max(|Ax - b|, (Gx - h)_+). */
  primalResidual: number;
  /** max(|Qx + p + G'lambda + A'nu|, (-lambda)_+). */
  dualResidual: number;
  /** Complementarity sum |lambda_i (h - Gx)_i|. */
  gap: number;
  /** The answer came from the active-set polish. */
  polished: boolean;
  /** The warm start's active set gave the answer (no interior-point iterations). */
  warmStarted: boolean;
  /** Number of active inequality constraints at the answer. */
  active: number;
  /** Weakly active constraints or dependent active rows: the solution map is not differentiable there and gradients are regularised one-sided ones. */
  degenerate: boolean;
}

/** Result of `qp`: x* on the tape, the multipliers (also on the tape) and one info per item. */
export interface QPResult {
  /** Solutions, [B, n] (or [n] when no input is batched). */
  x: Tensor;
  /** Multipliers of Gx <= h, [B, m] (or [m]). */
  lambda: Tensor;
  /** Multipliers of Ax = b, [B, pe] (or [pe]). */
  nu: Tensor;
  info: QPInfo[];
}

/** Thrown (with `onFailure: 'raise'`) when some items are not solved; `info` has every item's report. */
export class QPError extends Error {
  constructor(
    message: string,
    /** The first item that is not solved. */
    readonly batchIndex: number,
    readonly status: QPStatus,
    readonly info: QPInfo[],
  ) {
    super(message);
    this.name = 'QPError';
  }
}

interface Field {
  name: 'Q' | 'p' | 'G' | 'h' | 'A' | 'b';
  t: Tensor | null;
  batched: boolean;
}

/** Checks shapes; returns sizes, batch and which inputs are batched. */
function checkShapes(pr: QPProblem): { n: number; m: number; pe: number; B: number; batched: boolean; fields: Field[] } {
  const { Q, p } = pr;
  if (!(Q instanceof Tensor)) throw new TypeError('qp: Q must be a core Tensor');
  if (!(p instanceof Tensor)) throw new TypeError('qp: p must be a core Tensor');
  const G = pr.G ?? null;
  const h = pr.h ?? null;
  const A = pr.A ?? null;
  const b = pr.b ?? null;
  if ((G === null) !== (h === null)) throw new ShapeError(`qp: G and h come together (got ${G ? 'G' : 'h'} alone)`);
  if ((A === null) !== (b === null)) throw new ShapeError(`qp: A and b come together (got ${A ? 'A' : 'b'} alone)`);
  if (Q.ndim !== 2 && Q.ndim !== 3) throw new ShapeError(`qp: Q must be [n, n] or [B, n, n], got ${fmtShape(Q.shape)}`);
  const n = Q.shape[Q.ndim - 1]!;
  if (Q.shape[Q.ndim - 2] !== n) throw new ShapeError(`qp: Q must be square, got ${fmtShape(Q.shape)}`);
  if (n === 0) throw new ShapeError('qp: the problem has no variables (Q is 0 x 0)');
  const fields: Field[] = [
    { name: 'Q', t: Q, batched: Q.ndim === 3 },
    { name: 'p', t: p, batched: p.ndim === 2 },
    { name: 'G', t: G, batched: G !== null && G.ndim === 3 },
    { name: 'h', t: h, batched: h !== null && h.ndim === 2 },
    { name: 'A', t: A, batched: A !== null && A.ndim === 3 },
    { name: 'b', t: b, batched: b !== null && b.ndim === 2 },
  ];
  if (p.ndim !== 1 && p.ndim !== 2) throw new ShapeError(`qp: p must be [n] or [B, n], got ${fmtShape(p.shape)}`);
  if (p.shape[p.ndim - 1] !== n) throw new ShapeError(`qp: p has shape ${fmtShape(p.shape)} but Q has ${fmtShape(Q.shape)} (n = ${n})`);
  const m = G && h ? constraintRows(G, h, 'G', 'h', 'm', n, Q) : 0;
  const pe = A && b ? constraintRows(A, b, 'A', 'b', 'pe', n, Q) : 0;
  let B = -1;
  let from = '';
  for (const f of fields) {
    if (!f.t || !f.batched) continue;
    const bf = f.t.shape[0]!;
    if (B < 0) {
      B = bf;
      from = `${f.name} ${fmtShape(f.t.shape)}`;
    } else if (bf !== B) throw new ShapeError(`qp: inconsistent batch sizes: ${from} has B = ${B} but ${f.name} ${fmtShape(f.t.shape)} has B = ${bf}`);
  }
  return { n, m, pe, B: B < 0 ? 1 : B, batched: B >= 0, fields };
}

/**
 * Checks a constraint pair, (G, h) with `rows` 'm' or (A, b) with 'pe': the matrix M is
 * [rows, n] or [B, rows, n] and the vector v is [rows] or [B, rows]. Returns the row count.
 */
function constraintRows(M: Tensor, v: Tensor, mName: 'G' | 'A', vName: 'h' | 'b', rows: 'm' | 'pe', n: number, Q: Tensor): number {
  if (M.ndim !== 2 && M.ndim !== 3) throw new ShapeError(`qp: ${mName} must be [${rows}, n] or [B, ${rows}, n], got ${fmtShape(M.shape)}`);
  if (v.ndim !== 1 && v.ndim !== 2) throw new ShapeError(`qp: ${vName} must be [${rows}] or [B, ${rows}], got ${fmtShape(v.shape)}`);
  if (M.shape[M.ndim - 1] !== n)
    throw new ShapeError(`qp: ${mName} has shape ${fmtShape(M.shape)}, its last axis must be n = ${n} (from Q ${fmtShape(Q.shape)})`);
  const k = M.shape[M.ndim - 2]!;
  if (v.shape[v.ndim - 1] !== k) throw new ShapeError(`qp: ${vName} has shape ${fmtShape(v.shape)} but ${mName} has ${fmtShape(M.shape)} (${rows} = ${k})`);
  return k;
}

/** The warm start's multipliers, one row of m per item (checked), or null without a warm start. */
function warmLambdas(ws: QPOptions['warmStart'], B: number, m: number, batched: boolean): Float64Array | null {
  if (ws === undefined) return null;
  const L = ws?.lambda;
  if (!(L instanceof Tensor)) throw new TypeError('qp: warmStart.lambda must be a core Tensor (the lambda of a previous qp result)');
  const want = batched ? [B, m] : [m];
  if (L.ndim !== want.length || L.shape.some((v, i) => v !== want[i]))
    throw new ShapeError(`qp: warmStart.lambda must be ${fmtShape(want)} (the problem's multipliers), got ${fmtShape(L.shape)}`);
  for (let i = 0; i < L.size; i++) {
    if (Number.isNaN(L.data[i]!)) {
      const where = batched ? `batch item ${Math.floor(i / m)}, constraint ${i % m}` : `constraint ${i}`;
      throw new RangeError(`qp: warmStart.lambda holds NaN at ${where} (an unsolved item of the previous result?)`);
    }
  }
  return L.data;
}

/** Throws naming the field, batch item and index of the first non-finite input value. */
function checkFinite(f: Field, itemSize: number): void {
  const d = f.t!.data;
  for (let i = 0; i < d.length; i++) {
    if (Number.isFinite(d[i]!)) continue;
    const where = f.batched ? `batch item ${Math.floor(i / itemSize)}, flat index ${i % itemSize} within the item` : `flat index ${i} (shared by all items)`;
    throw new RangeError(`qp: ${f.name} ${fmtShape(f.t!.shape)} holds ${d[i]} at ${where}`);
  }
}

/** (Q + Q')/2 per distinct Q, each checked positive semidefinite (Cholesky of Qs + eps I). */
function symmetrisedQ(Q: Tensor, n: number, batched: boolean): Float64Array {
  const count = batched ? Q.shape[0]! : 1;
  const out = new Float64Array(count * n * n);
  const work = new Float64Array(n * n);
  const src = Q.data;
  for (let k = 0; k < count; k++) {
    const o = k * n * n;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = 0.5 * (src[o + i * n + j]! + src[o + j * n + i]!);
        out[o + i * n + j] = v;
        scale = Math.max(scale, Math.abs(v));
      }
    }
    work.set(out.subarray(o, o + n * n));
    const eps = 1e-10 * Math.max(1, scale) * n;
    for (let i = 0; i < n; i++) work[i * n + i]! += eps;
    const bad = cholFactor(work, 0, n);
    if (bad >= 0) {
      const who = batched ? `batch item ${k}` : 'the shared Q';
      throw new LinalgError(
        `qp: Q of ${who} is not positive semidefinite: the Cholesky factorisation of (Q + Q')/2 + ${eps.toExponential(1)} I fails at row ${bad}; the QP is not convex`,
        batched ? k : 0,
      );
    }
  }
  return out;
}

function describeFailures(info: QPInfo[]): string {
  const bad = info.map((r, k) => [k, r] as const).filter(([, r]) => r.status !== 'solved');
  const shown = bad.slice(0, 8).map(([k, r]) => {
    const extra =
      r.status === 'max_iterations' || r.status === 'numerical_error'
        ? ` after ${r.iterations} iterations (primal residual ${r.primalResidual.toExponential(2)}, dual residual ${r.dualResidual.toExponential(2)})`
        : '';
    return `item ${k}: ${r.status}${extra}`;
  });
  return `${bad.length} of ${info.length} QP(s) not solved: ${shown.join('; ')}${bad.length > 8 ? '; ...' : ''}`;
}

/**
 * Solves a batch of convex QPs min 1/2 x'Qx + p'x s.t. Gx <= h, Ax = b in float64 and puts
 * the solution on the core's tape: gradients of any loss of (x, lambda, nu) flow back to
 * Q, p, G, h, A, b by the implicit function theorem on the KKT conditions (OptNet). Shared
 * (unbatched) inputs receive the sum of the per-item gradients.
 *
 * Forward: a homogeneous self-dual primal-dual interior point with Mehrotra
 * predictor-corrector (it certifies infeasible and unbounded problems rather than return a
 * wrong x), then an active-set polish. Backward: first order (the hand-written backward works
 * on arrays; `createGraph` through it is not supported), reusing the polish's LU factors of
 * the active-set KKT matrix. At degenerate solutions (`info[k].degenerate`) the solution map
 * is not differentiable and the backward pass returns a finite regularised gradient.
 *
 * @example
 * // min 1/2 |x|^2 - 2 x1 - 2 x2  s.t.  x1 <= 1, x2 <= 1
 * const Q = eye(2), p = tensor([-2, -2]).requireGrad(), G = eye(2), h = tensor([1, 1]);
 * const { x, lambda, info } = qp({ Q, p, G, h });   // x = [1, 1], lambda = [1, 1]
 * backward(sum(x));                                  // p.grad = [0, 0]: both bounds active
 */
export function qp(problem: QPProblem, opts: QPOptions = {}): QPResult {
  const { n, m, pe, B, batched, fields } = checkShapes(problem);
  const tol = opts.tol ?? 1e-10;
  if (!(tol > 0)) throw new RangeError(`qp: tol must be positive, got ${tol}`);
  const maxIter = opts.maxIter ?? 100;
  if (!(maxIter >= 0) || !Number.isInteger(maxIter)) throw new RangeError(`qp: maxIter must be a non-negative integer, got ${maxIter}`);
  const onFailure = opts.onFailure ?? 'raise';
  const sizes: Record<Field['name'], number> = { Q: n * n, p: n, G: m * n, h: m, A: pe * n, b: pe };
  for (const f of fields) if (f.t) checkFinite(f, sizes[f.name]);
  const [fQ, fp, fG, fh, fA, fb] = fields as [Field, Field, Field, Field, Field, Field];
  const Qs = symmetrisedQ(fQ.t!, n, fQ.batched);
  const inputs = fields.filter((f) => f.t).map((f) => f.t!);
  const needGrad = anyNeedsGrad(inputs);
  const empty = new Float64Array(0);
  const view = (f: Field, data: Float64Array | null, k: number): Float64Array => {
    if (!f.t) return empty;
    const size = sizes[f.name];
    const o = f.batched ? k * size : 0;
    return (data ?? f.t.data).subarray(o, o + size);
  };
  const warm = warmLambdas(opts.warmStart, B, m, batched);
  const itemData = (k: number): QPData => ({
    n,
    m,
    pe,
    warm: warm ? warm.subarray(k * m, (k + 1) * m) : undefined,
    Q: view(fQ, Qs, k),
    p: view(fp, null, k),
    G: view(fG, null, k),
    h: view(fh, null, k),
    A: view(fA, null, k),
    b: view(fb, null, k),
  });

  const ws = new IpmWorkspace(n, m, pe);
  const X = new Float64Array(B * n);
  const L = new Float64Array(B * m);
  const V = new Float64Array(B * pe);
  const settings = { tol, maxIter, polish: opts.polish ?? true, keepFactors: needGrad };
  const trace = opts.trace;
  const solveItem = (k: number): IpmResult => solveQP(itemData(k), ws, { ...settings, trace: trace ? (t) => trace(k, t) : undefined });
  const threads = trace ? 1 : qpThreadCount(checkThreads(opts.threads, 'qp'), B, n, m, pe);
  let results: IpmResult[];
  if (threads > 1 && threadsUnavailable() === null) {
    const pf = (f: Field, data: Float64Array | null): ParallelField => ({
      data: f.t ? (data ?? f.t.data) : empty,
      size: f.t ? sizes[f.name] : 0,
      batched: f.batched,
    });
    const fieldsData = {
      Q: pf(fQ, Qs),
      p: pf(fp, null),
      G: pf(fG, null),
      h: pf(fh, null),
      A: pf(fA, null),
      b: pf(fb, null),
      W: { data: warm ?? empty, size: warm ? m : 0, batched: true },
    };
    results = solveParallel(B, threads, n, m, pe, fieldsData, settings, solveItem);
  } else {
    results = [];
    for (let k = 0; k < B; k++) results.push(solveItem(k));
  }
  results.forEach((r, k) => {
    X.set(r.x, k * n);
    L.set(r.lambda, k * m);
    V.set(r.nu, k * pe);
  });
  const info: QPInfo[] = results.map((r) => ({
    status: r.status,
    iterations: r.iterations,
    primalResidual: r.primalResidual,
    dualResidual: r.dualResidual,
    gap: r.gap,
    polished: r.polished,
    warmStarted: r.warmStarted,
    active: r.active.length,
    degenerate: r.degenerate,
  }));
  const firstBad = info.findIndex((r) => r.status !== 'solved');
  if (firstBad >= 0 && onFailure === 'raise') throw new QPError(`qp: ${describeFailures(info)}`, firstBad, info[firstBad]!.status, info);

  const x = new Tensor(X, batched ? [B, n] : [n]);
  const lambda = new Tensor(L, batched ? [B, m] : [m]);
  const nu = new Tensor(V, batched ? [B, pe] : [pe]);
  if (!needGrad) return { x, lambda, nu, info };

  recordN('qp', inputs, [x, lambda, nu], (gs) => {
    if (isGradEnabled()) {
      throw new Error('qp: second-order gradients (createGraph) through the QP layer are not supported; its backward pass is first order');
    }
    const [gx, gl, gn] = gs;
    const want = (f: Field): Float64Array | null => (f.t && f.t.requiresGrad ? new Float64Array(f.t.size) : null);
    const out: QPGradBuffers = {
      Q: want(fQ),
      p: want(fp),
      G: want(fG),
      h: want(fh),
      A: want(fA),
      b: want(fb),
      batchedQ: fQ.batched,
      batchedP: fp.batched,
      batchedG: fG.batched,
      batchedH: fh.batched,
      batchedA: fA.batched,
      batchedB: fb.batched,
    };
    for (let k = 0; k < B; k++) {
      if (results[k]!.status !== 'solved') continue;
      if (!accumulateItemGrad(k, itemData(k), results[k]!, gx?.data ?? null, gl?.data ?? null, gn?.data ?? null, out)) {
        throw new LinalgError(
          `qp backward: the active-set KKT matrix of batch item ${k} is singular even after regularisation; the implicit function theorem does not apply there`,
          k,
        );
      }
    }
    const grads: (Tensor | null)[] = [];
    for (const f of fields) {
      if (!f.t) continue;
      const g = out[f.name];
      grads.push(g ? new Tensor(g, f.t.shape) : null);
    }
    return grads;
  });
  return { x, lambda, nu, info };
}
