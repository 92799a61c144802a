// Elementwise float64 functions over arrays in the WebAssembly SIMD kernels (wasm/), with the
// JavaScript Math functions as the fallback and the reference the tests compare against:
// tanh (to a few ulp of Math.tanh; NaN, +-Inf and -0 as Math.tanh).
import { wasmKernels } from './wasm/loader.ts';

/** Below this many elements the Math loop runs (no copies into wasm memory). */
const WASM_MIN = 16;

/** out[i] = tanh(x[i]) for the n elements from x's and out's offsets (out may be x). */
export function tanhArray(x: Float64Array, out: Float64Array = new Float64Array(x.length), n = x.length, xoff = 0, ooff = 0): Float64Array {
  const w = n >= WASM_MIN ? wasmKernels() : null;
  if (!w) {
    for (let i = 0; i < n; i++) out[ooff + i] = Math.tanh(x[xoff + i]!);
    return out;
  }
  const mark = w.mark();
  const p = w.alloc(n);
  w.put(p, x, xoff, n);
  w.x.tanhInPlace(p, n);
  w.get(p, out, ooff, n);
  w.release(mark);
  return out;
}
