// `impulse sim terrain-rollout` (app/commands/terrain-rollout.ts): the loss and map-gradient
// summary of a generated two-sample terrain dataset on the CPU, the same on the GPU (float32,
// the WGSL controller and adjoints; named adapter), and bad input. The GPU case re-runs the file
// with the SwiftShader environment where needed and skips only where no adapter exists.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpuTestFile } from '../../sim/gpu/test-util.ts';
import { backward } from '../../sim/core/index.ts';
import {
  MATERIAL,
  RolloutNonFiniteError,
  baselineMaps,
  buildBatch,
  generateDataset,
  openTerrainDataset,
  rolloutBatch,
  rolloutBatchGpu,
  tiledTensor,
  trajectoryLoss,
  truthPath,
  type TerrainSpec,
} from '../../ego/terrain/index.ts';
import { register as registerSim } from './sim.ts';
import type { TerrainRolloutResult } from './terrain-rollout.ts';
import { runCommand } from './test-util.ts';

const { inChild, skip } = await gpuTestFile(import.meta.url, 'sim terrain-rollout tests');

if (!inChild) {
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

  /** The dataset's robots over the first `seconds` (commands and truth cut to fit), with the given maps and command overrides. */
  const world = (spec: TerrainSpec, maps: 'physics-default' | 'physics-oracle', cmd?: (i: number, c: Float64Array) => Float64Array) => {
    const d = openTerrainDataset(ds);
    const items = [0, 1].map((i) => d.load(i));
    const nCmd = Math.round(spec.duration / spec.commandDt);
    const m = items.map((s) => baselineMaps(spec, s, maps));
    const w = buildBatch(
      spec,
      m,
      items.map((s, i) => {
        const c = Float64Array.from(s.sample.commands.subarray(0, 2 * nCmd));
        return { tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: cmd ? cmd(i, c) : c, label: s.record.id };
      }),
    );
    const nPose = Math.round(spec.duration / spec.recordDt) + 1;
    return { w, m, truth: items.map((s) => truthPath(s).subarray(0, 3 * nPose)) };
  };

  test('rolloutBatchGpu: map gradients of the trajectory loss agree with the CPU engine over 100 steps (bar 1e-3)', { skip }, () => {
    const spec = { ...openTerrainDataset(ds).spec, duration: 2 };
    const errs: string[] = [];
    for (const maps of ['physics-oracle', 'physics-default'] as const) {
      const { w, m, truth } = world(spec, maps);
      const res = [rolloutBatch, rolloutBatchGpu].map((roll) => {
        const t = {
          terrainHeights: tiledTensor(
            w,
            m.map((x) => x.heights),
            0,
          ).requireGrad(),
          terrainMu: tiledTensor(
            w,
            m.map((x) => x.friction),
            MATERIAL.defaultMu,
          ).requireGrad(),
          terrainKe: tiledTensor(
            w,
            m.map((x) => x.stiffness),
            MATERIAL.defaultKe,
          ).requireGrad(),
        };
        const L = trajectoryLoss(roll(w, { maps: t, grad: true }), truth, spec.recordDt);
        backward(L);
        return [L.data, t.terrainHeights.grad!.data, t.terrainMu.grad!.data, t.terrainKe.grad!.data];
      });
      const rel = res[0]!.map((a, k) => {
        const b = res[1]![k]!;
        let d = 0;
        let n = 0;
        for (let i = 0; i < a.length; i++) {
          d = Math.max(d, Math.abs(a[i]! - b[i]!));
          n = Math.max(n, Math.abs(a[i]!));
        }
        return d / n;
      });
      errs.push(
        `${maps}: loss ${rel[0]!.toExponential(1)}, heights ${rel[1]!.toExponential(1)}, friction ${rel[2]!.toExponential(1)}, stiffness ${rel[3]!.toExponential(1)}`,
      );
      // the true maps keep the robot on smooth contact; the default maps' filled sensor heights switch contacts, where float32 and float64 part
      if (maps === 'physics-oracle') rel.forEach((e, k) => assert.ok(e < 1e-3, `${['loss', 'heights', 'friction', 'stiffness'][k]}: relative error ${e}`));
      else rel.forEach((e) => assert.ok(e < 2e-2, errs.at(-1)));
    }
    console.log(`# terrain robot, gpu vs cpu over 100 steps, max relative error: ${errs.join('; ')}`);
  });

  test('rolloutBatchGpu: a NaN command is named with terrain, robot and step, as on the CPU', { skip }, () => {
    const spec = { ...openTerrainDataset(ds).spec, duration: 1 };
    const { w } = world(spec, 'physics-default', (i, c) => {
      if (i === 1) c[6] = NaN;
      return c;
    });
    const caught = [rolloutBatch, rolloutBatchGpu].map((roll) => {
      try {
        roll(w);
      } catch (e) {
        return e;
      }
      return null;
    });
    for (const e of caught) {
      assert.ok(e instanceof RolloutNonFiniteError, String(e));
      assert.equal(e.robot, 1);
      assert.equal(e.step, 16);
    }
    assert.match((caught[1] as Error).message, /engine \(gpu\) rollout: non-finite .* robot 1, step 16/);
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
