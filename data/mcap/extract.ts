// Trajectories from logs (data/, bottom layer): poses from nav_msgs/Odometry, geometry_msgs/PoseStamped,
// geometry_msgs/PoseWithCovarianceStamped and foxglove.PoseInFrame messages, transforms from
// tf2_msgs/TFMessage and foxglove.FrameTransform(s) into a TfBuffer, a streaming per-trajectory summary
// (count, length, endpoints), and the Impulse prediction sets back as samples for the metrics.

import { FormatError, MessageDecodeError, TfLookupError } from '../errors.ts';
import { TfBuffer, type TransformStamped } from '../tf.ts';
import { Trajectory } from '../trajectory.ts';
import { DecoderCache } from './decode.ts';
import { McapLog, nsToSec, type LogMessage, type MessageFilter } from './reader.ts';
import { fastPoseReader, fastTfReader, guardFast, hasStandardLayout } from './fastpose.ts';
import type { PredictionSample } from '../metrics/prediction.ts';

/** One pose read from a message. Times are integer nanoseconds. */
export interface PoseSample {
  stampNs: bigint;
  frameId: string;
  childFrameId: string;
  position: [number, number, number];
  orientation: [number, number, number, number];
  velocity?: [number, number, number];
  angularVelocity?: [number, number, number];
}

/** A transform read from a message, with its stamp in nanoseconds. */
export interface TransformSample extends TransformStamped {
  stampNs: bigint;
}

/** Schema names (ROS 2 `pkg/msg/Type` or `pkg/Type`, Foxglove names) that carry one pose per message. */
export const POSE_SCHEMAS = ['nav_msgs/Odometry', 'geometry_msgs/PoseStamped', 'geometry_msgs/PoseWithCovarianceStamped', 'foxglove.PoseInFrame'] as const;
/** Schema names that carry transforms. */
export const TF_SCHEMAS = ['tf2_msgs/TFMessage', 'foxglove.FrameTransform', 'foxglove.FrameTransforms'] as const;

/** `pkg/msg/Type` -> `pkg/Type`. */
export function normalizeSchemaName(name: string): string {
  return name.replace('/msg/', '/');
}

type Obj = Record<string, unknown>;

class FieldError extends Error {}

function get(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') throw new FieldError(`missing field '${path}'`);
    cur = (cur as Obj)[k];
  }
  if (cur === undefined) throw new FieldError(`missing field '${path}'`);
  return cur;
}

function num(o: unknown, path: string): number {
  const v = get(o, path);
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new FieldError(`field '${path}' is ${String(v)}, not a finite number`);
  return x;
}

function str(o: unknown, path: string): string {
  const v = get(o, path);
  if (typeof v !== 'string') throw new FieldError(`field '${path}' is not a string`);
  return v;
}

function stampNs(o: unknown, path: string): bigint {
  const sec = num(o, `${path}.sec`);
  const st = get(o, path) as Obj;
  const ns = 'nanosec' in st ? num(o, `${path}.nanosec`) : num(o, `${path}.nsec`);
  if (!Number.isInteger(sec) || !Number.isInteger(ns)) throw new FieldError(`field '${path}' has non-integer sec/nsec`);
  return BigInt(sec) * 1000000000n + BigInt(ns);
}

function vec3(o: unknown, path: string): [number, number, number] {
  return [num(o, `${path}.x`), num(o, `${path}.y`), num(o, `${path}.z`)];
}

function quat(o: unknown, path: string): [number, number, number, number] {
  return [num(o, `${path}.x`), num(o, `${path}.y`), num(o, `${path}.z`), num(o, `${path}.w`)];
}

/** A pose read from a message at the given field paths (the child frame id is '' when its path is omitted). */
function poseAt(msg: unknown, stamp: string, frameId: string, position: string, orientation: string, childFrameId?: string): PoseSample {
  return {
    stampNs: stampNs(msg, stamp),
    frameId: str(msg, frameId),
    childFrameId: childFrameId === undefined ? '' : str(msg, childFrameId),
    position: vec3(msg, position),
    orientation: quat(msg, orientation),
  };
}

/** The pose carried by a decoded message, or undefined when its schema carries none. */
export function poseFromMessage(schemaName: string, msg: unknown): PoseSample | undefined {
  switch (normalizeSchemaName(schemaName)) {
    case 'nav_msgs/Odometry': {
      const pose = poseAt(msg, 'header.stamp', 'header.frame_id', 'pose.pose.position', 'pose.pose.orientation', 'child_frame_id');
      pose.velocity = vec3(msg, 'twist.twist.linear');
      pose.angularVelocity = vec3(msg, 'twist.twist.angular');
      return pose;
    }
    case 'geometry_msgs/PoseStamped':
      return poseAt(msg, 'header.stamp', 'header.frame_id', 'pose.position', 'pose.orientation');
    case 'geometry_msgs/PoseWithCovarianceStamped':
      return poseAt(msg, 'header.stamp', 'header.frame_id', 'pose.pose.position', 'pose.pose.orientation');
    case 'foxglove.PoseInFrame':
      return poseAt(msg, 'timestamp', 'frame_id', 'pose.position', 'pose.orientation');
    default:
      return undefined;
  }
}

/**
 * A transform read from a message at the given field paths: the stamp, the parent frame id,
 * and the prefix of `translation` and `rotation` ('transform.', or '' where they are
 * top-level). The child frame id is always `child_frame_id`.
 */
function transformAt(t: unknown, stamp: string, parent: string, prefix: string): TransformSample {
  const s = stampNs(t, stamp);
  return {
    parent: str(t, parent),
    child: str(t, 'child_frame_id'),
    stampNs: s,
    time: nsToSec(s),
    translation: vec3(t, `${prefix}translation`),
    rotation: quat(t, `${prefix}rotation`),
  };
}

/** The transforms carried by a decoded message, or undefined when its schema carries none. */
export function transformsFromMessage(schemaName: string, msg: unknown): TransformSample[] | undefined {
  const fox = (t: unknown): TransformSample => transformAt(t, 'timestamp', 'parent_frame_id', '');
  switch (normalizeSchemaName(schemaName)) {
    case 'tf2_msgs/TFMessage': {
      const list = get(msg, 'transforms');
      if (!Array.isArray(list)) throw new FieldError(`field 'transforms' is not an array`);
      return list.map((t) => transformAt(t, 'header.stamp', 'header.frame_id', 'transform.'));
    }
    case 'foxglove.FrameTransform':
      return [fox(msg)];
    case 'foxglove.FrameTransforms': {
      const list = get(msg, 'transforms');
      if (!Array.isArray(list)) throw new FieldError(`field 'transforms' is not an array`);
      return list.map(fox);
    }
    default:
      return undefined;
  }
}

function decodeError(log: McapLog, m: LogMessage, e: unknown): Error {
  if (e instanceof FieldError)
    return new MessageDecodeError(`message on '${m.topic}' (${m.schemaName}) at log time ${m.logTime}: ${e.message}`, {
      file: log.path,
      offset: m.blockOffset,
    });
  return e as Error;
}

type ChannelReader = { pose?: (m: LogMessage) => PoseSample | undefined; tf?: (m: LogMessage) => TransformSample[] | undefined };

/**
 * Reads poses and transforms from the messages of a log, per channel: straight from the CDR bytes
 * when the channel's ros2msg schema has the standard layout (fastpose.ts), else by full decoding.
 */
export class PoseExtractor {
  private readers = new Map<number, ChannelReader>();
  private dec: DecoderCache;
  constructor(private readonly log: McapLog) {
    this.dec = new DecoderCache(log);
  }

  private reader(m: LogMessage): ChannelReader {
    let r = this.readers.get(m.channelId);
    if (r) return r;
    const ch = this.log.channels.get(m.channelId)!;
    const schema = this.log.schemaOf(ch);
    const name = normalizeSchemaName(schema?.name ?? '');
    const file = this.log.path;
    if (ch.messageEncoding === 'cdr' && schema?.encoding === 'ros2msg' && hasStandardLayout(name, new TextDecoder().decode(schema.data))) {
      const fp = fastPoseReader(name);
      if (fp) {
        const g = guardFast(fp, file);
        r = { pose: (x) => g(x.data, x.topic, x.blockOffset), tf: () => undefined };
      } else if (name === 'tf2_msgs/TFMessage') {
        const g = guardFast(fastTfReader, file);
        r = { pose: () => undefined, tf: (x) => g(x.data, x.topic, x.blockOffset) };
      }
    }
    if (!r) {
      const generic = (x: LogMessage): unknown => this.dec.decode(x);
      r = {
        pose: (x) => {
          try {
            return poseFromMessage(x.schemaName, generic(x));
          } catch (e) {
            throw decodeError(this.log, x, e);
          }
        },
        tf: (x) => {
          try {
            return transformsFromMessage(x.schemaName, generic(x));
          } catch (e) {
            throw decodeError(this.log, x, e);
          }
        },
      };
    }
    this.readers.set(m.channelId, r);
    return r;
  }

  /** The pose of a message, or undefined when its schema carries none. */
  pose(m: LogMessage): PoseSample | undefined {
    return this.reader(m).pose!(m);
  }

  /** The transforms of a message, or undefined when its schema carries none. */
  transforms(m: LogMessage): TransformSample[] | undefined {
    return this.reader(m).tf!(m);
  }
}

/** Options of {@link extractTrajectory}. Exactly one of `topic` and `tf` is required. */
export interface ExtractOptions extends Omit<MessageFilter, 'topics'> {
  /** A topic with one pose per message (Odometry, PoseStamped, PoseWithCovarianceStamped, foxglove.PoseInFrame). */
  topic?: string;
  /** Pose of frame `child` in frame `parent` from the TF topics, sampled at the stamps of the child's (or the nearest dynamic) link. */
  tf?: { parent: string; child: string };
  /** Topics holding transforms (default `/tf` and `/tf_static`). */
  tfTopics?: string[];
  /** Which time stamps the poses: the message header (default, as evo) or the log time. */
  stamp?: 'header' | 'log';
}

async function withLog<T>(src: string | McapLog, fn: (log: McapLog) => Promise<T>): Promise<T> {
  if (typeof src !== 'string') return fn(src);
  const log = await McapLog.open(src);
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

/** Builds a TfBuffer from the transform topics of a log (streaming; the transforms themselves are kept). */
export async function loadTfBuffer(src: string | McapLog, opts: { topics?: string[]; start?: bigint; end?: bigint } = {}): Promise<TfBuffer> {
  return withLog(src, async (log) => {
    const buf = new TfBuffer();
    const px = new PoseExtractor(log);
    const topics = opts.topics ?? ['/tf', '/tf_static'];
    for await (const batch of log.batches({ topics, start: opts.start, end: opts.end })) {
      for (const m of batch) {
        const tfs = px.transforms(m);
        if (!tfs) throw new FormatError(`topic '${m.topic}' has schema '${m.schemaName}', which carries no transforms`, { file: log.path });
        const isStatic = m.topic.endsWith('_static');
        for (const t of tfs) buf.add(t, isStatic);
      }
    }
    return buf;
  });
}

/** Extracts a trajectory from a log: the poses of one topic, or a TF frame pair. */
export async function extractTrajectory(src: string | McapLog, opts: ExtractOptions): Promise<Trajectory> {
  return withLog(src, async (log) => {
    if ((opts.topic === undefined) === (opts.tf === undefined))
      throw new FormatError('give exactly one of a topic or a TF frame pair to extract', { file: log.path });
    if (opts.tf) return extractTf(log, opts.tf, opts);
    const topic = opts.topic!;
    const ch = [...log.channels.values()].find((c) => c.topic === topic);
    if (!ch)
      throw new FormatError(`no topic '${topic}' in the log (topics: ${[...new Set([...log.channels.values()].map((c) => c.topic))].join(', ')})`, {
        file: log.path,
      });
    const px = new PoseExtractor(log);
    const samples: PoseSample[] = [];
    const logTimes: bigint[] = [];
    for await (const batch of log.batches({ topics: [topic], start: opts.start, end: opts.end })) {
      for (const m of batch) {
        const p = px.pose(m);
        if (!p)
          throw new FormatError(`topic '${topic}' has schema '${m.schemaName}', which carries no pose (supported: ${POSE_SCHEMAS.join(', ')})`, {
            file: log.path,
          });
        samples.push(p);
        logTimes.push(m.logTime);
      }
    }
    if (samples.length === 0) throw new FormatError(`topic '${topic}' has no messages in the selected time range`, { file: log.path });
    const useLog = opts.stamp === 'log';
    const idx = samples.map((_, i) => i);
    const key = (i: number): bigint => (useLog ? logTimes[i]! : samples[i]!.stampNs);
    idx.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a - b));
    const n = samples.length;
    const pos = new Float64Array(3 * n),
      quats = new Float64Array(4 * n),
      ts = new Float64Array(n);
    const ns = new BigInt64Array(n);
    const hasVel = samples[0]!.velocity !== undefined;
    const vel = hasVel ? new Float64Array(3 * n) : null;
    const avel = hasVel ? new Float64Array(3 * n) : null;
    idx.forEach((j, i) => {
      const s = samples[j]!;
      pos.set(s.position, 3 * i);
      quats.set(s.orientation, 4 * i);
      ns[i] = key(j);
      ts[i] = nsToSec(key(j));
      if (vel && s.velocity) vel.set(s.velocity, 3 * i);
      if (avel && s.angularVelocity) avel.set(s.angularVelocity, 3 * i);
    });
    return Trajectory.fromPositionsQuaternions(pos, quats, {
      timestamps: ts,
      stampsNs: ns,
      velocities: vel,
      angularVelocities: avel,
      name: topic,
      frameId: samples[0]!.frameId,
      childFrameId: samples[0]!.childFrameId,
      source: log.path,
    });
  });
}

async function extractTf(log: McapLog, pair: { parent: string; child: string }, opts: ExtractOptions): Promise<Trajectory> {
  const buf = await loadTfBuffer(log, { topics: opts.tfTopics, start: opts.start, end: opts.end });
  // sample at the stamps of the first dynamic link walking up from the child
  let times: number[] = [];
  for (let f: string | undefined = pair.child; f !== undefined && f !== pair.parent; f = buf.parentOf(f)) {
    times = buf.sampleTimes(f);
    if (times.length > 0) break;
  }
  if (times.length === 0) {
    try {
      buf.lookup(pair.parent, pair.child); // throws the precise error when frames are unknown or not connected
    } catch (e) {
      if (e instanceof TfLookupError) throw new TfLookupError(e.detail, { file: log.path });
      throw e;
    }
    throw new TfLookupError(`no time-varying transform links '${pair.parent}' and '${pair.child}' (only static ones)`, { file: log.path });
  }
  try {
    return sampleTf(buf, pair, times, log.path);
  } catch (e) {
    if (e instanceof TfLookupError && e.file === undefined) throw new TfLookupError(e.detail, { file: log.path });
    throw e;
  }
}

function sampleTf(buf: TfBuffer, pair: { parent: string; child: string }, times: number[], file: string): Trajectory {
  const n = times.length;
  const poses = new Float64Array(12 * n);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      poses.set(buf.lookup(pair.parent, pair.child, times[i]), 12 * kept.length);
      kept.push(times[i]!);
    } catch (e) {
      // other links of the chain may start later or end earlier: keep the times the whole chain covers
      if (!(e instanceof TfLookupError) || !/extrapolation/.test(e.message)) throw e;
    }
  }
  if (kept.length === 0) throw new TfLookupError(`the links between '${pair.parent}' and '${pair.child}' never overlap in time`, { file });
  return new Trajectory({
    poses: poses.slice(0, 12 * kept.length),
    timestamps: Float64Array.from(kept),
    name: `tf:${pair.parent}->${pair.child}`,
    frameId: pair.parent,
    childFrameId: pair.child,
    source: file,
  });
}

/** Count, time span, path length and endpoints of one trajectory in a log. */
export interface TrajectoryStats {
  /** Topic name, or `tf:parent->child` for a TF link. */
  source: string;
  schemaName: string;
  frameId: string;
  childFrameId: string;
  count: number;
  startTime: number;
  endTime: number;
  durationSec: number;
  pathLength: number;
  start: [number, number, number];
  end: [number, number, number];
}

/**
 * One streaming pass over the pose and TF topics of a log: per topic (and per TF link) the number
 * of poses, time span (header stamps), path length and first/last positions. Memory stays bounded
 * (running sums only).
 */
export async function summarizeTrajectories(src: string | McapLog, filter: Omit<MessageFilter, 'topics'> = {}): Promise<TrajectoryStats[]> {
  return withLog(src, async (log) => {
    const poseNames = new Set<string>(POSE_SCHEMAS);
    const tfNames = new Set<string>(TF_SCHEMAS);
    const topics: string[] = [];
    for (const c of log.channels.values()) {
      const s = normalizeSchemaName(log.schemaOf(c)?.name ?? '');
      if (poseNames.has(s) || tfNames.has(s)) topics.push(c.topic);
    }
    const stats = new Map<string, TrajectoryStats>();
    const upd = (key: string, schemaName: string, frameId: string, child: string, t: number, p: [number, number, number]): void => {
      let s = stats.get(key);
      if (!s) {
        s = { source: key, schemaName, frameId, childFrameId: child, count: 0, startTime: t, endTime: t, durationSec: 0, pathLength: 0, start: p, end: p };
        stats.set(key, s);
      } else {
        s.pathLength += Math.hypot(p[0] - s.end[0], p[1] - s.end[1], p[2] - s.end[2]);
        s.end = p;
        if (t < s.startTime) s.startTime = t;
        if (t > s.endTime) s.endTime = t;
        s.durationSec = s.endTime - s.startTime;
      }
      s.count++;
    };
    if (topics.length === 0) return [];
    const px = new PoseExtractor(log);
    for await (const batch of log.batches({ ...filter, topics })) {
      for (const m of batch) {
        const p = px.pose(m);
        if (p) {
          upd(m.topic, m.schemaName, p.frameId, p.childFrameId, nsToSec(p.stampNs), p.position);
          continue;
        }
        for (const t of px.transforms(m) ?? []) {
          upd(`tf:${t.parent}->${t.child}`, m.schemaName, t.parent, t.child, t.time, [t.translation[0]!, t.translation[1]!, t.translation[2]!]);
        }
      }
    }
    return [...stats.values()].sort((a, b) => a.source.localeCompare(b.source));
  });
}

/**
 * Reads the Impulse prediction sets (`impulse.PredictionSet`, see schemas.ts) of a topic back as
 * samples for {@link predictionMetrics}: positions of ground truth and of every prediction, on the
 * ground truth's time offsets (predictions must share them).
 */
export async function readPredictionSamples(src: string | McapLog, topic: string): Promise<PredictionSample[]> {
  return withLog(src, async (log) => {
    const dec = new DecoderCache(log);
    const out: PredictionSample[] = [];
    for await (const m of log.messages({ topics: [topic] })) {
      try {
        const msg = dec.decode(m) as Obj;
        if (normalizeSchemaName(m.schemaName) !== 'impulse.PredictionSet')
          throw new FormatError(`topic '${topic}' has schema '${m.schemaName}', not impulse.PredictionSet`, { file: log.path });
        const gt = get(msg, 'ground_truth') as Obj;
        const times = (get(gt, 'times') as unknown[]).map((_, i) => num(gt, `times.${i}`));
        const positions = (p: Obj, label: string): Float64Array => {
          const poses = get(p, 'poses') as unknown[];
          if (poses.length !== times.length) throw new FieldError(`${label} has ${poses.length} poses for ${times.length} ground-truth times`);
          return Float64Array.from(poses.flatMap((_, i) => vec3(p, `poses.${i}.position`)));
        };
        const preds = get(msg, 'predictions') as Obj[];
        out.push({
          t0: nsToSec(stampNs(msg, 'timestamp')),
          times: Float64Array.from(times),
          gt: positions(gt, 'ground_truth'),
          predictions: preds.map((p, k) => positions(p, `predictions[${k}]`)),
        });
      } catch (e) {
        throw decodeError(log, m, e);
      }
    }
    return out;
  });
}
