// `impulse backend`: initialises TensorFlow.js the way every tfjs-using command does
// (--backend > IMPULSE_TF_BACKEND > best available) and prints which backend it got; then
// which float64 kernels (WebAssembly SIMD or JS) and how many batch threads the
// project's own layers use.
import type { Command } from 'commander';
import type { TfInit } from '../../models/tf/index.ts';

/** Initialises tfjs from the program's global --backend option and reports it on stderr. */
export async function initTfFromCli(program: Command, quiet = false): Promise<TfInit> {
  const { describeTfBackend, initTf } = await import('../../models/tf/index.ts');
  const info = await initTf(program.opts<{ backend?: string }>().backend);
  if (!quiet) process.stderr.write(`${describeTfBackend(info)}\n`);
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
    .option('--json', 'print {backend, requested, source, fallbackReason, float64: {kernels, threads, ...}} on stdout')
    .action(async (opts: { json?: boolean }) => {
      const info = await initTfFromCli(program, !!opts.json);
      const kernels = await kernelReport();
      if (opts.json) {
        const { backend, requested, source, fallbackReason, nativePackage } = info;
        console.log(JSON.stringify({ backend, requested, source, fallbackReason, nativePackage, float64: kernels }));
      } else {
        console.log(info.backend);
        console.log(describeKernels(kernels));
      }
    });
}
