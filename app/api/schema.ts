// The request schemas of the app API (app/api), shared by both shells: the web server validates
// HTTP bodies and the Electron main process validates IPC messages with exactly these zod schemas
// before they reach the backend. A request is `{ method, ...params }`, a discriminated union on
// `method`; every object is strict (unknown keys are refused) and every number is bounded.
// The kinds of runs the UI can start are the list RUN_KINDS: adding one is one entry there plus
// its argv builder in runs.ts.

import { z } from 'zod';
import { ApiError } from './errors.ts';

const id = z.string().min(1).max(64);
const path = z.string().min(1).max(4096);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** A trajectory inside an opened file: the file's id and, for logs, its topic or `tf:parent->child`. */
export const trajectoryRefSchema = z.strictObject({ id, source: z.string().min(1).max(512).optional() });

/** Alignment modes of `impulse eval` (`--align`). */
export const ALIGN_MODES = ['se3', 'sim3', 'scale', 'none'] as const;

/** Arguments of each run kind the UI can start (strict: unknown keys refused). */
export const RUN_KINDS = {
  /** `impulse sim run` on a bundled scene file, writing body `body`'s poses. */
  sim: z.strictObject({
    scene: z.enum(['box-slide', 'bounce', 'tracked-robot']),
    steps: z.number().int().min(1).max(100000).optional(),
    dt: z.number().positive().max(1).optional(),
    body: z.number().int().min(0).max(1000).optional(),
  }),
  /** `impulse mpc <experiment>`. */
  mpc: z.strictObject({
    experiment: z.enum(['imitate-pendulum', 'imitate-cartpole', 'drone', 'terrain-robot']),
    epochs: z.number().int().min(1).max(10000).optional(),
    steps: z.number().int().min(1).max(10000).optional(),
  }),
  /** `impulse train <task>` (writes a run folder; its history.json feeds the live loss plot). */
  train: z.strictObject({
    task: z.enum(['ego-kitti', 'ego', 'ego-terrain']),
    epochs: z.number().int().min(1).max(100000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
  }),
} as const;

/** Names of the run kinds. */
export type RunKind = keyof typeof RUN_KINDS;
/** The run kinds, in display order. */
export const RUN_KIND_NAMES = Object.keys(RUN_KINDS) as RunKind[];

const req = <M extends string, S extends z.ZodRawShape>(method: M, shape: S) => z.strictObject({ method: z.literal(method), ...shape });

/** Every request of the API. */
export const requestSchema = z.discriminatedUnion('method', [
  /** Opens a trajectory (TUM/KITTI/EuRoC/MonoForce/JSON), prediction file, MCAP log or run folder by path. */
  req('openFile', { path, timesFile: path.optional() }),
  /** Opens a file the renderer uploaded (web mode drag and drop): name and base64 content. */
  req('uploadFile', { name: z.string().min(1).max(255), data: z.string().max(400_000_000) }),
  req('closeFile', { id }),
  req('listRecent', {}),
  req('listOpen', {}),
  /** Details of an opened file: log summary and density, trajectory stats, run contents. */
  req('summarize', { id, bins: z.number().int().min(1).max(10000).optional() }),
  /** Poses of a trajectory (positions relative to `origin`, packed). */
  req('trajectory', { ref: trajectoryRefSchema, maxPoints: z.number().int().min(2).max(10_000_000).optional() }),
  /** APE or RPE of `est` against `ref`, with the options of `impulse eval`. */
  req('metrics', {
    ref: trajectoryRefSchema,
    est: trajectoryRefSchema,
    metric: z.enum(['ape', 'rpe']).optional(),
    align: z.enum(ALIGN_MODES).optional(),
    alignOrigin: z.boolean().optional(),
    nAlign: z.number().int().min(-1).optional(),
    maxDiff: z.number().positive().optional(),
    offset: finite.optional(),
    relation: z.enum(['trans', 'rot-deg', 'rot-rad', 'rot', 'full']).optional(),
    delta: z.number().positive().optional(),
    deltaUnit: z.enum(['f', 'm', 'deg', 'rad']).optional(),
  }),
  /** Prediction sets of a prediction file, run folder or log topic (packed, with per-set errors). */
  req('predictions', { id, source: z.string().min(1).max(512).optional(), maxSets: z.number().int().min(1).max(1_000_000).optional() }),
  /** ADE / FDE / miss rate of one prediction label, and error vs horizon. */
  req('predictionMetrics', {
    id,
    source: z.string().min(1).max(512).optional(),
    label: z.string().min(1).max(256),
    horizons: z.array(z.number().positive()).min(1).max(64).optional(),
    missThreshold: z.number().positive().optional(),
  }),
  /** Training history of a run folder (history.json). */
  req('history', { id }),
  /** Terrain maps of a run folder (terrain/*.json, Foxglove Grid JSON). */
  req('terrain', { id }),
  req('runKinds', {}),
  req('startRun', { kind: z.enum(RUN_KIND_NAMES as [RunKind, ...RunKind[]]), args: z.record(z.string(), z.unknown()).optional() }),
  req('cancelRun', { runId: id }),
  req('listRuns', {}),
]);

/** A validated request. */
export type ApiRequest = z.infer<typeof requestSchema>;
/** The method names. */
export type ApiMethod = ApiRequest['method'];
/** The method names, as a list. */
export const API_METHODS: readonly ApiMethod[] = requestSchema.options.map((o) => o.shape.method.value);

/** A zod issue path as `a.b[2].c`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Formats the first issue of a zod error as `field: problem`. */
export function describeIssue(err: z.ZodError, prefix = ''): string {
  const issue = err.issues[0]!;
  let where = issuePath(issue.path);
  if (issue.code === 'unrecognized_keys') where = issuePath([...issue.path, issue.keys[0]!]);
  const field = prefix && where ? `${prefix}.${where}` : prefix || where || '(request)';
  const msg = issue.code === 'unrecognized_keys' ? `unknown field (allowed: see the API schema)` : issue.message;
  return `${field}: ${msg}`;
}

/** Validates a request; throws an ApiError('invalid-request') naming the field at fault. */
export function parseRequest(raw: unknown): ApiRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ApiError('invalid-request', 'request: must be an object with a method');
  const method = (raw as { method?: unknown }).method;
  if (typeof method !== 'string') throw new ApiError('invalid-request', 'method: must be a string');
  if (!(API_METHODS as readonly string[]).includes(method))
    throw new ApiError('invalid-request', `method: unknown method '${method.slice(0, 64)}' (known: ${API_METHODS.join(', ')})`);
  const r = requestSchema.safeParse(raw);
  if (!r.success) throw new ApiError('invalid-request', `${method}: ${describeIssue(r.error)}`);
  return r.data;
}

/** Validates the arguments of a run kind; the error names `args.<field>`. */
export function parseRunArgs<K extends RunKind>(kind: K, args: unknown): z.infer<(typeof RUN_KINDS)[K]> {
  const r = RUN_KINDS[kind].safeParse(args ?? {});
  if (!r.success) throw new ApiError('invalid-request', `startRun: ${describeIssue(r.error, 'args')}`);
  return r.data as z.infer<(typeof RUN_KINDS)[K]>;
}

/**
 * The request of a `(method, params)` pair as the Electron preload sends it
 * (`window.impulse.call(method, params)`): `{ ...params, method }`. Params must be a plain object
 * (or undefined); the result still goes through {@link parseRequest}.
 */
export function toRequest(method: unknown, params: unknown): unknown {
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
    throw new ApiError('invalid-request', `params: must be an object, got ${Array.isArray(params) ? 'an array' : params === null ? 'null' : typeof params}`);
  return { ...(params as Record<string, unknown> | undefined), method };
}
