// `--device` on the CLI (app/commands): `sim run --device gpu` agrees with the CPU run, a bad
// device name is refused, and `impulse backend --json` reports the GPU adapter. On a machine
// whose only Vulkan loader is chromium's, the file re-runs itself with the SwiftShader
// environment; the GPU cases skip, saying why, only where no adapter of any kind exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gpuTestFile } from '../../sim/gpu/test-util.ts';
import { register as registerSim } from './sim.ts';
import { register as registerBackend } from './backend.ts';
import { runCommand } from './test-util.ts';

const ROOT = join(import.meta.dirname, '../..');
const { inChild, skip } = await gpuTestFile(import.meta.url, '--device tests');

if (!inChild) {
  test('sim run --device gpu: the same final state as the CPU run, labelled with the adapter', { skip }, async () => {
    const scene = join(ROOT, 'examples/physics/bounce.json');
    const cpu = await runCommand(registerSim, ['sim', 'run', scene, '--steps', '60', '--json']);
    const gpu = await runCommand(registerSim, ['sim', 'run', scene, '--steps', '60', '--json', '--device', 'gpu']);
    assert.equal(gpu.code, 0, gpu.err);
    const a = JSON.parse(cpu.out) as { particleCom: number[] };
    const b = JSON.parse(gpu.out) as { particleCom: number[]; device: { kind: string; adapter: string } };
    assert.equal(b.device.kind, 'gpu');
    assert.ok(b.device.adapter.length > 0);
    a.particleCom.forEach((v, i) => assert.ok(Math.abs(v - b.particleCom[i]!) < 1e-4, `com[${i}]: cpu ${v}, gpu ${b.particleCom[i]}`));
  });

  test('--device: an unknown name is refused listing the valid ones', async () => {
    const r = await runCommand(registerSim, ['sim', 'run', join(ROOT, 'examples/physics/bounce.json'), '--device', 'tpu']);
    assert.equal(r.code, 1);
    assert.match(r.err, /--device: unknown device 'tpu'; valid: cpu, gpu, auto/);
  });

  test('backend --json reports the GPU adapter', { skip }, async () => {
    const r = await runCommand(registerBackend, ['backend', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { gpu: { available: boolean; info: { kind: string; limits: Record<string, number> } } };
    assert.equal(j.gpu.available, true);
    assert.ok(['hardware', 'software'].includes(j.gpu.info.kind));
    assert.ok(j.gpu.info.limits.maxStorageBufferBindingSize! > 0);
  });
}
