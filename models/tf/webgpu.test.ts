// TensorFlow.js on its WebGPU backend in Node (models/tf): `initTf('webgpu')` on the adapter
// sim/gpu finds (SwiftShader in CI), a training step of a small MLP agrees with the cpu
// backend's. Re-runs itself with the SwiftShader environment when only chromium's Vulkan loader
// exists; skips, saying why, only where no adapter of any kind exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpuTestFile } from '../../sim/gpu/test-util.ts';
import { initTf, type TfModule } from './backend.ts';

const { inChild, skip } = await gpuTestFile(import.meta.url, 'tfjs webgpu tests');

/** One Adam step of a 8-32-2 MLP on fixed data; returns the loss before the step and the updated first-layer weights. */
async function trainStep(tf: TfModule): Promise<{ loss: number; w: Float32Array }> {
  const x = tf.tensor2d(
    Array.from({ length: 64 * 8 }, (_, i) => Math.sin(i)),
    [64, 8],
  );
  const y = tf.tensor2d(
    Array.from({ length: 64 * 2 }, (_, i) => Math.cos(i)),
    [64, 2],
  );
  const w1 = tf.variable(
    tf.tensor2d(
      Array.from({ length: 8 * 32 }, (_, i) => 0.1 * Math.sin(3 * i)),
      [8, 32],
    ),
  );
  const w2 = tf.variable(
    tf.tensor2d(
      Array.from({ length: 32 * 2 }, (_, i) => 0.1 * Math.cos(5 * i)),
      [32, 2],
    ),
  );
  const opt = tf.train.adam(0.01);
  const l = opt.minimize(() => tf.mean(tf.square(tf.sub(tf.matMul(tf.relu(tf.matMul(x, w1)), w2), y))), true, [w1, w2])!;
  const loss = (await l.data())[0]!;
  const w = (await w1.data()) as Float32Array;
  tf.dispose([x, y, w1, w2, l]);
  return { loss, w };
}

if (!inChild) {
  test('initTf webgpu: a training step agrees with the cpu backend', { skip }, async () => {
    const cpu = await initTf('cpu');
    const ref = await trainStep(cpu.tf);
    const g = await initTf('webgpu');
    assert.equal(g.backend, 'webgpu', g.fallbackReason);
    const got = await trainStep(g.tf);
    assert.ok(Math.abs(got.loss - ref.loss) < 1e-4 * Math.abs(ref.loss), `loss ${got.loss} vs ${ref.loss}`);
    for (let i = 0; i < ref.w.length; i++) assert.ok(Math.abs(got.w[i]! - ref.w[i]!) < 1e-5, `w1[${i}] ${got.w[i]} vs ${ref.w[i]}`);
    await initTf('cpu');
  });
}
