// Writing MCAP logs (data/, bottom layer): Foxglove JSON-schema messages (PoseInFrame, PosesInFrame,
// FrameTransform, Grid), Impulse prediction sets, and ROS 2 CDR messages from msg definitions. Chunks
// are zstd-compressed when the codec loads; the file is written to a temp path and renamed on close,
// so a failed write leaves nothing behind.

import { McapWriter, type IWritable } from '@mcap/core';
import { parse as parseRosMsg } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { FileHandle } from 'node:fs/promises';
import { FormatError } from '../errors.ts';
import { discardTempFile, finishAtomicFile, openTempFor, userPathError } from '../fsutil.ts';
import { rotationToQuat } from '../se3.ts';
import { IMPULSE_JSON_SCHEMAS } from './schemas.ts';

/** Chunk compression of written files. */
export type McapCompression = 'zstd' | 'none';

/** Options of {@link McapLogWriter.create}. */
export interface McapWriterOptions {
  compression?: McapCompression;
  /** Target uncompressed chunk size in bytes (default 1 MiB). */
  chunkSize?: number;
  /** MCAP header profile ('' for Foxglove JSON logs, 'ros2' for ROS 2 logs). */
  profile?: string;
}

type ZstdModule = { isLoaded: Promise<boolean>; compress(b: Uint8Array, level?: number): Uint8Array };
let zstdPromise: Promise<ZstdModule | null> | undefined;
/** The zstd codec (@foxglove/wasm-zstd), loaded once; null when it cannot load (chunks are then written uncompressed). */
export async function loadZstd(): Promise<ZstdModule | null> {
  zstdPromise ??= (async () => {
    try {
      const mod = (await import('@foxglove/wasm-zstd')) as unknown as ZstdModule & { default?: ZstdModule };
      const z = mod.default && 'compress' in mod.default ? mod.default : mod;
      await z.isLoaded;
      return z;
    } catch {
      return null;
    }
  })();
  return zstdPromise;
}

class FileWritable implements IWritable {
  private pos = 0n;
  constructor(private readonly fh: FileHandle) {}
  async write(buffer: Uint8Array): Promise<unknown> {
    let off = 0;
    while (off < buffer.length) {
      const { bytesWritten } = await this.fh.write(buffer, off, buffer.length - off);
      off += bytesWritten;
    }
    this.pos += BigInt(buffer.length);
    return undefined;
  }
  position(): bigint {
    return this.pos;
  }
}

/** A 3D pose for writers: a 12-number [R|t] block, or position + quaternion [x, y, z, w]. */
export type PoseLike = ArrayLike<number> | { position: ArrayLike<number>; orientation: ArrayLike<number> };

/** Foxglove pose object of a pose. */
export function foxglovePose(p: PoseLike): { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } } {
  if ('position' in p) {
    return {
      position: { x: p.position[0]!, y: p.position[1]!, z: p.position[2]! },
      orientation: { x: p.orientation[0]!, y: p.orientation[1]!, z: p.orientation[2]!, w: p.orientation[3]! },
    };
  }
  const q = rotationToQuat(p, 0, 4);
  return { position: { x: p[3]!, y: p[7]!, z: p[11]! }, orientation: { x: q[0], y: q[1], z: q[2], w: q[3] } };
}

/** Foxglove `time` object of a nanosecond stamp. */
export function foxgloveTime(ns: bigint): { sec: number; nsec: number } {
  if (ns < 0n) throw new FormatError(`negative timestamp ${ns} ns cannot be written`);
  return { sec: Number(ns / 1000000000n), nsec: Number(ns % 1000000000n) };
}

/** A grid layer for {@link McapLogWriter.addGrid}: row-major values, row 0 at the grid origin. */
export interface GridLayer {
  name: string;
  values: Float32Array | Float64Array;
}

/** A grid for {@link foxgloveGrid} / `McapLogWriter.addGrid`: `columns` x `rows` cells of `cellSize` metres, cell (0, 0) at `origin`, row-major float layers. */
export interface GridInput {
  columns: number;
  rows: number;
  cellSize: [number, number];
  origin?: PoseLike;
  layers: GridLayer[];
}

/**
 * The foxglove.Grid message (JSON form) of a grid with float32 layers (e.g. `height`,
 * `friction`, a loss gradient): what `McapLogWriter.addGrid` writes, and what Impulse's Grid JSON
 * files (run folders' `terrain/*.json`) hold. `file` names the output in errors.
 */
export function foxgloveGrid(grid: GridInput, frameId: string, stampNs = 0n, file?: string): Record<string, unknown> {
  const { columns, rows, layers } = grid;
  if (!Number.isInteger(columns) || !Number.isInteger(rows) || columns < 1 || rows < 1)
    throw new FormatError(`grid size must be positive integers, got ${columns}x${rows}`, { file });
  if (layers.length === 0) throw new FormatError('grid needs at least one layer', { file });
  for (const l of layers) {
    if (l.values.length !== columns * rows)
      throw new FormatError(`grid layer '${l.name}' has ${l.values.length} values for ${columns}x${rows} cells`, { file });
  }
  const cellStride = 4 * layers.length;
  const buf = new Uint8Array(cellStride * columns * rows);
  const dv = new DataView(buf.buffer);
  for (let c = 0; c < columns * rows; c++) layers.forEach((l, k) => dv.setFloat32(c * cellStride + 4 * k, l.values[c]!, true));
  return {
    timestamp: foxgloveTime(stampNs),
    frame_id: frameId,
    pose: foxglovePose(grid.origin ?? { position: [0, 0, 0], orientation: [0, 0, 0, 1] }),
    column_count: columns,
    cell_size: { x: grid.cellSize[0], y: grid.cellSize[1] },
    row_stride: cellStride * columns,
    cell_stride: cellStride,
    fields: layers.map((l, k) => ({ name: l.name, offset: 4 * k, type: 7 })),
    data: Buffer.from(buf).toString('base64'),
  };
}

/** A prediction set for {@link McapLogWriter.addPredictionSet}; see impulse.PredictionSet in schemas.ts. */
export interface PredictionSetInput {
  stampNs: bigint;
  frameId: string;
  groundTruth: { times: ArrayLike<number>; poses: PoseLike[] };
  predictions: { label?: string; score?: number; times: ArrayLike<number>; poses: PoseLike[] }[];
}

/** An MCAP file being written. Call {@link McapLogWriter.close} to finish it (or `abort` to drop it). */
export class McapLogWriter {
  private schemaIds = new Map<string, number>();
  private channelIds = new Map<string, number>();
  private rosWriters = new Map<string, MessageWriter>();
  private seq = new Map<number, number>();
  private enc = new TextEncoder();
  /** UTF-8 JSON of each JSON schema used so far, by schema name. */
  private schemaBytes = new Map<string, Uint8Array>();
  private closed = false;
  /** Messages written so far. */
  messageCount = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly writer: McapWriter,
    private readonly writable: FileWritable,
  ) {}

  /** Bytes written to the file so far (the current chunk is not yet counted). */
  bytesWritten(): number {
    return Number(this.writable.position());
  }

  /** Starts a new file (written to a temp file next to `path` until {@link close}). */
  static async create(path: string, opts: McapWriterOptions = {}): Promise<McapLogWriter> {
    const { fh, tmp } = await openTempFor(path);
    try {
      const zstd = (opts.compression ?? 'zstd') === 'zstd' ? await loadZstd() : null;
      const writable = new FileWritable(fh);
      const writer = new McapWriter({
        writable,
        chunkSize: opts.chunkSize ?? 1 << 20,
        compressChunk: zstd ? (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }) : undefined,
      });
      await writer.start({ profile: opts.profile ?? '', library: 'impulse data layer' });
      return new McapLogWriter(path, tmp, fh, writer, writable);
    } catch (e) {
      await discardTempFile(fh, tmp);
      throw userPathError(e, tmp, path);
    }
  }

  private async channel(topic: string, schemaName: string, schemaEncoding: string, schemaData: Uint8Array, messageEncoding: string): Promise<number> {
    const key = `${topic}\u0000${schemaName}`;
    let id = this.channelIds.get(key);
    if (id !== undefined) return id;
    for (const [k] of this.channelIds)
      if (k.startsWith(`${topic}\u0000`)) throw new FormatError(`topic '${topic}' already has another schema than '${schemaName}'`, { file: this.path });
    let sid = this.schemaIds.get(schemaName);
    if (sid === undefined) {
      sid = await this.writer.registerSchema({ name: schemaName, encoding: schemaEncoding, data: schemaData });
      this.schemaIds.set(schemaName, sid);
    }
    id = await this.writer.registerChannel({ topic, schemaId: sid, messageEncoding, metadata: new Map() });
    this.channelIds.set(key, id);
    return id;
  }

  private async add(channelId: number, logTime: bigint, data: Uint8Array): Promise<void> {
    if (this.closed) throw new FormatError('writer is closed', { file: this.path });
    const s = this.seq.get(channelId) ?? 0;
    this.seq.set(channelId, s + 1);
    await this.writer.addMessage({ channelId, sequence: s, logTime, publishTime: logTime, data });
    this.messageCount++;
  }

  /** Writes a JSON message with one of the schemas of schemas.ts (`foxglove.*`, `impulse.PredictionSet`). */
  async addJson(topic: string, schemaName: string, logTime: bigint, message: unknown): Promise<void> {
    const schema = IMPULSE_JSON_SCHEMAS[schemaName];
    if (!schema) throw new FormatError(`no JSON schema named '${schemaName}' (known: ${Object.keys(IMPULSE_JSON_SCHEMAS).join(', ')})`, { file: this.path });
    let schemaData = this.schemaBytes.get(schemaName); // encoded once, not per message
    if (!schemaData) this.schemaBytes.set(schemaName, (schemaData = this.enc.encode(JSON.stringify(schema))));
    const id = await this.channel(topic, schemaName, 'jsonschema', schemaData, 'json');
    await this.add(id, logTime, this.enc.encode(JSON.stringify(message)));
  }

  /**
   * Writes JSON messages already encoded as UTF-8, message k being `data[ends[k-1], ends[k])`
   * (from 0) with log time `stamps[k]`, on one topic under one of the schemas of schemas.ts; the
   * caller vouches that they match the schema (the streaming converter prints PoseInFrame
   * messages straight into bytes). The bytes are copied before this resolves.
   */
  async addJsonBatch(topic: string, schemaName: string, stamps: readonly bigint[], data: Uint8Array, ends: readonly number[]): Promise<void> {
    if (stamps.length === 0) return;
    const schema = IMPULSE_JSON_SCHEMAS[schemaName];
    if (!schema) throw new FormatError(`no JSON schema named '${schemaName}' (known: ${Object.keys(IMPULSE_JSON_SCHEMAS).join(', ')})`, { file: this.path });
    let schemaData = this.schemaBytes.get(schemaName);
    if (!schemaData) this.schemaBytes.set(schemaName, (schemaData = this.enc.encode(JSON.stringify(schema))));
    const id = await this.channel(topic, schemaName, 'jsonschema', schemaData, 'json');
    for (let k = 0, a = 0; k < stamps.length; a = ends[k]!, k++) await this.add(id, stamps[k]!, data.subarray(a, ends[k]!));
  }

  /** Writes a foxglove.PoseInFrame. */
  async addPoseInFrame(topic: string, stampNs: bigint, frameId: string, pose: PoseLike): Promise<void> {
    await this.addJson(topic, 'foxglove.PoseInFrame', stampNs, { timestamp: foxgloveTime(stampNs), frame_id: frameId, pose: foxglovePose(pose) });
  }

  /** Writes a foxglove.PosesInFrame (a path). */
  async addPosesInFrame(topic: string, stampNs: bigint, frameId: string, poses: PoseLike[]): Promise<void> {
    await this.addJson(topic, 'foxglove.PosesInFrame', stampNs, { timestamp: foxgloveTime(stampNs), frame_id: frameId, poses: poses.map(foxglovePose) });
  }

  /** Writes a foxglove.FrameTransform (pose of `child` in `parent`). */
  async addFrameTransform(topic: string, stampNs: bigint, parent: string, child: string, pose: PoseLike): Promise<void> {
    const p = foxglovePose(pose);
    await this.addJson(topic, 'foxglove.FrameTransform', stampNs, {
      timestamp: foxgloveTime(stampNs),
      parent_frame_id: parent,
      child_frame_id: child,
      translation: p.position,
      rotation: p.orientation,
    });
  }

  /**
   * Writes a foxglove.Grid with float32 layers (e.g. `height` of a heightmap, `friction` of a
   * friction map): `columns` x `rows` cells of `cellSize` metres, cell (0, 0) at `origin`.
   */
  async addGrid(topic: string, stampNs: bigint, frameId: string, grid: GridInput): Promise<void> {
    await this.addJson(topic, 'foxglove.Grid', stampNs, foxgloveGrid(grid, frameId, stampNs, this.path));
  }

  /** Writes an impulse.PredictionSet, plus foxglove.PosesInFrame companions for display (unless `companions` is false). */
  async addPredictionSet(topic: string, set: PredictionSetInput, companions = true): Promise<void> {
    const part = (p: { label?: string; score?: number; times: ArrayLike<number>; poses: PoseLike[] }, what: string) => {
      if (p.times.length !== p.poses.length) throw new FormatError(`${what} has ${p.times.length} times for ${p.poses.length} poses`, { file: this.path });
      const o: Record<string, unknown> = { times: Array.from(p.times), poses: p.poses.map(foxglovePose) };
      if (p.label !== undefined) o.label = p.label;
      if (p.score !== undefined) o.score = p.score;
      return o;
    };
    await this.addJson(topic, 'impulse.PredictionSet', set.stampNs, {
      timestamp: foxgloveTime(set.stampNs),
      frame_id: set.frameId,
      ground_truth: part(set.groundTruth, 'ground_truth'),
      predictions: set.predictions.map((p, k) => part(p, `predictions[${k}]`)),
    });
    if (companions) {
      await this.addPosesInFrame(`${topic}/ground_truth`, set.stampNs, set.frameId, set.groundTruth.poses);
      for (const [k, p] of set.predictions.entries()) await this.addPosesInFrame(`${topic}/prediction/${p.label ?? k}`, set.stampNs, set.frameId, p.poses);
    }
  }

  /** Writes a ROS 2 message (CDR) of type `schemaName` (e.g. `nav_msgs/msg/Odometry`) given its full ros2msg definition text. */
  async addRos2(topic: string, schemaName: string, definition: string, logTime: bigint, message: unknown): Promise<void> {
    let w = this.rosWriters.get(schemaName);
    if (!w) {
      w = new MessageWriter(parseRosMsg(definition, { ros2: true }));
      this.rosWriters.set(schemaName, w);
    }
    const id = await this.channel(topic, schemaName, 'ros2msg', this.enc.encode(definition), 'cdr');
    await this.add(id, logTime, w.writeMessage(message));
  }

  /** Writes an already CDR-encoded ROS 2 message of type `schemaName` with its ros2msg definition text. */
  async addRos2Raw(topic: string, schemaName: string, definition: string, logTime: bigint, data: Uint8Array): Promise<void> {
    const id = await this.channel(topic, schemaName, 'ros2msg', this.enc.encode(definition), 'cdr');
    await this.add(id, logTime, data);
  }

  /** Finishes the file (summary, indexes) and moves it into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await finishAtomicFile(this.fh, this.tmp, this.path, () => this.writer.end());
  }

  /** Drops the file being written. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await discardTempFile(this.fh, this.tmp);
  }
}

/** Field lines of the ROS 2 message types the definitions below depend on. */
const ROS2_DEPENDENCIES: Record<string, string> = {
  'std_msgs/Header': 'builtin_interfaces/Time stamp\nstring frame_id\n',
  'builtin_interfaces/Time': 'int32 sec\nuint32 nanosec\n',
  'geometry_msgs/PoseWithCovariance': 'geometry_msgs/Pose pose\nfloat64[36] covariance\n',
  'geometry_msgs/Pose': 'geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n',
  'geometry_msgs/Point': 'float64 x\nfloat64 y\nfloat64 z\n',
  'geometry_msgs/Quaternion': 'float64 x\nfloat64 y\nfloat64 z\nfloat64 w\n',
  'geometry_msgs/TwistWithCovariance': 'geometry_msgs/Twist twist\nfloat64[36] covariance\n',
  'geometry_msgs/Twist': 'geometry_msgs/Vector3 linear\ngeometry_msgs/Vector3 angular\n',
  'geometry_msgs/Vector3': 'float64 x\nfloat64 y\nfloat64 z\n',
};

/** A full ros2msg definition: the message's own fields, then each dependency in the `MSG:` section form of rosbag2. */
function ros2Definition(fields: string, dependencies: readonly string[]): string {
  return fields + dependencies.map((d) => `${'='.repeat(80)}\nMSG: ${d}\n${ROS2_DEPENDENCIES[d]!}`).join('');
}

/** ros2msg definition text of geometry_msgs/msg/PoseStamped (with dependencies), for {@link McapLogWriter.addRos2}. */
export const ROS2_POSE_STAMPED_DEFINITION = ros2Definition('std_msgs/Header header\ngeometry_msgs/Pose pose\n', [
  'std_msgs/Header',
  'builtin_interfaces/Time',
  'geometry_msgs/Pose',
  'geometry_msgs/Point',
  'geometry_msgs/Quaternion',
]);

/** ros2msg definition text of nav_msgs/msg/Odometry (with dependencies). */
export const ROS2_ODOMETRY_DEFINITION = ros2Definition(
  'std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/PoseWithCovariance pose\ngeometry_msgs/TwistWithCovariance twist\n',
  [
    'std_msgs/Header',
    'builtin_interfaces/Time',
    'geometry_msgs/PoseWithCovariance',
    'geometry_msgs/Pose',
    'geometry_msgs/Point',
    'geometry_msgs/Quaternion',
    'geometry_msgs/TwistWithCovariance',
    'geometry_msgs/Twist',
    'geometry_msgs/Vector3',
  ],
);
