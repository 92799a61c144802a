// Streaming reader of the Impulse JSON trajectory document (data layer): reads
// `{"format": "impulse.trajectory", "version": 1, "timestamps": [...], "poses": [[12 numbers], ...], ...}`
// with memory flat in the file size, in any key order. Pass 1 scans the top-level object once:
// it checks the JSON around and between its members, parses the small members (format, version,
// name, frame ids) and records where each array member starts. Pass 2 reads the arrays in
// lockstep, one cursor (a 1 MiB block of the file) per array, one pose at a time, so key order
// costs nothing and nothing but the current blocks is held. Errors name the JSON path, line and
// column, with the zod schema's own messages (json.ts) for wrong types, lengths and values.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError, ParseError, TimestampOrderError, jsonPath } from '../errors.ts';
import { Trajectory } from '../trajectory.ts';

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22
/** The array members read in pass 2, in the schema's order. */
const ARRAYS = ['timestamps', 'stamps_ns', 'poses', 'velocities', 'angular_velocities'] as const;
type ArrayKey = (typeof ARRAYS)[number];
/** The small members parsed whole in pass 1 (checked by the zod schema). */
const SMALL = new Set(['format', 'version', 'name', 'frame_id', 'child_frame_id']);
/** Largest small member (a name or frame id) read whole, in bytes. */
const SMALL_MAX = 1 << 24;

/** The zod type name of the JSON value starting with byte `c` (for "expected X, received Y"). */
function kindOf(c: number): string {
  if (c === 34) return 'string';
  if (c === 123) return 'object';
  if (c === 91) return 'array';
  if (c === 116 || c === 102) return 'boolean';
  if (c === 110) return 'null';
  if (c === 45 || (c >= 48 && c <= 57)) return 'number';
  return '';
}

/**
 * A read position in a byte range of a file, a block in memory at a time, with the line and column
 * of every byte (JSON has line breaks only between tokens). Bytes from `mark` on stay in the
 * buffer when it is refilled, so a token or a pose row can be used in place once read.
 */
class JsonCursor {
  buf: Buffer;
  /** Read position and end of the valid bytes in `buf`. */
  pos = 0;
  end = 0;
  /** File offset of buf[0]. */
  base: number;
  /** Keep bytes from here on when refilling (-1: none). */
  mark = -1;
  line: number;
  /** File offset of the current line's first byte. */
  lineStart: number;
  constructor(
    readonly fd: number,
    readonly file: string,
    start: number,
    /** File offset where the range ends. */
    readonly limit: number,
    line: number,
    lineStart: number,
    blockBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(blockBytes);
    this.base = start;
    this.line = line;
    this.lineStart = lineStart;
  }

  /** Makes at least `k` bytes available from pos (fewer at the range's end); returns the bytes available. */
  fill(k: number): number {
    if (this.end - this.pos >= k) return this.end - this.pos;
    const keep = this.mark >= 0 ? this.mark : this.pos;
    const fileAt = this.base + this.end;
    if (fileAt >= this.limit) return this.end - this.pos;
    if (keep > 0) {
      this.buf.copy(this.buf, 0, keep, this.end);
      this.base += keep;
      this.pos -= keep;
      this.end -= keep;
      if (this.mark >= 0) this.mark -= keep;
    }
    if (this.end + k > this.buf.length || this.end === this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.end + k));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    while (this.end - this.pos < k && this.base + this.end < this.limit) {
      const want = Math.min(this.buf.length - this.end, this.limit - this.base - this.end);
      const got = readSync(this.fd, this.buf, this.end, want, this.base + this.end);
      if (got === 0) break;
      this.end += got;
    }
    return this.end - this.pos;
  }

  /** File offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Skips whitespace; returns the next byte, or -1 at the end of the range. */
  ws(): number {
    for (;;) {
      const b = this.buf;
      const e = this.end;
      let p = this.pos;
      while (p < e) {
        const c = b[p]!;
        if (c === 32 || c === 9 || c === 13) p++;
        else if (c === 10) {
          p++;
          this.line++;
          this.lineStart = this.base + p;
        } else {
          this.pos = p;
          return c;
        }
      }
      this.pos = p;
      if (this.fill(1) === 0) return -1;
    }
  }

  /** The byte at pos (after {@link ws}), -1 at the end. */
  peek(): number {
    return this.pos < this.end || this.fill(1) > 0 ? this.buf[this.pos]! : -1;
  }

  /** A malformed-JSON error at the read position. */
  syntax(detail: string): ParseError {
    return new ParseError(`invalid JSON: ${detail}`, { file: this.file, line: this.line, column: this.offset - this.lineStart + 1 });
  }

  /** A schema error at the read position, for the JSON path `field`. */
  schema(detail: string, field: string): ParseError {
    return new ParseError(detail, { file: this.file, line: this.line, column: this.offset - this.lineStart + 1, field });
  }

  /** The "unexpected X" error for byte c (-1: the end). */
  unexpected(c: number, what: string): ParseError {
    if (c < 0) return this.syntax(`unexpected end of input, expected ${what} (truncated file?)`);
    const ch = c >= 32 && c < 127 ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return this.syntax(`unexpected ${ch}, expected ${what}`);
  }

  /** Consumes byte `c` (after whitespace) or throws naming `what` was expected. */
  expect(c: number, what: string): void {
    const got = this.ws();
    if (got !== c) throw this.unexpected(got, what);
    this.pos++;
  }

  /**
   * Reads a JSON number at pos (strict grammar) and returns its value; `tokS`/`tokE` hold its
   * bounds in buf. Returns NaN when no number starts here (the caller names what it found).
   */
  tokS = 0;
  tokE = 0;
  number(): number {
    if (this.end - this.pos < 400) this.fill(400);
    const s = this.buf;
    const L = this.end;
    let i = this.pos;
    const a = i;
    let ch = i < L ? s[i]! : 0;
    let neg = false;
    if (ch === 45) {
      neg = true;
      ch = ++i < L ? s[i]! : 0;
    }
    if (!(ch >= 48 && ch <= 57)) return NaN;
    let m = 0;
    let digits = 0;
    if (ch === 48) {
      digits = 1;
      ch = ++i < L ? s[i]! : 0;
      if (ch >= 48 && ch <= 57) {
        this.pos = i;
        throw this.syntax('a number has a leading zero');
      }
    } else
      while (ch >= 48 && ch <= 57) {
        m = m * 10 + (ch - 48);
        digits++;
        ch = ++i < L ? s[i]! : 0;
      }
    let exp = 0;
    if (ch === 46) {
      ch = ++i < L ? s[i]! : 0;
      if (!(ch >= 48 && ch <= 57)) {
        this.pos = i;
        throw this.syntax('a digit must follow the decimal point');
      }
      while (ch >= 48 && ch <= 57) {
        m = m * 10 + (ch - 48);
        digits++;
        exp--;
        ch = ++i < L ? s[i]! : 0;
      }
    }
    let ok = digits <= 15 || m <= 9007199254740991;
    if (ch === 101 || ch === 69) {
      ch = ++i < L ? s[i]! : 0;
      let eneg = false;
      if (ch === 45 || ch === 43) {
        eneg = ch === 45;
        ch = ++i < L ? s[i]! : 0;
      }
      if (!(ch >= 48 && ch <= 57)) {
        this.pos = i;
        throw this.syntax('a digit must follow the exponent');
      }
      let e = 0;
      while (ch >= 48 && ch <= 57) {
        if (e < 100000) e = e * 10 + (ch - 48);
        ch = ++i < L ? s[i]! : 0;
      }
      exp += eneg ? -e : e;
    }
    this.tokS = a;
    this.tokE = i;
    this.pos = i;
    if (ok && exp >= -22 && exp <= 22) {
      const x = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
      return neg ? -x : x;
    }
    ok = false;
    return Number(s.toString('latin1', a, i));
  }

  /** Skips a JSON string at pos (which is `"`), checking its escapes; `tokS`/`tokE` hold its bounds with the quotes. */
  string(): void {
    const aAbs = this.base + this.pos;
    const own = this.mark < 0;
    if (own) this.mark = this.pos; // keep the string in the buffer across refills
    let i = this.pos + 1;
    for (;;) {
      if (i >= this.end) {
        this.pos = i;
        if (this.fill(1) === 0) throw this.syntax('unterminated string (truncated file?)');
        i = this.pos;
      }
      const c = this.buf[i]!;
      if (c === 34) break;
      if (c < 32) {
        this.pos = i;
        throw this.syntax(c === 10 ? 'line break inside a string' : 'control character inside a string');
      }
      if (c === 92) {
        this.pos = i;
        if (this.fill(6) < 2) throw this.syntax('unterminated string (truncated file?)');
        i = this.pos;
        const e = this.buf[i + 1]!;
        if (e === 117) {
          for (let k = 2; k < 6; k++) {
            const h = i + k < this.end ? this.buf[i + k]! : 0;
            if (!((h >= 48 && h <= 57) || ((h | 32) >= 97 && (h | 32) <= 102))) {
              this.pos = i;
              throw this.syntax('bad \\u escape in a string');
            }
          }
          i += 6;
        } else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) i += 2;
        else {
          this.pos = i;
          throw this.syntax('bad escape in a string');
        }
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    this.tokS = aAbs - this.base;
    this.tokE = this.pos;
    if (own) this.mark = -1;
  }

  /** The string value of the string token just read. */
  stringValue(): string {
    const s = this.tokS;
    const e = this.tokE;
    const text = this.buf.toString('utf8', s, e);
    const bs = this.buf.indexOf(92, s);
    return bs >= 0 && bs < e ? (JSON.parse(text) as string) : text.slice(1, -1);
  }

  /** Reads `true`, `false` or `null` at pos. */
  literal(): void {
    this.fill(5);
    const c = this.buf[this.pos]!;
    const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
    for (let k = 0; k < word.length; k++) if (this.buf[this.pos + k] !== word.charCodeAt(k)) throw this.unexpected(this.buf[this.pos] ?? -1, 'a JSON value');
    this.pos += word.length;
  }

  /** Reads any JSON value at pos, checking its grammar, keeping nothing (nesting on a stack, not recursion). */
  value(): void {
    const stack: number[] = []; // 0: array, 1: object
    for (;;) {
      // a value
      const c = this.ws();
      let done = true;
      if (c === 123 || c === 91) {
        this.pos++;
        const d = this.ws();
        if (d === (c === 123 ? 125 : 93)) this.pos++;
        else {
          stack.push(c === 123 ? 1 : 0);
          if (c === 123) this.key();
          done = false;
        }
      } else if (c === 34) this.string();
      else if (c === 45 || (c >= 48 && c <= 57)) this.number();
      else if (c === 116 || c === 102 || c === 110) this.literal();
      else throw this.unexpected(c, 'a JSON value');
      if (!done) continue;
      // after a value: ',' or the end of the enclosing array/object
      for (;;) {
        if (stack.length === 0) return;
        const top = stack[stack.length - 1]!;
        const d = this.ws();
        if (d === 44) {
          this.pos++;
          if (top === 1) this.key();
          break;
        }
        if (d === (top === 1 ? 125 : 93)) {
          this.pos++;
          stack.pop();
          continue;
        }
        throw this.unexpected(d, top === 1 ? "',' or '}'" : "',' or ']'");
      }
    }
  }

  /** Reads an object key and its ':'. */
  key(): string {
    const c = this.ws();
    if (c !== 34) throw this.unexpected(c, 'a string key');
    this.string();
    const k = this.stringValue();
    this.expect(58, "':'");
    return k;
  }

  /** Skips an array at pos by its brackets only (its grammar is checked when pass 2 reads it). */
  skipArray(): void {
    let depth = 0;
    for (;;) {
      const b = this.buf;
      const e = this.end;
      let p = this.pos;
      while (p < e) {
        const c = b[p]!;
        if (c === 93 || c === 125) {
          p++;
          if (--depth === 0) {
            this.pos = p;
            return;
          }
        } else if (c === 91 || c === 123) {
          p++;
          depth++;
        } else if (c === 10) {
          p++;
          this.line++;
          this.lineStart = this.base + p;
        } else if (c === 34) {
          this.pos = p;
          this.string();
          p = this.pos;
        } else p++;
      }
      this.pos = p;
      if (this.fill(1) === 0) throw this.syntax('unexpected end of input inside an array (truncated file?)');
    }
  }
}

/** Where an array member's value starts (pass 1). */
interface ArrayAt {
  start: number;
  line: number;
  lineStart: number;
}

/** The document's top level after pass 1. */
export interface JsonTrajectoryHead {
  /** The parsed small members (format, version, name, frame_id, child_frame_id). */
  small: Record<string, unknown>;
  /** Each array member present: where its value starts; `null` when its value is JSON null. */
  arrays: Partial<Record<ArrayKey, ArrayAt | null>>;
  /** Whether `poses` is an empty array. */
  emptyPoses: boolean;
  /** The line where each member's value starts. */
  lines: Record<string, number>;
}

/** Reads element rows of one array member: `[` then elements of `width` numbers (or plain numbers / strings). */
class ArrayReader {
  readonly c: JsonCursor;
  count = 0;
  ended = false;
  /** Line where the array starts. */
  readonly line: number;
  constructor(
    fd: number,
    file: string,
    at: ArrayAt,
    size: number,
    readonly field: string,
    blockBytes: number,
  ) {
    this.c = new JsonCursor(fd, file, at.start, size, at.line, at.lineStart, blockBytes);
    this.line = at.line;
    const ch = this.c.ws();
    if (ch !== 91) throw this.c.schema(`Invalid input: expected array, received ${kindOf(ch) || 'invalid JSON'}`, field);
    this.c.pos++;
  }

  /** Moves to the next element; false at the array's end (then `ended`). */
  next(): boolean {
    if (this.ended) return false;
    const c = this.c;
    const ch = c.ws();
    if (this.count === 0) {
      if (ch === 93) {
        c.pos++;
        this.ended = true;
        return false;
      }
      if (ch < 0) throw c.unexpected(ch, "a value or ']'");
      return true;
    }
    if (ch === 44) {
      c.pos++;
      const d = c.ws();
      if (d === 93 || d < 0) throw c.unexpected(d, 'a JSON value after the comma');
      return true;
    }
    if (ch === 93) {
      c.pos++;
      this.ended = true;
      return false;
    }
    throw c.unexpected(ch, "',' or ']'");
  }

  /** The number element at pos (field path `path`), named errors for other values. */
  num(path: string): number {
    const c = this.c;
    const x = c.number();
    if (Number.isNaN(x)) {
      if (c.peek() === 45) throw c.syntax("no digit after '-'");
      const k = kindOf(c.peek());
      if (!k) throw c.unexpected(c.peek(), 'a JSON value');
      throw c.schema(`Invalid input: expected number, received ${k}`, path);
    }
    if (!Number.isFinite(x)) {
      c.pos = c.tokS;
      throw c.schema(`Invalid input: expected number, received ${x > 0 ? 'Infinity' : '-Infinity'}`, path);
    }
    return x;
  }

  /**
   * Reads a row of `width` numbers into `out` (token bounds in `starts`/`ends`, in `c.buf`, when
   * given); the row stays in the buffer until the next call.
   */
  row(width: number, out: Float64Array, starts: Int32Array | null, ends: Int32Array | null): void {
    const c = this.c;
    const path = `${this.field}[${this.count}]`;
    c.mark = -1;
    c.fill(4096);
    c.mark = c.pos;
    const ch = c.peek();
    if (ch !== 91) {
      const k = kindOf(ch);
      if (!k) throw c.unexpected(ch, 'a JSON value');
      throw c.schema(`Invalid input: expected array, received ${k}`, path);
    }
    const rowAt = { line: c.line, col: c.offset - c.lineStart + 1 };
    c.pos++;
    let k = 0;
    for (;;) {
      let d = c.ws();
      if (k === 0 && d === 93) break;
      if (k > 0) {
        if (d === 93) break;
        if (d !== 44) throw c.unexpected(d, "',' or ']'");
        c.pos++;
        d = c.ws();
      }
      if (k >= width)
        throw new ParseError(`Too big: expected array to have exactly ${width} items`, { file: c.file, line: rowAt.line, column: rowAt.col, field: path });
      out[k] = this.num(`${path}[${k}]`);
      if (starts) {
        starts[k] = c.base + c.tokS; // file offsets until the row is read (a refill moves the marked bytes)
        ends![k] = c.base + c.tokE;
      }
      k++;
    }
    c.pos++;
    if (k < width)
      throw new ParseError(`Too small: expected array to have exactly ${width} items`, { file: c.file, line: rowAt.line, column: rowAt.col, field: path });
    if (starts)
      for (let j = 0; j < width; j++) {
        starts[j] = starts[j]! - c.base;
        ends![j] = ends![j]! - c.base;
      }
    this.count++;
  }

  /** Reads a stamp string (an integer of nanoseconds) and returns it as a BigInt. */
  stamp(path: string): bigint {
    const c = this.c;
    const ch = c.peek();
    if (ch !== 34) {
      const k = kindOf(ch);
      if (!k) throw c.unexpected(ch, 'a JSON value');
      throw c.schema(`Invalid input: expected string, received ${k}`, path);
    }
    const at = c.offset;
    c.string();
    const s = c.stringValue();
    if (!/^-?\d+$/.test(s)) {
      c.pos -= c.offset - at;
      throw c.schema('must be an integer string', path);
    }
    return BigInt(s);
  }
}

/**
 * Pass 1: reads the top-level object of the JSON trajectory in `file`, checking the JSON grammar
 * around the array members and parsing the small ones. Throws a named {@link ParseError} (line,
 * column) on malformed JSON and the zod schema's error for a wrong small member or a missing one.
 */
export function scanJsonTrajectory(fd: number, file: string, size: number): JsonTrajectoryHead {
  const c = new JsonCursor(fd, file, 0, size, 1, 0, 1 << 20);
  c.fill(3);
  if (c.buf[0] === 0xef && c.buf[1] === 0xbb && c.buf[2] === 0xbf) c.pos = 3; // a byte order mark, as readFileSync + trim drop it
  const first = c.ws();
  if (first !== 123) {
    const k = kindOf(first);
    if (!k) throw c.unexpected(first, "'{'");
    throw new ParseError(`Invalid input: expected object, received ${k}`, { file, field: '(root)' });
  }
  c.pos++;
  const small: Record<string, unknown> = {};
  const arrays: JsonTrajectoryHead['arrays'] = {};
  let emptyPoses = false;
  const lines: Record<string, number> = {};
  if (c.ws() === 125) c.pos++;
  else
    for (;;) {
      const key = c.key();
      const ch = c.ws();
      lines[key] = c.line;
      if ((ARRAYS as readonly string[]).includes(key)) {
        const at = { start: c.offset, line: c.line, lineStart: c.lineStart };
        if (ch === 91) {
          if (key === 'poses') {
            c.fill(4096);
            let p = c.pos + 1;
            while (p < c.end && (c.buf[p] === 32 || c.buf[p] === 9 || c.buf[p] === 10 || c.buf[p] === 13)) p++;
            emptyPoses = c.buf[p] === 93;
          }
          c.skipArray();
          arrays[key as ArrayKey] = at;
          delete small[key];
        } else {
          // not an array: a small value (null, or the wrong type, which the schema check names)
          c.mark = c.pos;
          c.value();
          const text = c.buf.toString('utf8', c.mark, c.pos);
          c.mark = -1;
          small[key] = JSON.parse(text);
          if (small[key] === null) arrays[key as ArrayKey] = null;
          else delete arrays[key as ArrayKey];
        }
      } else if (SMALL.has(key)) {
        c.mark = c.pos;
        c.value();
        if (c.pos - c.mark > SMALL_MAX) throw new ParseError(`member is larger than ${SMALL_MAX} bytes`, { file, field: key });
        small[key] = JSON.parse(c.buf.toString('utf8', c.mark, c.pos));
        c.mark = -1;
      } else c.value(); // another member: its grammar checked, its value not kept
      const d = c.ws();
      if (d === 44) {
        c.pos++;
        continue;
      }
      if (d === 125) {
        c.pos++;
        break;
      }
      throw c.unexpected(d, "',' or '}'");
    }
  const tail = c.ws();
  if (tail >= 0) throw c.syntax('unexpected text after the JSON document');
  return { small, arrays, emptyPoses, lines };
}

/** Checks the small members and the presence and type of the array members with the zod schema, throwing its first error. */
async function checkShell(head: JsonTrajectoryHead, file: string): Promise<void> {
  const { trajectoryJsonSchema } = await import('./json.ts');
  const o: Record<string, unknown> = { ...head.small };
  for (const k of ARRAYS) if (head.arrays[k]) o[k] = [];
  const r = trajectoryJsonSchema.safeParse(o);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ParseError(issue.message, { file, line: head.lines[String(issue.path[0])], field: jsonPath(issue.path) });
  }
}

/** One pose of a streamed JSON trajectory (see {@link JsonTrajectorySource.next}). */
export interface JsonPose {
  /** Row-major [R|t], 12 numbers. */
  pose: Float64Array;
  /** Each pose number's token in `text` (bytes [starts[k], ends[k])). */
  text: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  /** Timestamp in seconds (NaN without timestamps), exact nanosecond stamp (null without stamps_ns). */
  t: number;
  ns: bigint | null;
  /** Linear and angular velocity (3 numbers each) when the document has them. */
  velocity: Float64Array | null;
  angularVelocity: Float64Array | null;
  /** Line of the pose row. */
  line: number;
}

/**
 * A JSON trajectory file read one pose at a time, memory flat in its size. {@link open} runs pass 1
 * and the schema check of the top level; {@link next} reads the next pose, checking every array
 * element as the zod schema does (and the counts and timestamp order as parseTrajectoryJson and
 * Trajectory do); {@link close} closes the file.
 */
export class JsonTrajectorySource {
  readonly pose: JsonPose = {
    pose: new Float64Array(12),
    text: new Uint8Array(0),
    starts: new Int32Array(12),
    ends: new Int32Array(12),
    t: NaN,
    ns: null,
    velocity: null,
    angularVelocity: null,
    line: 0,
  };
  /** Poses read so far. */
  count = 0;
  private readonly readers: Partial<Record<ArrayKey, ArrayReader>> = {};
  private readonly rowScratch = new Float64Array(12);
  private prevT = -Infinity;
  private constructor(
    private readonly fd: number,
    readonly file: string,
    /** File size in bytes. */
    readonly size: number,
    readonly head: JsonTrajectoryHead,
  ) {}

  /** Opens `file` and reads its top level (pass 1). Throws named errors; closes the file on error. */
  static async open(file: string, opts: { blockBytes?: number } = {}): Promise<JsonTrajectorySource> {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new FormatError(`cannot open: ${(e as Error).message}`, { file });
    }
    try {
      const size = fstatSync(fd).size;
      const head = scanJsonTrajectory(fd, file, size);
      await checkShell(head, file);
      const src = new JsonTrajectorySource(fd, file, size, head);
      const block = opts.blockBytes ?? 1 << 20;
      for (const k of ARRAYS) {
        const at = head.arrays[k];
        if (at) src.readers[k] = new ArrayReader(fd, file, at, size, k, k === 'poses' ? block : Math.max(4096, block >> 2));
      }
      if (src.readers.velocities) src.pose.velocity = new Float64Array(3);
      if (src.readers.angular_velocities) src.pose.angularVelocity = new Float64Array(3);
      return src;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Whether the document has timestamps (not null). */
  get hasTimestamps(): boolean {
    return !!this.readers.timestamps;
  }

  /** The document's frame_id ('' when absent). */
  get frameId(): string {
    return typeof this.head.small.frame_id === 'string' ? this.head.small.frame_id : '';
  }

  /** Whether the document has velocities. */
  get hasVelocities(): boolean {
    return !!this.readers.velocities;
  }

  /** Reads the next pose into {@link pose}; false after the last one (every array then checked to its end). */
  next(): boolean {
    const r = this.readers;
    const P = this.pose;
    const poses = r.poses!;
    const i = this.count;
    if (!poses.next()) {
      this.finish();
      return false;
    }
    P.line = poses.c.line;
    poses.row(12, P.pose, P.starts, P.ends);
    P.text = poses.c.buf;
    const ts = r.timestamps;
    if (ts) {
      if (!ts.next()) throw this.countError('timestamps', 'timestamps');
      const t = ts.num(`timestamps[${i}]`);
      if (t < this.prevT)
        throw new TimestampOrderError(`timestamp ${t} is before the previous one ${this.prevT}`, {
          file: this.file,
          line: ts.c.line,
          index: i,
          field: `timestamps[${i}]`,
        });
      this.prevT = t;
      ts.count++;
      P.t = t;
    }
    const st = r.stamps_ns;
    if (st) {
      if (!st.next()) throw this.countError('stamps_ns', 'stamps_ns');
      P.ns = st.stamp(`stamps_ns[${i}]`);
      st.count++;
    }
    if (r.velocities) {
      if (!r.velocities.next()) throw this.countError('velocities', 'velocities');
      r.velocities.row(3, P.velocity!, null, null);
    }
    if (r.angular_velocities) {
      if (!r.angular_velocities.next()) throw this.countError('angular_velocities', 'angular_velocities');
      r.angular_velocities.row(3, P.angularVelocity!, null, null);
    }
    this.count++;
    return true;
  }

  /** After the last pose: every other array must end too. */
  private finish(): void {
    for (const k of ['timestamps', 'stamps_ns', 'velocities', 'angular_velocities'] as const) {
      const rd = this.readers[k];
      if (rd && rd.next()) throw this.countError(k, k, true);
    }
  }

  /**
   * The count mismatch error of parseTrajectoryJson, after reading the rest of `poses` and of
   * `key` (whose next element is at its read position when `pending`), each element checked.
   */
  private countError(key: ArrayKey, label: string, pending = false): ParseError {
    const count = (k: ArrayKey, first: boolean): number => {
      const rd = this.readers[k]!;
      for (let more = first || rd.next(); more; more = rd.next()) {
        const path = `${k}[${rd.count}]`;
        if (k === 'timestamps') rd.num(path);
        else if (k === 'stamps_ns') rd.stamp(path);
        else {
          rd.row(k === 'poses' ? 12 : 3, this.rowScratch, null, null);
          continue;
        }
        rd.count++;
      }
      return rd.count;
    };
    const n = count('poses', false);
    const m = key === 'poses' ? n : count(key, pending);
    return new ParseError(`${m} ${label} for ${n} poses`, { file: this.file, line: this.readers[key]!.line, field: key });
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.fd);
  }
}

/** A growable Float64Array (doubling). */
class F64 {
  a = new Float64Array(1024);
  n = 0;
  push(v: ArrayLike<number>, k: number): void {
    if (this.n + k > this.a.length) {
      const b = new Float64Array(2 * this.a.length + k);
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    for (let j = 0; j < k; j++) this.a[this.n + j] = v[j]!;
    this.n += k;
  }
  get array(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/**
 * Reads an Impulse JSON trajectory file into a {@link Trajectory} through {@link JsonTrajectorySource}:
 * memory holds the trajectory's arrays and a block of the file, not the parsed document (about 10x the
 * file with JSON.parse). Errors as the source's: the zod schema's messages with the JSON path and line.
 */
export async function readJsonTrajectoryFile(file: string): Promise<Trajectory> {
  const src = await JsonTrajectorySource.open(file);
  try {
    const P = src.pose;
    const poses = new F64();
    const ts = src.hasTimestamps ? new F64() : null;
    const vel = P.velocity ? new F64() : null;
    const avel = P.angularVelocity ? new F64() : null;
    const ns: bigint[] | null = src.head.arrays.stamps_ns ? [] : null;
    while (src.next()) {
      poses.push(P.pose, 12);
      ts?.push([P.t], 1);
      ns?.push(P.ns!);
      vel?.push(P.velocity!, 3);
      avel?.push(P.angularVelocity!, 3);
    }
    const str = (k: string): string | undefined => (typeof src.head.small[k] === 'string' ? (src.head.small[k] as string) : undefined);
    return new Trajectory({
      poses: poses.array,
      timestamps: ts ? ts.array : null,
      stampsNs: ns ? BigInt64Array.from(ns) : null,
      velocities: vel ? vel.array : null,
      angularVelocities: avel ? avel.array : null,
      name: str('name'),
      frameId: str('frame_id'),
      childFrameId: str('child_frame_id'),
      source: file,
    });
  } finally {
    src.close();
  }
}
