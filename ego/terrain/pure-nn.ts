// The pure-NN baseline of the terrain predictor (ego/terrain): an MLP that regresses the 5 s
// trajectory directly from the sensor heightmap and the commands, with no physics. Everything
// is expressed in the robot's start frame (x forward, y left, z up, origin at the start
// position): the input is the filled sensor heightmap resampled on a 17 x 17 grid of 0.5 m
// cells in that frame (x from -2 to 6 m, y from -4 to 4 m, heights relative to the start
// height), the commanded (v, omega) sequence and the initial velocity; the output is the
// displacement at every recorded time, rotated back into the world. Its loss is the same
// MonoForce time weighting as the terrain model's (1 / (1 + 0.9 t)).
import type { LayersModel, Tensor as TfTensor } from '@tensorflow/tfjs';
import type { TfModule } from '../../models/index.ts';
import { fillSensorMap } from './baseline.ts';
import { timeWeight } from './engine.ts';
import { bilinearAt, type TerrainSpec } from './generate.ts';
import type { StoredSample } from './format.ts';

/** The robot-frame heightmap patch of the input: PATCH x PATCH points, PATCH_CELL m apart, x from PATCH_X0. */
export const PATCH = 17;
export const PATCH_CELL = 0.5;
export const PATCH_X0 = -2;

/** Input and output sizes of the pure NN for a dataset's timing. */
export function pureNnSizes(spec: TerrainSpec): { inputs: number; outputs: number; steps: number; commands: number } {
  const commands = Math.round(spec.duration / spec.commandDt);
  const steps = Math.round(spec.duration / spec.recordDt);
  return { inputs: PATCH * PATCH + 2 * commands + 6, outputs: 3 * steps, steps, commands };
}

/** Start position and yaw of a sample's ground truth (the frame of the pure NN). */
function startFrame(s: StoredSample): { x: number; y: number; z: number; c: number; s: number } {
  const p = s.truth.poses;
  const [qx, qy, qz, qw] = [p[3]!, p[4]!, p[5]!, p[6]!];
  const yaw = Math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz));
  return { x: p[0]!, y: p[1]!, z: p[2]!, c: Math.cos(yaw), s: Math.sin(yaw) };
}

/** The input features of one sample (see the file header), float32. */
export function pureNnFeatures(spec: TerrainSpec, s: StoredSample): Float32Array {
  const { inputs, commands } = pureNnSizes(spec);
  const f = new Float32Array(inputs);
  const fr = startFrame(s);
  const fill = fillSensorMap(spec, s.sample.sensorHeights, s.sample.sensorMask);
  const h0 = bilinearAt(spec.grid, fill, fr.x, fr.y);
  let o = 0;
  for (let a = 0; a < PATCH; a++)
    for (let b = 0; b < PATCH; b++) {
      const u = PATCH_X0 + a * PATCH_CELL;
      const v = (b - (PATCH - 1) / 2) * PATCH_CELL;
      f[o++] = (bilinearAt(spec.grid, fill, fr.x + fr.c * u - fr.s * v, fr.y + fr.s * u + fr.c * v) - h0) / 0.3;
    }
  for (let k = 0; k < commands; k++) {
    f[o++] = s.sample.commands[2 * k]!;
    f[o++] = s.sample.commands[2 * k + 1]! / 0.5;
  }
  const v0 = s.truth.velocity0;
  // initial velocity in the start frame
  f[o++] = fr.c * v0[0]! + fr.s * v0[1]!;
  f[o++] = -fr.s * v0[0]! + fr.c * v0[1]!;
  f[o++] = v0[2]!;
  f[o++] = fr.c * v0[3]! + fr.s * v0[4]!;
  f[o++] = -fr.s * v0[3]! + fr.c * v0[4]!;
  f[o++] = v0[5]!;
  return f;
}

/** Targets of one sample: displacements [steps][3] in the start frame, float32. */
export function pureNnTargets(spec: TerrainSpec, s: StoredSample): Float32Array {
  const { steps } = pureNnSizes(spec);
  const fr = startFrame(s);
  const out = new Float32Array(3 * steps);
  for (let k = 1; k <= steps; k++) {
    const dx = s.truth.poses[7 * k]! - fr.x;
    const dy = s.truth.poses[7 * k + 1]! - fr.y;
    out[3 * (k - 1)] = fr.c * dx + fr.s * dy;
    out[3 * (k - 1) + 1] = -fr.s * dx + fr.c * dy;
    out[3 * (k - 1) + 2] = s.truth.poses[7 * k + 2]! - fr.z;
  }
  return out;
}

/** The MLP: inputs -> hidden (tanh) -> 3 x steps displacements (m), glorot-uniform weights seeded from `seed`. */
export function createPureNn(tf: TfModule, spec: TerrainSpec, hidden: readonly number[], seed: number): LayersModel {
  const { inputs, outputs } = pureNnSizes(spec);
  const m = tf.sequential();
  hidden.forEach((h, k) =>
    m.add(
      tf.layers.dense({
        units: h,
        activation: 'tanh',
        inputShape: k === 0 ? [inputs] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + k }),
      }),
    ),
  );
  m.add(
    tf.layers.dense({
      units: outputs,
      inputShape: hidden.length ? undefined : [inputs],
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + 99 }),
    }),
  );
  return m;
}

/** Features [B, inputs] and targets [B, steps, 3] of a set of samples. */
export function pureNnTensors(tf: TfModule, spec: TerrainSpec, items: readonly StoredSample[]): { x: TfTensor; y: TfTensor } {
  const { inputs, steps } = pureNnSizes(spec);
  const x = new Float32Array(items.length * inputs);
  const y = new Float32Array(items.length * steps * 3);
  items.forEach((s, i) => {
    x.set(pureNnFeatures(spec, s), i * inputs);
    y.set(pureNnTargets(spec, s), i * steps * 3);
  });
  return { x: tf.tensor2d(x, [items.length, inputs]), y: tf.tensor3d(y, [items.length, steps, 3]) };
}

/** The time-weighted squared error (MonoForce weights, as the terrain model's loss) of predictions [B, steps * 3] against targets [B, steps, 3]. */
export function pureNnLoss(tf: TfModule, spec: TerrainSpec, out: TfTensor, y: TfTensor): TfTensor {
  const { steps } = pureNnSizes(spec);
  const w = tf.tensor3d(
    Float32Array.from({ length: steps }, (_, k) => timeWeight((k + 1) * spec.recordDt)),
    [1, steps, 1],
  );
  const d = tf.sub(tf.reshape(out, [-1, steps, 3]), y);
  return tf.div(tf.sum(tf.mul(w, tf.square(d))), (steps + 1) * y.shape[0]!);
}

/** World-frame paths [steps + 1][3] (flat, starting at the ground-truth start) predicted by the pure NN. */
export async function pureNnPaths(tf: TfModule, net: LayersModel, spec: TerrainSpec, items: readonly StoredSample[]): Promise<Float64Array[]> {
  if (items.length === 0) return [];
  const { steps } = pureNnSizes(spec);
  const { x, y } = pureNnTensors(tf, spec, items);
  const out = net.predict(x) as TfTensor;
  const d = await out.data();
  tf.dispose([x, y, out]);
  return items.map((s, i) => {
    const fr = startFrame(s);
    const p = new Float64Array(3 * (steps + 1));
    p.set([fr.x, fr.y, fr.z], 0);
    for (let k = 1; k <= steps; k++) {
      const o = i * 3 * steps + 3 * (k - 1);
      const u = d[o]!;
      const v = d[o + 1]!;
      p.set([fr.x + fr.c * u - fr.s * v, fr.y + fr.s * u + fr.c * v, fr.z + d[o + 2]!], 3 * k);
    }
    return p;
  });
}
