// `impulse backend`: initialises TensorFlow.js the way every tfjs-using command does
// (--backend > IMPULSE_TF_BACKEND > best available) and prints which backend it got; then
// which float64 kernels (WebAssembly SIMD or JS) and how many batch threads the project's own
// layers use, and the GPU (WebGPU adapter) the `--device gpu|auto` commands would use, or why
// there is none.
import type { Command } from 'commander';
import type { TfInit } from '../../models/tf/index.ts';
import type { GpuInfo } from '../../sim/index.ts';

/** The GPU section of `impulse backend`: the adapter, or the reason of each failed attempt. */
export interface GpuReport {
  available: boolean;
  info?: GpuInfo;
  reasons: string[];
}

/** Limits shown by `impulse backend` (all are in --json). */
const SHOWN_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
];

/** Probes the WebGPU adapter (never throws). */
export async function gpuBackendReport(): Promise<GpuReport> {
  const { probeGpu } = await import('../../sim/index.ts');
  const { info, reasons } = await probeGpu();
  return info ? { available: true, info, reasons } : { available: false, reasons };
}

/** The GPU section as text lines. */
export function describeGpuReport(r: GpuReport): string {
  if (!r.info) return `GPU: none (${r.reasons.join('; ')}); --device auto uses the CPU`;
  const i = r.info;
  const lines = [
    `GPU: ${i.vendor || 'unknown vendor'} ${i.device || i.description || 'unknown device'} (${i.kind}${i.kind === 'software' ? ': right but slow' : ''}, via ${i.via === 'system' ? 'the system Vulkan drivers' : 'SwiftShader'})`,
  ];
  for (const k of SHOWN_LIMITS) if (i.limits[k] !== undefined) lines.push(`  ${k}: ${i.limits[k]}`);
  if (i.features.length) lines.push(`  features: ${i.features.join(', ')}`);
  return lines.join('\n');
}

/**
 * When the GPU is wanted and only chromium's Vulkan loader exists (not on LD_LIBRARY_PATH at
 * process start), re-runs the command once with the SwiftShader environment and exits with its
 * status; otherwise returns.
 */
export async function rerunForSoftwareGpuIfNeeded(): Promise<void> {
  const { probeGpu, rerunWithSoftwareGpu, softwareGpuNeedsRerun } = await import('../../sim/index.ts');
  if (!softwareGpuNeedsRerun()) return;
  if ((await probeGpu()).info) return;
  process.exit(rerunWithSoftwareGpu());
}

/** Initialises tfjs from the program's global --backend option and reports it on stderr. */
export async function initTfFromCli(program: Command, quiet = false): Promise<TfInit> {
  const { describeTfBackend, initTf } = await import('../../models/tf/index.ts');
  const info = await initTf(program.opts<{ backend?: string }>().backend);
  if (!quiet) process.stderr.write(`${describeTfBackend(info)}\n`);
  return info;
}

/** The help text of `--device` on the commands that simulate or train. */
export const DEVICE_HELP = 'where to compute: cpu (default), gpu (WebGPU; an error without an adapter) or auto (the GPU when an adapter exists, else the CPU)';

/**
 * tfjs for a training command's `--device`: `cpu` (or absent) initialises as `--backend` says;
 * `gpu` runs tfjs on its webgpu backend (an error naming why when it cannot); `auto` does that
 * when a WebGPU adapter exists, else says once on stderr why it uses the CPU path. `syncReads`:
 * the command reads tensors with dataSync, which the webgpu backend cannot serve in Node
 * (`gpu` is then an error saying so, `auto` the CPU path); a string names what reads synchronously.
 */
export async function initTfForDevice(program: Command, device: string | undefined, quiet = false, syncReads: boolean | string = false): Promise<TfInit> {
  const { parseDeviceRequest, GpuUnavailableError } = await import('../../sim/index.ts');
  const req = parseDeviceRequest(device);
  if (req === 'cpu') return initTfFromCli(program, quiet);
  if (syncReads) {
    // the webgpu backend cannot read GPU data synchronously in Node (dataSync needs OffscreenCanvas)
    const why = `${typeof syncReads === 'string' ? syncReads : 'this command'} needs synchronous tensor reads (dataSync), which TensorFlow.js on WebGPU cannot do in Node`;
    if (req === 'gpu') throw new GpuUnavailableError(`--device gpu: ${why}; use --device cpu`, [why]);
    process.stderr.write(`device auto: TensorFlow.js on the CPU path (${why})\n`);
    return initTfFromCli(program, quiet);
  }
  await rerunForSoftwareGpuIfNeeded();
  const gpu = await gpuBackendReport();
  if (!gpu.info) {
    if (req === 'gpu') throw new GpuUnavailableError(`--device gpu: no WebGPU adapter (${gpu.reasons.join('; ')})`, gpu.reasons);
    process.stderr.write(`device auto: using the CPU (no WebGPU adapter: ${gpu.reasons.join('; ')})\n`);
    return initTfFromCli(program, quiet);
  }
  const { describeTfBackend, initTf } = await import('../../models/tf/index.ts');
  const info = await initTf('webgpu');
  if (info.backend !== 'webgpu') {
    if (req === 'gpu')
      throw new GpuUnavailableError(`--device gpu: TensorFlow.js cannot run on the GPU (${info.fallbackReason ?? 'unknown reason'})`, [
        info.fallbackReason ?? '',
      ]);
    process.stderr.write(`device auto: TensorFlow.js on ${info.backend} (${info.fallbackReason ?? ''})\n`);
  }
  // webgpu was asked for by --device here, not by --backend: say so in the backend line
  const line = describeTfBackend(info).replace(' from --backend', ' from --device');
  if (!quiet) process.stderr.write(`${line}; ${describeGpuReport(gpu).split('\n')[0]}\n`);
  return info;
}

/** The float64 kernels and batch threads of the project's own layers (sim/linalg, models/implicit). */
export interface KernelReport {
  kernels: 'wasm-simd' | 'js';
  /** Why the JS kernels run (absent when wasm does). */
  kernelsReason?: string;
  /** Default threads of the batched layers (IMPULSE_THREADS or the core count). */
  threads: number;
  /** Why batches stay on one thread (absent when worker threads are available). */
  threadsReason?: string;
}

/** Collects the kernel section of `impulse backend`. */
export async function kernelReport(): Promise<KernelReport> {
  const { kernelBackend } = await import('../../sim/linalg/index.ts');
  const { defaultThreads, threadsUnavailable } = await import('../../models/implicit/index.ts');
  const k = kernelBackend();
  const why = threadsUnavailable();
  return { kernels: k.active, ...(k.reason ? { kernelsReason: k.reason } : {}), threads: why ? 1 : defaultThreads(), ...(why ? { threadsReason: why } : {}) };
}

/** The kernel section as text lines. */
export function describeKernels(r: KernelReport): string {
  const k = r.kernels === 'wasm-simd' ? 'float64 kernels: wasm-simd (WebAssembly SIMD f64x2)' : `float64 kernels: js (${r.kernelsReason ?? 'fallback'})`;
  const t = r.threadsReason
    ? `batch threads: 1 (${r.threadsReason})`
    : `batch threads: ${r.threads} (IMPULSE_THREADS or the core count; the layers' threads option overrides)`;
  return `${k}\n${t}`;
}

export function register(program: Command): void {
  program
    .command('backend')
    .description('initialise TensorFlow.js (--backend, IMPULSE_TF_BACKEND, or best available) and print the backend in use')
    .option('--json', 'print {backend, requested, source, fallbackReason, float64: {kernels, threads, ...}, gpu} on stdout')
    .action(async (opts: { json?: boolean }) => {
      await rerunForSoftwareGpuIfNeeded();
      const info = await initTfFromCli(program, !!opts.json);
      const kernels = await kernelReport();
      const gpu = await gpuBackendReport();
      if (opts.json) {
        const { backend, requested, source, fallbackReason, nativePackage } = info;
        console.log(JSON.stringify({ backend, requested, source, fallbackReason, nativePackage, float64: kernels, gpu }));
      } else {
        console.log(info.backend);
        console.log(describeKernels(kernels));
        console.log(describeGpuReport(gpu));
      }
    });
}
