// The float64 kernel section of `impulse backend`: which kernels and how many batch threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setKernelBackend } from '../../sim/linalg/index.ts';
import { describeKernels, kernelReport } from './backend.ts';

test('impulse backend reports the float64 kernels (wasm-simd or js with the reason) and the batch threads', async () => {
  setKernelBackend('js');
  try {
    const r = await kernelReport();
    assert.equal(r.kernels, 'js');
    assert.match(describeKernels(r), /^float64 kernels: js \(forced by (IMPULSE_KERNELS=js|setKernelBackend\('js'\))\)\nbatch threads: \d+/);
  } finally {
    setKernelBackend('auto');
  }
  const r = await kernelReport();
  if (process.env.IMPULSE_KERNELS !== 'js') assert.equal(r.kernels, 'wasm-simd', r.kernelsReason);
  assert.ok(Number.isInteger(r.threads) && r.threads >= 1);
});
