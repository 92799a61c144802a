// `impulse sim terrain-rollout` (app/commands/terrain-rollout.ts): the loss and map-gradient
// summary of a generated two-sample terrain dataset on the CPU, the same on the GPU (float32,
// the WGSL controller and adjoints; named adapter), and bad input. The GPU case re-runs the file
// with the SwiftShader environment where needed and skips only where no adapter exists.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeGpu, rerunWithSoftwareGpu, softwareGpuNeedsRerun } from '../../sim/gpu/index.ts';
import { generateDataset } from '../../ego/terrain/index.ts';
import { register as registerSim } from './sim.ts';
import type { TerrainRolloutResult } from './terrain-rollout.ts';
import { runCommand } from './test-util.ts';

const probe = await probeGpu();
let skip: string | false = false;
let child = false;
if (!probe.info) {
  if (softwareGpuNeedsRerun()) {
    child = true;
    const code = rerunWithSoftwareGpu(['--test', fileURLToPath(import.meta.url)]);
    test('sim terrain-rollout tests (re-run with the SwiftShader environment)', () => assert.equal(code, 0));
  } else skip = `no WebGPU adapter of any kind: ${probe.reasons.join('; ')}`;
}

if (!child) {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-terrain-rollout-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ds = join(dir, 'ds');
  await generateDataset({ n: 2, seed: 3, out: ds });

  test('sim terrain-rollout: loss and map gradients on the CPU; --device gpu agrees and names the adapter', async () => {
    const cpu = await runCommand(registerSim, ['sim', 'terrain-rollout', ds, '--json']);
    assert.equal(cpu.code, 0, cpu.err);
    const a = JSON.parse(cpu.out) as TerrainRolloutResult;
    assert.equal(a.samples, 2);
    assert.equal(a.device, 'cpu');
    assert.ok(a.loss > 0 && a.gradient.heights.norm > 0 && a.gradient.friction.norm > 0 && a.gradient.stiffness.norm > 0, cpu.out);
    if (skip) return;
    const gpu = await runCommand(registerSim, ['sim', 'terrain-rollout', ds, '--json', '--device', 'gpu']);
    assert.equal(gpu.code, 0, gpu.err);
    const b = JSON.parse(gpu.out) as TerrainRolloutResult;
    assert.equal(b.device, 'gpu');
    assert.ok(b.adapter && b.adapter.length > 0);
    // float32 over 250 steps of 5 s trajectories with contacts switching: about 1e-3 on the loss, 1e-2 on gradient norms
    const rel = (x: number, y: number): number => Math.abs(x - y) / Math.abs(y);
    assert.ok(rel(b.loss, a.loss) < 5e-3, `loss: gpu ${b.loss}, cpu ${a.loss}`);
    for (const k of ['heights', 'friction', 'stiffness'] as const) {
      assert.ok(rel(b.gradient[k].norm, a.gradient[k].norm) < 3e-2, `${k} gradient norm: gpu ${b.gradient[k].norm}, cpu ${a.gradient[k].norm}`);
    }
    assert.deepEqual(
      [b.gradient.heights.sample, b.gradient.heights.row, b.gradient.heights.col],
      [a.gradient.heights.sample, a.gradient.heights.row, a.gradient.heights.col],
    );
    const text = await runCommand(registerSim, ['sim', 'terrain-rollout', ds, '--device', 'gpu', '--samples', '1']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /device {5}gpu: \S.*\((hardware|software)/);
    assert.match(text.out, /d loss \/ d friction +\|g\| /);
  });

  test('sim terrain-rollout: bad input is named', async () => {
    const none = await runCommand(registerSim, ['sim', 'terrain-rollout', join(dir, 'missing')]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no manifest\.json/);
    const maps = await runCommand(registerSim, ['sim', 'terrain-rollout', ds, '--maps', 'learned']);
    assert.equal(maps.code, 1);
    assert.match(maps.err, /--maps learned: expected one of physics-default/);
    const dev = await runCommand(registerSim, ['sim', 'terrain-rollout', ds, '--device', 'tpu']);
    assert.equal(dev.code, 1);
    assert.match(dev.err, /unknown device 'tpu'/);
  });
}
