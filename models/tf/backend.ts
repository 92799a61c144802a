// TensorFlow.js backend choice for the tfjs bridge (models/tf): the one place that loads
// @tensorflow/tfjs and picks `tensorflow` (tfjs-node-gpu, then tfjs-node) > `wasm` > `cpu`,
// overridable by an explicit argument (the CLI's `--backend`) or IMPULSE_TF_BACKEND. `webgpu`
// (@tensorflow/tfjs-backend-webgpu on the WebGPU adapter sim/gpu finds, `--device gpu`) is used
// only when asked for: its results must be read with `await t.data()` (dataSync needs a canvas).
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

/** The @tensorflow/tfjs module (types only; the module itself is loaded by `initTf`). */
export type TfModule = typeof import('@tensorflow/tfjs');

/** Backends the bridge can run on, best first. */
export const TF_BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** A backend name: `tensorflow` (native TensorFlow through tfjs-node[-gpu]), `webgpu` (the GPU through WebGPU), `wasm` or `cpu` (plain JS). */
export type TfBackendName = (typeof TF_BACKENDS)[number];
/** What a caller may ask for: a backend, or `auto` (the best one that loads). */
export type TfBackendRequest = TfBackendName | 'auto';
/** Environment variable that overrides the automatic choice when no explicit argument is given. */
export const TF_BACKEND_ENV = 'IMPULSE_TF_BACKEND';

/** Result of `initTf`: the tfjs module, the backend in use and, when it is not the one asked for, why. */
export interface TfInit {
  /** The @tensorflow/tfjs module (the full package, so gradients are available). */
  tf: TfModule;
  /** The backend tfjs is running on. */
  backend: TfBackendName;
  /** What was asked for (`auto` when nothing was). */
  requested: TfBackendRequest;
  /** Where the request came from. */
  source: 'argument' | 'env' | 'default';
  /** For `tensorflow`: the package that provided it (`@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`). */
  nativePackage?: string;
  /** Set when a better backend than `backend` was tried and failed: one `name: reason` per failure, joined by '; '. */
  fallbackReason?: string;
}

/** Options of `initTf`. */
export interface TfInitOptions {
  /**
   * Directory (path or URL prefix, ending in '/') holding the tfjs-backend-wasm `.wasm` files.
   * Default: node_modules/@tensorflow/tfjs-backend-wasm/dist/ resolved from this file.
   * Only takes effect before the wasm backend is first initialised in the process.
   */
  wasmPaths?: string;
}

const CHAINS: Record<TfBackendRequest, readonly TfBackendName[]> = {
  auto: ['tensorflow', 'wasm', 'cpu'],
  tensorflow: ['tensorflow', 'wasm', 'cpu'],
  webgpu: ['webgpu', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const CPU_BANNER = 'looks like you are running TensorFlow.js in Node.js';

let tfModule: TfModule | null = null;
let current: TfInit | null = null;
/** The last (possibly still running) initialisation; calls are serialised through it. */
let pending: Promise<TfInit> | null = null;
let nativePackage: string | undefined;
let nativeFailure: string | undefined;
let wasmModuleLoaded = false;

/**
 * Parses a backend request: the explicit argument wins, then the IMPULSE_TF_BACKEND environment
 * variable, then `auto`. Names are case-insensitive; an unknown name throws an error listing the
 * valid ones and naming where the bad name came from.
 */
export function resolveBackendRequest(
  preferred?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { requested: TfBackendRequest; source: TfInit['source'] } {
  const arg = preferred?.trim();
  const fromEnv = env[TF_BACKEND_ENV]?.trim();
  const [raw, source]: [string | undefined, TfInit['source']] = arg ? [arg, 'argument'] : fromEnv ? [fromEnv, 'env'] : [undefined, 'default'];
  if (raw === undefined) return { requested: 'auto', source };
  const name = raw.toLowerCase();
  if (name === 'auto' || (TF_BACKENDS as readonly string[]).includes(name)) return { requested: name as TfBackendRequest, source };
  const where = source === 'env' ? `environment variable ${TF_BACKEND_ENV}` : 'backend argument (--backend)';
  throw new Error(`initTf: unknown TensorFlow.js backend '${raw}' in ${where}; valid backends: ${[...TF_BACKENDS, 'auto'].join(', ')}`);
}

/**
 * Loads @tensorflow/tfjs and selects its backend; resolves to the module, the backend in use and,
 * when a better backend failed to load, the reason. Order: `tensorflow` (tfjs-node-gpu, then
 * tfjs-node, when their native binaries load) > `wasm` > `cpu`. `preferred` (the CLI's `--backend`)
 * overrides IMPULSE_TF_BACKEND, which overrides the automatic choice; a requested backend that
 * fails falls back down the same order with `fallbackReason` set. Every chosen backend is checked
 * with a tiny computation before it is accepted.
 *
 * Idempotent: a call without `preferred` after a previous initialisation returns that result
 * (the environment variable is read only on the first call); a call with the same request returns
 * the cached result; a different explicit `preferred` switches backend (tfjs moves live tensors).
 *
 * @example
 * const { tf, backend, fallbackReason } = await initTf(opts.backend);
 * console.log(`TensorFlow.js backend: ${backend}${fallbackReason ? ` (fallback: ${fallbackReason})` : ''}`);
 */
export function initTf(preferred?: string, opts: TfInitOptions = {}): Promise<TfInit> {
  const explicit = preferred !== undefined && preferred.trim() !== '';
  if (!explicit && pending) return pending;
  // Validate synchronously-in-promise so a bad name rejects without touching the current backend.
  let req: ReturnType<typeof resolveBackendRequest>;
  try {
    req = resolveBackendRequest(preferred);
  } catch (e) {
    return Promise.reject(e);
  }
  const previous = pending;
  const next = (async (): Promise<TfInit> => {
    if (previous) {
      const before = await previous.catch(() => null);
      if (before && before.requested === req.requested) return before;
    }
    return select(req.requested, req.source, opts);
  })();
  pending = next;
  // A failed initialisation must not poison later calls.
  next.catch(() => {
    if (pending === next) pending = previous;
  });
  return next;
}

/**
 * The @tensorflow/tfjs module after `initTf` has resolved; throws if it has not been called
 * (the module is loaded lazily so importing impulse/models does not pay for tfjs).
 */
export function getTf(): TfModule {
  if (!tfModule) throw new Error('getTf: TensorFlow.js is not initialised; `await initTf()` first');
  return tfModule;
}

/** The result of the last completed `initTf`, or null before the first one. */
export function tfBackendInfo(): TfInit | null {
  return current;
}

/**
 * One line for logs and the CLI: `TensorFlow.js backend: wasm (auto; tensorflow: ... not installed)`.
 */
export function describeTfBackend(info: TfInit): string {
  const native = info.nativePackage ? ` via ${info.nativePackage}` : '';
  const why = info.fallbackReason ? `; fell back: ${info.fallbackReason}` : '';
  const from = info.source === 'env' ? ` from ${TF_BACKEND_ENV}` : info.source === 'argument' ? ' from --backend' : '';
  return `TensorFlow.js backend: ${info.backend}${native} (requested ${info.requested}${from}${why})`;
}

async function loadTf(): Promise<TfModule> {
  if (!tfModule) {
    const mod = (await import('@tensorflow/tfjs')) as TfModule & { default?: TfModule };
    // The package is CommonJS: depending on the loader its namespace sits on `default`.
    tfModule = typeof mod.customGrad === 'function' ? mod : (mod.default as TfModule);
  }
  return tfModule;
}

async function select(requested: TfBackendRequest, source: TfInit['source'], opts: TfInitOptions): Promise<TfInit> {
  const tf = await loadTf();
  const failures: string[] = [];
  for (const name of CHAINS[requested]) {
    const why = await tryBackend(tf, name, opts);
    if (why === null) {
      const res: TfInit = { tf, backend: name, requested, source };
      if (name === 'tensorflow') res.nativePackage = nativePackage;
      if (failures.length) res.fallbackReason = failures.join('; ');
      current = res;
      return res;
    }
    failures.push(`${name}: ${why}`);
  }
  throw new Error(`initTf: no TensorFlow.js backend could be initialised (${failures.join('; ')})`);
}

/** Tries one backend; returns null when it is active and computes correctly, else the reason. */
async function tryBackend(tf: TfModule, name: TfBackendName, opts: TfInitOptions): Promise<string | null> {
  if (name === 'tensorflow') {
    const why = await loadNative(tf);
    if (why) return why;
  } else if (name === 'wasm') {
    const why = await loadWasm(opts);
    if (why) return why;
  } else if (name === 'webgpu') {
    const why = await loadWebgpuBackend(tf);
    if (why) return why;
  }
  // tfjs reports init failures (and the cpu backend its "install tfjs-node" banner) through
  // console.warn: capture them so the failure reason is ours to report.
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]): void => {
    const msg = args.map(String).join(' ');
    if (!msg.includes(CPU_BANNER)) warnings.push(msg);
  };
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `initialization failed${warnings.length ? `: ${firstLine(warnings[0]!)}` : ''}`;
    if (name !== 'webgpu') return smokeTest(tf);
    namedSyncReadError(tf);
    return await smokeTestAsync(tf);
  } catch (e) {
    return `initialization failed: ${errMsg(e)}`;
  } finally {
    console.warn = warn;
  }
}

/** Runs 2 + [1, 2] on the active backend and checks the result, so a broken backend is not chosen. */
function smokeTest(tf: TfModule): string | null {
  try {
    const got = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(2)).dataSync());
    return got[0] === 3 && got[1] === 4 ? null : `smoke test 2 + [1, 2] gave [${Array.from(got).join(', ')}]`;
  } catch (e) {
    return `smoke test failed: ${errMsg(e)}`;
  }
}

/** smokeTest for backends without synchronous reads (webgpu): the same check through `await data()`. */
async function smokeTestAsync(tf: TfModule): Promise<string | null> {
  try {
    const t = tf.add(tf.tensor1d([1, 2]), tf.scalar(2));
    const got = await t.data();
    t.dispose();
    return got[0] === 3 && got[1] === 4 ? null : `smoke test 2 + [1, 2] gave [${Array.from(got).join(', ')}]`;
  } catch (e) {
    return `smoke test failed: ${errMsg(e)}`;
  }
}

let webgpuFailure: string | undefined;

/** Replaces the webgpu backend's `OffscreenCanvas is not defined` on a synchronous read by an error saying what to do. */
function namedSyncReadError(tf: TfModule): void {
  const be = tf.backend() as unknown as { readSync: (id: unknown) => unknown; impulsePatched?: boolean };
  if (be.impulsePatched) return;
  const readSync = be.readSync.bind(be);
  be.readSync = (id: unknown): unknown => {
    try {
      return readSync(id);
    } catch (e) {
      if (/OffscreenCanvas/.test(errMsg(e)))
        throw new Error(
          'TensorFlow.js on WebGPU in Node cannot read GPU data synchronously (dataSync/arraySync need OffscreenCanvas): read with `await t.data()`',
        );
      throw e;
    }
  };
  be.impulsePatched = true;
}

/**
 * Makes the WebGPU adapter of sim/gpu (the system's GPU, else SwiftShader) tfjs's `navigator.gpu`
 * and imports @tensorflow/tfjs-backend-webgpu; returns null once its `webgpu` backend is
 * registered, else why not. The adapter is wrapped so that the device request flattens the
 * feature list tfjs passes nested in an array, and tfjs asks for the adapter's own limits.
 */
async function loadWebgpuBackend(tf: TfModule): Promise<string | null> {
  if (tf.findBackendFactory('webgpu')) return null;
  if (webgpuFailure) return webgpuFailure;
  const { gpuNavigatorObject, probeGpu } = await import('../../sim/gpu/index.ts');
  const probe = await probeGpu();
  const nav = gpuNavigatorObject();
  if (!probe.info || !nav) return (webgpuFailure = `no WebGPU adapter (${probe.reasons.join('; ')})`);
  const gpu = {
    requestAdapter: async (o?: GPURequestAdapterOptions): Promise<GPUAdapter | null> => {
      const a = await nav.requestAdapter(o);
      if (!a) return null;
      return new Proxy(a, {
        get(t, k): unknown {
          if (k === 'requestDevice')
            return (d: GPUDeviceDescriptor = {}) =>
              t.requestDevice({ ...d, requiredFeatures: ((d.requiredFeatures ?? []) as unknown as unknown[]).flat() as GPUFeatureName[] });
          const v: unknown = Reflect.get(t, k, t);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
    },
    getPreferredCanvasFormat: (): GPUTextureFormat => 'bgra8unorm',
  };
  const g = globalThis as { navigator?: object };
  g.navigator ??= {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  try {
    const spec: string = '@tensorflow/tfjs-backend-webgpu';
    await import(spec);
  } catch (e) {
    return (webgpuFailure = `@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine(errMsg(e))}`);
  }
  if (!tf.findBackendFactory('webgpu'))
    return (webgpuFailure = '@tensorflow/tfjs-backend-webgpu registered no webgpu backend with this @tensorflow/tfjs (version mismatch?)');
  return null;
}

/** Imports tfjs-node-gpu, then tfjs-node; returns null once one has registered the `tensorflow` backend. */
async function loadNative(tf: TfModule): Promise<string | null> {
  if (nativePackage) return null;
  if (nativeFailure) return nativeFailure;
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier: the packages are optional and may be absent at type-check time.
      const spec: string = pkg;
      await import(spec);
      if (!tf.findBackendFactory('tensorflow')) {
        reasons.push(`${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs (version mismatch?)`);
        continue;
      }
      nativePackage = pkg;
      return null;
    } catch (e) {
      const code = (e as { code?: string }).code;
      reasons.push(`${pkg} ${code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? 'is not installed' : `failed to load: ${firstLine(errMsg(e))}`}`);
    }
  }
  nativeFailure = reasons.join(', ');
  return nativeFailure;
}

/** Imports tfjs-backend-wasm and points it at its .wasm files (Node cannot fetch them relative to the bundle). */
async function loadWasm(opts: TfInitOptions): Promise<string | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmModuleLoaded) {
      const dir = opts.wasmPaths ?? defaultWasmDir();
      wasm.setWasmPaths(dir.endsWith('/') || dir.endsWith(sep) ? dir : dir + sep);
      wasmModuleLoaded = true;
    }
    return null;
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(errMsg(e))}`;
  }
}

/** node_modules/@tensorflow/tfjs-backend-wasm/dist as a file-system path. */
function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + sep;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
