// Step groups of the ODE layer's batch, and their split over worker threads (worker-pool.ts).
// dopri5's adaptive step is shared by the whole batch: its error norm takes every item, so one
// hard item sets the step for all, and a batch cut in two takes other steps. With
// `stepGroup: G` the batch is cut into groups of G consecutive items, each integrated (and
// differentiated by its own adjoint) with its own steps; a group is solved by the same code
// on the same data whichever thread takes it, so results, counts and gradients do not depend
// on the thread count, bit for bit (the shared parameters' gradients are added group by group
// in group order on the calling thread). The groups' steps differ from the whole batch's,
// within the tolerances (measured in ode-groups.test.ts). A worker keeps its groups' forward
// solutions for the backward (the last few calls); a backward that finds none re-solves them.
import { Tensor, anyNeedsGrad, gradients, isGradEnabled, noGrad, recordN, withGradMode } from '../../sim/core/index.ts';
import { emptyAdjointStats, type AdjointStats } from './ode-adjoint.ts';
import { mlpField, mlpSpecOf, type MlpSpec } from './mlp-field.ts';
import type { OdeFunc, OdeOptions } from './ode-solvers.ts';
import { defaultThreads, runOnWorkers, type WorkerAnswer, type WorkerJob } from './worker-pool.ts';
import { odeint, type OdeSolution, type OdeStats } from './ode.ts';

/** Where a worker finds a vector field: the module (a URL, e.g. `import.meta.url`) and the name it exports. */
export interface RemoteField {
  module: string;
  name: string;
}

/**
 * Marks an ODE vector field as rebuildable in a worker thread (so `odeint` with `stepGroup`
 * can split its groups over threads): `module` exports it as `name`. Fields made by
 * `mlpField` need no mark.
 *
 * @example
 * export const decay = remoteField((_t, y, [k]) => neg(mul(k!, y)), { module: import.meta.url, name: 'decay' });
 */
export function remoteField<F extends OdeFunc>(f: F, remote: RemoteField): F & { remote: RemoteField } {
  if (typeof remote?.module !== 'string' || typeof remote.name !== 'string')
    throw new TypeError('remoteField: remote must be { module: string (a URL), name: string }');
  return Object.assign(f, { remote });
}

/** How a worker rebuilds the field: an MLP spec or a module export. */
type FieldSource = { mlp: MlpSpec } | { remote: RemoteField };

function sourceOf(f: OdeFunc): FieldSource | null {
  const spec = mlpSpecOf(f);
  if (spec) return { mlp: { sizes: [...spec.sizes], activation: spec.activation } };
  const r = (f as Partial<{ remote: RemoteField }>).remote;
  return r && typeof r.module === 'string' && typeof r.name === 'string' ? { remote: r } : null;
}

/**
 * Threads for G groups (1: stay on this thread): needs a field a worker can rebuild (mlpField
 * or remoteField) and the adjoint backward. An explicit `threads` is taken as asked (at most
 * one group per thread).
 */
export function odeGroupThreadCount(threads: number | undefined, f: OdeFunc, groups: number, opts: OdeOptions): number {
  const t = threads ?? defaultThreads();
  if (t <= 1 || groups <= 1 || opts.adjoint === false || !sourceOf(f)) return 1;
  return Math.min(t, groups);
}

/** What to differentiate: y0, each parameter, the times. */
interface Want {
  y0: boolean;
  params: boolean[];
  ts: boolean;
}

/** The groups [g0, g1) of a call, as a thread solves them. */
interface GroupSpec {
  y0: Float64Array;
  /** Shape of y0 (the whole batch). */
  shape: number[];
  ts: Float64Array;
  params: { data: Float64Array; shape: number[] }[];
  opts: OdeOptions;
  group: number;
  g0: number;
  g1: number;
  want: Want;
}

/** A solved group kept for its backward. */
interface Solved {
  y: Tensor;
  stats: OdeStats;
  leaves: { y0: Tensor; params: Tensor[]; ts: Tensor };
}

/** What the forward of a range of groups gives. */
interface ForwardPart {
  /** y of items [g0 G, g1 G) for every output time: [T, items, ...]. */
  y: Float64Array;
  stats: OdeStats[];
}

/** What the backward of a range of groups gives: dL/dy0 rows, and per group dL/dparams and dL/dts. */
interface BackwardPart {
  gy0: Float64Array | null;
  gParams: (Float64Array | null)[][];
  gTs: (Float64Array | null)[];
  stats: OdeStats[];
}

function itemRange(s: GroupSpec, g: number): [number, number] {
  const B = s.shape[0]!;
  return [g * s.group, Math.min(B, (g + 1) * s.group)];
}

function rowSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Solves groups [g0, g1) with the tape kept for their backward. */
function solveGroups(f: OdeFunc, s: GroupSpec): Solved[] {
  const row = rowSize(s.shape);
  const out: Solved[] = [];
  for (let g = s.g0; g < s.g1; g++) {
    const [i0, i1] = itemRange(s, g);
    const y0 = new Tensor(s.y0.slice(i0 * row, i1 * row), [i1 - i0, ...s.shape.slice(1)]);
    const params = s.params.map((p) => new Tensor(p.data, p.shape));
    const ts = new Tensor(s.ts, [s.ts.length]);
    if (s.want.y0) y0.requireGrad();
    params.forEach((p, k) => {
      if (s.want.params[k]) p.requireGrad();
    });
    if (s.want.ts) ts.requireGrad();
    const needGrad = s.want.y0 || s.want.ts || s.want.params.some((w) => w);
    let sol: OdeSolution;
    try {
      sol = withGradMode(needGrad, () => odeint(f, y0, ts, params, s.opts));
    } catch (e) {
      throw inGroup(e, g, i0, i1);
    }
    out.push({ y: sol.y, stats: sol.stats, leaves: { y0, params, ts } });
  }
  return out;
}

function inGroup(e: unknown, g: number, i0: number, i1: number): unknown {
  if (e instanceof Error) e.message += ` (step group ${g}: batch items ${i0}..${i1 - 1}; item numbers and flat indices count within the group)`;
  return e;
}

/** Joins groups' outputs [T, items_g, ...] along the item axis. */
function joinY(parts: readonly Solved[], T: number, row: number): Float64Array {
  const items = parts.reduce((a, p) => a + p.y.shape[1]!, 0);
  const out = new Float64Array(T * items * row);
  let off = 0;
  for (const p of parts) {
    const n = p.y.shape[1]! * row;
    for (let t = 0; t < T; t++) out.set(p.y.data.subarray(t * n, (t + 1) * n), t * items * row + off);
    off += n;
  }
  return out;
}

/** The backward of solved groups for the incoming gradient rows g [T, items of groups g0..g1, ...]. */
function backwardGroups(solved: readonly Solved[], g: Float64Array, T: number, row: number, want: Want, s: GroupSpec): BackwardPart {
  const items = solved.reduce((a, p) => a + p.y.shape[1]!, 0);
  const gy0 = want.y0 ? new Float64Array(items * row) : null;
  const gParams: (Float64Array | null)[][] = [];
  const gTs: (Float64Array | null)[] = [];
  let off = 0;
  solved.forEach((p, j) => {
    const n = p.y.shape[1]! * row;
    const gg = new Float64Array(T * n);
    for (let t = 0; t < T; t++) gg.set(g.subarray(t * items * row + off, t * items * row + off + n), t * n);
    const leaves: Tensor[] = [];
    if (want.y0) leaves.push(p.leaves.y0);
    p.leaves.params.forEach((q, k) => {
      if (want.params[k]) leaves.push(q);
    });
    if (want.ts) leaves.push(p.leaves.ts);
    let gs: (Tensor | null)[];
    try {
      gs = noGrad(() => gradients([p.y], leaves, [new Tensor(gg, p.y.shape)], { allowUnused: true }));
    } catch (e) {
      const [i0, i1] = itemRange(s, s.g0 + j);
      throw inGroup(e, s.g0 + j, i0, i1);
    }
    let k = 0;
    if (want.y0) {
      const gi = gs[k++];
      if (gi) gy0!.set(gi.data, off);
    }
    gParams.push(want.params.map((w) => (w ? (gs[k++]?.data.slice() ?? null) : null)));
    gTs.push(want.ts ? (gs[k++]?.data.slice() ?? null) : null);
    off += n;
  });
  return { gy0, gParams, gTs, stats: solved.map((p) => p.stats) };
}

// ---------------------------------------------------------------- the worker side

/** Forward solutions a worker keeps for their backward, by call id (the latest few calls). */
const kept = new Map<string, Solved[]>();
const KEEP = 4;

/** Fields a worker has built or loaded (a dynamic import costs a trip through the module loader even when cached). */
const fields = new Map<string, OdeFunc>();

async function fieldOf(src: FieldSource): Promise<OdeFunc> {
  const key = JSON.stringify(src);
  const known = fields.get(key);
  if (known) return known;
  let f: unknown;
  if ('mlp' in src) f = mlpField(src.mlp.sizes, { activation: src.mlp.activation });
  else {
    const mod = (await import(src.remote.module)) as Record<string, unknown>;
    f = mod[src.remote.name];
    if (typeof f !== 'function') throw new Error(`odeint: ${src.remote.module} exports no function ${src.remote.name} (remoteField)`);
  }
  fields.set(key, f as OdeFunc);
  return f as OdeFunc;
}

interface Payload {
  src: FieldSource;
  spec: GroupSpec;
  id: string;
  /** Backward: the incoming gradient rows of these groups. */
  g?: Float64Array;
  T: number;
  start: number;
  end: number;
}

/** Worker task: solves groups [g0, g1) (kept for the backward when a gradient is wanted). */
export async function odeGroupsForward(payload: unknown, progress: (k: number) => void): Promise<WorkerAnswer<ForwardPart>> {
  const q = payload as Payload;
  const f = await fieldOf(q.src);
  const solved = solveGroups(f, q.spec);
  const w = q.spec.want;
  if (w.y0 || w.ts || w.params.some((x) => x)) {
    kept.set(q.id, solved);
    while (kept.size > KEEP) kept.delete(kept.keys().next().value!);
  }
  progress(q.spec.g1 - q.spec.g0);
  const y = joinY(solved, q.T, rowSize(q.spec.shape));
  return { result: { y, stats: solved.map((s) => s.stats) }, transfer: [y.buffer as ArrayBuffer] };
}

/** Worker task: the adjoint backward of groups [g0, g1) (re-solved when their forward is no longer kept). */
export async function odeGroupsBackward(payload: unknown, progress: (k: number) => void): Promise<WorkerAnswer<BackwardPart>> {
  const q = payload as Payload;
  let solved = kept.get(q.id);
  kept.delete(q.id);
  if (!solved) solved = solveGroups(await fieldOf(q.src), q.spec);
  const part = backwardGroups(solved, q.g!, q.T, rowSize(q.spec.shape), q.spec.want, q.spec);
  progress(q.spec.g1 - q.spec.g0);
  const transfer: ArrayBuffer[] = [];
  if (part.gy0) transfer.push(part.gy0.buffer as ArrayBuffer);
  for (const ps of part.gParams) for (const p of ps) if (p) transfer.push(p.buffer as ArrayBuffer);
  for (const p of part.gTs) if (p) transfer.push(p.buffer as ArrayBuffer);
  return { result: part, transfer };
}

// ---------------------------------------------------------------- the calling side

let calls = 0;

function sumStats(all: readonly OdeStats[]): OdeStats {
  const first = all[0]!;
  const backward = all.some((s) => s.backward) ? emptyAdjointStats(first.backward?.checkpointEvery ?? 16) : null;
  const out: OdeStats = { method: first.method, mode: first.mode, nfeForward: 0, acceptedSteps: 0, rejectedSteps: 0, nfeBackward: 0, backward };
  for (const s of all) {
    out.nfeForward += s.nfeForward;
    out.acceptedSteps += s.acceptedSteps;
    out.rejectedSteps += s.rejectedSteps;
    out.nfeBackward += s.nfeBackward;
    if (s.backward && backward) {
      for (const k of Object.keys(backward) as (keyof AdjointStats)[]) {
        if (k === 'checkpointEvery') continue;
        backward[k] = k === 'peakStoredStates' ? Math.max(backward[k], s.backward[k]) : backward[k] + s.backward[k];
      }
    }
  }
  return out;
}

/**
 * `odeint` with the batch cut into step groups of `group` items (checked by the caller: y0
 * [B, ...] with B > group), each with its own adaptive steps; the groups split over `threads`
 * threads (odeGroupThreadCount). stats sum the groups' counts, and `groups` lists each group's.
 */
export function odeintGroups(f: OdeFunc, y0: Tensor, tsT: Tensor, params: readonly Tensor[], opts: OdeOptions, group: number, threads: number): OdeSolution {
  const B = y0.shape[0]!;
  const G = Math.ceil(B / group);
  const T = tsT.size;
  const row = rowSize(y0.shape);
  const inputs = [y0, ...params, tsT];
  const onTape = isGradEnabled() && anyNeedsGrad(inputs);
  const want: Want = { y0: onTape && y0.requiresGrad, params: params.map((p) => onTape && p.requiresGrad), ts: onTape && tsT.requiresGrad };
  const { stepGroup: _g, threads: _t, ...inner } = opts;
  // numbers and strings only: the options cross to the workers
  const settings = Object.fromEntries(Object.entries(inner).filter(([, v]) => typeof v !== 'object' && typeof v !== 'function')) as OdeOptions;
  const bounds: number[] = [];
  for (let t = 0; t <= threads; t++) bounds.push(Math.round((t * G) / threads));
  const spec = (g0: number, g1: number): GroupSpec => ({
    y0: y0.data,
    shape: [...y0.shape],
    ts: tsT.data,
    params: params.map((p) => ({ data: p.data, shape: [...p.shape] })),
    opts: settings,
    group,
    g0,
    g1,
    want,
  });
  const src = threads > 1 ? sourceOf(f)! : null;
  const id = `${process.pid}.${++calls}`;
  const jobs = (fn: string, g: Float64Array | undefined): WorkerJob[] => {
    const out: WorkerJob[] = [];
    for (let t = 1; t < threads; t++) {
      const s = spec(bounds[t]!, bounds[t + 1]!);
      const [start] = itemRange(s, s.g0);
      const end = itemRange(s, s.g1 - 1)[1];
      const gRows = g ? sliceItems(g, T, B, row, start, end) : undefined;
      const payload: Payload = { src: src!, spec: s, id, g: gRows, T, start, end };
      out.push({ module: import.meta.url, fn, payload, start, end });
    }
    return out;
  };
  let localSolved: Solved[] = [];
  const [first, rest] = runOnWorkers<ForwardPart, ForwardPart>(
    () => {
      localSolved = solveGroups(f, spec(0, bounds[1]!));
      return { y: joinY(localSolved, T, row), stats: localSolved.map((s) => s.stats) };
    },
    jobs('odeGroupsForward', undefined),
    'odeint',
  );
  const parts = [first, ...rest];
  const Y = new Float64Array(T * B * row);
  let off = 0;
  for (const p of parts) {
    const n = p.y.length / T;
    for (let t = 0; t < T; t++) Y.set(p.y.subarray(t * n, (t + 1) * n), t * B * row + off);
    off += n;
  }
  const groupStats = parts.flatMap((p) => p.stats);
  const stats = { ...sumStats(groupStats), groups: groupStats };
  const out = new Tensor(Y, [T, ...y0.shape]);
  if (!onTape) return { y: out, stats };
  recordN('odeint.groups', inputs, [out], ([g]) => {
    if (!g) return inputs.map(() => null);
    if (isGradEnabled())
      throw new Error('odeint: the adjoint gives first-order gradients only (a recorded reverse pass through stepGroup groups is not supported)');
    const firstRows = itemRange(spec(0, bounds[1]!), bounds[1]! - 1)[1];
    if (!localSolved.length) localSolved = solveGroups(f, spec(0, bounds[1]!)); // a second reverse pass
    const [b0, brest] = runOnWorkers<BackwardPart, BackwardPart>(
      () => backwardGroups(localSolved, sliceItems(g.data, T, B, row, 0, firstRows), T, row, want, spec(0, bounds[1]!)),
      jobs('odeGroupsBackward', g.data),
      'odeint',
    );
    localSolved = [];
    const bparts = [b0, ...brest];
    const all = bparts.flatMap((p) => p.stats);
    Object.assign(stats, sumStats(all), { groups: all });
    let gy0: Tensor | null = null;
    if (want.y0) {
      const d = new Float64Array(y0.size);
      let o = 0;
      for (const p of bparts) {
        d.set(p.gy0!, o);
        o += p.gy0!.length;
      }
      gy0 = new Tensor(d, y0.shape);
    }
    // the shared inputs' gradients: added group by group, in group order
    const addUp = (pick: (p: BackwardPart) => (Float64Array | null)[], size: number, shape: readonly number[]): Tensor => {
      let acc: Float64Array | null = null;
      for (const p of bparts)
        for (const v of pick(p)) {
          if (!v) continue;
          if (!acc) acc = Float64Array.from(v);
          else for (let i = 0; i < size; i++) acc[i] = acc[i]! + v[i]!;
        }
      return new Tensor(acc ?? new Float64Array(size), shape);
    };
    const gParams = params.map((p, k) => (want.params[k] ? addUp((bp) => bp.gParams.map((gp) => gp[k]!), p.size, p.shape) : null));
    const gTs = want.ts ? addUp((bp) => bp.gTs, tsT.size, tsT.shape) : null;
    return [gy0, ...gParams, gTs];
  });
  return { y: out, stats };
}

/** Items [start, end) of a [T, B, row] array, as [T, end - start, row]. */
function sliceItems(a: Float64Array, T: number, B: number, row: number, start: number, end: number): Float64Array {
  const n = (end - start) * row;
  const out = new Float64Array(T * n);
  for (let t = 0; t < T; t++) out.set(a.subarray((t * B + start) * row, (t * B + end) * row), t * n);
  return out;
}
