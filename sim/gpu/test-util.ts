// Test support of the GPU test files (not part of the package): the one prelude each file that
// needs a WebGPU adapter starts with, so every such file finds SwiftShader the same way and
// skips only where no adapter of any kind exists, saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { probeGpu, rerunWithSoftwareGpu, softwareGpuNeedsRerun } from './device.ts';

/** How a GPU test file runs in this process (see gpuTestFile). */
export interface GpuTestFile {
  /** The file re-ran itself in a child with the SwiftShader environment: register no tests here. */
  inChild: boolean;
  /** Why the file's GPU tests skip (no adapter of any kind), else false. */
  skip: string | false;
}

/**
 * Probes a WebGPU adapter for the test file at `fileUrl` (its `import.meta.url`). Where only
 * chromium's Vulkan loader stands between this process and SwiftShader, re-runs the file in a
 * child with that environment and registers one test, `what (re-run ...)`, on the child's exit
 * status. Where no adapter of any kind exists, returns the reason to skip with (also printed).
 */
export async function gpuTestFile(fileUrl: string, what: string): Promise<GpuTestFile> {
  const probe = await probeGpu();
  if (probe.info) return { inChild: false, skip: false };
  if (softwareGpuNeedsRerun()) {
    const code = rerunWithSoftwareGpu(['--test', fileURLToPath(fileUrl)]);
    test(`${what} (re-run with the SwiftShader environment)`, () => assert.equal(code, 0, 'the re-run failed; see its output above'));
    return { inChild: true, skip: false };
  }
  const skip = `no WebGPU adapter of any kind: ${probe.reasons.join('; ')}`;
  console.log(`# ${what} skipped: ${skip}`);
  return { inChild: false, skip };
}
