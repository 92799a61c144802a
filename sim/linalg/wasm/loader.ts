// Loads the WebAssembly SIMD kernels of sim/linalg (kernels.wasm, compiled from
// assembly/kernels.ts by scripts/build-wasm.mjs) synchronously on first use, and decides
// which kernels are active: the wasm ones, or the pure-JS ones of dense.ts when WebAssembly
// SIMD is unavailable, when the module cannot be built or loaded (said once on stderr), or
// when IMPULSE_KERNELS=js (or setKernelBackend('js')) forces them. In a source checkout a
// missing or stale kernels.wasm is rebuilt on demand (a few seconds, once).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The raw exports of kernels.wasm (addresses are byte offsets into `memory`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  gramLower(h: number, q: number, g: number, w: number, n: number, m: number): void;
  cholFactor(a: number, n: number): number;
  cholFactorBatch(a: number, count: number, n: number): number;
  cholSolve(l: number, n: number, b: number, k: number): void;
  luFactor(a: number, n: number, piv: number, tol: number): number;
  luFactorBatch(a: number, count: number, n: number, piv: number, signs: number, tol: number): number;
  luSolve(lu: number, n: number, piv: number, b: number, k: number, transpose: number): void;
  gemv(mat: number, rows: number, cols: number, v: number, out: number): void;
  gemvTAdd(mat: number, rows: number, cols: number, v: number, out: number): void;
  gemm(a: number, b: number, c: number, M: number, K: number, N: number, lda: number, ldb: number, ldc: number, accumulate: number): void;
  gemmBatch(count: number, a: number, strideA: number, b: number, strideB: number, c: number, M: number, K: number, N: number): void;
  peakLoop(iters: number, x: number, y: number): number;
  tanhInPlace(x: number, n: number): void;
  tanhBackward(h: number, g: number, out: number, n: number): void;
  setRows(out: number, b: number, B: number, q: number): void;
  colSums(g: number, out: number, B: number, q: number, scale: number): void;
  gemmTN(a: number, b: number, c: number, M: number, K: number, N: number, scale: number): void;
  gemmNT(a: number, b: number, c: number, M: number, N: number, K: number): void;
}

/** First byte the JS side allocates from (the module's own data lies below). */
const HEAP_START = 65536;
const PAGE = 65536;

/**
 * One instance of the kernels with a stack allocator over its linear memory. Views are
 * re-read after the memory grows (growing detaches the old buffer): always index
 * `k.f64` afresh after an `alloc`.
 */
export class WasmKernels {
  readonly x: KernelExports;
  private top = HEAP_START;
  private buf: ArrayBuffer;
  private f64view: Float64Array;
  private i32view: Int32Array;

  constructor(module: WebAssembly.Module) {
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    this.buf = this.x.memory.buffer;
    this.f64view = new Float64Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** The memory as float64 (index = byte address / 8). */
  get f64(): Float64Array {
    if (this.x.memory.buffer !== this.buf) this.refresh();
    return this.f64view;
  }

  /** The memory as int32 (index = byte address / 4). */
  get i32(): Int32Array {
    if (this.x.memory.buffer !== this.buf) this.refresh();
    return this.i32view;
  }

  private refresh(): void {
    this.buf = this.x.memory.buffer;
    this.f64view = new Float64Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** Current top of the allocation stack (pass it to `release`). */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated since `mark`. */
  release(mark: number): void {
    this.top = mark;
  }

  /** Reserves `doubles` float64 slots (16-byte aligned); returns the byte address. Grows the memory when needed. */
  alloc(doubles: number): number {
    const p = this.top;
    const end = p + ((doubles * 8 + 15) & ~15);
    const have = this.x.memory.buffer.byteLength;
    if (end > have) this.x.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return p;
  }

  /** Copies `len` doubles of `src` from `off` into wasm memory at byte address `p`. */
  put(p: number, src: Float64Array, off: number, len: number): void {
    this.f64.set(src.subarray(off, off + len), p >> 3);
  }

  /** Copies `len` doubles from wasm memory at `p` into `dst` at `off`. */
  get(p: number, dst: Float64Array, off: number, len: number): void {
    dst.set(this.f64.subarray(p >> 3, (p >> 3) + len), off);
  }
}

/** Which kernels run, and why. */
export interface KernelBackendInfo {
  active: 'wasm-simd' | 'js';
  /** Why the JS kernels are active (absent when wasm is). */
  reason?: string;
  /** Path of the loaded module when wasm is active. */
  module?: string;
}

let mode: 'auto' | 'js' = process.env.IMPULSE_KERNELS === 'js' ? 'js' : 'auto';
let loaded: WasmKernels | null | undefined;
let compiled: WebAssembly.Module | null = null;
const privateInstances = new Map<string, WasmKernels>();
let loadInfo: KernelBackendInfo | null = null;
let warned = false;

const wasmUrl = new URL('./kernels.wasm', import.meta.url);
const sourceUrl = new URL('./assembly/kernels.ts', import.meta.url);

/** Rebuilds kernels.wasm from its source when it is missing or older (source checkouts only). */
function rebuildIfStale(wasmPath: string): void {
  const src = fileURLToPath(sourceUrl);
  if (!existsSync(src)) return; // installed package: the build shipped the module
  if (existsSync(wasmPath) && statSync(wasmPath).mtimeMs >= statSync(src).mtimeMs) return;
  const script = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));
  if (!existsSync(script)) return;
  const r = spawnSync(process.execPath, [script, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${wasmPath} failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(0, 6).join(' | ')}`);
}

function load(): WasmKernels | null {
  const path = fileURLToPath(wasmUrl);
  try {
    rebuildIfStale(path);
    if (!existsSync(path)) throw new Error(`${path} is missing (run npm run build)`);
    const module = new WebAssembly.Module(readFileSync(path));
    compiled = module;
    loadInfo = { active: 'wasm-simd', module: path };
    return new WasmKernels(module);
  } catch (e) {
    const msg = (e as Error).message;
    const simd = e instanceof WebAssembly.CompileError ? 'this runtime has no WebAssembly SIMD, or ' : '';
    loadInfo = { active: 'js', reason: `${simd}the wasm kernels could not be loaded: ${msg}` };
    if (!warned) {
      warned = true;
      process.stderr.write(`impulse: using the JS float64 kernels (${loadInfo.reason})\n`);
    }
    return null;
  }
}

/**
 * The wasm SIMD kernels, or null when the JS kernels are to be used (forced, or wasm is
 * unavailable: said once on stderr). Loads the module on first call.
 */
export function wasmKernels(): WasmKernels | null {
  if (mode === 'js') return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/**
 * A separate instance of the kernels (its own linear memory) for a user that keeps data
 * resident between calls (e.g. a layer's weights for a whole solve), so the shared instance's
 * stack allocator is never held; one per `owner` name, made on first use. Null when the JS
 * kernels are active.
 */
export function privateKernels(owner: string): WasmKernels | null {
  if (!wasmKernels() || !compiled) return null;
  let k = privateInstances.get(owner);
  if (!k) {
    k = new WasmKernels(compiled);
    privateInstances.set(owner, k);
  }
  return k;
}

/**
 * Forces the JS kernels ('js') or lets the wasm ones run where available ('auto', the
 * default unless IMPULSE_KERNELS=js). For tests and benchmarks that compare the two.
 */
export function setKernelBackend(m: 'auto' | 'js'): void {
  mode = m;
}

/** Which kernels are active now (loads the module if it was not yet). */
export function kernelBackend(): KernelBackendInfo {
  if (mode === 'js')
    return { active: 'js', reason: process.env.IMPULSE_KERNELS === 'js' ? 'forced by IMPULSE_KERNELS=js' : "forced by setKernelBackend('js')" };
  wasmKernels();
  return loadInfo!;
}
