// A fast MCAP writer for one pose trajectory (data/, bottom layer): geometry_msgs/msg/PoseStamped
// messages in ROS 2 CDR on one topic (profile `ros2`, schema encoding `ros2msg`), what Foxglove and
// ROS 2 tools read natively. Messages are encoded straight into the current chunk's bytes (no
// message objects, no per-message BigInt or promise), chunks and their message indexes are
// built here, and @mcap/core's McapRecordBuilder writes the other records (header, schema,
// channel, chunk, summary, footer). Written to a temp file and renamed on close, like
// McapLogWriter; a failed or aborted write leaves nothing behind.

import { McapRecordBuilder, Opcode } from '@mcap/core';
import type { FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { FormatError } from '../errors.ts';
import { discardTempFile, finishAtomicFile, openTempFor, userPathError } from '../fsutil.ts';
import { loadZstd, ROS2_POSE_STAMPED_DEFINITION } from './writer.ts';
import { rotationToQuatInto } from '../se3.ts';

/** How a pose trajectory is written to MCAP: `cdr` geometry_msgs/msg/PoseStamped (ROS 2), `json` foxglove.PoseInFrame. */
export type McapPoseEncoding = 'cdr' | 'json';

/** Options of {@link PoseStampedWriter.create}. */
export interface PoseStampedWriterOptions {
  /** Topic (default `/trajectory`). */
  topic?: string;
  /** header.frame_id of every message (default `world`). */
  frameId?: string;
  /** Chunk compression (default zstd when the codec loads). */
  compression?: 'zstd' | 'none';
  /** Target uncompressed chunk size in bytes (default 1 MiB). */
  chunkSize?: number;
}

/** Schema name written (the ROS 2 form, as rosbag2 writes it). */
export const POSE_STAMPED_SCHEMA = 'geometry_msgs/msg/PoseStamped';

const CHANNEL_ID = 1;
const SCHEMA_ID = 1;
const MESSAGE_HEADER = 1 + 8 + 2 + 4 + 8 + 8; // opcode, record length, channel, sequence, log and publish time
const TWO32 = 4294967296;
/** Native CRC-32 (Node >= 20.15); where missing, CRCs are written as 0 ("not available" in the MCAP spec). */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** One finished chunk: its Chunk record and MessageIndex record bytes and what the chunk index needs. */
interface FinishedChunk {
  head: Uint8Array;
  body: Uint8Array;
  index: Uint8Array;
  start: bigint;
  end: bigint;
  compression: string;
  compressedSize: bigint;
  uncompressedSize: bigint;
}

/**
 * Writes an indexed MCAP of geometry_msgs/msg/PoseStamped messages on one topic. {@link add}
 * encodes a message into the current chunk (synchronous); {@link flush} writes the chunks finished
 * so far; {@link close} finishes the file (summary with schema, channel, statistics and chunk
 * indexes) and moves it into place.
 */
export class PoseStampedWriter {
  private chunk: Buffer;
  private view: DataView;
  private pos = 0;
  /** Message index entries of the current chunk: (log time, offset) as four uint32 words each. */
  private index: Buffer;
  private indexView: DataView;
  private count = 0; // messages in the current chunk
  private total = 0;
  private firstLo = 0;
  private firstHi = 0;
  private lastLo = 0;
  private lastHi = 0;
  private startNs = 0n;
  private endNs = 0n;
  private done: FinishedChunk[] = [];
  private chunkIndexes: {
    start: bigint;
    end: bigint;
    offset: bigint;
    length: bigint;
    indexOffset: bigint;
    indexLength: bigint;
    compression: string;
    compressedSize: bigint;
    uncompressedSize: bigint;
  }[] = [];
  private position = 0n;
  private closed = false;
  /** CDR bytes before the stamp-independent pose: encapsulation header, stamp, frame id, padding. */
  private readonly prefix: Uint8Array;
  private readonly messageBytes: number;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly topic: string,
    frameId: string,
    private readonly zstd: { compress(b: Uint8Array, level?: number): Uint8Array } | null,
    private readonly chunkSize: number,
  ) {
    // CDR (XCDR1 little endian): 4-byte encapsulation header, then alignment counted from byte 4
    const id = Buffer.from(frameId, 'utf8');
    const strEnd = 4 + 8 + 4 + id.length + 1; // header.stamp (int32 sec, uint32 nanosec), frame_id (uint32 length with NUL, bytes, NUL)
    const poseAt = 4 + Math.ceil((strEnd - 4) / 8) * 8; // the float64s are 8-aligned
    const p = new Uint8Array(poseAt);
    p.set([0, 1, 0, 0]);
    new DataView(p.buffer).setUint32(12, id.length + 1, true);
    p.set(id, 16);
    this.prefix = p;
    this.messageBytes = poseAt + 7 * 8;
    this.chunk = Buffer.allocUnsafe(chunkSize + MESSAGE_HEADER + this.messageBytes); // a chunk ends after the message that reaches chunkSize
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.length);
    const perChunk = Math.ceil(this.chunk.length / (MESSAGE_HEADER + this.messageBytes)) + 1;
    this.index = Buffer.allocUnsafe(16 * perChunk);
    this.indexView = new DataView(this.index.buffer, this.index.byteOffset, this.index.length);
  }

  /** Starts a new file (written to a temp file next to `path` until {@link close}). */
  static async create(path: string, opts: PoseStampedWriterOptions = {}): Promise<PoseStampedWriter> {
    const { fh, tmp } = await openTempFor(path);
    try {
      const zstd = (opts.compression ?? 'zstd') === 'zstd' ? await loadZstd() : null;
      const w = new PoseStampedWriter(path, tmp, fh, opts.topic ?? '/trajectory', opts.frameId ?? 'world', zstd, opts.chunkSize ?? 1 << 20);
      await w.start();
      return w;
    } catch (e) {
      await discardTempFile(fh, tmp);
      throw userPathError(e, tmp, path);
    }
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
    this.position += BigInt(bytes.length);
  }

  private schemaAndChannel(b: McapRecordBuilder): void {
    b.writeSchema({ id: SCHEMA_ID, name: POSE_STAMPED_SCHEMA, encoding: 'ros2msg', data: new TextEncoder().encode(ROS2_POSE_STAMPED_DEFINITION) });
    b.writeChannel({ id: CHANNEL_ID, schemaId: SCHEMA_ID, topic: this.topic, messageEncoding: 'cdr', metadata: new Map() });
  }

  private async start(): Promise<void> {
    const b = new McapRecordBuilder();
    b.writeMagic();
    b.writeHeader({ profile: 'ros2', library: 'impulse data layer' });
    this.schemaAndChannel(b);
    await this.write(b.buffer);
  }

  private readonly quat: [number, number, number, number] = [0, 0, 0, 0];

  /**
   * Appends pose `index` of a trajectory: stamp `stampNs` (ns), pose a row-major 3x4 [R | t].
   * Throws a {@link FormatError} naming the file and the index for a negative stamp or one
   * ROS 2's int32 seconds cannot hold.
   */
  addPose(stampNs: bigint, pose: ArrayLike<number>, index: number): void {
    if (stampNs < 0n) throw new FormatError(`negative timestamp ${stampNs} ns cannot be written`, { file: this.path, index });
    const sec = stampNs / 1000000000n;
    if (sec > 2147483647n)
      throw new FormatError(
        `timestamp ${sec} s does not fit ROS 2 builtin_interfaces/Time (int32 seconds); write foxglove.PoseInFrame JSON messages instead (--mcap-encoding json)`,
        { file: this.path, index },
      );
    const q = this.quat;
    rotationToQuatInto(pose, 0, 4, q);
    this.add(Number(sec), Number(stampNs % 1000000000n), pose[3]!, pose[7]!, pose[11]!, q[0], q[1], q[2], q[3]);
  }

  /**
   * Appends one message: stamp `sec` s + `nsec` ns (header.stamp and the log time; 0 <= sec <
   * 2^31, 0 <= nsec < 1e9), position and orientation [x, y, z, w].
   * Throws a {@link FormatError} for a stamp ROS 2's int32 seconds cannot hold.
   */
  add(sec: number, nsec: number, px: number, py: number, pz: number, qx: number, qy: number, qz: number, qw: number): void {
    if (!(sec >= 0 && sec <= 2147483647))
      throw new FormatError(`timestamp ${sec} s does not fit ROS 2 builtin_interfaces/Time (int32 seconds); write foxglove.PoseInFrame JSON instead`, {
        file: this.path,
      });
    // log time sec * 1e9 + nsec as two uint32 words, exactly: sec * 1953125 < 2^52, times 2^9
    const p = sec * 1953125;
    let hi = Math.floor(p / 8388608); // p / 2^23
    let lo = (p - hi * 8388608) * 512 + nsec;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi++;
    }
    const dv = this.view;
    let o = this.pos;
    const rel = o;
    dv.setUint8(o, Opcode.MESSAGE);
    dv.setUint32(o + 1, MESSAGE_HEADER - 9 + this.messageBytes, true);
    dv.setUint32(o + 5, 0, true);
    dv.setUint16(o + 9, CHANNEL_ID, true);
    dv.setUint32(o + 11, this.total & 0xffffffff, true); // sequence
    dv.setUint32(o + 15, lo, true);
    dv.setUint32(o + 19, hi, true);
    dv.setUint32(o + 23, lo, true);
    dv.setUint32(o + 27, hi, true);
    o += MESSAGE_HEADER;
    this.chunk.set(this.prefix, o);
    dv.setInt32(o + 4, sec, true);
    dv.setUint32(o + 8, nsec, true);
    o += this.prefix.length;
    dv.setFloat64(o, px, true);
    dv.setFloat64(o + 8, py, true);
    dv.setFloat64(o + 16, pz, true);
    dv.setFloat64(o + 24, qx, true);
    dv.setFloat64(o + 32, qy, true);
    dv.setFloat64(o + 40, qz, true);
    dv.setFloat64(o + 48, qw, true);
    this.pos = o + 56;
    const iv = this.indexView;
    const k = 16 * this.count;
    iv.setUint32(k, lo, true);
    iv.setUint32(k + 4, hi, true);
    iv.setUint32(k + 8, rel, true);
    iv.setUint32(k + 12, 0, true);
    // the chunk's first and last log times (messages may come in any order)
    if (this.count === 0 || hi < this.firstHi || (hi === this.firstHi && lo < this.firstLo)) {
      this.firstLo = lo;
      this.firstHi = hi;
    }
    if (this.count === 0 || hi > this.lastHi || (hi === this.lastHi && lo > this.lastLo)) {
      this.lastLo = lo;
      this.lastHi = hi;
    }
    this.count++;
    this.total++;
    if (this.pos >= this.chunkSize) this.finishChunk();
  }

  /** Compresses the current chunk and queues its records for {@link flush}. */
  private finishChunk(): void {
    if (this.count === 0) return;
    const records = this.chunk.subarray(0, this.pos);
    const start = (BigInt(this.firstHi) << 32n) | BigInt(this.firstLo);
    const end = (BigInt(this.lastHi) << 32n) | BigInt(this.lastLo);
    const compressed = this.zstd ? this.zstd.compress(records, 1) : records;
    // the Chunk record's fields before its records (written here, so the compressed bytes are not copied)
    const compression = this.zstd ? 'zstd' : '';
    const head = Buffer.allocUnsafe(1 + 8 + 8 + 8 + 8 + 4 + 4 + compression.length + 8);
    head[0] = Opcode.CHUNK;
    head.writeBigUInt64LE(BigInt(head.length - 9 + compressed.length), 1);
    head.writeBigUInt64LE(start, 9);
    head.writeBigUInt64LE(end, 17);
    head.writeBigUInt64LE(BigInt(records.length), 25);
    head.writeUInt32LE(crc32 ? crc32(records) : 0, 33);
    head.writeUInt32LE(compression.length, 37);
    head.write(compression, 41, 'latin1');
    head.writeBigUInt64LE(BigInt(compressed.length), 41 + compression.length);
    // zstd returns a new array; uncompressed records are copied, as the chunk buffer is reused
    const body = this.zstd ? compressed : Uint8Array.prototype.slice.call(records);
    // MessageIndex record: opcode, length, channel id, byte length of the (time, offset) pairs, the pairs
    const n = 16 * this.count;
    const index = Buffer.allocUnsafe(1 + 8 + 2 + 4 + n);
    index[0] = Opcode.MESSAGE_INDEX;
    index.writeUInt32LE(2 + 4 + n, 1);
    index.writeUInt32LE(0, 5);
    index.writeUInt16LE(CHANNEL_ID, 9);
    index.writeUInt32LE(n, 11);
    this.index.copy(index, 15, 0, n);
    if (start < this.startNs || this.done.length + this.chunkIndexes.length === 0) this.startNs = start;
    if (end > this.endNs) this.endNs = end;
    this.done.push({ head, body, index, start, end, compression, compressedSize: BigInt(compressed.length), uncompressedSize: BigInt(records.length) });
    this.pos = 0;
    this.count = 0;
  }

  /** Writes the chunks finished so far (call between batches of {@link add}, e.g. after each input block). */
  async flush(): Promise<void> {
    for (const c of this.done) {
      const offset = this.position;
      await this.write(c.head);
      await this.write(c.body);
      const indexOffset = this.position;
      await this.write(c.index);
      this.chunkIndexes.push({
        start: c.start,
        end: c.end,
        offset,
        length: BigInt(c.head.length + c.body.length),
        indexOffset,
        indexLength: BigInt(c.index.length),
        compression: c.compression,
        compressedSize: c.compressedSize,
        uncompressedSize: c.uncompressedSize,
      });
    }
    this.done.length = 0;
  }

  /** Messages added so far. */
  get messageCount(): number {
    return this.total;
  }

  /** Finishes the file (last chunk, summary, footer) and moves it into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await finishAtomicFile(this.fh, this.tmp, this.path, async () => {
        this.finishChunk();
        await this.flush();
        this.closed = true;
        const b = new McapRecordBuilder();
        b.writeDataEnd({ dataSectionCrc: 0 });
        await this.write(b.buffer);
        b.reset();
        const summaryStart = this.position;
        const groups: { groupOpcode: number; groupStart: bigint; groupLength: bigint }[] = [];
        let at = summaryStart;
        const group = (opcode: number, write: () => void): void => {
          const before = b.length;
          write();
          const len = BigInt(b.length - before);
          groups.push({ groupOpcode: opcode, groupStart: at, groupLength: len });
          at += len;
        };
        group(Opcode.SCHEMA, () =>
          b.writeSchema({ id: SCHEMA_ID, name: POSE_STAMPED_SCHEMA, encoding: 'ros2msg', data: new TextEncoder().encode(ROS2_POSE_STAMPED_DEFINITION) }),
        );
        group(Opcode.CHANNEL, () => b.writeChannel({ id: CHANNEL_ID, schemaId: SCHEMA_ID, topic: this.topic, messageEncoding: 'cdr', metadata: new Map() }));
        group(Opcode.STATISTICS, () =>
          b.writeStatistics({
            messageCount: BigInt(this.total),
            schemaCount: 1,
            channelCount: 1,
            attachmentCount: 0,
            metadataCount: 0,
            chunkCount: this.chunkIndexes.length,
            messageStartTime: this.total ? this.startNs : 0n,
            messageEndTime: this.total ? this.endNs : 0n,
            channelMessageCounts: new Map([[CHANNEL_ID, BigInt(this.total)]]),
          }),
        );
        if (this.chunkIndexes.length)
          group(Opcode.CHUNK_INDEX, () => {
            for (const c of this.chunkIndexes)
              b.writeChunkIndex({
                messageStartTime: c.start,
                messageEndTime: c.end,
                chunkStartOffset: c.offset,
                chunkLength: c.length,
                messageIndexOffsets: new Map([[CHANNEL_ID, c.indexOffset]]),
                messageIndexLength: c.indexLength,
                compression: c.compression,
                compressedSize: c.compressedSize,
                uncompressedSize: c.uncompressedSize,
              });
          });
        const summaryOffsetStart = at;
        for (const g of groups) b.writeSummaryOffset(g);
        // the footer's CRC covers the summary section up to and including the footer's own offsets
        const body = b.buffer;
        const tail = Buffer.alloc(1 + 8 + 8 + 8);
        tail[0] = Opcode.FOOTER;
        tail.writeBigUInt64LE(20n, 1);
        tail.writeBigUInt64LE(summaryStart, 9);
        tail.writeBigUInt64LE(summaryOffsetStart, 17);
        const crc = crc32 ? crc32(tail, crc32(body)) : 0;
        b.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: crc });
        b.writeMagic();
        await this.write(b.buffer);
      });
    } finally {
      this.closed = true;
    }
  }

  /** Drops the file being written. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await discardTempFile(this.fh, this.tmp);
  }
}
