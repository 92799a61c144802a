// Packed numeric arrays of the app API (app/api): large arrays travel as base64 of their
// little-endian bytes (Float32 for display geometry, Float64 for times and metric values, Int32 for
// offsets), not as JSON number lists: a 10k x 150-point prediction file is 18 MB of float32
// instead of ~100 MB of JSON text. The renderer decodes them with app/renderer/packed.ts.

/** A packed typed array: dtype, element count and base64 bytes (little-endian). */
export interface Packed {
  dtype: 'f32' | 'f64' | 'i32';
  length: number;
  b64: string;
}

/** Packs a typed array (copied as float32 when `dtype` is 'f32' and the input is float64). */
export function pack(values: ArrayLike<number>, dtype: Packed['dtype']): Packed {
  const arr =
    dtype === 'f32'
      ? values instanceof Float32Array
        ? values
        : Float32Array.from(values)
      : dtype === 'f64'
        ? values instanceof Float64Array
          ? values
          : Float64Array.from(values)
        : values instanceof Int32Array
          ? values
          : Int32Array.from(values);
  return { dtype, length: arr.length, b64: Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64') };
}

/** Unpacks (Node side; used by tests and the bench). */
export function unpack(p: Packed): Float32Array | Float64Array | Int32Array {
  const b = Buffer.from(p.b64, 'base64');
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const arr = p.dtype === 'f32' ? new Float32Array(ab) : p.dtype === 'f64' ? new Float64Array(ab) : new Int32Array(ab);
  if (arr.length !== p.length) throw new Error(`packed ${p.dtype} array: ${arr.length} elements decoded, ${p.length} declared`);
  return arr;
}
