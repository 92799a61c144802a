// A KITTI times file read a block at a time (data/formats), for the streaming converter: one
// timestamp a line, `#` comments and blank lines skipped, each line checked as the in-memory
// reader (kitti.ts parseTimes) checks it (one field, a finite number, not going backwards; named
// by file and line), so that a pose file and its times file are converted together with memory
// flat in their size.

import { open, type FileHandle } from 'node:fs/promises';
import { ParseError, TimestampOrderError, FormatError } from '../errors.ts';
import { dataLines, expectColumns, parseField } from '../text.ts';

/** Timestamps of a times file, taken one by one with {@link TimesReader.next} after {@link TimesReader.fill}. */
export class TimesReader {
  private values: number[] = [];
  private head = 0;
  private rest = '';
  private lineBase = 0;
  private eof = false;
  private prev = -Infinity;
  private readonly buf: Buffer;
  /** Timestamps taken or waiting so far, and the line of the last one. */
  count = 0;
  lastLine: number | undefined;

  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    blockBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(blockBytes);
  }

  /** Opens a times file (a missing or unreadable one is a FormatError naming it). */
  static async open(file: string, blockBytes = 1 << 18): Promise<TimesReader> {
    try {
      return new TimesReader(file, await open(file, 'r'), blockBytes);
    } catch (e) {
      throw new FormatError(`cannot read the times file: ${(e as Error).message}`, { file });
    }
  }

  /** Timestamps waiting to be taken. */
  get available(): number {
    return this.values.length - this.head;
  }

  /** Reads until `k` timestamps wait or the file ends. */
  async fill(k: number): Promise<void> {
    while (this.available < k && !this.eof) await this.readBlock();
  }

  /** Reads the rest of the file (checking it), e.g. to count its timestamps. */
  async drain(): Promise<void> {
    while (!this.eof) {
      this.head = this.values.length = 0;
      await this.readBlock();
    }
  }

  /** The next timestamp, or undefined when none waits (call {@link fill} first). */
  next(): number | undefined {
    if (this.head >= this.values.length) return undefined;
    const t = this.values[this.head++]!;
    if (this.head > 4096 && this.head * 2 > this.values.length) {
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
    return t;
  }

  /** The in-memory reader's error for a times file of another length than the poses. */
  countError(poses: number): ParseError {
    return new ParseError(`times file has ${this.count} timestamps for ${poses} poses`, { file: this.file, line: this.lastLine });
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private async readBlock(): Promise<void> {
    let got: number;
    try {
      got = (await this.fh.read(this.buf, 0, this.buf.length, null)).bytesRead;
    } catch (e) {
      throw new FormatError(`cannot read the times file: ${(e as Error).message}`, { file: this.file });
    }
    let text: string;
    if (got === 0) {
      this.eof = true;
      text = this.rest;
      this.rest = '';
    } else {
      const all = this.rest + this.buf.toString('utf8', 0, got);
      const cut = all.lastIndexOf('\n');
      if (cut < 0) {
        this.rest = all;
        return;
      }
      text = all.slice(0, cut);
      this.rest = all.slice(cut + 1);
    }
    const file = this.file;
    for (const dl of dataLines(text, 'ws')) {
      const line = dl.line + this.lineBase;
      expectColumns({ line, fields: dl.fields }, 1, file, 'times');
      const t = parseField(dl.fields[0]!, { file, line, column: 1, field: 'timestamp' });
      if (t < this.prev) throw new TimestampOrderError(`timestamp ${t} goes backwards (previous ${this.prev})`, { file, line });
      this.prev = t;
      this.values.push(t);
      this.count++;
      this.lastLine = line;
    }
    if (got > 0) this.lineBase += countLines(text) + 1;
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
