// The tfjs networks of the ego-motion predictors (ego/): a seeded MLP on the normalised window
// features, and saving / loading it as standard tfjs model files (model.json + weights.bin), so any
// tfjs user (the app included) can load a checkpoint with tf.loadLayersModel.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { writeFileAtomicSync } from '../data/index.ts';
import { getTf } from '../models/tf/index.ts';
import { EgoError } from './windows.ts';

/**
 * An MLP inputs -> hidden (tanh) -> outputs with glorot-uniform weights seeded from `seed`; the
 * output layer starts at zero when `zeroHead` (a physics-informed model then starts as its prior).
 */
export function buildMlp(inputs: number, hidden: readonly number[], outputs: number, seed: number, zeroHead: boolean): LayersModel {
  const tf = getTf();
  const model = tf.sequential();
  hidden.forEach((h, k) =>
    model.add(
      tf.layers.dense({
        units: h,
        activation: 'tanh',
        inputShape: k === 0 ? [inputs] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + k }),
        biasInitializer: 'zeros',
      }),
    ),
  );
  model.add(
    tf.layers.dense({
      units: outputs,
      inputShape: hidden.length === 0 ? [inputs] : undefined,
      kernelInitializer: zeroHead ? 'zeros' : tf.initializers.glorotUniform({ seed: seed * 101 + 99 }),
      biasInitializer: 'zeros',
    }),
  );
  return model;
}

/** Writes a model as `dir/model.json` + `dir/weights.bin` (tfjs layers format), each file atomically. */
export async function saveModel(model: LayersModel, dir: string): Promise<void> {
  const tf = getTf();
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      const data =
        art.weightData instanceof ArrayBuffer ? new Uint8Array(art.weightData) : new Uint8Array(tf.io.concatenateArrayBuffers(art.weightData as ArrayBuffer[]));
      writeFileAtomicSync(join(dir, 'weights.bin'), data);
      writeFileAtomicSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'impulse',
          modelTopology: art.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Loads a model written by {@link saveModel}; errors name the file. */
export async function loadModel(dir: string): Promise<LayersModel> {
  const tf = getTf();
  const mj = join(dir, 'model.json');
  let json: { modelTopology: object; weightsManifest: { weights: unknown[] }[] };
  let bin: Buffer;
  try {
    json = JSON.parse(readFileSync(mj, 'utf8'));
    bin = readFileSync(join(dir, 'weights.bin'));
  } catch (e) {
    throw new EgoError(`${mj}: cannot read the model (${(e as Error).message})`);
  }
  const specs = json.weightsManifest?.[0]?.weights;
  if (!json.modelTopology || !Array.isArray(specs)) throw new EgoError(`${mj}: not a tfjs layers model (modelTopology / weightsManifest missing)`);
  const buf = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs as never, weightData: buf }));
}
