// Streaming conversion of trajectory files (data layer): reads a text trajectory (TUM, with
// spaces or commas; KITTI; EuRoC) a block at a time and writes TUM, KITTI (+ times file), EuRoC
// or MCAP as it goes, so memory stays flat in the file size. Each line is checked as the
// in-memory readers check it (field count, numbers, finite values, quaternion norm, timestamps
// in order, named by file and line); the output is the same as reading the whole file and
// writing it with writeTrajectory. Written atomically (temp file, removed on errors and signals).

import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { FormatError, NonFiniteValueError, ParseError, TimestampOrderError } from '../errors.ts';
import { checkOutputPath, withAtomicFile } from '../fsutil.ts';
import { quatToRotation, rotationToQuat } from '../se3.ts';
import { checkQuaternion } from '../trajectory.ts';
import type { TrajectoryFormat } from './names.ts';

/** Input formats {@link convertStreaming} reads. */
export const STREAM_INPUTS: readonly TrajectoryFormat[] = ['tum', 'kitti', 'euroc'];
/** Output formats {@link convertStreaming} writes. */
export const STREAM_OUTPUTS: readonly TrajectoryFormat[] = ['tum', 'kitti', 'euroc', 'mcap'];

/** Options of {@link convertStreaming}. */
export interface StreamConvertOptions {
  from: TrajectoryFormat;
  to: TrajectoryFormat;
  /** KITTI output: also write the timestamps here. */
  timesFile?: string;
  /** Give poses without timestamps (KITTI input) the timestamps i / rate. */
  rate?: number;
  /** MCAP output: topic (default `/trajectory`) and frame id (default `world`). */
  topic?: string;
  frameId?: string;
  /** Bytes read per block (default 1 MiB). */
  blockBytes?: number;
}

/** What {@link convertStreaming} did. */
export interface StreamConvertResult {
  poses: number;
  /** Whether the poses had timestamps (from the input or `rate`). */
  timestamps: boolean;
  /** Repeated timestamps with a different pose (first few as pose index and time). */
  duplicates: { count: number; first: { index: number; timestamp: number }[] };
  bytesRead: number;
}

const NONFINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;
const INT_RE = /^\d+$/;
const FIELDS: Record<string, string[]> = {
  tum: ['timestamp', 'tx', 'ty', 'tz', 'qx', 'qy', 'qz', 'qw'],
  euroc: ['timestamp', 'p_x', 'p_y', 'p_z', 'q_w', 'q_x', 'q_y', 'q_z'],
  kitti: Array.from({ length: 12 }, (_, c) => `T${Math.floor(c / 4)}${c % 4}`),
};

/** Nanosecond stamp: the exact one when the input had it, else round(t * 1e9) as the in-memory writers do. */
function stampOf(t: number, ns: bigint | null): bigint {
  if (ns !== null) return ns;
  const sec = Math.floor(t);
  return BigInt(sec) * 1000000000n + BigInt(Math.round((t - sec) * 1e9));
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22

/**
 * Parses the plain decimal `s[a, b)` (`[+-]?digits[.digits][(e|E)[+-]?digits]`, or `.digits`)
 * without making a substring, for the common case where the result is exact (Clinger's fast
 * path: an integer mantissa below 2^53 times or over a power of ten up to 1e22, each exact in
 * float64, so one IEEE multiply or divide rounds correctly and equals `Number(s.slice(a, b))`).
 * Returns NaN when the token has another shape or is outside the fast path; the caller then
 * uses `Number` and its error handling.
 */
function parseDecimal(s: string, a: number, b: number): number {
  let i = a;
  let neg = false;
  let ch = i < b ? s.charCodeAt(i) : 0;
  if (ch === 45 || ch === 43) {
    neg = ch === 45;
    ch = ++i < b ? s.charCodeAt(i) : 0;
  }
  let m = 0;
  let digits = 0;
  while (ch >= 48 && ch <= 57) {
    m = m * 10 + (ch - 48);
    digits++;
    ch = ++i < b ? s.charCodeAt(i) : 0;
  }
  let exp = 0;
  if (ch === 46) {
    ch = ++i < b ? s.charCodeAt(i) : 0;
    while (ch >= 48 && ch <= 57) {
      m = m * 10 + (ch - 48);
      digits++;
      exp--;
      ch = ++i < b ? s.charCodeAt(i) : 0;
    }
  }
  if (digits === 0 || m > 9007199254740991) return NaN;
  if (ch === 101 || ch === 69) {
    ch = ++i < b ? s.charCodeAt(i) : 0;
    let eneg = false;
    if (ch === 45 || ch === 43) {
      eneg = ch === 45;
      ch = ++i < b ? s.charCodeAt(i) : 0;
    }
    let e = 0;
    let edigits = 0;
    while (ch >= 48 && ch <= 57 && e < 1000) {
      e = e * 10 + (ch - 48);
      edigits++;
      ch = ++i < b ? s.charCodeAt(i) : 0;
    }
    if (edigits === 0) return NaN;
    exp += eneg ? -e : e;
  }
  if (i !== b || exp < -22 || exp > 22) return NaN;
  const x = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
  return neg ? -x : x;
}

/** Whether {@link convertStreaming} handles this pair of formats (and options). */
export function canStream(from: TrajectoryFormat, to: TrajectoryFormat, opts: { timesFileIn?: boolean } = {}): boolean {
  // EuRoC -> EuRoC keeps velocity columns, which only the in-memory writer carries
  return STREAM_INPUTS.includes(from) && STREAM_OUTPUTS.includes(to) && !opts.timesFileIn && !(from === 'euroc' && to === 'euroc');
}

/** A buffered writer over a file handle: `write` collects, `flush` writes (after each block read). */
class BlockWriter {
  private text = '';
  constructor(private readonly fh: FileHandle) {}
  write(s: string): void {
    this.text += s;
  }
  async flush(): Promise<void> {
    if (this.text === '') return;
    await this.fh.write(this.text);
    this.text = '';
  }
}

/**
 * Converts `input` (format `opts.from`) to `output` (format `opts.to`) a block at a time.
 * Throws the readers' named errors (file, line, field) on bad input; nothing is written then.
 */
export async function convertStreaming(input: string, output: string, opts: StreamConvertOptions): Promise<StreamConvertResult> {
  const { from, to } = opts;
  if (!canStream(from, to)) throw new FormatError(`streaming conversion from ${from} to ${to} is not supported`, { file: input });
  checkOutputPath(output);
  if (opts.timesFile) checkOutputPath(opts.timesFile);
  if (opts.rate !== undefined && !(opts.rate > 0)) throw new ParseError(`rate must be > 0 Hz, got ${opts.rate}`);
  const hasTime = from !== 'kitti' || opts.rate !== undefined;
  if (!hasTime && to !== 'kitti')
    throw new FormatError(`${to === 'mcap' ? 'MCAP' : to === 'tum' ? 'TUM' : 'EuRoC'} output needs timestamps, and KITTI poses have none (give a rate)`, {
      file: input,
    });
  if (opts.timesFile && !hasTime) throw new FormatError('no timestamps to write to the times file', { file: opts.timesFile });

  const mcap = to === 'mcap' ? await (await import('../mcap/writer.ts')).McapLogWriter.create(output) : null;
  const topic = opts.topic ?? '/trajectory';
  const frame = opts.frameId ?? 'world';

  const run = async (out: BlockWriter | null, times: BlockWriter | null): Promise<StreamConvertResult> => {
    const nf = from === 'kitti' ? 12 : 8;
    const names = FIELDS[from]!;
    const v = new Float64Array(12);
    const R = new Float64Array(12);
    const prevPose = new Float64Array(12);
    let prevT = -Infinity;
    let n = 0;
    let lineNo = 0;
    let bytesRead = 0;
    const dup = { count: 0, first: [] as { index: number; timestamp: number }[] };
    if (to === 'tum') out!.write('# timestamp tx ty tz qx qy qz qw\n');
    if (to === 'euroc') out!.write('#timestamp [ns],p_RS_R_x [m],p_RS_R_y [m],p_RS_R_z [m],q_RS_w [],q_RS_x [],q_RS_y [],q_RS_z []\n');

    const pending: [bigint, Float64Array][] = []; // MCAP messages of the current block
    const starts = new Int32Array(32);
    const ends = new Int32Array(32);
    const where = (): { file: string; line: number } => ({ file: input, line: lineNo });
    const isSep = (c: number): boolean => c === 32 || c === 9 || (c === 44 && from !== 'kitti') || c === 13;
    const handle = (line: string, i: number, L: number): void => {
      lineNo++;
      // fields by char codes (spaces, tabs; commas for TUM and EuRoC) in line[i, L)
      while (i < L && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9 || line.charCodeAt(i) === 13)) i++;
      if (i === L || line.charCodeAt(i) === 35) return; // blank or '#'
      if (from === 'euroc' && n === 0 && /^[A-Za-z]/.test(line.slice(i, L))) return; // header without '#'
      let k = 0;
      if (from === 'tum' || from === 'kitti') {
        while (i < L) {
          const a = i;
          while (i < L && !isSep(line.charCodeAt(i))) i++;
          if (k < 32) {
            starts[k] = a;
            ends[k] = i;
          }
          k++;
          while (i < L && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9 || line.charCodeAt(i) === 13)) i++;
          if (i < L && line.charCodeAt(i) === 44 && from === 'tum') {
            i++;
            while (i < L && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
            if (i >= L) {
              starts[k] = ends[k] = L; // a trailing comma: an empty field
              k++;
            }
          }
        }
      } else {
        const base = i;
        const f = line.slice(i, L).trim().split(',');
        for (let c = 0; c < f.length && c < 32; c++) {
          const tok = f[c]!.trim();
          starts[c] = line.indexOf(tok, c === 0 ? base : ends[c - 1]! + 1);
          ends[c] = starts[c]! + tok.length;
        }
        k = f.length;
      }
      if (from === 'euroc' ? k < 8 : k !== nf) {
        const what = from === 'tum' ? 'TUM' : from === 'kitti' ? 'KITTI' : 'EuRoC';
        throw new ParseError(`${what} line has ${k} fields, expected ${from === 'euroc' ? 'at least 8' : nf}${k < nf ? ' (truncated line?)' : ''}`, where());
      }
      for (let c = 0; c < nf; c++) {
        const a = starts[c]!;
        const b = ends[c]!;
        const fast = parseDecimal(line, a, b);
        if (!Number.isNaN(fast)) {
          v[c] = fast;
          continue;
        }
        let ok = b > a;
        for (let j = a; j < b && ok; j++) {
          const ch = line.charCodeAt(j);
          ok = (ch >= 48 && ch <= 57) || ch === 46 || ch === 101 || ch === 69 || ch === 43 || ch === 45;
        }
        const tok = line.substring(a, b);
        const x = ok ? Number(tok) : NaN;
        if (!ok || Number.isNaN(x)) {
          const l = { ...where(), column: c + 1, field: names[c] };
          if (NONFINITE_RE.test(tok)) throw new NonFiniteValueError(`value '${tok}' is not finite`, l);
          throw new ParseError(tok === '' ? 'empty field' : `'${tok}' is not a number`, l);
        }
        if (!Number.isFinite(x)) throw new NonFiniteValueError(`value '${tok}' is not finite`, { ...where(), column: c + 1, field: names[c] });
        v[c] = x;
      }
      const f0 = from === 'euroc' ? line.substring(starts[0]!, ends[0]!).trim() : '';
      let t = NaN;
      let ns: bigint | null = null;
      if (from === 'kitti') {
        R.set(v.subarray(0, 12));
        if (opts.rate !== undefined) t = n / opts.rate;
      } else {
        let qx: number, qy: number, qz: number, qw: number;
        if (from === 'tum') {
          t = v[0]!;
          qx = v[4]!;
          qy = v[5]!;
          qz = v[6]!;
          qw = v[7]!;
        } else {
          t = v[0]! / 1e9;
          if (INT_RE.test(f0)) ns = BigInt(f0);
          qw = v[4]!;
          qx = v[5]!;
          qy = v[6]!;
          qz = v[7]!;
        }
        if (!(qx * qx + qy * qy + qz * qz + qw * qw >= 4 * Number.EPSILON)) checkQuaternion(qx, qy, qz, qw, where());
        quatToRotation(qx, qy, qz, qw, R, 0, 4);
        R[3] = v[1]!;
        R[7] = v[2]!;
        R[11] = v[3]!;
      }
      if (hasTime) {
        if (t < prevT) throw new TimestampOrderError(`timestamp ${from === 'euroc' ? `${f0} ns` : t} goes backwards (previous ${prevT})`, where());
        if (t === prevT) {
          let differ = false;
          for (let k = 0; k < 12 && !differ; k++) differ = Math.abs(R[k]! - prevPose[k]!) > 1e-12;
          if (differ) {
            dup.count++;
            if (dup.first.length < 3) dup.first.push({ index: n, timestamp: t });
          }
        }
        prevT = t;
        prevPose.set(R);
      }
      if (to === 'kitti') {
        let s = String(R[0]);
        for (let k = 1; k < 12; k++) s += ' ' + R[k];
        out!.write(s + '\n');
        times?.write(`${t}\n`);
      } else if (to === 'mcap') {
        pending.push([stampOf(t, ns), Float64Array.from(R)]);
      } else {
        const q = rotationToQuat(R, 0, 4);
        if (to === 'tum') out!.write(`${t} ${R[3]} ${R[7]} ${R[11]} ${q[0]} ${q[1]} ${q[2]} ${q[3]}\n`);
        else out!.write(`${stampOf(t, ns)},${R[3]},${R[7]},${R[11]},${q[3]},${q[0]},${q[1]},${q[2]}\n`);
      }
      n++;
    };

    const drain = async (): Promise<void> => {
      await out?.flush();
      await times?.flush();
      for (const [stampNs, pose] of pending) await mcap!.addPoseInFrame(topic, stampNs, frame, pose);
      pending.length = 0;
    };
    const decoder = new StringDecoder('utf8');
    let rest = '';
    const stream = createReadStream(input, { highWaterMark: opts.blockBytes ?? 1 << 20 });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytesRead += chunk.length;
        const text = rest + decoder.write(chunk);
        let start = 0;
        for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
          handle(text, start, end);
          start = end + 1;
        }
        rest = text.slice(start);
        await drain();
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code) throw new FormatError(err.code === 'EISDIR' ? 'is a folder, not a trajectory file' : `cannot read: ${err.message}`, { file: input });
      throw e;
    } finally {
      stream.destroy();
    }
    rest += decoder.end();
    if (rest !== '') handle(rest, 0, rest.length);
    if (n === 0) throw new ParseError(`no poses in ${from === 'tum' ? 'TUM' : from === 'kitti' ? 'KITTI' : 'EuRoC'} file`, { file: input });
    await drain();
    return { poses: n, timestamps: hasTime, duplicates: dup, bytesRead };
  };

  if (mcap) {
    try {
      const r = await run(null, null);
      await mcap.close();
      return r;
    } catch (e) {
      await mcap.abort();
      throw e;
    }
  }
  return withAtomicFile(output, async (fh) => {
    if (!opts.timesFile) return run(new BlockWriter(fh), null);
    return withAtomicFile(opts.timesFile, async (th) => run(new BlockWriter(fh), new BlockWriter(th)));
  });
}
