// Streaming MCAP reading (data/, bottom layer): open any MCAP file (indexed or not; uncompressed, zstd,
// lz4 or bz2 chunks) without loading it whole, list its channels and summary, and replay its messages
// in log-time order across channels with a cursor (seek, step, play at a speed). Memory is bounded
// by the chunks that overlap in time, never by the file size. Errors name the file and record offset.

import { McapIndexedReader, type McapTypes } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';
import { open, type FileHandle } from 'node:fs/promises';
import { McapFormatError } from '../errors.ts';

const MAGIC = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a];
const OP_HEADER = 0x01,
  OP_FOOTER = 0x02,
  OP_SCHEMA = 0x03,
  OP_CHANNEL = 0x04,
  OP_MESSAGE = 0x05,
  OP_CHUNK = 0x06,
  OP_DATA_END = 0x0f;
/** Messages outside chunks are grouped into blocks of at most this many bytes. */
const RECORD_BLOCK_BYTES = 4 << 20;

/** A schema of the log. */
export interface McapSchemaInfo {
  id: number;
  name: string;
  encoding: string;
  data: Uint8Array;
}

/** A channel (topic) of the log with its schema. */
export interface McapChannelInfo {
  id: number;
  topic: string;
  messageEncoding: string;
  schemaId: number;
  metadata: Map<string, string>;
}

/** One message of a log, undecoded. */
export interface LogMessage {
  topic: string;
  channelId: number;
  /** Schema name of the channel ('' when it has none). */
  schemaName: string;
  /** Log time, integer nanoseconds. */
  logTime: bigint;
  /** Publish time, integer nanoseconds. */
  publishTime: bigint;
  sequence: number;
  data: Uint8Array;
  /** Byte offset of the chunk (or record block) that holds the message, for error messages. */
  blockOffset: number;
}

/** A byte range of the file holding messages: a chunk record, or a run of top-level records. */
interface Block {
  offset: number;
  length: number;
  startTime: bigint;
  endTime: bigint;
  chunk: boolean;
  compression: string;
  order: number;
}

/** Summary of a log from its index (indexed files) or a record scan (others). */
export interface McapSummary {
  file: string;
  bytes: number;
  indexed: boolean;
  /** Set when the file was opened with `recover` and was truncated. */
  recovered: McapRecovery | null;
  profile: string;
  library: string;
  messageCount: number;
  /** Log time of the first and last message (ns), null when the log has no messages. */
  startTime: bigint | null;
  endTime: bigint | null;
  durationSec: number;
  chunkCount: number;
  /** Number of chunks per compression ('' = uncompressed). */
  compression: Record<string, number>;
  channels: { id: number; topic: string; schemaName: string; schemaEncoding: string; messageEncoding: string; messageCount: number }[];
}

/** Options of {@link McapLog.open}. */
export interface McapOpenOptions {
  /** Check chunk CRCs (default true). */
  validateCrcs?: boolean;
  /** Accept a non-indexed file that ends without a footer (a log still being recorded). Default false: such a file is an error. */
  allowIncomplete?: boolean;
  /**
   * Read a truncated file (a recording cut off): every complete record up to the first
   * truncated one is used, the rest is reported in {@link McapLog.recovered}. Default false:
   * truncation is an error.
   */
  recover?: boolean;
}

/** What {@link McapOpenOptions.recover} left out of a truncated file. */
export interface McapRecovery {
  /** Byte offset of the first incomplete record (everything from here on is lost). */
  truncatedAt: number;
  /** Bytes lost (file size - truncatedAt). */
  lostBytes: number;
  /** What was cut: the record's kind, or the end of the file without a footer. */
  what: string;
}

/** Options selecting messages. Times are integer nanoseconds (inclusive). */
export interface MessageFilter {
  topics?: readonly string[];
  start?: bigint;
  end?: bigint;
}

/** Seconds (float) to integer nanoseconds. */
export function secToNs(t: number): bigint {
  const s = Math.floor(t);
  return BigInt(s) * 1000000000n + BigInt(Math.round((t - s) * 1e9));
}

/** Integer nanoseconds to seconds (float64), as sec + nsec * 1e-9. */
export function nsToSec(t: bigint): number {
  const s = t / 1000000000n;
  const r = t - s * 1000000000n;
  return Number(s) + Number(r) * 1e-9;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 4; s++) t[256 * s + i] = (t[256 * (s - 1) + i]! >>> 8) ^ t[t[256 * (s - 1) + i]! & 0xff]!;
  return t;
})();

/** CRC-32 (IEEE, as MCAP uses), slicing-by-4. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  let i = 0;
  const n4 = b.length & ~3;
  const T = CRC_TABLE;
  for (; i < n4; i += 4) {
    c ^= b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    c = T[768 + (c & 0xff)]! ^ T[512 + ((c >>> 8) & 0xff)]! ^ T[256 + ((c >>> 16) & 0xff)]! ^ T[c >>> 24]!;
  }
  for (; i < b.length; i++) c = T[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

let handlersPromise: ReturnType<typeof loadDecompressHandlers> | undefined;
function decompressHandlers(): ReturnType<typeof loadDecompressHandlers> {
  return (handlersPromise ??= loadDecompressHandlers());
}

/** Sequential-friendly random access to a file through a cached window. */
class FileWindow {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly windowBytes = 1 << 20,
  ) {}
  /** Bytes [off, off + len) (len <= window for cached reads; larger reads go straight to the file). */
  async bytes(off: number, len: number): Promise<Uint8Array> {
    if (off >= this.start && off + len <= this.start + this.buf.length) return this.buf.subarray(off - this.start, off - this.start + len);
    if (len > this.windowBytes) return readExact(this.fh, off, len);
    const want = Math.min(this.windowBytes, this.size - off);
    this.buf = await readExact(this.fh, off, Math.max(want, len));
    this.start = off;
    return this.buf.subarray(0, len);
  }
}

async function readExact(fh: FileHandle, off: number, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(out, got, len - got, off + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? out : out.subarray(0, got);
}

class ByteReader {
  private view: DataView;
  pos = 0;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u16(): number {
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    if (this.pos + n > this.b.length) throw new RangeError('string runs past the record');
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (this.pos + n > this.b.length) throw new RangeError('byte array runs past the record');
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  map(): Map<string, string> {
    const n = this.u32();
    const end = this.pos + n;
    const m = new Map<string, string>();
    while (this.pos < end) m.set(this.str(), this.str());
    return m;
  }
}

/** An open MCAP log. Create with {@link McapLog.open}; call {@link McapLog.close} when done. */
export class McapLog {
  readonly schemas = new Map<number, McapSchemaInfo>();
  readonly channels = new Map<number, McapChannelInfo>();
  /** True when the file's summary section and chunk index were usable. */
  indexed = false;
  /** Set when the file was opened with `recover` and was truncated: what was lost. */
  recovered: McapRecovery | null = null;
  profile = '';
  library = '';
  private blocks: Block[] = [];
  private statistics: McapTypes.Statistics | undefined;
  private outsideCounts = new Map<number, number>();
  private handlers: McapTypes.DecompressHandlers = {};

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly opts: McapOpenOptions,
  ) {}

  /** Opens a log: reads its summary and chunk index when present, else scans record headers (chunk bodies are skipped). */
  static async open(path: string, opts: McapOpenOptions = {}): Promise<McapLog> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new McapFormatError(`cannot open: ${(e as Error).message}`, { file: path });
    }
    try {
      const size = (await fh.stat()).size;
      const log = new McapLog(path, fh, size, opts);
      await log.init();
      return log;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private async init(): Promise<void> {
    const head = await readExact(this.fh, 0, 8);
    if (head.length < 8 || MAGIC.some((b, i) => head[i] !== b)) throw new McapFormatError('not an MCAP file (bad magic bytes)', { file: this.path, offset: 0 });
    this.handlers = await decompressHandlers();
    let reader: McapIndexedReader | undefined;
    try {
      const fh = this.fh;
      const size = BigInt(this.size);
      reader = await McapIndexedReader.Initialize({
        readable: { size: async () => size, read: async (o: bigint, n: bigint) => readExact(fh, Number(o), Number(n)) },
        decompressHandlers: this.handlers,
      });
    } catch {
      reader = undefined;
    }
    const stats = reader?.statistics;
    if (reader && (reader.chunkIndexes.length > 0 || (stats !== undefined && stats.messageCount === 0n))) {
      this.indexed = true;
      this.profile = reader.header.profile;
      this.library = reader.header.library;
      this.statistics = stats;
      for (const s of reader.schemasById.values()) this.schemas.set(s.id, { id: s.id, name: s.name, encoding: s.encoding, data: s.data });
      for (const c of reader.channelsById.values())
        this.channels.set(c.id, { id: c.id, topic: c.topic, messageEncoding: c.messageEncoding, schemaId: c.schemaId, metadata: c.metadata });
      this.blocks = reader.chunkIndexes.map((ci, order) => ({
        offset: Number(ci.chunkStartOffset),
        length: Number(ci.chunkLength),
        startTime: ci.messageStartTime,
        endTime: ci.messageEndTime,
        chunk: true,
        compression: ci.compression,
        order,
      }));
    } else {
      await this.scan();
    }
    this.blocks.sort((a, b) => (a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : a.offset - b.offset));
    this.blocks.forEach((b, i) => (b.order = i));
  }

  /** Record-header scan of a non-indexed file: builds the block list, schemas and channels. */
  private async scan(): Promise<void> {
    const win = new FileWindow(this.fh, this.size);
    const file = this.path;
    let pos = 8;
    const st: { cur: Block | null } = { cur: null };
    const close = (): void => {
      if (st.cur) this.blocks.push(st.cur);
      st.cur = null;
    };
    for (;;) {
      if (pos + 9 > this.size) {
        if (pos === this.size && this.opts.allowIncomplete) break;
        if (this.opts.recover) {
          close();
          this.recovered = { truncatedAt: pos, lostBytes: this.size - pos, what: pos === this.size ? 'the data-end record and footer' : 'a record header' };
          break;
        }
        throw new McapFormatError(
          pos === this.size ? 'file ends without a data-end record or footer (truncated, or still being recorded)' : 'truncated record header at end of file',
          { file, offset: pos },
        );
      }
      const h = await win.bytes(pos, 9);
      const opcode = h[0]!;
      const len = new DataView(h.buffer, h.byteOffset, 9).getBigUint64(1, true);
      if (len > BigInt(this.size - pos - 9)) {
        if (this.opts.recover) {
          close();
          this.recovered = {
            truncatedAt: pos,
            lostBytes: this.size - pos,
            what: `a ${opcode === OP_CHUNK ? 'chunk' : `record (opcode 0x${opcode.toString(16).padStart(2, '0')})`} of ${len} bytes with ${this.size - pos - 9} present`,
          };
          break;
        }
        throw new McapFormatError(
          `record (opcode 0x${opcode.toString(16).padStart(2, '0')}) declares ${len} bytes but only ${this.size - pos - 9} remain: truncated file`,
          {
            file,
            offset: pos,
          },
        );
      }
      const n = Number(len);
      const end = pos + 9 + n;
      try {
        if (opcode === OP_HEADER) {
          const r = new ByteReader(await win.bytes(pos + 9, n));
          this.profile = r.str();
          this.library = r.str();
        } else if (opcode === OP_SCHEMA) {
          const r = new ByteReader((await win.bytes(pos + 9, n)).slice());
          const id = r.u16();
          this.schemas.set(id, { id, name: r.str(), encoding: r.str(), data: r.bytes() });
        } else if (opcode === OP_CHANNEL) {
          const r = new ByteReader(await win.bytes(pos + 9, n));
          const id = r.u16();
          const schemaId = r.u16();
          this.channels.set(id, { id, schemaId, topic: r.str(), messageEncoding: r.str(), metadata: r.map() });
        } else if (opcode === OP_MESSAGE) {
          if (n < 22) throw new RangeError('message record shorter than its header');
          const r = new ByteReader(await win.bytes(pos + 9, 22));
          const channelId = r.u16();
          r.u32();
          const logTime = r.u64();
          this.outsideCounts.set(channelId, (this.outsideCounts.get(channelId) ?? 0) + 1);
          const c = st.cur;
          if (c && c.offset + c.length === pos && c.length + 9 + n <= RECORD_BLOCK_BYTES) {
            c.length += 9 + n;
            if (logTime < c.startTime) c.startTime = logTime;
            if (logTime > c.endTime) c.endTime = logTime;
          } else {
            close();
            st.cur = { offset: pos, length: 9 + n, startTime: logTime, endTime: logTime, chunk: false, compression: '', order: 0 };
          }
        } else if (opcode === OP_CHUNK) {
          close();
          const r = new ByteReader(await win.bytes(pos + 9, Math.min(n, 4096)));
          const startTime = r.u64();
          const endTime = r.u64();
          r.u64();
          r.u32();
          const compression = r.str();
          this.blocks.push({ offset: pos, length: 9 + n, startTime, endTime, chunk: true, compression, order: 0 });
        } else if (opcode === OP_DATA_END || opcode === OP_FOOTER) {
          close();
          break;
        } else {
          close();
        }
      } catch (e) {
        if (e instanceof McapFormatError) throw e;
        throw new McapFormatError(`malformed record (opcode 0x${opcode.toString(16).padStart(2, '0')}): ${(e as Error).message}`, { file, offset: pos });
      }
      pos = end;
    }
    close();
    if (this.recovered) await this.definitionsFromChunks();
  }

  /**
   * A truncated file has no summary section repeating the schemas and channels: read them from
   * the complete chunks (writers put them inside chunks, before their first message).
   */
  private async definitionsFromChunks(): Promise<void> {
    for (const b of this.blocks) {
      if (!b.chunk) continue;
      const records = this.unpackChunk(await readExact(this.fh, b.offset, b.length));
      const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
      for (let pos = 0; pos + 9 <= records.length;) {
        const opcode = records[pos]!;
        const n = Number(dv.getBigUint64(pos + 1, true));
        if (pos + 9 + n > records.length) break;
        const body = records.subarray(pos + 9, pos + 9 + n);
        if (opcode === OP_SCHEMA) {
          const r = new ByteReader(body.slice());
          const id = r.u16();
          if (!this.schemas.has(id)) this.schemas.set(id, { id, name: r.str(), encoding: r.str(), data: r.bytes() });
        } else if (opcode === OP_CHANNEL) {
          const r = new ByteReader(body);
          const id = r.u16();
          const schemaId = r.u16();
          if (!this.channels.has(id)) this.channels.set(id, { id, schemaId, topic: r.str(), messageEncoding: r.str(), metadata: r.map() });
        }
        pos += 9 + n;
      }
    }
  }

  /** Schema of a channel, if it has one. */
  schemaOf(channel: McapChannelInfo): McapSchemaInfo | undefined {
    return channel.schemaId === 0 ? undefined : this.schemas.get(channel.schemaId);
  }

  /** Reads and parses one block (a chunk, or a run of top-level records), returning its messages sorted by log time. */
  async loadBlock(b: Block, filter: { topics?: Set<string>; start?: bigint; end?: bigint }): Promise<LogMessage[]> {
    const file = this.path;
    const what = b.chunk ? 'chunk' : 'record block';
    const bytes = await readExact(this.fh, b.offset, b.length);
    if (bytes.length < b.length) throw new McapFormatError(`${what} runs past the end of the file (truncated)`, { file, offset: b.offset });
    let records: Uint8Array;
    if (b.chunk) {
      try {
        records = this.unpackChunk(bytes);
      } catch (e) {
        if (e instanceof McapFormatError) throw new McapFormatError(e.detail, { file, offset: b.offset });
        throw new McapFormatError(`corrupt chunk: ${(e as Error).message}`, { file, offset: b.offset });
      }
    } else records = bytes;
    const out: LogMessage[] = [];
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    let pos = 0;
    const topics = filter.topics;
    while (pos < records.length) {
      if (pos + 9 > records.length)
        throw new McapFormatError(`${what} ends in the middle of a record header (truncated or corrupt)`, { file, offset: b.offset });
      const opcode = records[pos]!;
      const len = dv.getBigUint64(pos + 1, true);
      if (len > BigInt(records.length - pos - 9))
        throw new McapFormatError(`${what} holds a record (opcode 0x${opcode.toString(16)}) longer than the ${what} (corrupt)`, { file, offset: b.offset });
      const body = pos + 9;
      const n = Number(len);
      if (opcode === OP_MESSAGE) {
        if (n < 22) throw new McapFormatError(`${what} holds a message record shorter than its header (corrupt)`, { file, offset: b.offset });
        const channelId = dv.getUint16(body, true);
        const logTime = dv.getBigUint64(body + 6, true);
        const keep = (filter.start === undefined || logTime >= filter.start) && (filter.end === undefined || logTime <= filter.end);
        if (keep) {
          const ch = this.channels.get(channelId);
          if (!ch) throw new McapFormatError(`message on unknown channel id ${channelId}`, { file, offset: b.offset });
          if (!topics || topics.has(ch.topic)) {
            out.push({
              topic: ch.topic,
              channelId,
              schemaName: this.schemaOf(ch)?.name ?? '',
              logTime,
              publishTime: dv.getBigUint64(body + 14, true),
              sequence: dv.getUint32(body + 2, true),
              data: records.subarray(body + 22, body + n),
              blockOffset: b.offset,
            });
          }
        }
      } else if (opcode === OP_SCHEMA || opcode === OP_CHANNEL) {
        try {
          const r = new ByteReader(records.subarray(body, body + n));
          const id = r.u16();
          if (opcode === OP_SCHEMA) {
            if (!this.schemas.has(id)) this.schemas.set(id, { id, name: r.str(), encoding: r.str(), data: r.bytes().slice() });
          } else if (!this.channels.has(id)) {
            const schemaId = r.u16();
            this.channels.set(id, { id, schemaId, topic: r.str(), messageEncoding: r.str(), metadata: r.map() });
          }
        } catch (e) {
          throw new McapFormatError(`${what} holds a malformed ${opcode === OP_SCHEMA ? 'schema' : 'channel'} record: ${(e as Error).message}`, {
            file,
            offset: b.offset,
          });
        }
      }
      pos = body + n;
    }
    let sorted = true;
    for (let i = 1; i < out.length; i++) if (out[i]!.logTime < out[i - 1]!.logTime) sorted = false;
    if (!sorted) out.sort((a, b2) => (a.logTime < b2.logTime ? -1 : a.logTime > b2.logTime ? 1 : 0));
    return out;
  }

  /** Decompresses and CRC-checks a chunk record (opcode, length, body) and returns its inner records. */
  private unpackChunk(bytes: Uint8Array): Uint8Array {
    if (bytes[0] !== OP_CHUNK) throw new McapFormatError(`expected a chunk record (opcode 0x06), found opcode 0x${bytes[0]!.toString(16)}`);
    const r = new ByteReader(bytes.subarray(9));
    r.u64();
    r.u64();
    const size = r.u64();
    const crc = r.u32();
    const compression = r.str();
    const len = r.u64();
    if (len > BigInt(bytes.length - 9 - r.pos)) throw new McapFormatError('chunk records run past the chunk (corrupt)');
    const data = bytes.subarray(9 + r.pos, 9 + r.pos + Number(len));
    let records: Uint8Array;
    if (compression === '') records = data;
    else {
      const h = this.handlers[compression];
      if (!h) throw new McapFormatError(`chunk compression '${compression}' is not supported (supported: none, ${Object.keys(this.handlers).join(', ')})`);
      try {
        records = h(data, size);
      } catch (e) {
        throw new McapFormatError(`corrupt chunk: ${compression} decompression failed (${(e as Error).message})`);
      }
    }
    if (BigInt(records.length) !== size) throw new McapFormatError(`corrupt chunk: ${records.length} bytes after decompression, header says ${size}`);
    if (crc !== 0 && (this.opts.validateCrcs ?? true)) {
      const got = crc32(records);
      if (got !== crc) throw new McapFormatError(`corrupt chunk: CRC mismatch (stored ${crc}, computed ${got})`);
    }
    return records;
  }

  /** The block list (chunks or record runs), sorted by start time. */
  blockList(): readonly Block[] {
    return this.blocks;
  }

  /**
   * Summary of the log. Indexed files answer from the summary section alone (fast, whatever the
   * size); other files are read block by block (messages counted, not decoded).
   */
  async summary(): Promise<McapSummary> {
    const counts = new Map<number, number>();
    let messageCount = 0;
    let startTime: bigint | null = null;
    let endTime: bigint | null = null;
    const compression: Record<string, number> = {};
    for (const b of this.blocks) if (b.chunk) compression[b.compression] = (compression[b.compression] ?? 0) + 1;
    if (this.indexed && this.statistics) {
      const s = this.statistics;
      messageCount = Number(s.messageCount);
      for (const [id, c] of s.channelMessageCounts) counts.set(id, Number(c));
      if (messageCount > 0) {
        startTime = s.messageStartTime;
        endTime = s.messageEndTime;
      }
    } else {
      for (const b of this.blocks) {
        const msgs = await this.loadBlock(b, {});
        for (const m of msgs) {
          counts.set(m.channelId, (counts.get(m.channelId) ?? 0) + 1);
          messageCount++;
          if (startTime === null || m.logTime < startTime) startTime = m.logTime;
          if (endTime === null || m.logTime > endTime) endTime = m.logTime;
        }
      }
    }
    const channels = [...this.channels.values()]
      .sort((a, b) => a.id - b.id)
      .map((c) => {
        const s = this.schemaOf(c);
        return {
          id: c.id,
          topic: c.topic,
          schemaName: s?.name ?? '',
          schemaEncoding: s?.encoding ?? '',
          messageEncoding: c.messageEncoding,
          messageCount: counts.get(c.id) ?? 0,
        };
      });
    return {
      file: this.path,
      bytes: this.size,
      indexed: this.indexed,
      recovered: this.recovered,
      profile: this.profile,
      library: this.library,
      messageCount,
      startTime,
      endTime,
      durationSec: startTime !== null && endTime !== null ? Number(endTime - startTime) / 1e9 : 0,
      chunkCount: this.blocks.filter((b) => b.chunk).length,
      compression,
      channels,
    };
  }

  /** A replay cursor over the messages selected by `filter`, positioned at the start. */
  cursor(filter: MessageFilter = {}): ReplayCursor {
    return new ReplayCursor(this, filter);
  }

  /** Iterates the selected messages in log-time order (ties: file order). */
  async *messages(filter: MessageFilter = {}): AsyncGenerator<LogMessage, void, void> {
    const c = this.cursor(filter);
    for (let b = await c.nextBatch(); b.length > 0; b = await c.nextBatch()) yield* b;
  }

  /** Iterates the selected messages in log-time order in batches (cheaper than one await per message). */
  async *batches(filter: MessageFilter = {}, max = 4096): AsyncGenerator<LogMessage[], void, void> {
    const c = this.cursor(filter);
    for (let b = await c.nextBatch(max); b.length > 0; b = await c.nextBatch(max)) yield b;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.fh.close();
  }
}

interface HeapEntry {
  msgs: LogMessage[];
  i: number;
  order: number;
}

function entryLess(a: HeapEntry, b: HeapEntry): boolean {
  const ta = a.msgs[a.i]!.logTime,
    tb = b.msgs[b.i]!.logTime;
  return ta < tb || (ta === tb && a.order < b.order);
}

/**
 * A replay cursor: messages of the chosen topics in log-time order across channels. Only blocks
 * that overlap the current time are held in memory. `seek` repositions, `next` steps, `play`
 * paces messages at a speed relative to log time.
 */
export class ReplayCursor {
  private heap: HeapEntry[] = [];
  private pending: Block[] = [];
  private pi = 0;
  private topics: Set<string> | undefined;
  private position: bigint;
  /** Number of blocks loaded so far (for memory/throughput diagnostics). */
  blocksLoaded = 0;
  /** Largest number of blocks held at once. */
  maxBlocksHeld = 0;

  constructor(
    private readonly log: McapLog,
    private readonly filter: MessageFilter,
  ) {
    this.topics = filter.topics ? new Set(filter.topics) : undefined;
    this.position = filter.start ?? -1n;
    this.reset(this.position);
  }

  /** Log time (ns) of the last message returned, or of the last seek. */
  get time(): bigint {
    return this.position;
  }

  private reset(t: bigint): void {
    this.heap = [];
    this.pending = this.log.blockList().filter((b) => b.endTime >= t && (this.filter.end === undefined || b.startTime <= this.filter.end));
    this.pi = 0;
  }

  /** Moves the cursor so the next message is the first one with log time >= t (ns). */
  seek(t: bigint): void {
    const lo = this.filter.start !== undefined && this.filter.start > t ? this.filter.start : t;
    this.position = lo;
    this.reset(lo);
  }

  /** The next message in log-time order, or undefined at the end. */
  async next(): Promise<LogMessage | undefined> {
    for (;;) {
      const head = this.heap[0];
      const nb = this.pending[this.pi];
      if (nb && (!head || nb.startTime <= head.msgs[head.i]!.logTime)) {
        this.pi++;
        const start = this.filter.start !== undefined && this.filter.start > this.position ? this.filter.start : this.position;
        const msgs = await this.log.loadBlock(nb, { topics: this.topics, start: start < 0n ? undefined : start, end: this.filter.end });
        this.blocksLoaded++;
        if (msgs.length > 0) this.push({ msgs, i: 0, order: nb.order });
        if (this.heap.length > this.maxBlocksHeld) this.maxBlocksHeld = this.heap.length;
        continue;
      }
      if (!head) return undefined;
      const m = head.msgs[head.i]!;
      head.i++;
      if (head.i >= head.msgs.length) this.popTop();
      else this.siftDown(0);
      this.position = m.logTime;
      return m;
    }
  }

  /**
   * The next messages in log-time order, up to `max` of them, stopping early where another block
   * must be loaded (so a batch never holds more than the blocks already in memory). Empty at the end.
   * Same order as repeated {@link next} calls, with far less per-message overhead.
   */
  async nextBatch(max = 4096): Promise<LogMessage[]> {
    const first = await this.next();
    if (!first) return [];
    const out = [first];
    const h = this.heap;
    while (out.length < max && h.length > 0) {
      const head = h[0]!;
      const m = head.msgs[head.i]!;
      const nb = this.pending[this.pi];
      if (nb && nb.startTime <= m.logTime) break;
      head.i++;
      if (head.i >= head.msgs.length) this.popTop();
      else if (h.length > 1) this.siftDown(0);
      out.push(m);
    }
    this.position = out[out.length - 1]!.logTime;
    return out;
  }

  /** Advances by n messages and returns the last one (undefined if the log ended first). */
  async step(n = 1): Promise<LogMessage | undefined> {
    let m: LogMessage | undefined;
    for (let k = 0; k < n; k++) {
      m = await this.next();
      if (!m) return undefined;
    }
    return m;
  }

  /**
   * Yields the remaining messages paced at `speed` times log time (Infinity: as fast as possible).
   * Stops early when `signal` aborts. `sleep` and `now` can be replaced (tests, UIs).
   */
  async *play(
    opts: { speed?: number; signal?: AbortSignal; sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
  ): AsyncGenerator<LogMessage, void, void> {
    const speed = opts.speed ?? 1;
    if (!(speed > 0)) throw new RangeError(`play speed must be > 0, got ${speed}`);
    const now = opts.now ?? (() => performance.now());
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let wall0 = 0;
    let log0: bigint | undefined;
    for (;;) {
      if (opts.signal?.aborted) return;
      const m = await this.next();
      if (!m) return;
      if (log0 === undefined) {
        log0 = m.logTime;
        wall0 = now();
      } else if (Number.isFinite(speed)) {
        const due = Number(m.logTime - log0) / 1e6 / speed;
        const wait = due - (now() - wall0);
        if (wait > 0) await sleep(wait);
        if (opts.signal?.aborted) return;
      }
      yield m;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LogMessage, void, void> {
    for (let m = await this.next(); m; m = await this.next()) yield m;
  }

  private push(e: HeapEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!entryLess(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < h.length && entryLess(h[l]!, h[m]!)) m = l;
      if (r < h.length && entryLess(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
