// Streaming conversion of trajectory files (data layer): reads a text trajectory (TUM, with
// spaces or commas; KITTI, with its times file or not; EuRoC; MonoForce CSV) a block at a time
// and writes TUM, KITTI (+ times file), EuRoC or MCAP as it goes, so memory stays flat in the
// file size. Each line is checked as the
// in-memory readers check it (field count, numbers, finite values, quaternion norm, timestamps
// in order, named by file and line); the output is the same as reading the whole file and
// writing it with writeTrajectory. Written atomically (temp file, removed on errors and signals).

import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, NonFiniteValueError, ParseError, TimestampOrderError } from '../errors.ts';
import { checkOutputPath, withAtomicFile } from '../fsutil.ts';
import { quatToRotation, rotationToQuatInto } from '../se3.ts';
import { checkQuaternion } from '../trajectory.ts';
import type { TrajectoryFormat } from './names.ts';
import type { McapPoseEncoding } from '../mcap/pose-writer.ts';
import { ByteSink } from './numtext.ts';
import { TimesReader } from './times-stream.ts';
import type { JsonTrajectorySource } from './json-stream.ts';

/** Input formats {@link convertStreaming} reads. */
export const STREAM_INPUTS: readonly TrajectoryFormat[] = ['tum', 'kitti', 'euroc', 'monoforce', 'json'];
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
  /** KITTI input: its times file (one timestamp a line), read alongside. */
  timesFileIn?: string;
  /** MCAP output: topic (default `/trajectory`) and frame id (default `world`). */
  topic?: string;
  frameId?: string;
  /** MCAP output: message encoding (default `cdr`: geometry_msgs/msg/PoseStamped; `json`: foxglove.PoseInFrame). */
  mcapEncoding?: McapPoseEncoding;
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
/** The fixed parts of a foxglove.PoseInFrame message in JSON, in JSON.stringify's key order. */
const PIF_SEC = Buffer.from('{"timestamp":{"sec":');
const PIF_NSEC = Buffer.from(',"nsec":');
const PIF_FRAME = Buffer.from('},"frame_id":');
const PIF_X = Buffer.from(',"pose":{"position":{"x":');
const PIF_Y = Buffer.from(',"y":');
const PIF_Z = Buffer.from(',"z":');
const PIF_QX = Buffer.from('},"orientation":{"x":');
const PIF_QW = Buffer.from(',"w":');
const PIF_END = Buffer.from('}}}');
const FIELDS: Record<string, string[]> = {
  tum: ['timestamp', 'tx', 'ty', 'tz', 'qx', 'qy', 'qz', 'qw'],
  euroc: ['timestamp', 'p_x', 'p_y', 'p_z', 'q_w', 'q_x', 'q_y', 'q_z'],
  kitti: Array.from({ length: 12 }, (_, c) => `T${Math.floor(c / 4)}${c % 4}`),
  monoforce: ['stamp', ...Array.from({ length: 16 }, (_, c) => `T${Math.floor(c / 4)}${c % 4}`)],
};

/** Nanosecond stamp: the exact one when the input had it, else round(t * 1e9) as the in-memory writers do. */
function stampOf(t: number, ns: bigint | null): bigint {
  if (ns !== null) return ns;
  const sec = Math.floor(t);
  return BigInt(sec) * 1000000000n + BigInt(Math.round((t - sec) * 1e9));
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22

/**
 * Parses the plain decimal in bytes `s[a, b)` (`[+-]?digits[.digits][(e|E)[+-]?digits]`, or
 * `.digits`) for the common case where the result is exact (Clinger's fast path: an integer
 * mantissa below 2^53 times or over a power of ten up to 1e22, each exact in float64, so one IEEE
 * multiply or divide rounds correctly and equals `Number(token)`). Returns NaN when the token has
 * another shape or is outside the fast path; the caller then uses `Number` and its error handling.
 */
function parseDecimal(s: Uint8Array, a: number, b: number): number {
  let i = a;
  let neg = false;
  let ch = i < b ? s[i]! : 0;
  if (ch === 45 || ch === 43) {
    neg = ch === 45;
    ch = ++i < b ? s[i]! : 0;
  }
  let m = 0;
  let digits = 0;
  while (ch >= 48 && ch <= 57) {
    m = m * 10 + (ch - 48);
    digits++;
    ch = ++i < b ? s[i]! : 0;
  }
  let exp = 0;
  if (ch === 46) {
    ch = ++i < b ? s[i]! : 0;
    while (ch >= 48 && ch <= 57) {
      m = m * 10 + (ch - 48);
      digits++;
      exp--;
      ch = ++i < b ? s[i]! : 0;
    }
  }
  if (digits === 0 || m > 9007199254740991) return NaN;
  if (ch === 101 || ch === 69) {
    ch = ++i < b ? s[i]! : 0;
    let eneg = false;
    if (ch === 45 || ch === 43) {
      eneg = ch === 45;
      ch = ++i < b ? s[i]! : 0;
    }
    let e = 0;
    let edigits = 0;
    while (ch >= 48 && ch <= 57 && e < 1000) {
      e = e * 10 + (ch - 48);
      edigits++;
      ch = ++i < b ? s[i]! : 0;
    }
    if (edigits === 0) return NaN;
    exp += eneg ? -e : e;
  }
  if (i !== b || exp < -22 || exp > 22) return NaN;
  const x = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
  return neg ? -x : x;
}

/**
 * Splits the whitespace-separated line `s[i, L)` (`i` at its first non-blank; with `comma`, a comma
 * with optional blanks around it also separates, as TUM files written with commas have) into
 * fields, parsing each as it goes: `starts`/`ends` get each field's bounds and `vals` its value
 * where {@link parseDecimal}'s fast path settles it (else NaN: the caller parses the text). Only
 * the first 32 fields are kept; returns the number of fields. One pass over the bytes.
 */
function splitParse(s: Uint8Array, i: number, L: number, comma: boolean, starts: Int32Array, ends: Int32Array, vals: Float64Array): number {
  let k = 0;
  while (i < L) {
    const a = i;
    // the number: [+-]digits[.digits][(e|E)[+-]digits]
    let ch = s[i]!;
    let neg = false;
    if (ch === 45 || ch === 43) {
      neg = ch === 45;
      ch = ++i < L ? s[i]! : 0;
    }
    let m = 0;
    let digits = 0;
    while (ch >= 48 && ch <= 57) {
      m = m * 10 + (ch - 48);
      digits++;
      ch = ++i < L ? s[i]! : 0;
    }
    let exp = 0;
    if (ch === 46) {
      ch = ++i < L ? s[i]! : 0;
      while (ch >= 48 && ch <= 57) {
        m = m * 10 + (ch - 48);
        digits++;
        exp--;
        ch = ++i < L ? s[i]! : 0;
      }
    }
    let ok = digits > 0 && m <= 9007199254740991;
    if (ch === 101 || ch === 69) {
      ch = ++i < L ? s[i]! : 0;
      let eneg = false;
      if (ch === 45 || ch === 43) {
        eneg = ch === 45;
        ch = ++i < L ? s[i]! : 0;
      }
      let e = 0;
      let edigits = 0;
      while (ch >= 48 && ch <= 57 && e < 1000) {
        e = e * 10 + (ch - 48);
        edigits++;
        ch = ++i < L ? s[i]! : 0;
      }
      if (edigits === 0) ok = false;
      exp += eneg ? -e : e;
    }
    // the field goes on to the next separator; text the number grammar did not take leaves it to the caller
    if (i < L && !(ch === 32 || ch === 9 || ch === 13 || (ch === 44 && comma))) {
      ok = false;
      while (i < L && !((ch = s[i]!) === 32 || ch === 9 || ch === 13 || (ch === 44 && comma))) i++;
    }
    if (k < 32) {
      starts[k] = a;
      ends[k] = i;
      if (ok && exp >= -22 && exp <= 22) {
        const x = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
        vals[k] = neg ? -x : x;
      } else vals[k] = NaN;
    }
    k++;
    while (i < L && (s[i] === 32 || s[i] === 9 || s[i] === 13)) i++;
    if (i < L && s[i] === 44 && comma) {
      i++;
      while (i < L && (s[i] === 32 || s[i] === 9)) i++;
      if (i >= L) {
        if (k < 32) {
          starts[k] = ends[k] = L; // a trailing comma: an empty field
          vals[k] = NaN;
        }
        k++;
      }
    }
  }
  return k;
}

/** Whether {@link convertStreaming} handles this pair of formats (and options). */
export function canStream(from: TrajectoryFormat, to: TrajectoryFormat, opts: { timesFileIn?: boolean } = {}): boolean {
  // EuRoC -> EuRoC keeps velocity columns, which only the in-memory writer carries
  return STREAM_INPUTS.includes(from) && STREAM_OUTPUTS.includes(to) && !(opts.timesFileIn && from !== 'kitti') && !(from === 'euroc' && to === 'euroc');
}

/** Writes what a sink holds to a file handle and empties it (after each block read). */
async function drainSink(sink: ByteSink, fh: FileHandle): Promise<void> {
  let off = 0;
  while (off < sink.pos) off += (await fh.write(sink.buf, off, sink.pos - off)).bytesWritten;
  sink.pos = 0;
}

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 11 || c === 12;

/**
 * Converts `input` (format `opts.from`) to `output` (format `opts.to`) a block at a time.
 * Throws the readers' named errors (file, line, field) on bad input; nothing is written then.
 *
 * Works on bytes: numbers are parsed in place, a value that passes through unchanged (timestamps,
 * positions, KITTI matrices) is written from its input text when that settles what
 * `String(value)` prints (`ByteSink.decimal`: the text itself, or its digits without leading and
 * trailing zeros for at most 15 significant digits), and other numbers are printed straight into
 * the output buffer, so the output is the in-memory writers' byte for byte.
 */
export async function convertStreaming(input: string, output: string, opts: StreamConvertOptions): Promise<StreamConvertResult | null> {
  const { from, to } = opts;
  if (!canStream(from, to, { timesFileIn: !!opts.timesFileIn }))
    throw new FormatError(`streaming conversion from ${from} to ${to} is not supported`, { file: input });
  checkOutputPath(output);
  if (opts.timesFile) checkOutputPath(opts.timesFile);
  if (opts.rate !== undefined && !(opts.rate > 0)) throw new ParseError(`rate must be > 0 Hz, got ${opts.rate}`);
  if (opts.timesFileIn && opts.rate !== undefined) throw new FormatError('give a times file or a rate, not both', { file: opts.timesFileIn });
  if (from === 'json' && (opts.rate !== undefined || opts.timesFileIn))
    throw new FormatError('streaming JSON input takes its own timestamps (no rate or times file)', { file: input });
  // JSON input: pass 1 (top level, small members) before anything is written; an empty document goes the in-memory way
  const json = from === 'json' ? await (await import('./json-stream.ts')).JsonTrajectorySource.open(input, { blockBytes: opts.blockBytes }) : null;
  if (json?.head.emptyPoses) {
    json.close();
    return null;
  }
  try {
    return await convertOpen(input, output, opts, json);
  } finally {
    json?.close();
  }
}

/** {@link convertStreaming} once a JSON input's top level is read. */
async function convertOpen(input: string, output: string, opts: StreamConvertOptions, json: JsonTrajectorySource | null): Promise<StreamConvertResult> {
  const { from, to } = opts;
  const hasTime = json ? json.hasTimestamps : from !== 'kitti' || opts.rate !== undefined || !!opts.timesFileIn;
  if (json && !hasTime && to !== 'kitti') {
    // the in-memory writers' errors
    if (to === 'mcap') throw new FormatError('MCAP output needs timestamps, and this trajectory has none (give a times file or a rate)', { file: output });
    throw new FormatError(`${to === 'tum' ? 'TUM' : 'EuRoC'} output needs timestamps, and this trajectory has none (give a times file or a rate)`, {
      file: input,
    });
  }
  if (!hasTime && to !== 'kitti')
    throw new FormatError(`${to === 'mcap' ? 'MCAP' : to === 'tum' ? 'TUM' : 'EuRoC'} output needs timestamps, and KITTI poses have none (give a rate)`, {
      file: input,
    });
  if (opts.timesFile && !hasTime) throw new FormatError('no timestamps to write to the times file', { file: opts.timesFile });

  const topic = opts.topic ?? '/trajectory';
  const cdr = to === 'mcap' && (opts.mcapEncoding ?? 'cdr') === 'cdr';
  const mcap = to === 'mcap' && !cdr ? await (await import('../mcap/writer.ts')).McapLogWriter.create(output) : null;
  const frameId = opts.frameId ?? (json?.frameId || 'world');
  const poses = cdr ? await (await import('../mcap/pose-writer.ts')).PoseStampedWriter.create(output, { topic, frameId }) : null;
  const frameBytes = Buffer.from(JSON.stringify(frameId));

  const run = async (fh: FileHandle | null, th: FileHandle | null): Promise<StreamConvertResult> => {
    let nf = from === 'kitti' || from === 'json' ? 12 : from === 'monoforce' ? 13 : 8;
    const what = from === 'tum' ? 'TUM' : from === 'kitti' ? 'KITTI' : from === 'euroc' ? 'EuRoC' : from === 'json' ? 'JSON' : 'MonoForce CSV';
    let firstData = true; // a header line (no '#') may come first in EuRoC and MonoForce files
    let commas = from === 'euroc'; // MonoForce: comma or whitespace separated, as its first data line
    const names = FIELDS[from]!;
    const v = new Float64Array(17);
    const R = new Float64Array(12);
    const q = new Float64Array(4);
    const prevPose = new Float64Array(12);
    let prevT = -Infinity;
    let n = 0;
    let lineNo = 0;
    let bytesRead = 0;
    const dup = { count: 0, first: [] as { index: number; timestamp: number }[] };
    let out = new ByteSink(to === 'mcap' ? 16 : 1 << 21);
    let times = th ? new ByteSink(1 << 18) : null;
    if (to === 'tum') out.ascii('# timestamp tx ty tz qx qy qz qw\n');
    const vel = json?.pose.velocity ?? null; // JSON velocities: EuRoC output carries them as the in-memory writer does
    if (to === 'euroc')
      out.ascii(
        `#timestamp [ns],p_RS_R_x [m],p_RS_R_y [m],p_RS_R_z [m],q_RS_w [],q_RS_x [],q_RS_y [],q_RS_z []${vel ? ',v_RS_R_x [m s^-1],v_RS_R_y [m s^-1],v_RS_R_z [m s^-1]' : ''}\n`,
      );
    let nsExact: bigint | null = null; // JSON stamps_ns: the pose's exact stamp

    const timesIn = opts.timesFileIn ? await TimesReader.open(opts.timesFileIn) : null;
    let timesShort = false; // the times file ended before the poses
    const starts = new Int32Array(32);
    const ends = new Int32Array(32);
    const fastVals = new Float64Array(32); // each field's value where the fast parse settles it, else NaN
    let buf: Uint8Array = new Uint8Array(0); // the block being parsed
    const where = (): { file: string; line: number } => ({ file: input, line: lineNo });
    /** Field c of the line (value x) as String(x) prints it: from its input text where that settles it, else printed. */
    const passThrough = (sink: ByteSink, c: number, x: number): void => sink.decimal(buf, starts[c]!, ends[c]!, x);
    /** The time column as String(t) does. */
    const timeText = (sink: ByteSink, t: number): void => {
      if (from === 'tum' || from === 'monoforce') passThrough(sink, 0, t);
      else sink.number(t);
    };
    /** The nanosecond stamp as text (EuRoC), exactly stampOf(t, ns).toString(). */
    const stampText = (sink: ByteSink, t: number, nsText: boolean): void => {
      if (nsExact !== null) {
        sink.ascii(nsExact.toString());
        return;
      }
      if (nsText) {
        let a = starts[0]!;
        const b = ends[0]!;
        while (a < b - 1 && buf[a] === 48) a++; // BigInt drops leading zeros
        sink.copy(buf, a, b);
        return;
      }
      const sec = Math.floor(t);
      const frac = Math.round((t - sec) * 1e9);
      if (sec < 0 || sec >= 9007199254740992 || frac >= 1e9) {
        sink.ascii(stampOf(t, null).toString());
        return;
      }
      if (sec === 0) {
        sink.uint(frac);
        return;
      }
      sink.uint(sec);
      sink.reserve(9);
      for (let k = 8, f = frac; k >= 0; k--, f = Math.floor(f / 10)) sink.buf[sink.pos + k] = 48 + (f % 10);
      sink.pos += 9;
    };
    const tokenText = (c: number): string => Buffer.from(buf.buffer, buf.byteOffset + starts[c]!, ends[c]! - starts[c]!).toString('utf8');

    const handle = (i: number, L: number): void => {
      lineNo++;
      const line = buf;
      while (i < L && (line[i] === 32 || line[i] === 9 || line[i] === 13)) i++;
      if (i === L || line[i] === 35) return; // blank or '#'
      if (firstData) {
        firstData = false;
        if (from === 'monoforce') commas = line.subarray(i, L).includes(44);
        if ((from === 'euroc' || from === 'monoforce') && (line[i]! | 32) >= 97 && (line[i]! | 32) <= 122) return; // header without '#'
      }
      let k = 0;
      if (!commas) k = splitParse(line, i, L, from === 'tum', starts, ends, fastVals);
      else {
        // comma separated, each field trimmed (the line already starts at a non-blank)
        let e = L;
        while (e > i && isWs(line[e - 1]!)) e--;
        let a = i;
        for (;;) {
          let j = a;
          while (j < e && line[j] !== 44) j++;
          let fa = a;
          let fb = j;
          while (fa < fb && isWs(line[fa]!)) fa++;
          while (fb > fa && isWs(line[fb - 1]!)) fb--;
          if (k < 32) {
            starts[k] = fa;
            ends[k] = fb;
            fastVals[k] = parseDecimal(line, fa, fb);
          }
          k++;
          if (j >= e) break;
          a = j + 1;
        }
      }
      if (from === 'monoforce') {
        if (k < 13 || k > 17) throw new ParseError(`${what} line has ${k} fields, expected 13 to 17${k < 13 ? ' (truncated line?)' : ''}`, where());
        if (k !== 13 && k !== 17) throw new ParseError(`${what} line has ${k} fields, expected 13 or 17`, where());
        nf = k;
      } else if (from === 'euroc' ? k < 8 : k !== nf) {
        throw new ParseError(`${what} line has ${k} fields, expected ${from === 'euroc' ? 'at least 8' : nf}${k < nf ? ' (truncated line?)' : ''}`, where());
      }
      for (let c = 0; c < nf; c++) {
        const a = starts[c]!;
        const b = ends[c]!;
        const fast = fastVals[c]!;
        if (!Number.isNaN(fast)) {
          v[c] = fast;
          continue;
        }
        let ok = b > a;
        for (let j = a; j < b && ok; j++) {
          const ch = line[j]!;
          ok = (ch >= 48 && ch <= 57) || ch === 46 || ch === 101 || ch === 69 || ch === 43 || ch === 45;
        }
        const tok = tokenText(c);
        const x = ok ? Number(tok) : NaN;
        if (!ok || Number.isNaN(x)) {
          const l = { ...where(), column: c + 1, field: names[c] };
          if (NONFINITE_RE.test(tok)) throw new NonFiniteValueError(`value '${tok}' is not finite`, l);
          throw new ParseError(tok === '' ? 'empty field' : `'${tok}' is not a number`, l);
        }
        if (!Number.isFinite(x)) throw new NonFiniteValueError(`value '${tok}' is not finite`, { ...where(), column: c + 1, field: names[c] });
        v[c] = x;
      }
      let t = NaN;
      let nsText = false; // EuRoC: the stamp is an integer of nanoseconds, kept exactly
      if (from === 'monoforce') {
        if (nf === 17 && (v[13] !== 0 || v[14] !== 0 || v[15] !== 0 || v[16] !== 1))
          throw new ParseError(`bottom row T30..T33 is ${v[13]} ${v[14]} ${v[15]} ${v[16]}, expected 0 0 0 1`, where());
        t = v[0]!;
        R.set(v.subarray(1, 13));
      } else if (from === 'kitti') {
        R.set(v.subarray(0, 12));
        if (opts.rate !== undefined) t = n / opts.rate;
        else if (timesIn) {
          const tt = timesIn.next();
          if (tt === undefined) timesShort = true;
          else t = tt;
        }
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
          nsText = ends[0]! > starts[0]!;
          for (let j = starts[0]!; j < ends[0]! && nsText; j++) nsText = line[j]! >= 48 && line[j]! <= 57;
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
      emit(t, nsText);
    };

    /** Writes the pose in R (time t; nsText: EuRoC input's exact stamp text in field 0) to the output. */
    const emit = (t: number, nsText: boolean): void => {
      if (hasTime) {
        if (t < prevT) throw new TimestampOrderError(`timestamp ${from === 'euroc' ? `${tokenText(0)} ns` : t} goes backwards (previous ${prevT})`, where());
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
      // translation columns of the input: TUM/EuRoC 1..3, KITTI 3, 7, 11
      const tc = from === 'kitti' || from === 'json' ? 3 : from === 'monoforce' ? 4 : 1;
      const tk = from === 'kitti' || from === 'monoforce' || from === 'json' ? 4 : 1;
      if (to === 'kitti') {
        out.reserve(16);
        for (let k = 0; k < 12; k++) {
          if (k > 0) out.byte(32);
          if (from === 'kitti' || from === 'json' || from === 'monoforce') passThrough(out, from === 'monoforce' ? k + 1 : k, R[k]!);
          else if ((k & 3) === 3) passThrough(out, 1 + (k >> 2), R[k]!);
          else out.number(R[k]!);
        }
        out.byte(10);
        if (times) {
          timeText(times, t);
          times.reserve(1);
          times.byte(10);
        }
      } else if (poses) {
        rotationToQuatInto(R, 0, 4, q);
        const s0 = Math.floor(t);
        const f0 = Math.round((t - s0) * 1e9);
        if (!nsText && nsExact === null && s0 >= 0 && s0 < 2147483648 && f0 < 1e9) poses.add(s0, f0, R[3]!, R[7]!, R[11]!, q[0]!, q[1]!, q[2]!, q[3]!);
        else {
          const stamp = nsExact ?? (nsText ? BigInt(tokenText(0)) : stampOf(t, null));
          if (stamp < 0n) throw new FormatError(`negative timestamp ${stamp} ns cannot be written to MCAP`, where());
          const { sec, nsec } = foxgloveTimeOf(stamp);
          if (sec > 2147483647)
            throw new FormatError(
              `timestamp ${from === 'euroc' ? `${tokenText(0)} ns` : `${t} s`} does not fit ROS 2 builtin_interfaces/Time (int32 seconds); write foxglove.PoseInFrame JSON messages instead (--mcap-encoding json)`,
              where(),
            );
          poses.add(sec, nsec, R[3]!, R[7]!, R[11]!, q[0]!, q[1]!, q[2]!, q[3]!);
        }
      } else if (to === 'mcap') {
        rotationToQuatInto(R, 0, 4, q);
        // the stamp: nanoseconds as a BigInt (the log time) and sec / nsec for the message
        let sec: number;
        let nsec: number;
        let ns: bigint;
        const s0 = Math.floor(t);
        const f0 = Math.round((t - s0) * 1e9);
        if (!nsText && nsExact === null && s0 >= 0 && s0 < 9007199254740992 && f0 < 1e9) {
          if (s0 !== lastSec) {
            lastSec = s0;
            lastSecNs = BigInt(s0) * 1000000000n;
          }
          ns = lastSecNs + BigInt(f0);
          sec = s0;
          nsec = f0;
        } else {
          ns = nsExact ?? (nsText ? BigInt(tokenText(0)) : stampOf(t, null));
          ({ sec, nsec } = foxgloveTimeOf(ns));
        }
        const m = mcapQueue.data;
        m.copy(PIF_SEC, 0, PIF_SEC.length);
        m.uint(sec);
        m.copy(PIF_NSEC, 0, PIF_NSEC.length);
        m.uint(nsec);
        m.copy(PIF_FRAME, 0, PIF_FRAME.length);
        m.copy(frameBytes, 0, frameBytes.length);
        m.copy(PIF_X, 0, PIF_X.length);
        passThrough(m, tc, R[3]!);
        m.copy(PIF_Y, 0, PIF_Y.length);
        passThrough(m, tc + tk, R[7]!);
        m.copy(PIF_Z, 0, PIF_Z.length);
        passThrough(m, tc + 2 * tk, R[11]!);
        m.copy(PIF_QX, 0, PIF_QX.length);
        m.number(q[0]!);
        m.copy(PIF_Y, 0, PIF_Y.length);
        m.number(q[1]!);
        m.copy(PIF_Z, 0, PIF_Z.length);
        m.number(q[2]!);
        m.copy(PIF_QW, 0, PIF_QW.length);
        m.number(q[3]!);
        m.copy(PIF_END, 0, PIF_END.length);
        mcapQueue.stamps.push(ns);
        mcapQueue.ends.push(m.pos);
      } else {
        rotationToQuatInto(R, 0, 4, q);
        if (to === 'tum') timeText(out, t);
        else stampText(out, t, nsText);
        const sep = to === 'tum' ? 32 : 44;
        for (let k = 0; k < 3; k++) {
          out.reserve(1);
          out.byte(sep);
          passThrough(out, tc + k * tk, R[3 + 4 * k]!);
        }
        for (let k = 0; k < 4; k++) {
          out.reserve(1);
          out.byte(sep);
          out.number(q[to === 'tum' ? k : (k + 3) & 3]!);
        }
        if (vel && to === 'euroc')
          for (let k = 0; k < 3; k++) {
            out.reserve(1);
            out.byte(44);
            out.number(vel[k]!);
          }
        out.reserve(1);
        out.byte(10);
      }
      n++;
    };

    /** MCAP messages of the current block, printed one after the other into one buffer, written after the block. */
    const mcapQueue = { data: new ByteSink(to === 'mcap' ? 1 << 22 : 16), stamps: [] as bigint[], ends: [] as number[] };
    let lastSec = -1;
    let lastSecNs = 0n;
    // the output is written while the next block is parsed (two sinks, swapped after each block)
    let outSpare = to === 'mcap' ? out : new ByteSink(out.buf.length);
    let timesSpare = times ? new ByteSink(times.buf.length) : null;
    let writing: Promise<void> = Promise.resolve();
    let writeError: unknown = null;
    const drain = async (last: boolean): Promise<void> => {
      if (poses) return poses.flush();
      if (mcap) {
        const { data, stamps, ends: e } = mcapQueue;
        await mcap.addJsonBatch(topic, 'foxglove.PoseInFrame', stamps, data.buf, e);
        data.pos = 0;
        stamps.length = 0;
        e.length = 0;
        return;
      }
      await writing;
      if (writeError) throw writeError;
      const o = out;
      const tm = times;
      writing = (async () => {
        await drainSink(o, fh!);
        if (tm) await drainSink(tm, th!);
      })().catch((err: unknown) => {
        writeError = err;
      });
      [out, outSpare] = [outSpare, o];
      if (tm) [times, timesSpare] = [timesSpare, tm];
      if (last) {
        await writing;
        if (writeError) throw writeError;
      }
    };
    if (json) {
      // JSON input: one pose at a time from the source's cursors, written every 8192 poses
      const P = json.pose;
      try {
        while (json.next()) {
          buf = P.text;
          starts.set(P.starts);
          ends.set(P.ends);
          R.set(P.pose);
          lineNo = P.line;
          nsExact = P.ns;
          emit(P.t, false);
          if ((n & 8191) === 0) await drain(false);
        }
        await drain(true);
      } catch (e) {
        await writing;
        throw e;
      }
      return { poses: n, timestamps: hasTime, duplicates: dup, bytesRead: json.size };
    }
    let rest: Buffer | null = null;
    // two read buffers: the next block is read while this one is parsed
    const blockBytes = opts.blockBytes ?? 1 << 20;
    const blocks = [Buffer.allocUnsafe(blockBytes), Buffer.allocUnsafe(blockBytes)];
    let inFh: FileHandle | null = null;
    let reading: Promise<{ bytesRead: number }> | null = null;
    try {
      inFh = await open(input, 'r');
      reading = inFh.read(blocks[0]!, 0, blockBytes, null);
      for (let b = 0; ; b ^= 1) {
        const got = (await reading).bytesRead;
        reading = null;
        if (got === 0) break;
        const first = bytesRead === 0;
        bytesRead += got;
        let chunk = blocks[b]!.subarray(0, got);
        if (first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3); // a UTF-8 byte order mark, as the in-memory readers' trim() drops it
        reading = inFh.read(blocks[b ^ 1]!, 0, blockBytes, null);
        let start = 0;
        if (timesIn) {
          let lines = 1;
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
          await timesIn.fill(lines);
        }
        if (rest) {
          // the line cut by the block boundary: only it is copied
          const nl = chunk.indexOf(10);
          if (nl < 0) {
            rest = Buffer.concat([rest, chunk]);
            continue;
          }
          buf = Buffer.concat([rest, chunk.subarray(0, nl)]);
          handle(0, buf.length);
          start = nl + 1;
          rest = null;
        }
        buf = chunk;
        for (let end = chunk.indexOf(10, start); end >= 0; end = chunk.indexOf(10, start)) {
          handle(start, end);
          start = end + 1;
        }
        rest = start < chunk.length ? Buffer.from(chunk.subarray(start)) : null; // the block is read into again
        await drain(false);
      }
    } catch (e) {
      await writing;
      await reading?.catch(() => undefined);
      await timesIn?.close().catch(() => undefined);
      const err = e as NodeJS.ErrnoException;
      if (err.code) throw new FormatError(err.code === 'EISDIR' ? 'is a folder, not a trajectory file' : `cannot read: ${err.message}`, { file: input });
      throw e;
    } finally {
      await inFh?.close();
    }
    try {
      if (rest) {
        await timesIn?.fill(1);
        buf = rest;
        handle(0, rest.length);
      }
      if (timesIn) {
        // a times file of another length than the poses: the in-memory reader's error
        if (!timesShort && timesIn.available === 0) await timesIn.fill(1);
        if (timesShort || timesIn.available > 0) {
          await timesIn.drain();
          throw timesIn.countError(n);
        }
      }
    } finally {
      await timesIn?.close();
    }
    if (n === 0) throw new ParseError(`no poses in ${what} file`, { file: input });
    await drain(true);
    return { poses: n, timestamps: hasTime, duplicates: dup, bytesRead };
  };

  const w = mcap ?? poses;
  if (w) {
    try {
      const r = await run(null, null);
      await w.close();
      return r;
    } catch (e) {
      await w.abort();
      throw e;
    }
  }
  return withAtomicFile(output, async (fh) => {
    if (!opts.timesFile) return run(fh, null);
    return withAtomicFile(opts.timesFile, async (th) => run(fh, th));
  });
}

/** `foxgloveTime` of a stamp (sec, nsec), with its error for negative stamps. */
function foxgloveTimeOf(ns: bigint): { sec: number; nsec: number } {
  if (ns < 0n) throw new FormatError(`negative timestamp ${ns} ns cannot be written`);
  return { sec: Number(ns / 1000000000n), nsec: Number(ns % 1000000000n) };
}
