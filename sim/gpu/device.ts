// GPU device selection (sim/gpu, layer sim): finds a WebGPU adapter through the optional npm
// package `webgpu` (Dawn), trying the system's Vulkan loader and drivers first, then Google's
// SwiftShader (a software Vulkan driver shipped with Debian's chromium package) when present.
// Installs without `webgpu` still work: the package is imported dynamically and its absence is
// reported as the reason there is no adapter.
//
// SwiftShader needs two things: a Vulkan loader (libvulkan.so.1, from Debian's `libvulkan1` or
// chromium's own folder) and VK_ICD_FILENAMES pointing at its driver manifest. The manifest can
// be set from inside the process (the loader reads it when an instance is created), so with a
// system loader the fallback happens in-process. A loader found only in chromium's folder must
// be on LD_LIBRARY_PATH when the process starts: `softwareGpuEnv()` gives the variables and
// `rerunWithSoftwareGpu()` re-executes the current command once with them (the CLI does that).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Where to compute: the CPU engine, the GPU (error when none), or the GPU when one exists. */
export type DeviceRequest = 'cpu' | 'gpu' | 'auto';
/** The device requests `--device` accepts. */
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['cpu', 'gpu', 'auto'];

/** No WebGPU adapter could be created, with the reason of each attempt. */
export class GpuUnavailableError extends Error {
  constructor(
    message: string,
    /** One line per attempt (`system Vulkan: no adapter`, `webgpu package: not installed`). */
    readonly attempts: readonly string[],
  ) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

/** The GPU device went away during a run (driver reset, out of memory, adapter removed). */
export class GpuDeviceLostError extends Error {
  constructor(
    message: string,
    /** Dawn's reason (`destroyed`, `unknown`) and message. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'GpuDeviceLostError';
  }
}

/** A request beyond what the adapter allows (a buffer over maxStorageBufferBindingSize, ...). */
export class GpuLimitError extends Error {
  constructor(
    message: string,
    /** The WebGPU limit's name. */
    readonly limit: string,
    /** What the adapter allows. */
    readonly allowed: number,
    /** What was asked for. */
    readonly requested: number,
  ) {
    super(message);
    this.name = 'GpuLimitError';
  }
}

/** What the adapter is: names and the limits the engine depends on. */
export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** `hardware` or `software` (SwiftShader, a CPU implementation: right but slow). */
  kind: 'hardware' | 'software';
  /** How the adapter was found: the system's Vulkan drivers or SwiftShader. */
  via: 'system' | 'swiftshader';
  limits: Record<string, number>;
  features: string[];
}

/** An open GPU device and what it is. */
export interface Gpu {
  /** The WebGPU device (requested with the adapter's full limits). */
  device: GPUDevice;
  adapter: GPUAdapter;
  info: GpuInfo;
  /** Rejects with a GpuDeviceLostError if the device is lost (never resolves otherwise). */
  lost: Promise<never>;
  /** Whether the device was lost. */
  isLost(): boolean;
}

/** Chromium's folder (Debian's package) with libvulkan.so.1 and SwiftShader's Vulkan driver. */
export const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;

/** Environment variables that let Dawn run on SwiftShader (null: chromium's SwiftShader is not installed). */
export function softwareGpuEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> | null {
  if (!existsSync(SWIFTSHADER_ICD)) return null;
  const ld = env.LD_LIBRARY_PATH ? `${env.LD_LIBRARY_PATH}:${CHROMIUM_DIR}` : CHROMIUM_DIR;
  return { VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: (env.LD_LIBRARY_PATH ?? '').split(':').includes(CHROMIUM_DIR) ? env.LD_LIBRARY_PATH! : ld };
}

/** Whether a system Vulkan loader is installed (ldconfig's usual folders). */
function systemVulkanLoader(): boolean {
  return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some(
    (p) => existsSync(p),
  );
}

/** Environment marker of a process already re-executed for SwiftShader (no second re-exec). */
const RERUN_MARK = 'IMPULSE_GPU_RERUN';

/**
 * Whether re-executing with `softwareGpuEnv()` could give an adapter this process cannot get:
 * SwiftShader is installed, no system Vulkan loader is, the chromium folder is not on
 * LD_LIBRARY_PATH yet and this process is not already a re-run.
 */
export function softwareGpuNeedsRerun(env: NodeJS.ProcessEnv = process.env): boolean {
  const sw = softwareGpuEnv(env);
  if (!sw || env[RERUN_MARK] || systemVulkanLoader()) return false;
  return !(env.LD_LIBRARY_PATH ?? '').split(':').includes(CHROMIUM_DIR);
}

/**
 * Re-executes the current command (same node, flags and arguments) with the SwiftShader
 * environment and returns its exit status; the caller exits with it. Output is inherited.
 */
export function rerunWithSoftwareGpu(argv: readonly string[] = process.argv.slice(1)): number {
  const env: NodeJS.ProcessEnv = { ...process.env, ...softwareGpuEnv()!, [RERUN_MARK]: '1' };
  // a test file re-running itself: without this, node's test runner in the child sees the parent's
  // context, skips running the file and exits 0 (the tests would pass without running)
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [...process.execArgv, ...argv], { stdio: 'inherit', env });
  return r.status ?? 1;
}

type WebGpuModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
let webgpuModule: WebGpuModule | null | undefined;
let webgpuError = '';

/** The `webgpu` package (null with the reason in webgpuError when it cannot be loaded). */
async function loadWebgpu(): Promise<WebGpuModule | null> {
  if (webgpuModule !== undefined) return webgpuModule;
  try {
    const name = 'webgpu';
    const m = (await import(name)) as WebGpuModule;
    // WebGPU's constants (GPUBufferUsage, GPUMapMode, ...) as globals, as in a browser
    for (const [k, v] of Object.entries(m.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    webgpuModule = m;
  } catch (e) {
    webgpuError = `the optional package 'webgpu' cannot be loaded (${(e as Error).message.split('\n')[0]})`;
    webgpuModule = null;
  }
  return webgpuModule;
}

let gpuNavigator: GPU | null = null;
let found: { adapter: GPUAdapter; via: GpuInfo['via'] } | null | undefined;
let attempts: string[] = [];

/** Finds an adapter once per process: the system's drivers, then SwiftShader. */
async function findAdapter(): Promise<{ adapter: GPUAdapter; via: GpuInfo['via'] } | null> {
  if (found !== undefined) return found;
  attempts = [];
  const m = await loadWebgpu();
  if (!m) {
    attempts.push(webgpuError);
    return (found = null);
  }
  const opts: GPURequestAdapterOptions = { powerPreference: 'high-performance' };
  const sw = softwareGpuEnv();
  const onlySoftware = sw !== null && process.env.VK_ICD_FILENAMES === sw.VK_ICD_FILENAMES;
  if (!onlySoftware) {
    gpuNavigator = m.create([]);
    const a = await gpuNavigator.requestAdapter(opts);
    if (a) return (found = { adapter: a, via: 'system' });
    attempts.push('system Vulkan drivers: no adapter');
  }
  if (!sw) {
    attempts.push(`SwiftShader: not installed (Debian's chromium package provides ${SWIFTSHADER_ICD})`);
    return (found = null);
  }
  process.env.VK_ICD_FILENAMES = sw.VK_ICD_FILENAMES;
  gpuNavigator = m.create([]);
  const a = await gpuNavigator.requestAdapter(opts);
  if (a) return (found = { adapter: a, via: 'swiftshader' });
  attempts.push(
    softwareGpuNeedsRerun()
      ? `SwiftShader: no Vulkan loader (install Debian's libvulkan1, or start with LD_LIBRARY_PATH=${CHROMIUM_DIR})`
      : 'SwiftShader: no adapter',
  );
  return (found = null);
}

/** The `navigator.gpu` object the adapter came from (for TensorFlow.js's webgpu backend); null before `openGpu`. */
export function gpuNavigatorObject(): GPU | null {
  return gpuNavigator;
}

function describe(adapter: GPUAdapter, via: GpuInfo['via']): GpuInfo {
  const i = (adapter as GPUAdapter & { info: { vendor: string; architecture: string; device: string; description: string } }).info;
  const limits: Record<string, number> = {};
  for (const k in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  const soft = via === 'swiftshader' || /swiftshader|llvmpipe|lavapipe/i.test(`${i.vendor} ${i.device} ${i.description}`);
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    kind: soft ? 'software' : 'hardware',
    via,
    limits,
    features: [...adapter.features].map(String).sort(),
  };
}

/** The adapter and its description, or why there is none (never throws). */
export async function probeGpu(): Promise<{ info: GpuInfo | null; reasons: string[] }> {
  const a = await findAdapter();
  return { info: a ? describe(a.adapter, a.via) : null, reasons: [...attempts] };
}

let opened: Promise<Gpu> | null = null;

/**
 * Opens the GPU device (once per process; later calls share it) with the adapter's limits.
 * Throws GpuUnavailableError naming each attempt when no adapter exists.
 */
export function openGpu(): Promise<Gpu> {
  opened ??= (async () => {
    const a = await findAdapter();
    if (!a) {
      opened = null;
      throw new GpuUnavailableError(`no WebGPU adapter: ${attempts.join('; ')}`, [...attempts]);
    }
    const required: Record<string, number> = {};
    for (const k of [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxStorageBuffersPerShaderStage',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupsPerDimension',
    ]) {
      const v = (a.adapter.limits as unknown as Record<string, number>)[k];
      if (typeof v === 'number') required[k] = v;
    }
    const device = await a.adapter.requestDevice({ requiredLimits: required });
    let lostFlag = false;
    const lost = device.lost.then((l) => {
      lostFlag = true;
      opened = null;
      found = undefined; // an adapter gives one device: the next openGpu asks for a new one
      throw new GpuDeviceLostError(`GPU device lost (${l.reason}): ${l.message || 'no message'}`, l.reason);
    });
    lost.catch(() => undefined); // observed by the engine's calls; never an unhandled rejection
    return { device, adapter: a.adapter, info: describe(a.adapter, a.via), lost, isLost: () => lostFlag };
  })();
  return opened;
}

/** Result of `resolveDevice`: where to run, and the one line saying so when `auto` fell back. */
export interface DeviceChoice {
  device: 'cpu' | 'gpu';
  gpu: Gpu | null;
  /** Set when `auto` chose the CPU: why (printed once by the CLI). */
  note?: string;
}

/** Parses a `--device` value (case-insensitive); throws naming the valid values. */
export function parseDeviceRequest(v: string | undefined, where = '--device'): DeviceRequest {
  const s = (v ?? 'cpu').trim().toLowerCase();
  if ((DEVICE_REQUESTS as readonly string[]).includes(s)) return s as DeviceRequest;
  throw new Error(`${where}: unknown device '${v}'; valid: ${DEVICE_REQUESTS.join(', ')}`);
}

/**
 * `cpu`: the CPU engine. `gpu`: the GPU, or GpuUnavailableError. `auto`: the GPU when an
 * adapter exists, else the CPU with a note saying why.
 */
export async function resolveDevice(req: DeviceRequest): Promise<DeviceChoice> {
  if (req === 'cpu') return { device: 'cpu', gpu: null };
  if (req === 'gpu') return { device: 'gpu', gpu: await openGpu() };
  try {
    return { device: 'gpu', gpu: await openGpu() };
  } catch (e) {
    if (!(e instanceof GpuUnavailableError)) throw e;
    return { device: 'cpu', gpu: null, note: `device auto: using the CPU (${e.message})` };
  }
}
