// Argument shape checks shared by the layers' entry points (sim/core): an expected-shape check
// that names the argument, the expected and the actual shape, and a wrapper for a layer's calls
// of the user's function that re-throws a ShapeError from inside it (`mul: shapes [3] and [2]
// cannot be broadcast together`) naming the layer, the call and the shapes of the arguments.

import { ShapeError, fmtShape } from './errors.ts';
import { Tensor } from './tensor.ts';

/**
 * Throws a {@link ShapeError} `layer: name has shape [..], expected [..] (hint)` unless `t` has
 * the shape `expected`; a `null` entry matches any size (printed as its label in `labels`, else `*`).
 */
export function expectShape(layer: string, name: string, t: Tensor, expected: readonly (number | null)[], hint = '', labels: readonly string[] = []): void {
  const s = t.shape;
  if (s.length === expected.length && expected.every((d, i) => d === null || d === s[i])) return;
  const want = `[${expected.map((d, i) => (d === null ? (labels[i] ?? '*') : String(d))).join(', ')}]`;
  throw new ShapeError(`${layer}: ${name} has shape ${fmtShape(s)}, expected ${want}${hint ? ` (${hint})` : ''}`);
}

/** `x [2, 3], w[0] [4], w.k [1]`: the tensors among `args` (tensors, arrays and objects of tensors) with their shapes. */
export function describeShapes(args: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (name: string, v: unknown, depth: number): void => {
    if (v instanceof Tensor) parts.push(`${name} ${fmtShape(v.shape)}`);
    else if (depth > 0 && Array.isArray(v)) v.forEach((e, i) => add(`${name}[${i}]`, e, depth - 1));
    else if (depth > 0 && v !== null && typeof v === 'object') for (const [k, e] of Object.entries(v)) add(`${name}.${k}`, e, depth - 1);
  };
  for (const [k, v] of Object.entries(args)) add(k, v, 1);
  return parts.join(', ');
}

/**
 * Runs `fn`, a layer's call of the user's function (`call`, e.g. `f(z, x)`); a ShapeError
 * thrown inside it that does not already name the layer is re-thrown as
 * `layer: call failed for <arguments and their shapes>: <the error>` (the original as `cause`).
 */
export function withArgShapes<T>(layer: string, call: string, args: Record<string, unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ShapeError) || e.message.startsWith(`${layer}:`) || e.message.startsWith(`${layer} `)) throw e;
    const err = new ShapeError(`${layer}: ${call} failed for ${describeShapes(args)}: ${e.message}`);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
}
