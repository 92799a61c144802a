// Streaming conversion of an MCAP pose topic (data/formats) to TUM, KITTI (+ times), EuRoC, MCAP
// (PoseStamped CDR or PoseInFrame JSON) or Impulse JSON: the topic's messages are read chunk by
// chunk through the log's indexed reader (in log-time order), each pose is built and written as
// the in-memory path builds and writes it (Trajectory.fromPositionsQuaternions, then the writers'
// numbers, printed as String prints them by numtext.ts), and the output is written after each
// batch of messages, so memory stays flat in the file size and the output is the in-memory
// path's byte for byte. The in-memory path sorts poses by header stamp; a stream can only keep that order when
// the stamps never go backwards in log-time order (as in logs written by recorders and by
// Impulse), so on the first stamp that does, this returns null and the caller converts in memory.

import type { FileHandle } from 'node:fs/promises';
import { withAtomicFile } from '../fsutil.ts';
import { quatToRotation, rotationToQuatInto } from '../se3.ts';
import { checkQuaternion } from '../trajectory.ts';
import type { DuplicateStamp } from '../warnings.ts';
import type { TrajectoryFormat } from './names.ts';
import { ByteSink } from './numtext.ts';

/** Options of {@link convertMcapStreaming}. */
export interface McapStreamOptions {
  /** Output format: `tum`, `kitti`, `euroc`, `mcap` or `json`. */
  to: TrajectoryFormat;
  /** The pose topic (the caller picks the only one when none was given). */
  topic: string;
  /** KITTI output: also write the timestamps here. */
  timesFile?: string;
  /** Messages read per batch, written after each (default 4096). */
  batch?: number;
  /** MCAP output: topic (default `/trajectory`), frame id (default the first message's, else `world`) and message encoding (default `cdr`). */
  outTopic?: string;
  frameId?: string;
  mcapEncoding?: 'cdr' | 'json';
}

/** What {@link convertMcapStreaming} did. */
export interface McapStreamResult {
  poses: number;
  duplicates: { count: number; first: DuplicateStamp[] };
}

/** Thrown inside the write to drop the output and leave the file to the in-memory path. */
class Fallback extends Error {}

type PoseExtractor = import('../mcap/extract.ts').PoseExtractor;
type PoseMessage = Parameters<PoseExtractor['pose']>[0];
type Pose = NonNullable<ReturnType<PoseExtractor['pose']>>;

/**
 * The poses of a topic read one message at a time, each built as the in-memory path builds it
 * (Trajectory.fromPositionsQuaternions): `R` holds the pose's 3 x 4 matrix after {@link next}.
 * Throws Fallback when a header stamp goes backwards, names a schema without poses and a zero
 * quaternion by its index, and counts duplicate stamps with differing poses as the reader does.
 */
class PoseSequence {
  /** The last pose read, row-major 3 x 4 [R | t]. */
  readonly R = new Float64Array(12);
  private readonly prevPose = new Float64Array(12);
  private prevNs = -1n;
  private prevT = NaN;
  private readonly dup: DuplicateStamp[] = [];
  private dupCount = 0;

  private constructor(
    private readonly input: string,
    private readonly topic: string,
    private readonly px: PoseExtractor,
    private readonly lib: {
      POSE_SCHEMAS: readonly string[];
      nsToSec: (ns: bigint) => number;
      FormatError: typeof import('../errors.ts').FormatError;
    },
  ) {}

  static async create(input: string, topic: string, px: PoseExtractor): Promise<PoseSequence> {
    const { POSE_SCHEMAS } = await import('../mcap/extract.ts');
    const { nsToSec } = await import('../mcap/reader.ts');
    const { FormatError } = await import('../errors.ts');
    return new PoseSequence(input, topic, px, { POSE_SCHEMAS, nsToSec, FormatError });
  }

  /** Reads message `m` (the `index`-th pose): its pose and its time in seconds; the matrix in `R`. */
  next(m: PoseMessage, index: number): { p: Pose; t: number } {
    const p = this.px.pose(m);
    if (!p)
      throw new this.lib.FormatError(
        `topic '${this.topic}' has schema '${m.schemaName}', which carries no pose (supported: ${this.lib.POSE_SCHEMAS.join(', ')})`,
        {
          file: this.input,
        },
      );
    if (p.stampNs < this.prevNs) throw new Fallback(); // sorting needs the whole topic
    this.prevNs = p.stampNs;
    const R = this.R;
    const [qx, qy, qz, qw] = p.orientation;
    checkQuaternion(qx!, qy!, qz!, qw!, { file: this.input, index });
    quatToRotation(qx!, qy!, qz!, qw!, R, 0, 4);
    R[3] = p.position[0]!;
    R[7] = p.position[1]!;
    R[11] = p.position[2]!;
    const t = this.lib.nsToSec(p.stampNs);
    if (index > 0 && t === this.prevT) {
      let differ = false;
      for (let k = 0; k < 12 && !differ; k++) differ = Math.abs(R[k]! - this.prevPose[k]!) > 1e-12;
      if (differ) {
        this.dupCount++;
        if (this.dup.length < 3) this.dup.push({ index, timestamp: t });
      }
    }
    this.prevT = t;
    this.prevPose.set(R);
    return { p, t };
  }

  /** The conversion's result after `poses` poses. */
  result(poses: number): McapStreamResult {
    return { poses, duplicates: { count: this.dupCount, first: this.dup } };
  }
}

/** Writes what a sink holds and empties it. */
async function drain(sink: ByteSink, fh: FileHandle): Promise<void> {
  let off = 0;
  while (off < sink.pos) off += (await fh.write(sink.buf, off, sink.pos - off)).bytesWritten;
  sink.pos = 0;
}

/**
 * Converts the poses of `opts.topic` in the MCAP file `input` to `output` (TUM, KITTI, EuRoC) a
 * batch at a time. Returns null, leaving nothing written, when a header stamp goes backwards
 * (then the whole topic must be sorted) or the topic is not in the file: the caller then converts
 * in memory, which sorts, or names the topics there are. Other errors (a schema without poses, a
 * zero quaternion, named by its index) are the in-memory path's.
 */
export async function convertMcapStreaming(input: string, output: string, opts: McapStreamOptions): Promise<McapStreamResult | null> {
  const { McapLog } = await import('../mcap/reader.ts');
  const { PoseExtractor } = await import('../mcap/extract.ts');
  const { FormatError } = await import('../errors.ts');
  const log = await McapLog.open(input);
  try {
    const ch = [...log.channels.values()].find((c) => c.topic === opts.topic);
    if (!ch) return null; // the in-memory path names the topics
    const px = new PoseExtractor(log);
    if (opts.to === 'mcap') return await mcapToMcap(input, output, opts, log, px);
    if (opts.to === 'json') return await mcapToJson(input, output, opts, log, px);
    const run = async (fh: FileHandle, th: FileHandle | null): Promise<McapStreamResult> => {
      const out = new ByteSink(1 << 21);
      const times = th ? new ByteSink(1 << 18) : null;
      if (opts.to === 'tum') out.ascii('# timestamp tx ty tz qx qy qz qw\n');
      const seq = await PoseSequence.create(input, opts.topic, px);
      const R = seq.R;
      const q = new Float64Array(4);
      let total = 0;
      let velocities: boolean | null = null; // EuRoC: velocity columns when the first pose has a velocity (Odometry)
      for await (const batch of log.batches({ topics: [opts.topic] }, opts.batch ?? 4096)) {
        for (const m of batch) {
          // the pose as Trajectory.fromPositionsQuaternions builds it, and the numbers its writers print
          const { p, t } = seq.next(m, total);
          if (opts.to === 'kitti') {
            for (let k = 0; k < 12; k++) {
              if (k > 0) out.ascii(' ');
              out.number(R[k]!);
            }
            out.ascii('\n');
            if (times) {
              times.number(t);
              times.ascii('\n');
            }
          } else {
            rotationToQuatInto(R, 0, 4, q);
            if (opts.to === 'tum') {
              out.number(t);
              for (const x of [R[3]!, R[7]!, R[11]!, q[0]!, q[1]!, q[2]!, q[3]!]) {
                out.ascii(' ');
                out.number(x);
              }
            } else {
              if (velocities === null) {
                velocities = p.velocity !== undefined;
                const head = ['#timestamp [ns]', 'p_RS_R_x [m]', 'p_RS_R_y [m]', 'p_RS_R_z [m]', 'q_RS_w []', 'q_RS_x []', 'q_RS_y []', 'q_RS_z []'];
                if (velocities) head.push('v_RS_R_x [m s^-1]', 'v_RS_R_y [m s^-1]', 'v_RS_R_z [m s^-1]');
                out.ascii(head.join(',') + '\n');
              }
              out.ascii(p.stampNs.toString());
              const v = p.velocity;
              for (const x of [R[3]!, R[7]!, R[11]!, q[3]!, q[0]!, q[1]!, q[2]!, ...(velocities ? [v?.[0] ?? 0, v?.[1] ?? 0, v?.[2] ?? 0] : [])]) {
                out.ascii(',');
                out.number(x);
              }
            }
            out.ascii('\n');
          }
          total++;
        }
        await drain(out, fh);
        if (times) await drain(times, th!);
      }
      if (total === 0) throw new FormatError(`topic '${opts.topic}' has no messages in the selected time range`, { file: input });
      await drain(out, fh);
      if (times) await drain(times, th!);
      return seq.result(total);
    };
    try {
      return await withAtomicFile(output, async (fh) => {
        if (!opts.timesFile) return run(fh, null);
        return withAtomicFile(opts.timesFile, async (th) => run(fh, th));
      });
    } catch (e) {
      if (e instanceof Fallback) return null;
      throw e;
    }
  } finally {
    await log.close();
  }
}

/**
 * MCAP pose topic -> MCAP (ROS 2 PoseStamped CDR, or foxglove.PoseInFrame JSON), a batch at a time,
 * each message as the in-memory route writes it (pose through its rotation matrix, the exact
 * header stamp). Returns null, leaving nothing written, when a header stamp goes backwards.
 */
async function mcapToMcap(
  input: string,
  output: string,
  opts: McapStreamOptions,
  log: import('../mcap/reader.ts').McapLog,
  px: import('../mcap/extract.ts').PoseExtractor,
): Promise<McapStreamResult | null> {
  const { FormatError } = await import('../errors.ts');
  const topic = opts.outTopic ?? '/trajectory';
  const cdr = (opts.mcapEncoding ?? 'cdr') === 'cdr';
  type Writer = { close(): Promise<void>; abort(): Promise<void> };
  let pw: import('../mcap/pose-writer.ts').PoseStampedWriter | null = null;
  let jw: import('../mcap/writer.ts').McapLogWriter | null = null;
  let w: Writer | null = null;
  let frameId = opts.frameId ?? '';
  const seq = await PoseSequence.create(input, opts.topic, px);
  const R = seq.R;
  let total = 0;
  try {
    for await (const batch of log.batches({ topics: [opts.topic] }, opts.batch ?? 4096)) {
      for (const m of batch) {
        const { p } = seq.next(m, total);
        if (!w) {
          // the output is opened at the first message: its frame id is the default
          if (opts.frameId === undefined) frameId = p.frameId || 'world';
          if (cdr) w = pw = await (await import('../mcap/pose-writer.ts')).PoseStampedWriter.create(output, { topic, frameId });
          else w = jw = await (await import('../mcap/writer.ts')).McapLogWriter.create(output);
        }
        if (pw) {
          pw.addPose(p.stampNs, R, total);
        } else await jw!.addPoseInFrame(topic, p.stampNs, frameId, R);
        total++;
      }
      if (pw) await pw.flush();
    }
    if (total === 0) throw new FormatError(`topic '${opts.topic}' has no messages in the selected time range`, { file: input });
    await w!.close();
    return seq.result(total);
  } catch (e) {
    await w?.abort();
    if (e instanceof Fallback) return null;
    throw e;
  }
}

/** Appends the first `size` bytes of the file `path` to `to`. */
async function appendFile(to: FileHandle, path: string, size: number, buf: Buffer): Promise<void> {
  const { open } = await import('node:fs/promises');
  const from = await open(path, 'r');
  try {
    await appendFrom(to, from, size, buf);
  } finally {
    await from.close();
  }
}

async function appendFrom(to: FileHandle, from: FileHandle, size: number, buf: Buffer): Promise<void> {
  for (let at = 0; at < size;) {
    const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) break;
    let off = 0;
    while (off < bytesRead) off += (await to.write(buf, off, bytesRead - off)).bytesWritten;
    at += bytesRead;
  }
}

/**
 * MCAP pose topic -> Impulse JSON trajectory, a batch at a time, byte for byte what
 * formatTrajectoryJson writes for the in-memory trajectory. The document's arrays come one after
 * the other (timestamps, poses, stamps_ns, velocities), so the later ones are spooled to temporary
 * files next to the output (removed on errors and signals) and appended at the end: memory stays
 * flat, the disk holds the output about twice while it is written. Returns null, leaving nothing
 * written, when a header stamp goes backwards.
 */
async function mcapToJson(
  input: string,
  output: string,
  opts: McapStreamOptions,
  log: import('../mcap/reader.ts').McapLog,
  px: import('../mcap/extract.ts').PoseExtractor,
): Promise<McapStreamResult | null> {
  const { FormatError, NonFiniteValueError } = await import('../errors.ts');
  const { openTempFor, discardTempFile } = await import('../fsutil.ts');
  const sides: { fh: FileHandle; tmp: string; sink: ByteSink; size: number }[] = [];
  try {
    return await withAtomicFile(output, async (fh) => {
      for (let k = 0; k < 4; k++) sides.push({ ...(await openTempFor(output)), sink: new ByteSink(1 << 20), size: 0 });
      const [posesSide, stampsSide, velSide, avelSide] = sides as [(typeof sides)[0], (typeof sides)[0], (typeof sides)[0], (typeof sides)[0]];
      const out = new ByteSink(1 << 20);
      out.ascii('{"format":"impulse.trajectory","version":1,"timestamps":[');
      const seq = await PoseSequence.create(input, opts.topic, px);
      const R = seq.R;
      let total = 0;
      let hasVel = false;
      let frameId = '';
      let childFrameId = '';
      const row = (sink: ByteSink, v: ArrayLike<number>, n: number, what: string): void => {
        if (total > 0) sink.ascii(',');
        sink.ascii('[');
        for (let k = 0; k < n; k++) {
          const x = v[k]!;
          if (!Number.isFinite(x)) throw new NonFiniteValueError(`${what} ${x} is not finite`, { file: input, index: total });
          if (k > 0) sink.ascii(',');
          sink.number(x);
        }
        sink.ascii(']');
      };
      const drainAll = async (): Promise<void> => {
        await drain(out, fh);
        for (const sd of sides) {
          sd.size += sd.sink.pos;
          await drain(sd.sink, sd.fh);
        }
      };
      for await (const batch of log.batches({ topics: [opts.topic] }, opts.batch ?? 4096)) {
        for (const m of batch) {
          const { p, t } = seq.next(m, total);
          if (total === 0) {
            hasVel = p.velocity !== undefined;
            frameId = p.frameId;
            childFrameId = p.childFrameId;
          }
          if (total > 0) out.ascii(',');
          out.number(t);
          row(posesSide.sink, R, 12, 'pose value');
          stampsSide.sink.ascii(total > 0 ? ',"' : '"');
          stampsSide.sink.ascii(p.stampNs.toString());
          stampsSide.sink.ascii('"');
          if (hasVel) {
            row(velSide.sink, p.velocity ?? [0, 0, 0], 3, 'velocities value');
            row(avelSide.sink, p.angularVelocity ?? [0, 0, 0], 3, 'angular velocities value');
          }
          total++;
        }
        await drainAll();
      }
      if (total === 0) throw new FormatError(`topic '${opts.topic}' has no messages in the selected time range`, { file: input });
      await drainAll();
      const buf = Buffer.allocUnsafe(1 << 20);
      const section = async (head: string, sd: (typeof sides)[0]): Promise<void> => {
        out.ascii(head);
        await drain(out, fh);
        await appendFile(fh, sd.tmp, sd.size, buf);
        out.ascii(']');
      };
      await section('],"poses":[', posesSide);
      // formatTrajectoryJson's key order: name (the topic), frame ids, stamps_ns, velocities
      const utf8 = (text: string): void => {
        const b = Buffer.from(text);
        out.copy(b, 0, b.length);
      };
      utf8(`,"name":${JSON.stringify(opts.topic)}`);
      if (frameId) utf8(`,"frame_id":${JSON.stringify(frameId)}`);
      if (childFrameId) utf8(`,"child_frame_id":${JSON.stringify(childFrameId)}`);
      await section(',"stamps_ns":[', stampsSide);
      if (hasVel) {
        await section(',"velocities":[', velSide);
        await section(',"angular_velocities":[', avelSide);
      }
      out.ascii('}\n');
      await drain(out, fh);
      return seq.result(total);
    });
  } catch (e) {
    if (e instanceof Fallback) return null;
    throw e;
  } finally {
    for (const sd of sides) await discardTempFile(sd.fh, sd.tmp).catch(() => undefined);
  }
}
