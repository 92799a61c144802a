// Decoding of the API's packed arrays in the renderer (app/renderer): base64 little-endian bytes
// to Float32Array / Float64Array / Int32Array (see app/api/packed.ts).

import type { Packed } from '../api/packed.ts';
/** A packed array as the API sends it (the API's own type; type-only, nothing of app/api is bundled). */
export type { Packed };

function bytes(b64: string): ArrayBuffer {
  const s = atob(b64);
  const u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u.buffer;
}

/** Float32 view of a packed 'f32' array. */
export function f32(p: Packed): Float32Array {
  if (p.dtype !== 'f32') throw new Error(`expected a packed f32 array, got ${p.dtype}`);
  return new Float32Array(bytes(p.b64), 0, p.length);
}
/** Float64 view of a packed 'f64' array. */
export function f64(p: Packed): Float64Array {
  if (p.dtype !== 'f64') throw new Error(`expected a packed f64 array, got ${p.dtype}`);
  return new Float64Array(bytes(p.b64), 0, p.length);
}
/** Int32 view of a packed 'i32' array. */
export function i32(p: Packed): Int32Array {
  if (p.dtype !== 'i32') throw new Error(`expected a packed i32 array, got ${p.dtype}`);
  return new Int32Array(bytes(p.b64), 0, p.length);
}

/** Base64 of a file's bytes (uploads in web mode), in slices so large files do not overflow the call stack. */
export function toBase64(buf: ArrayBuffer): string {
  const u = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}
