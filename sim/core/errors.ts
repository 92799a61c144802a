// Error types of the float64 core (sim/core). Every error names the op, the shapes or
// the index at fault, so a user can find the bad input without a debugger.

/** Raised when operand shapes do not fit an op; the message names the op and both shapes. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** Raised by the non-finite trap (see `setDebugNonFinite`): names the op, the pass and the first bad index. */
export class NonFiniteError extends Error {
  constructor(
    message: string,
    readonly op: string,
    readonly phase: 'forward' | 'backward',
    readonly index: number,
  ) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

/** Raised by linear algebra when a matrix is singular or not positive definite; names the batch item. */
export class LinalgError extends Error {
  constructor(
    message: string,
    readonly batchIndex: number,
  ) {
    super(message);
    this.name = 'LinalgError';
  }
}

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
