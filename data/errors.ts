// Named errors of the data layer (data/, the bottom layer): every bad input is reported with the
// file and the line (text formats) or the byte offset of the record (MCAP) where it was found.

/** Where in an input a problem was found. All fields are optional; the message always names what is known. */
export interface DataErrorLocation {
  /** File path (or a label such as `<memory>`). */
  file?: string;
  /** 1-based line number in a text file. */
  line?: number;
  /** 1-based column (field) index within the line. */
  column?: number;
  /** Name of the field at fault (e.g. `qw`, `timestamp`, `header.stamp`). */
  field?: string;
  /** Byte offset of the record at fault (MCAP). */
  offset?: number | bigint;
  /** Index of the element at fault (pose index, message index...). */
  index?: number;
}

function locationText(loc: DataErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.column !== undefined) parts.push(`column ${loc.column}`);
  if (loc.field !== undefined) parts.push(`field '${loc.field}'`);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  if (loc.index !== undefined) parts.push(`index ${loc.index}`);
  return parts.join(', ');
}

/** Base class of every data-layer error. `message` starts with the location, e.g. `traj.tum, line 12: ...`. */
export class DataError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
  readonly offset?: number | bigint;
  readonly index?: number;
  /** The message without the location prefix. */
  readonly detail: string;
  constructor(detail: string, loc: DataErrorLocation = {}) {
    const where = locationText(loc);
    super(where ? `${where}: ${detail}` : detail);
    this.name = 'DataError';
    this.detail = detail;
    this.file = loc.file;
    this.line = loc.line;
    this.column = loc.column;
    this.field = loc.field;
    this.offset = loc.offset;
    this.index = loc.index;
  }
  /** Plain JSON form (for `--json` error output). */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { name: this.name, message: this.message };
    for (const k of ['file', 'line', 'column', 'field', 'index'] as const) if (this[k] !== undefined) o[k] = this[k];
    if (this.offset !== undefined) o.offset = Number(this.offset);
    return o;
  }
}

/** A text line that cannot be parsed: wrong column count, truncated line, non-numeric field. */
export class ParseError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'ParseError';
  }
}

/** A NaN or infinite value where a finite number is required. */
export class NonFiniteValueError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'NonFiniteValueError';
  }
}

/** A timestamp smaller than the one before it. */
export class TimestampOrderError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'TimestampOrderError';
  }
}

/** A quaternion of (near) zero norm, which is no rotation. */
export class QuaternionNormError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'QuaternionNormError';
  }
}

/** The file's format could not be recognised, or is not the one asked for. */
export class FormatError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'FormatError';
  }
}

/** Two trajectories share no time-associated pose pairs, or have mismatched lengths. */
export class AssociationError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'AssociationError';
  }
}

/** Umeyama alignment is not possible (degenerate covariance, too few points). */
export class AlignmentError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'AlignmentError';
  }
}

/** A metric cannot be computed with the given settings (e.g. an RPE delta that yields no pairs). */
export class MetricError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'MetricError';
  }
}

/** A damaged MCAP file: bad magic, truncated record, corrupt or undecompressable chunk, CRC mismatch. */
export class McapFormatError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'McapFormatError';
  }
}

/** A channel whose schema or message encoding Impulse cannot decode. */
export class UnknownEncodingError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'UnknownEncodingError';
  }
}

/** A message that does not decode with its channel's schema, or lacks a field Impulse needs. */
export class MessageDecodeError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'MessageDecodeError';
  }
}

/** A TF lookup that cannot be answered: unknown frame, frames not connected, or time outside the buffer. */
export class TfLookupError extends DataError {
  constructor(detail: string, loc: DataErrorLocation = {}) {
    super(detail, loc);
    this.name = 'TfLookupError';
  }
}

/** `a.b[2].c` from a zod issue path, as errors name a field (`(root)` for the whole document). */
export function jsonPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}
