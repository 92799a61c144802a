// Size and shape limits for what the renderer sends over IPC (app/electron): the API is JSON
// (the same requests the web mode receives over HTTP), so IPC params must be plain JSON values
// of bounded size and depth. Structured clone would also carry Maps, Dates, typed arrays and
// cyclic graphs; they are refused here, before anything reaches the backend.

/** Largest accepted params, in bytes of their JSON text (16 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Deepest accepted nesting of arrays and objects. */
export const MAX_PAYLOAD_DEPTH = 64;

/** Why a payload was refused; `path` names the offending value (`params.a[2].b`). */
export class PayloadError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'PayloadError';
  }
}

/**
 * Checks that `value` is a plain JSON value (null, boolean, finite number, string, array, plain
 * object) no deeper than MAX_PAYLOAD_DEPTH whose JSON text is at most `maxBytes` long; returns
 * the size counted: an upper bound of the UTF-8 JSON text's (escapes aside). Stops as soon as the limit is passed, so a huge payload costs at most `maxBytes`
 * of work. Throws a PayloadError naming the first value at fault.
 */
export function checkJsonPayload(value: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES, path = 'params'): number {
  let total = 0;
  const add = (n: number, at: string): void => {
    total += n;
    if (total > maxBytes) throw new PayloadError(at, `payload larger than ${maxBytes} bytes`);
  };
  const walk = (v: unknown, at: string, depth: number): void => {
    if (v === null) return add(4, at);
    switch (typeof v) {
      case 'boolean':
        return add(5, at);
      case 'number':
        if (!Number.isFinite(v)) throw new PayloadError(at, `must be a finite number (got ${String(v)})`);
        return add(String(v).length, at);
      case 'string':
        return add(Buffer.byteLength(v, 'utf8') + 2, at);
      case 'object':
        break;
      default:
        throw new PayloadError(at, `${typeof v} is not a JSON value`);
    }
    if (depth >= MAX_PAYLOAD_DEPTH) throw new PayloadError(at, `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
    if (Array.isArray(v)) {
      add(2, at);
      for (let i = 0; i < v.length; i++) {
        add(1, at);
        walk(v[i], `${at}[${i}]`, depth + 1);
      }
      return;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as object).constructor?.name ?? 'object';
      throw new PayloadError(at, `${name} is not a plain JSON object`);
    }
    add(2, at);
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      add(k.length + 4, at);
      walk(child, `${at}.${k}`, depth + 1);
    }
  };
  walk(value, path, 0);
  return total;
}
