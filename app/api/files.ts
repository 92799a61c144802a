// Opening files for the app API (app/api): what a path holds (trajectory text/JSON file, prediction
// file, MCAP log, run folder) and the loaders behind the `openFile`, `summarize`, `trajectory`,
// `predictions`, `history` and `terrain` calls. Logs stay open and are read through the data
// layer's streaming reader (index, chunk by chunk): a 1 GB MCAP is never loaded whole.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import {
  DecoderCache,
  FormatError,
  McapLog,
  Trajectory,
  POSE_SCHEMAS,
  TF_SCHEMAS,
  detectFormat,
  extractTrajectory,
  normalizeSchemaName,
  nsToSec,
  parsePredictionsJson,
  poseFromMessage,
  parseTrajectoryJson,
  predictionLabels,
  readPredictionSamples,
  readTrajectory,
  type PredictionsJson,
  type TrajectoryFormat,
} from '../../data/index.ts';
import { ApiError, toApiError } from './errors.ts';
import { pack, type Packed } from './packed.ts';
import { describeIssue } from './schema.ts';

/** What an opened path holds. */
export type OpenedKind = 'trajectory' | 'predictions' | 'mcap' | 'run';

interface Base {
  id: string;
  path: string;
  name: string;
}
/** A trajectory file (TUM, KITTI, EuRoC, MonoForce, JSON), read whole (text formats are small). */
export interface OpenedTrajectory extends Base {
  kind: 'trajectory';
  format: TrajectoryFormat;
  traj: Trajectory;
}
/** An impulse.predictions JSON file. */
export interface OpenedPredictions extends Base {
  kind: 'predictions';
  preds: PredictionsJson;
}
/** An MCAP log, open for streaming reads. */
export interface OpenedLog extends Base {
  kind: 'mcap';
  log: McapLog;
  /** Trajectories already extracted, by source (topic or tf:parent->child). */
  cache: Map<string, Trajectory>;
}
/** A run folder (docs/RUNS.md) or a run started from the app. */
export interface OpenedRun extends Base {
  kind: 'run';
  files: string[];
  predsCache?: PredictionsJson;
}
/** Any opened file. */
export type Opened = OpenedTrajectory | OpenedPredictions | OpenedLog | OpenedRun;

const RUN_FILES = ['predictions.json', 'history.json', 'metrics.json', 'config.json'];
const TRAJ_EXT = new Set(['.tum', '.txt', '.csv', '.kitti', '.json', '.mcap']);

/** Opens a path: detects what it holds and parses it (logs: index only). */
export async function openPath(path: string, id: string, opts: { timesFile?: string } = {}): Promise<Opened> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw toApiError(e, path);
  }
  const name = basename(path);
  if (st.isDirectory()) {
    const entries = readdirSync(path);
    const files = entries.filter((f) => RUN_FILES.includes(f) || f === 'terrain' || TRAJ_EXT.has(extname(f).toLowerCase()));
    if (!entries.some((f) => RUN_FILES.includes(f) || f === 'terrain' || /^trajectory\./.test(f)))
      throw new ApiError('bad-file', `${path}: not a run folder (none of ${RUN_FILES.join(', ')}, terrain/ or trajectory.* in it)`);
    return { kind: 'run', id, path, name, files: files.sort() };
  }
  if (!st.isFile()) throw new ApiError('bad-file', `${path}: not a regular file`);
  if (st.size === 0) throw new ApiError('bad-file', `${path}: empty file`);
  const head = new Uint8Array(8192);
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw toApiError(e, path);
  });
  let n: number;
  try {
    n = (await fh.read(head, 0, head.length, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  try {
    const format = detectFormat(path, head.subarray(0, n));
    if (format === 'mcap') return { kind: 'mcap', id, path, name, log: await McapLog.open(path), cache: new Map() };
    if (format === 'json') {
      const text = readFileSync(path, 'utf8');
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new ApiError('bad-file', `${path}: invalid JSON: ${(e as Error).message}`);
      }
      const fmt = (raw as { format?: unknown } | null)?.format;
      if (fmt === 'impulse.predictions') return { kind: 'predictions', id, path, name, preds: parsePredictionsJson(text, path) };
      if (fmt === 'impulse.trajectory') return { kind: 'trajectory', id, path, name, format, traj: parseTrajectoryJson(text, path) };
      throw new ApiError(
        'bad-file',
        `${path}: JSON file with format ${fmt === undefined ? '(none)' : JSON.stringify(fmt)}; the app opens 'impulse.trajectory' and 'impulse.predictions' JSON (open a run folder for history/metrics)`,
      );
    }
    const traj = await readTrajectory(path, { format, timesFile: opts.timesFile });
    if (traj.length === 0) throw new ApiError('bad-file', `${path}: no poses`);
    return { kind: 'trajectory', id, path, name, format, traj };
  } catch (e) {
    throw toApiError(e, path);
  }
}

/** Bounding box of packed positions (3 per point), ignoring NaN. */
function bbox(p: ArrayLike<number>, origin: number[]): { min: number[]; max: number[] } {
  const min = [Infinity, Infinity, Infinity],
    max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 2 < p.length; i += 3)
    for (let k = 0; k < 3; k++) {
      const v = p[i + k]!;
      if (!Number.isFinite(v)) continue;
      if (v + origin[k]! < min[k]!) min[k] = v + origin[k]!;
      if (v + origin[k]! > max[k]!) max[k] = v + origin[k]!;
    }
  return { min, max };
}

/** An origin near the data (rounded to 1 m), so float32 offsets keep millimetres far from 0. */
function originOf(p: ArrayLike<number>): [number, number, number] {
  if (p.length < 3) return [0, 0, 0];
  return [Math.round(p[0]!), Math.round(p[1]!), Math.round(p[2]!)];
}

/** The trajectory response: float32 positions relative to `origin`, quaternions, float64 times. */
export interface TrajectoryData {
  name: string;
  source: string;
  count: number;
  /** Pose times (s): the file's timestamps (log time for MCAP topics), or frame index / 10 (KITTI's 10 Hz) when it has none. */
  times: Packed;
  timeSource: 'stamps' | 'log' | 'index';
  origin: [number, number, number];
  positions: Packed;
  quaternions: Packed;
  bbox: { min: number[]; max: number[] };
  pathLength: number;
  frameId: string;
}

/** Packs a trajectory, decimated to at most `maxPoints` poses (evenly, keeping the last). */
export function trajectoryData(traj: Trajectory, source: string, maxPoints?: number, logClock = false): TrajectoryData {
  const n = traj.length;
  const step = maxPoints && n > maxPoints ? Math.ceil(n / maxPoints) : 1;
  const idx: number[] = [];
  for (let i = 0; i < n; i += step) idx.push(i);
  if (idx[idx.length - 1] !== n - 1) idx.push(n - 1);
  const all = traj.positions();
  const origin = originOf(all);
  const m = idx.length;
  const pos = new Float32Array(3 * m),
    quat = new Float32Array(4 * m),
    times = new Float64Array(m);
  idx.forEach((i, j) => {
    for (let k = 0; k < 3; k++) pos[3 * j + k] = all[3 * i + k]! - origin[k]!;
    const q = traj.quaternion(i);
    quat.set(q, 4 * j);
    times[j] = traj.timestamps ? traj.timestamps[i]! : i / 10;
  });
  return {
    name: traj.name || basename(traj.source || source),
    source,
    count: m,
    times: pack(times, 'f64'),
    timeSource: traj.timestamps ? (logClock ? 'log' : 'stamps') : 'index',
    origin,
    positions: pack(pos, 'f32'),
    quaternions: pack(quat, 'f32'),
    bbox: bbox(pos, origin),
    pathLength: traj.pathLength(),
    frameId: traj.frameId,
  };
}

/**
 * Resolves a trajectory reference of an opened file (logs: a topic or `tf:parent->child`, stamped by
 * header time as `impulse eval` does, or by log time for display on the log's timeline; run
 * folders: a trajectory file in it).
 */
export async function trajectoryOf(o: Opened, source: string | undefined, stamp: 'header' | 'log' = 'header'): Promise<Trajectory> {
  if (o.kind === 'trajectory') return o.traj;
  if (o.kind === 'mcap') {
    const key = source ?? firstPoseTopic(o);
    if (!key) throw new ApiError('bad-file', `${o.path}: the log has no pose topic (${POSE_SCHEMAS.join(', ')}) or TF; name a source`);
    const hit = o.cache.get(`${stamp}:${key}`);
    if (hit) return hit;
    const tf = /^tf:(.+)->(.+)$/.exec(key);
    try {
      const t = await extractTrajectory(o.log, tf ? { tf: { parent: tf[1]!, child: tf[2]! }, stamp } : { topic: key, stamp });
      o.cache.set(`${stamp}:${key}`, t);
      return t;
    } catch (e) {
      throw toApiError(e, o.path);
    }
  }
  if (o.kind === 'run') {
    const f = source ?? o.files.find((x) => /^trajectory\./.test(x));
    if (!f || !o.files.includes(f))
      throw new ApiError('not-found', `${o.path}: no trajectory file${source ? ` '${source}'` : ''} in the run folder (files: ${o.files.join(', ')})`);
    try {
      return await readTrajectory(join(o.path, f));
    } catch (e) {
      throw toApiError(e, join(o.path, f));
    }
  }
  throw new ApiError('invalid-request', `${o.path}: a prediction file holds prediction sets, not a trajectory; use the 'predictions' call`);
}

/**
 * The poses of a log topic for display, at most about `maxPoints` of them, on log time: only every
 * k-th message is decoded (k from the index's message count), so a topic of millions of messages
 * in a 1 GB log is read with bounded memory and a fraction of the decoding.
 */
export async function streamLogTrajectory(o: OpenedLog, topic: string, maxPoints: number): Promise<Trajectory> {
  const summary = await o.log.summary();
  const count = summary.channels.filter((c) => c.topic === topic).reduce((a, c) => a + c.messageCount, 0);
  if (count === 0) return trajectoryOf(o, topic, 'log');
  const k = Math.max(1, Math.ceil(count / maxPoints));
  const dec = new DecoderCache(o.log);
  const pos: number[] = [],
    quat: number[] = [],
    times: number[] = [];
  let frameId = '',
    i = 0;
  let last: { m: Parameters<DecoderCache['decode']>[0]; taken: boolean } | null = null;
  const take = (m: Parameters<DecoderCache['decode']>[0]): void => {
    const p = poseFromMessage(m.schemaName, dec.decode(m));
    if (!p) throw new FormatError(`topic '${topic}' has schema '${m.schemaName}', which carries no pose`, { file: o.path });
    pos.push(...p.position);
    quat.push(...p.orientation);
    times.push(nsToSec(m.logTime));
    frameId ||= p.frameId;
  };
  for await (const batch of o.log.batches({ topics: [topic] })) {
    for (const m of batch) {
      const taken = i % k === 0;
      if (taken) take(m);
      last = { m, taken };
      i++;
    }
  }
  if (last && !last.taken) take(last.m);
  if (times.length === 0) throw new FormatError(`topic '${topic}' has no messages`, { file: o.path });
  return Trajectory.fromPositionsQuaternions(pos, quat, { timestamps: Float64Array.from(times), name: topic, frameId, source: o.path });
}

function channelSchemas(o: OpenedLog): { topic: string; schema: string }[] {
  return [...o.log.channels.values()].map((c) => ({ topic: c.topic, schema: normalizeSchemaName(o.log.schemaOf(c)?.name ?? '') }));
}

function firstPoseTopic(o: OpenedLog): string | undefined {
  return channelSchemas(o).find((c) => (POSE_SCHEMAS as readonly string[]).includes(c.schema))?.topic;
}

/** Messages over time: exact counts for logs up to 64 MB, else spread from the chunk index (bytes per chunk over its time range). */
async function logDensity(o: OpenedLog, start: bigint, end: bigint, bins: number): Promise<{ counts: Packed; method: 'exact' | 'chunk-index' }> {
  const span = Number(end - start) || 1;
  const counts = new Float64Array(bins);
  const binOf = (t: bigint): number => Math.min(bins - 1, Math.max(0, Math.floor((Number(t - start) / span) * bins)));
  if (o.log.size <= 64 << 20) {
    for await (const batch of o.log.batches({})) for (const m of batch) counts[binOf(m.logTime)]!++;
    return { counts: pack(counts, 'f64'), method: 'exact' };
  }
  const summary = await o.log.summary();
  let total = 0;
  for (const b of o.log.blockList()) {
    total += b.length;
    const a = binOf(b.startTime),
      z = binOf(b.endTime);
    for (let i = a; i <= z; i++) counts[i]! += b.length / (z - a + 1);
  }
  const scale = total > 0 ? summary.messageCount / total : 0;
  for (let i = 0; i < bins; i++) counts[i]! *= scale;
  return { counts: pack(counts, 'f64'), method: 'chunk-index' };
}

/** The `summarize` response of a log. */
export async function summarizeLog(o: OpenedLog, bins: number): Promise<Record<string, unknown>> {
  try {
    const s = await o.log.summary();
    const schemas = channelSchemas(o);
    const kindOf = (schema: string): string =>
      (POSE_SCHEMAS as readonly string[]).includes(schema)
        ? 'pose'
        : (TF_SCHEMAS as readonly string[]).includes(schema)
          ? 'tf'
          : schema === 'impulse.PredictionSet'
            ? 'predictions'
            : schema === 'foxglove.Grid'
              ? 'grid'
              : 'other';
    const density = s.startTime !== null && s.endTime !== null ? await logDensity(o, s.startTime, s.endTime, bins) : null;
    return {
      kind: 'mcap',
      bytes: s.bytes,
      indexed: s.indexed,
      profile: s.profile,
      messageCount: s.messageCount,
      startTime: s.startTime === null ? null : nsToSec(s.startTime),
      endTime: s.endTime === null ? null : nsToSec(s.endTime),
      durationSec: s.durationSec,
      chunkCount: s.chunkCount,
      channels: s.channels.map((c) => ({ ...c, kind: kindOf(schemas.find((x) => x.topic === c.topic)?.schema ?? '') })),
      poseTopics: schemas.filter((c) => kindOf(c.schema) === 'pose').map((c) => c.topic),
      predictionTopics: schemas.filter((c) => kindOf(c.schema) === 'predictions').map((c) => c.topic),
      density: density ? { bins, ...density } : null,
    };
  } catch (e) {
    throw toApiError(e, o.path);
  }
}

/** The prediction sets of an opened file (prediction file, run folder's predictions.json, or a log topic). */
export async function predictionsOf(o: Opened, source: string | undefined): Promise<PredictionsJson> {
  if (o.kind === 'predictions') return o.preds;
  if (o.kind === 'run') {
    if (o.predsCache) return o.predsCache;
    if (!o.files.includes('predictions.json')) throw new ApiError('not-found', `${o.path}: the run folder has no predictions.json`);
    const f = join(o.path, 'predictions.json');
    try {
      o.predsCache = parsePredictionsJson(readFileSync(f, 'utf8'), f);
    } catch (e) {
      throw toApiError(e, f);
    }
    return o.predsCache;
  }
  if (o.kind === 'mcap') {
    const topic = source ?? channelSchemas(o).find((c) => c.schema === 'impulse.PredictionSet')?.topic;
    if (!topic) throw new ApiError('not-found', `${o.path}: the log has no impulse.PredictionSet topic`);
    try {
      const samples = await readPredictionSamples(o.log, topic);
      return {
        format: 'impulse.predictions',
        version: 1,
        sets: samples.map((s) => {
          const pts = (a: Float64Array): number[][] => Array.from({ length: a.length / 3 }, (_, i) => [a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!]);
          return {
            t0: s.t0,
            times: Array.from(s.times),
            gt: pts(s.gt),
            predictions: s.predictions.map((p, k) => ({ label: `prediction ${k}`, positions: pts(p) })),
          };
        }),
      };
    } catch (e) {
      throw toApiError(e, o.path);
    }
  }
  throw new ApiError('invalid-request', `${o.path}: a trajectory file holds no prediction sets`);
}

/** Packs prediction sets for drawing: per-set offsets, t0, times, ground truth and every label's positions, and per-set final errors. */
export function predictionsData(p: PredictionsJson, maxSets?: number): Record<string, unknown> {
  const labels = predictionLabels(p);
  let sets = p.sets;
  if (maxSets && sets.length > maxSets) {
    const step = sets.length / maxSets;
    sets = Array.from({ length: maxSets }, (_, i) => p.sets[Math.floor(i * step)]!);
  }
  const first = sets[0]?.gt[0] ?? p.ground_truth?.positions[0] ?? [0, 0, 0];
  const origin = originOf(first);
  let total = 0;
  const offsets = new Int32Array(sets.length + 1);
  sets.forEach((s, i) => {
    offsets[i] = total;
    total += s.times.length;
  });
  offsets[sets.length] = total;
  const t0 = new Float64Array(sets.length),
    times = new Float32Array(total),
    gt = new Float32Array(3 * total);
  const byLabel = labels.map(() => ({
    positions: new Float32Array(3 * total).fill(NaN),
    fde: new Float32Array(sets.length).fill(NaN),
    ade: new Float32Array(sets.length).fill(NaN),
  }));
  sets.forEach((s, i) => {
    t0[i] = s.t0;
    const o = offsets[i]!;
    s.times.forEach((t, j) => {
      times[o + j] = t;
      for (let k = 0; k < 3; k++) gt[3 * (o + j) + k] = s.gt[j]![k]! - origin[k]!;
    });
    for (const q of s.predictions) {
      const L = byLabel[labels.indexOf(q.label)]!;
      let sum = 0,
        d = 0;
      q.positions.forEach((pt, j) => {
        for (let k = 0; k < 3; k++) L.positions[3 * (o + j) + k] = pt[k]! - origin[k]!;
        const g = s.gt[j]!;
        d = Math.hypot(pt[0]! - g[0]!, pt[1]! - g[1]!, pt[2]! - g[2]!);
        sum += d;
      });
      L.fde[i] = d;
      L.ade[i] = sum / Math.max(1, q.positions.length);
    }
  });
  const allPos = Float32Array.from(gt);
  const gtPath = p.ground_truth
    ? {
        times: pack(p.ground_truth.times, 'f64'),
        positions: pack(
          p.ground_truth.positions.flatMap((q) => q.map((v, k) => v - origin[k]!)),
          'f32',
        ),
      }
    : null;
  return {
    name: p.name ?? '',
    setCount: sets.length,
    totalSets: p.sets.length,
    pointCount: total,
    labels,
    origin,
    offsets: pack(offsets, 'i32'),
    t0: pack(t0, 'f64'),
    times: pack(times, 'f32'),
    gt: pack(gt, 'f32'),
    predictions: byLabel.map((L, k) => ({ label: labels[k], positions: pack(L.positions, 'f32'), fde: pack(L.fde, 'f32'), ade: pack(L.ade, 'f32') })),
    groundTruth: gtPath,
    bbox: bbox(allPos, origin),
  };
}

const historySchema = z.object({
  epochs: z.array(
    z.looseObject({
      model: z.string().optional(),
      epoch: z.number().int().nonnegative(),
      trainLoss: z.number().nullable().optional(),
      valAde: z.number().nullable().optional(),
      valFde: z.number().nullable().optional(),
      seconds: z.number().optional(),
    }),
  ),
});

/** history.json of a run folder (validated; the error names the JSON path). */
export function readHistory(dir: string): z.infer<typeof historySchema> {
  const f = join(dir, 'history.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw toApiError(e instanceof SyntaxError ? new Error(`invalid JSON: ${e.message}`) : e, f);
  }
  const r = historySchema.safeParse(raw);
  if (!r.success) throw new ApiError('bad-file', `${f}: ${describeIssue(r.error)}`);
  return r.data;
}

const gridSchema = z.looseObject({
  column_count: z.number().int().positive(),
  cell_size: z.object({ x: z.number().positive(), y: z.number().positive() }),
  row_stride: z.number().int().positive(),
  cell_stride: z.number().int().positive(),
  fields: z.array(z.object({ name: z.string(), offset: z.number().int().nonnegative(), type: z.number().int() })).min(1),
  data: z.string(),
  pose: z.looseObject({ position: z.object({ x: z.number(), y: z.number(), z: z.number() }) }).optional(),
});

/** One terrain grid: its layers (height, friction, stiffness, gradients...) as packed float32 with ranges. */
export interface TerrainGrid {
  name: string;
  columns: number;
  rows: number;
  cellSize: [number, number];
  origin: [number, number, number];
  layers: { name: string; values: Packed; min: number; max: number }[];
}

/** Reads a Foxglove Grid JSON file (float32/float64 fields). */
export function readGrid(file: string): TerrainGrid {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw toApiError(e instanceof SyntaxError ? new Error(`invalid JSON: ${e.message}`) : e, file);
  }
  const r = gridSchema.safeParse(raw);
  if (!r.success) throw new ApiError('bad-file', `${file}: ${describeIssue(r.error)}`);
  const g = r.data;
  const bytes = Buffer.from(g.data, 'base64');
  const rows = Math.floor(bytes.length / g.row_stride);
  if (rows * g.row_stride !== bytes.length)
    throw new ApiError('bad-file', `${file}: field 'data' has ${bytes.length} bytes, not a multiple of row_stride ${g.row_stride}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const layers = g.fields.map((f, fi) => {
    if (f.type !== 7 && f.type !== 8)
      throw new ApiError('bad-file', `${file}: fields[${fi}] ('${f.name}') has type ${f.type}; the app reads FLOAT32 (7) and FLOAT64 (8)`);
    const size = f.type === 7 ? 4 : 8;
    if (f.offset + size > g.cell_stride)
      throw new ApiError('bad-file', `${file}: fields[${fi}].offset ${f.offset} does not fit in cell_stride ${g.cell_stride}`);
    const v = new Float32Array(rows * g.column_count);
    let min = Infinity,
      max = -Infinity;
    for (let rr = 0; rr < rows; rr++)
      for (let c = 0; c < g.column_count; c++) {
        const o = rr * g.row_stride + c * g.cell_stride + f.offset;
        const x = f.type === 7 ? dv.getFloat32(o, true) : dv.getFloat64(o, true);
        v[rr * g.column_count + c] = x;
        if (Number.isFinite(x)) {
          if (x < min) min = x;
          if (x > max) max = x;
        }
      }
    return { name: f.name, values: pack(v, 'f32'), min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
  });
  const p = g.pose?.position ?? { x: 0, y: 0, z: 0 };
  return { name: basename(file, '.json'), columns: g.column_count, rows, cellSize: [g.cell_size.x, g.cell_size.y], origin: [p.x, p.y, p.z], layers };
}

/** Terrain grids of a run folder: terrain/*.json. */
export function readTerrain(o: OpenedRun): TerrainGrid[] {
  if (!o.files.includes('terrain')) return [];
  const dir = join(o.path, 'terrain');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readGrid(join(dir, f)));
}

/** The `summarize` response of a run folder. */
export function summarizeRun(o: OpenedRun): Record<string, unknown> {
  const readJson = (f: string): unknown => {
    if (!o.files.includes(f)) return null;
    try {
      return JSON.parse(readFileSync(join(o.path, f), 'utf8'));
    } catch (e) {
      throw toApiError(e instanceof SyntaxError ? new Error(`invalid JSON: ${e.message}`) : e, join(o.path, f));
    }
  };
  return {
    kind: 'run',
    files: o.files,
    config: readJson('config.json'),
    metrics: readJson('metrics.json'),
    hasPredictions: o.files.includes('predictions.json'),
    hasHistory: o.files.includes('history.json'),
    hasTerrain: o.files.includes('terrain'),
    // trajectory files a run wrote (`trajectory.*` from the app's runs, or plain trajectory text files)
    trajectories: o.files.filter((f) => /^trajectory\./.test(f) || ['.tum', '.txt', '.csv', '.kitti'].includes(extname(f).toLowerCase())),
  };
}
