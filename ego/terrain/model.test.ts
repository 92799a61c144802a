// Tests of the terrain model (ego/terrain/model.ts): the tfjs -> bridge -> engine path gives
// the float64 core's gradients (to float32 precision at the boundary; the float64 function
// itself is gradchecked as terrain.rollout_tiled_maps), the CNN's loss reaches every layer's
// weights, a few Adam steps lower it, and a terrain grid that does not match the network is a
// named error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../../sim/core/index.ts';
import { initTf, tfOp, toTf } from '../../models/index.ts';
import { checkSetup, tiledCheckLoss } from './checks.ts';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { createTerrainNet, networkInput, terrainModelLoss } from './model.ts';
import type { StoredSample } from './format.ts';
import { TerrainShapeError } from './errors.ts';

test('tfjs gradients through the terrain rollout op equal the float64 core gradients', async () => {
  const { tf } = await initTf();
  const { fn, inputs } = tiledCheckLoss();
  const core = inputs.map((t) => t.clone().requireGrad());
  const g64 = gradients([fn(core[0]!, core[1]!, core[2]!)], core);
  const op = tfOp(fn, { name: 'terrain-check' });
  const g32 = tf.grads((a, b, c) => op(a, b, c))(inputs.map(toTf));
  g64.forEach((g, i) => {
    const a = g32[i]!.dataSync();
    let maxErr = 0;
    let maxRef = 0;
    for (let k = 0; k < a.length; k++) {
      maxErr = Math.max(maxErr, Math.abs(a[k]! - g!.data[k]!));
      maxRef = Math.max(maxRef, Math.abs(g!.data[k]!));
    }
    assert.ok(maxRef > 0, `input ${i}: the loss depends on it`);
    // float32 at the boundary (inputs rounded to 7 digits, gradients returned in float32)
    assert.ok(maxErr / maxRef < 2e-3, `input ${i}: relative error ${maxErr / maxRef}`);
  });
  tf.dispose(g32);
});

/** Two small stored samples on the check terrain: ground truth 5 cm ahead of the start. */
function smallSamples(): { spec: ReturnType<typeof checkSetup>['spec']; samples: StoredSample[] } {
  const { spec, maps, robots } = checkSetup();
  const N = spec.grid.nx * spec.grid.ny;
  const samples = robots.map((r, i): StoredSample => {
    const poses = new Float64Array(7 * 3);
    for (let k = 0; k < 3; k++) poses.set([r.pose0[0]! + 0.05 * k, r.pose0[1]!, r.pose0[2]!, r.pose0[3]!, r.pose0[4]!, r.pose0[5]!, r.pose0[6]!], 7 * k);
    return {
      record: { id: `small-${i}`, index: i, kinds: ['hills'], start: [0, 0, 0], file: '', bytes: 1, sha256: '0'.repeat(64) },
      sample: {
        id: `small-${i}`,
        seed: 0,
        kinds: ['hills'],
        heights: maps.heights,
        friction: maps.friction,
        stiffness: maps.stiffness,
        sensorHeights: maps.heights.map((h, k) => h + 0.01 * Math.sin(k)),
        sensorMask: new Float64Array(N).fill(1).map((_, k) => (k % 5 === 0 ? 0 : 1)),
        start: [0, 0, 0],
        commands: Float64Array.from(r.commands),
      },
      truth: { poses, velocity0: Float64Array.from(r.velocity0) },
    };
  });
  return { spec, samples };
}

test('the CNN -> engine loss reaches every layer and a few Adam steps lower it; a mismatched grid is named', async () => {
  const { tf } = await initTf('cpu'); // the wasm backend has no Conv2DBackpropFilter kernel
  const { spec, samples } = smallSamples();
  const net = createTerrainNet(tf, spec, { channels: 4, seed: 3 });
  const opt = tf.train.adam(0.02);
  const losses: number[] = [];
  for (let it = 0; it < 4; it++) {
    const { value, grads } = tf.variableGrads(() => terrainModelLoss(tf, net, spec, samples) as never);
    losses.push(value.dataSync()[0]!);
    const norms = Object.values(grads).map((g) => tf.norm(g).dataSync()[0]!);
    norms.forEach((n) => assert.ok(Number.isFinite(n)));
    if (it === 1)
      assert.ok(
        norms.every((n) => n > 0),
        `every weight gets a gradient after the first step: ${norms}`,
      );
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.ok(losses[3]! < losses[0]!, `loss ${losses.join(' -> ')}`);
  const other = createTerrainNet(tf, { ...spec, grid: { ...spec.grid, nx: 9 } });
  assert.throws(
    () => terrainModelLoss(tf, other, spec, samples),
    (e: Error) => e instanceof TerrainShapeError && /terrain model input: grid 7 x 8/.test(e.message),
  );
});

test("materials 'global' with a height filter: zero output before training; after Adam steps one friction and one stiffness per terrain, heights per cell", async () => {
  const { tf } = await initTf('cpu');
  const { spec, samples } = smallSamples();
  const net = createTerrainNet(tf, spec, { channels: 4, seed: 3, materials: 'global', heightFilter: 3 });
  const { input } = networkInput(tf, spec, samples);
  const out0 = net.predict(input) as TfTensor;
  assert.equal(tf.max(tf.abs(out0)).dataSync()[0], 0, 'the untrained model is the physics-default baseline');
  const opt = tf.train.adam(0.02);
  const losses: number[] = [];
  for (let it = 0; it < 3; it++) {
    const { value, grads } = tf.variableGrads(() => terrainModelLoss(tf, net, spec, samples) as never);
    losses.push(value.dataSync()[0]!);
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  assert.ok(losses[2]! < losses[0]!, `loss ${losses.join(' -> ')}`);
  const out = net.predict(input) as TfTensor;
  const [B, ny, nx] = out.shape as number[];
  const d = out.dataSync();
  for (let b = 0; b < B!; b++)
    for (const ch of [1, 2]) {
      const first = d[b * ny! * nx! * 3 + ch]!;
      assert.notEqual(first, 0, `terrain ${b} channel ${ch} trained`);
      for (let k = 0; k < ny! * nx!; k++) assert.equal(d[(b * ny! * nx! + k) * 3 + ch], first, `terrain ${b} channel ${ch} cell ${k}`);
    }
  const h = new Set(Array.from({ length: ny! * nx! }, (_, k) => d[k * 3]));
  assert.ok(h.size > 1, 'the height correction varies over the map');
  tf.dispose([input, out0, out]);
  net.dispose();
  assert.throws(() => createTerrainNet(tf, spec, { materials: 'patch' as never }), /materials 'patch' is not 'map' or 'global'/);
  assert.throws(() => createTerrainNet(tf, spec, { heightFilter: 4 }), /heightFilter 4 is not 0 or an odd kernel size/);
});
