// Trajectory file formats of the data layer (data/, bottom layer): detection from content and
// extension (with an override), reading and atomic writing of TUM, KITTI (+ times file), EuRoC CSV,
// MonoForce CSV, Impulse JSON and MCAP (poses from a topic or TF pair; foxglove.PoseInFrame out).

import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { FormatError, ParseError } from '../errors.ts';
import { formatFromExtension, type TrajectoryFormat } from './names.ts';
import { canStream, convertStreaming } from './stream.ts';
import { duplicateStamps } from '../warnings.ts';
import { writeFileAtomicSync } from '../fsutil.ts';
import type { Trajectory } from '../trajectory.ts';
import type { McapLog, McapRecovery } from '../mcap/reader.ts';
import { formatEuroc, parseEuroc, stampNs } from './euroc.ts';
import { formatKitti, formatTimes, parseKitti, parseTimes } from './kitti.ts';
import { formatMonoforce, parseMonoforce } from './monoforce.ts';
import { formatTum, parseTum } from './tum.ts';
import type { ExtractOptions } from '../mcap/extract.ts';
import type { McapCompression } from '../mcap/writer.ts';
import type { McapPoseEncoding } from '../mcap/pose-writer.ts';

// MCAP (@mcap/core, ROS message codecs) and JSON (zod) are loaded when a file needs them, so
// that text conversions start fast
const mcapReader = () => import('../mcap/reader.ts');
const mcapExtract = () => import('../mcap/extract.ts');
const mcapWriter = () => import('../mcap/writer.ts');
const jsonFormat = () => import('./json.ts');
/** Output formats an MCAP pose topic streams to (see mcap-stream.ts). */
const MCAP_STREAM_OUTPUTS: readonly TrajectoryFormat[] = ['tum', 'kitti', 'euroc', 'mcap', 'json'];

export { TRAJECTORY_FORMATS, EXTENSION_FORMATS, parseFormatName, formatFromExtension, type TrajectoryFormat } from './names.ts';

const MCAP_MAGIC = [0x89, 0x4d, 0x43, 0x41, 0x50];

/** Where a user gives the format explicitly (named in detection errors). */
const GIVE_FORMAT = 'give the format explicitly (the `format` option; CLI: --from, --ref-format or --est-format)';

/**
 * Detects a format from the first bytes of a file, from its content first and from its
 * extension only where the content fits several formats: MCAP magic, JSON object, then the first
 * data line. Whitespace-separated: 8 fields TUM, 12 KITTI, 13 MonoForce. Comma-separated: a
 * `stamp,T00...` header or 13 / 17 fields MonoForce, a `timestamp...` header or 9+ fields EuRoC;
 * 8 fields are TUM written with commas when the timestamp is in seconds (a decimal point, as
 * TUM has) and EuRoC when it is an integer of 13+ digits (nanoseconds); an integer timestamp
 * of fewer digits fits both, and then `.csv` means EuRoC, `.tum` TUM, and anything else is
 * refused with the candidates named.
 */
export function detectFormat(path: string, head: Uint8Array): TrajectoryFormat {
  if (MCAP_MAGIC.every((b, i) => head[i] === b)) return 'mcap';
  const text = new TextDecoder().decode(head);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return 'json';
  const ext = extname(path).toLowerCase();
  const rawLines = text.split('\n');
  const lines = rawLines.slice(0, Math.max(1, rawLines.length - 1)); // last line may be cut
  let header = '';
  let lineNo = 0;
  for (const l of lines) {
    lineNo++;
    const t = l.trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      header = t;
      continue;
    }
    const loc = { file: path, line: lineNo };
    if (t.includes(',')) {
      const f = t.split(',').map((s) => s.trim());
      if (/^[A-Za-z]/.test(f[0]!)) {
        if (/^stamp$/i.test(f[0]!) || f.includes('T00')) return 'monoforce';
        return 'euroc';
      }
      if (f.length === 13 || f.length === 17) return /timestamp/i.test(header) && f.length === 17 ? 'euroc' : 'monoforce';
      if (f.length === 8) {
        const stamp = f[0]!;
        if (/^\d{13,}$/.test(stamp)) return 'euroc';
        if (/^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$/.test(stamp)) return 'tum';
        if (ext === '.csv') return 'euroc';
        if (ext === '.tum') return 'tum';
        throw new FormatError(
          `ambiguous format: the first data line has 8 comma-separated fields and an integer timestamp '${stamp}', which fits both TUM ` +
            `(timestamp in s, tx ty tz, qx qy qz qw) and EuRoC (timestamp in ns, p_x p_y p_z, q_w q_x q_y q_z); ${GIVE_FORMAT}: tum or euroc`,
          loc,
        );
      }
      if (f.length >= 9) return 'euroc';
      throw new FormatError(
        `cannot detect the format: the first data line has ${f.length} comma-separated fields (TUM has 8, EuRoC 8 or more, MonoForce 13 or 17); ${GIVE_FORMAT}`,
        loc,
      );
    }
    const f = t.split(/\s+/);
    if (f.length === 8) return 'tum';
    if (f.length === 12) return 'kitti';
    if (f.length === 13) return 'monoforce';
    throw new FormatError(`cannot detect the format: the first data line has ${f.length} fields (TUM has 8, KITTI 12, MonoForce 13); ${GIVE_FORMAT}`, loc);
  }
  if (ext === '.tum') return 'tum';
  if (ext === '.json') return 'json';
  if (ext === '.mcap') return 'mcap';
  throw new FormatError(`cannot detect the format (no data line found); ${GIVE_FORMAT}`, { file: path });
}

/** Checks that an input path is a readable file (not a folder), naming it in the error. */
export function checkInputPath(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(code === 'ENOENT' ? 'no such file' : `cannot open: ${(e as Error).message}`, { file: path });
  }
  if (st.isDirectory()) throw new FormatError('is a folder, not a trajectory file', { file: path });
}

/** Options of {@link readTrajectory}. */
export interface ReadOptions extends Omit<ExtractOptions, 'start' | 'end'> {
  /** Format override (default: detected). */
  format?: TrajectoryFormat;
  /** KITTI: a times file with one timestamp per pose. */
  timesFile?: string;
}

/** Reads a trajectory file of any supported format. MCAP needs `topic` or `tf`. */
export async function readTrajectory(path: string, opts: ReadOptions = {}): Promise<Trajectory> {
  checkInputPath(path);
  let format = opts.format;
  if (!format) {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new FormatError(`cannot open: ${(e as Error).message}`, { file: path });
    }
    try {
      const head = new Uint8Array(8192);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      format = detectFormat(path, head.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }
  if (format === 'mcap') {
    const { extractTrajectory } = await mcapExtract();
    if (!opts.topic && !opts.tf) return extractTrajectory(path, { ...opts, topic: await onlyTrajectoryTopic(path) });
    return extractTrajectory(path, opts);
  }
  if (format === 'json' && !opts.timesFile) return (await import('./json-stream.ts')).readJsonTrajectoryFile(path);
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FormatError(`cannot read: ${(e as Error).message}`, { file: path });
  }
  let traj: Trajectory;
  switch (format) {
    case 'tum':
      traj = parseTum(content, path);
      break;
    case 'kitti':
      traj = parseKitti(content, path, opts.timesFile ? { content: readFileSync(opts.timesFile, 'utf8'), file: opts.timesFile } : undefined);
      break;
    case 'euroc':
      traj = parseEuroc(content, path);
      break;
    case 'monoforce':
      traj = parseMonoforce(content, path);
      break;
    case 'json':
      traj = (await jsonFormat()).parseTrajectoryJson(content, path);
      break;
  }
  if (opts.timesFile && format !== 'kitti') {
    const ts = parseTimes(readFileSync(opts.timesFile, 'utf8'), traj.length, opts.timesFile);
    traj = traj.with({ timestamps: ts, stampsNs: null });
  }
  return traj;
}

/**
 * The one trajectory topic of an MCAP file (a topic with pose messages: Odometry, PoseStamped,
 * PoseWithCovarianceStamped, foxglove.PoseInFrame), for reading without a topic. Throws naming
 * the candidates when there are several (or none).
 */
export async function onlyTrajectoryTopic(src: string | McapLog): Promise<string> {
  const { POSE_SCHEMAS, normalizeSchemaName } = await mcapExtract();
  const log = typeof src === 'string' ? await (await mcapReader()).McapLog.open(src) : src;
  const path = log.path;
  try {
    const poseSchemas = new Set<string>(POSE_SCHEMAS);
    const topics = new Map<string, string>();
    for (const c of log.channels.values()) {
      const s = normalizeSchemaName(log.schemaOf(c)?.name ?? '');
      if (poseSchemas.has(s)) topics.set(c.topic, s);
    }
    if (topics.size === 1) return [...topics.keys()][0]!;
    if (topics.size === 0)
      throw new FormatError(`no topic with poses (${POSE_SCHEMAS.join(', ')}); give a TF frame pair (CLI: --tf PARENT:CHILD) to read poses from /tf`, {
        file: path,
      });
    throw new FormatError(
      `${topics.size} topics carry poses: ${[...topics].map(([t, s]) => `${t} (${s})`).join(', ')}; choose one with the \`topic\` option (CLI: --topic)`,
      { file: path },
    );
  } finally {
    if (typeof src === 'string') await log.close();
  }
}

/** Adds timestamps t0 + i / rate to a trajectory without them (e.g. KITTI before writing TUM). */
export function withRate(traj: Trajectory, rateHz: number, t0 = 0): Trajectory {
  if (!(rateHz > 0)) throw new ParseError(`rate must be > 0 Hz, got ${rateHz}`);
  return traj.with({ timestamps: Float64Array.from({ length: traj.length }, (_, i) => t0 + i / rateHz), stampsNs: null });
}

/** Options of {@link writeTrajectory}. */
export interface WriteOptions {
  /** Format override (default: from the extension: .tum/.txt TUM, .kitti KITTI, .csv EuRoC, .json JSON, .mcap MCAP). */
  format?: TrajectoryFormat;
  /** KITTI: also write the timestamps to this times file. */
  timesFile?: string;
  /** MCAP: topic of the pose messages (default `/trajectory`). */
  topic?: string;
  /** MCAP: frame id (default: the trajectory's, else `world`). */
  frameId?: string;
  compression?: McapCompression;
  /** MCAP: message encoding (default `cdr`: ROS 2 geometry_msgs/msg/PoseStamped; `json`: foxglove.PoseInFrame). */
  mcapEncoding?: McapPoseEncoding;
}

/** Writes a trajectory atomically (a failed write leaves no partial file). */
export async function writeTrajectory(path: string, traj: Trajectory, opts: WriteOptions = {}): Promise<void> {
  const format = opts.format ?? formatFromExtension(path);
  switch (format) {
    case 'tum':
      return writeFileAtomicSync(path, formatTum(traj));
    case 'kitti':
      writeFileAtomicSync(path, formatKitti(traj));
      if (opts.timesFile) {
        if (!traj.timestamps) throw new FormatError('no timestamps to write to the times file', { file: opts.timesFile });
        writeFileAtomicSync(opts.timesFile, formatTimes(traj.timestamps));
      }
      return;
    case 'euroc':
      return writeFileAtomicSync(path, formatEuroc(traj));
    case 'monoforce':
      return writeFileAtomicSync(path, formatMonoforce(traj));
    case 'json':
      return writeFileAtomicSync(path, (await jsonFormat()).formatTrajectoryJson(traj));
    case 'mcap': {
      if (!traj.timestamps) throw new FormatError('MCAP output needs timestamps, and this trajectory has none (give a times file or a rate)', { file: path });
      const topic = opts.topic ?? '/trajectory';
      const frame = opts.frameId ?? (traj.frameId || 'world');
      if ((opts.mcapEncoding ?? 'cdr') === 'cdr') return writePoseStamped(path, traj, topic, frame, opts.compression);
      const w = await (await mcapWriter()).McapLogWriter.create(path, { compression: opts.compression });
      try {
        for (let i = 0; i < traj.length; i++) await w.addPoseInFrame(topic, stampNs(traj, i), frame, traj.pose(i));
        await w.close();
      } catch (e) {
        await w.abort();
        throw e;
      }
      return;
    }
  }
}

/** Writes a trajectory as geometry_msgs/msg/PoseStamped CDR messages (see {@link PoseStampedWriter}). */
async function writePoseStamped(path: string, traj: Trajectory, topic: string, frameId: string, compression?: McapCompression): Promise<void> {
  const w = await (await import('../mcap/pose-writer.ts')).PoseStampedWriter.create(path, { topic, frameId, compression });
  try {
    for (let i = 0; i < traj.length; i++) {
      w.addPose(stampNs(traj, i), traj.pose(i), i);
      if ((i & 8191) === 8191) await w.flush();
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** Options of {@link convertTrajectoryFile}. */
export interface ConvertOptions {
  /** Input format (default: detected from the content). */
  from?: TrajectoryFormat;
  /** Output format (default: from the output's extension). */
  to?: TrajectoryFormat;
  /** MCAP input: the topic (default: the only pose topic) or a TF frame pair. */
  topic?: string;
  tf?: { parent: string; child: string };
  /** KITTI input: a times file. */
  timesFile?: string;
  /** KITTI output: also write the timestamps to this times file. */
  outTimesFile?: string;
  /** MCAP output: topic (default `/trajectory`) and frame id. */
  outTopic?: string;
  frameId?: string;
  /** MCAP output: message encoding (default `cdr`: geometry_msgs/msg/PoseStamped; `json`: foxglove.PoseInFrame). */
  mcapEncoding?: McapPoseEncoding;
  /** Give poses without timestamps the timestamps i / rate. */
  rate?: number;
  /** Read the whole file into memory even when the formats allow streaming (tests, comparisons). */
  inMemory?: boolean;
  /** MCAP input: read a truncated file's complete records (what was lost is in the result's `recovered`). */
  recover?: boolean;
}

/** What {@link convertTrajectoryFile} did. */
export interface ConvertResult {
  from: TrajectoryFormat;
  to: TrajectoryFormat;
  poses: number;
  timestamps: boolean;
  /** True when the file was converted a block at a time (memory flat in the file size). */
  streamed: boolean;
  /** Repeated timestamps with a different pose. */
  duplicates: { count: number; first: { index: number; timestamp: number }[] };
  /** MCAP input opened with `recover`: what the truncation cut off (null when the file was complete). */
  recovered: McapRecovery | null;
}

/**
 * Converts a trajectory file. Text inputs (TUM, KITTI with or without its times file, EuRoC,
 * MonoForce CSV) to TUM, KITTI, EuRoC or MCAP stream a block at a time ({@link convertStreaming});
 * other pairs (JSON or MCAP input, MonoForce output) are read whole and written with
 * {@link writeTrajectory}.
 * The output is written atomically; `input` and `output` must differ (the caller checks).
 */
export async function convertTrajectoryFile(input: string, output: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  checkInputPath(input);
  const to = opts.to ?? formatFromExtension(output);
  let from = opts.from;
  if (!from) {
    const fh = await open(input, 'r');
    try {
      const head = new Uint8Array(8192);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      from = detectFormat(input, head.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }
  if (
    !opts.inMemory &&
    canStream(from, to, { timesFileIn: !!opts.timesFile }) &&
    !(from !== 'kitti' && opts.rate !== undefined) &&
    !(opts.timesFile && opts.rate !== undefined)
  ) {
    const r = await convertStreaming(input, output, {
      from,
      to,
      timesFile: opts.outTimesFile,
      timesFileIn: opts.timesFile,
      rate: opts.rate,
      topic: opts.outTopic,
      frameId: opts.frameId,
      mcapEncoding: opts.mcapEncoding,
    });
    if (r) return { from, to, poses: r.poses, timestamps: r.timestamps, streamed: true, duplicates: r.duplicates, recovered: null };
  }
  if (from === 'mcap' && !opts.inMemory && !opts.recover && !opts.tf && opts.rate === undefined && MCAP_STREAM_OUTPUTS.includes(to)) {
    const topic = opts.topic ?? (await onlyTrajectoryTopic(input));
    const r = await (
      await import('./mcap-stream.ts')
    ).convertMcapStreaming(input, output, {
      to,
      topic,
      timesFile: opts.outTimesFile,
      outTopic: opts.outTopic,
      frameId: opts.frameId,
      mcapEncoding: opts.mcapEncoding,
    });
    if (r) return { from, to, poses: r.poses, timestamps: true, streamed: true, duplicates: r.duplicates, recovered: null };
  }
  let recovered: McapRecovery | null = null;
  let traj: Trajectory;
  if (from === 'mcap' && opts.recover) {
    const { McapLog } = await mcapReader();
    const { extractTrajectory } = await mcapExtract();
    const log = await McapLog.open(input, { recover: true });
    try {
      recovered = log.recovered;
      traj = await extractTrajectory(log, { topic: opts.topic ?? (opts.tf ? undefined : await onlyTrajectoryTopic(log)), tf: opts.tf });
    } finally {
      await log.close();
    }
  } else traj = await readTrajectory(input, { format: from, topic: opts.topic, tf: opts.tf, timesFile: opts.timesFile });
  if (opts.rate !== undefined) traj = withRate(traj, opts.rate);
  await writeTrajectory(output, traj, {
    format: to,
    timesFile: opts.outTimesFile,
    topic: opts.outTopic,
    frameId: opts.frameId,
    mcapEncoding: opts.mcapEncoding,
  });
  const d = duplicateStamps(traj);
  return {
    from,
    to,
    poses: traj.length,
    timestamps: traj.timestamps !== null,
    streamed: false,
    duplicates: { count: d.length, first: d.slice(0, 3) },
    recovered,
  };
}
