// The MonoForce-style terrain model (ego/terrain): a TensorFlow.js CNN maps the sensor
// heightmap (unseen cells filled) and its mask to a height correction, a friction map and a
// stiffness map; the engine rolls every robot of the batch out on them (batched worlds, one
// tile per terrain) through the tfjs bridge (`tfOp`, float32 at the boundary, float64
// inside), and the loss is the time-weighted position error along the trajectory (weights
// 1 / (1 + 0.9 t)) plus a heightmap term on the cells whose true height is known (seen by
// the sensor). Gradients flow tfjs -> bridge -> engine adjoints -> back into tfjs. With a
// zero-initialised last layer the untrained model is the physics-default baseline.
import type { LayersModel, Tensor as TfTensor } from '@tensorflow/tfjs';
import { Tensor, concat, full, reshape, slice, type Tensor as CoreTensor } from '../../sim/core/index.ts';
import { tfOp, type TfModule } from '../../models/index.ts';
import { fillSensorMap } from './baseline.ts';
import { buildBatch, rolloutBatch, trajectoryLoss, type BatchWorld } from './engine.ts';
import { MATERIAL, type TerrainSpec } from './generate.ts';
import { checkGrid, type StoredSample } from './format.ts';
import { truthPath } from './baseline.ts';

/** Output ranges: height correction +-0.15 m; friction 0.6 exp(+-0.9); stiffness 8000 exp(+-1.5) N/m. */
export const MAP_SCALES = { dh: 0.15, muLog: 0.9, keLog: 1.5 } as const;

/** Options of {@link createTerrainNet}. */
export interface TerrainNetOptions {
  /** Channels of the hidden convolutions (default 16). */
  channels?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Downsampling factor of the convolutions (default: 4, or the largest of 2 and 1 that divides both grid sizes). */
  coarse?: number;
  /**
   * 'map' (default): friction and stiffness maps cell by cell, like the height correction;
   * 'global': one friction and one stiffness value per terrain (the trunk's features averaged
   * over the map, then a dense layer), two degrees of freedom instead of two maps.
   */
  materials?: 'map' | 'global';
  /**
   * Kernel size of a full-resolution convolution of the input added to the height correction
   * (0, the default: none). The coarse trunk cannot undo per-cell sensor noise; this filter can
   * (a fixed 3 x 3 mean of the filled sensor map already removes much of the error it causes).
   */
  heightFilter?: number;
}

/** The default downsampling factor of a grid: 4, 2 or 1, the largest dividing both sizes. */
export function coarseFactor(spec: TerrainSpec): number {
  return [4, 2, 1].find((f) => spec.grid.nx % f === 0 && spec.grid.ny % f === 0)!;
}

/**
 * The CNN: input [B, ny, nx, 2] (filled sensor heights / INPUT_SCALE, mask), averaged over
 * `coarse` x `coarse` blocks, two 'same' 3 x 3 convolutions (ReLU) and a 1 x 1 convolution to
 * 3 raw maps, upsampled back to the grid (bilinear). The last layer is zero-initialised, so
 * the untrained model predicts no height correction and the default friction and stiffness:
 * it starts exactly at the physics-default baseline. Working on coarse blocks (0.64 m on the
 * default grid; friction and stiffness patches are 2.9 m) keeps the tfjs cpu backend's
 * convolution gradients cheap.
 */
export function createTerrainNet(tf: TfModule, spec: TerrainSpec, opts: TerrainNetOptions = {}): LayersModel {
  const c = opts.channels ?? 16;
  const seed = opts.seed ?? 0;
  const f = opts.coarse ?? coarseFactor(spec);
  const { nx, ny } = spec.grid;
  if (nx % f !== 0 || ny % f !== 0) throw new RangeError(`createTerrainNet: coarse factor ${f} does not divide the grid ${ny} x ${nx}`);
  const trunk = [
    tf.layers.averagePooling2d({ inputShape: [ny, nx, 2], poolSize: f, strides: f, padding: 'valid' }),
    tf.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) }),
    tf.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
  ];
  const materials = opts.materials ?? 'map';
  const hf = opts.heightFilter ?? 0;
  if (!Number.isInteger(hf) || hf < 0 || (hf > 0 && hf % 2 === 0)) throw new RangeError(`createTerrainNet: heightFilter ${hf} is not 0 or an odd kernel size`);
  if (materials === 'map' && hf === 0) {
    const m = tf.sequential();
    for (const l of trunk) m.add(l);
    m.add(tf.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', kernelInitializer: 'zeros', biasInitializer: 'zeros' }));
    if (f > 1) m.add(tf.layers.upSampling2d({ size: [f, f], interpolation: 'bilinear' }));
    return m;
  }
  if (materials !== 'map' && materials !== 'global') throw new RangeError(`createTerrainNet: materials '${String(materials)}' is not 'map' or 'global'`);
  const input = tf.input({ shape: [ny, nx, 2] });
  type Sym = ReturnType<(typeof trunk)[number]['apply']>;
  let x = input as unknown as Sym;
  for (const l of trunk) x = l.apply(x);
  const zeroConv = (filters: number, kernelSize: number): ReturnType<typeof tf.layers.conv2d> =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer: 'zeros', biasInitializer: 'zeros' });
  const up = (t: Sym): Sym => (f > 1 ? tf.layers.upSampling2d({ size: [f, f], interpolation: 'bilinear' }).apply(t) : t);
  // the height channel: the coarse trunk's correction (+ the full-resolution filter of the input)
  let h = up(zeroConv(1, 1).apply(x));
  if (hf > 0) h = tf.layers.add().apply([h, zeroConv(1, hf).apply(input)] as never) as Sym;
  let mat: Sym;
  if (materials === 'map') mat = up(zeroConv(2, 1).apply(x));
  else {
    // one friction and one stiffness per terrain, broadcast to the grid
    mat = tf.layers.globalAveragePooling2d({}).apply(x);
    mat = tf.layers.dense({ units: 2, kernelInitializer: 'zeros', biasInitializer: 'zeros' }).apply(mat);
    mat = tf.layers.reshape({ targetShape: [1, 1, 2] }).apply(mat);
    mat = tf.layers.upSampling2d({ size: [ny, nx] }).apply(mat);
  }
  const out = tf.layers.concatenate({ axis: 3 }).apply([h, mat] as never);
  return tf.model({ inputs: input, outputs: out as never });
}

/** Filled sensor maps by sensor-height array (a sample's input is filled once, not at every step). */
const FILLED = new WeakMap<Float64Array, Float64Array>();

/** Height scale of the network input (m): sensor heights enter as h / INPUT_SCALE. */
export const INPUT_SCALE = 0.3;

/**
 * The network input of a batch: `input` [B, ny, nx, 2] with the filled sensor heights divided
 * by {@link INPUT_SCALE} and the mask, and `base` [B, ny, nx], the filled sensor heights (m)
 * the height correction is added to.
 */
export function networkInput(tf: TfModule, spec: TerrainSpec, batch: readonly StoredSample[]): { input: TfTensor; base: TfTensor } {
  const { nx, ny } = spec.grid;
  const N = nx * ny;
  const data = new Float32Array(batch.length * N * 2);
  const base = new Float32Array(batch.length * N);
  batch.forEach((s, b) => {
    let filled = FILLED.get(s.sample.sensorHeights);
    if (!filled) FILLED.set(s.sample.sensorHeights, (filled = fillSensorMap(spec, s.sample.sensorHeights, s.sample.sensorMask)));
    base.set(filled, b * N);
    for (let k = 0; k < N; k++) {
      data[2 * (b * N + k)] = filled[k]! / INPUT_SCALE;
      data[2 * (b * N + k) + 1] = s.sample.sensorMask[k]!;
    }
  });
  return { input: tf.tensor4d(data, [batch.length, ny, nx, 2]), base: tf.tensor3d(base, [batch.length, ny, nx]) };
}

/** Terrain maps [B, ny, nx] (heights m, friction, stiffness N/m) from the raw network output [B, ny, nx, 3] and the filled sensor heights `base`. */
export function mapsFromOutput(tf: TfModule, raw: TfTensor, base: TfTensor): { heights: TfTensor; friction: TfTensor; stiffness: TfTensor } {
  return tf.tidy(() => {
    const [o0, o1, o2] = tf.split(raw, 3, 3) as [TfTensor, TfTensor, TfTensor];
    const heights = tf.add(base, tf.mul(MAP_SCALES.dh, tf.tanh(tf.squeeze(o0, [3]))));
    const friction = tf.mul(MATERIAL.defaultMu, tf.exp(tf.mul(MAP_SCALES.muLog, tf.tanh(tf.squeeze(o1, [3])))));
    const stiffness = tf.mul(MATERIAL.defaultKe, tf.exp(tf.mul(MAP_SCALES.keLog, tf.tanh(tf.squeeze(o2, [3])))));
    return { heights, friction, stiffness };
  });
}

/** Lays per-terrain maps [B, ny, nx] (core tensor) out as the batch's tiled map, differentiably (concat); empty tiles get `fill`. */
export function tileCore(w: BatchWorld, maps: CoreTensor, fill: number): CoreTensor {
  const { nx, ny } = w.spec.grid;
  const B = maps.shape[0]!;
  if (maps.shape.length !== 3 || maps.shape[1] !== ny || maps.shape[2] !== nx)
    throw new RangeError(`tileCore: maps have shape [${maps.shape.join(', ')}], expected [${B}, ${ny}, ${nx}]`);
  const rows = Math.ceil(w.tiles / w.cols);
  const out: CoreTensor[] = [];
  for (let r = 0; r < rows; r++) {
    const row: CoreTensor[] = [];
    for (let c = 0; c < w.cols; c++) {
      const t = r * w.cols + c;
      row.push(t < B ? reshape(slice(maps, [t, 0, 0], [1, ny, nx]), [ny, nx]) : full([ny, nx], fill));
    }
    out.push(concat(row, 1));
  }
  return concat(out, 0);
}

/**
 * The batch's trajectory loss as a function of per-terrain maps [B, ny, nx] (core tensors):
 * one robot per terrain, from its ground-truth start, with its commands.
 */
export function batchTrajectoryLoss(
  spec: TerrainSpec,
  batch: readonly StoredSample[],
): (heights: CoreTensor, friction: CoreTensor, stiffness: CoreTensor) => CoreTensor {
  const w = buildBatch(
    spec,
    batch.map((s) => s.sample),
    batch.map((s, i) => ({ tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: s.sample.commands, label: s.record.id })),
  );
  const truth = batch.map(truthPath);
  return (heights, friction, stiffness) => {
    const r = rolloutBatch(w, {
      maps: {
        terrainHeights: tileCore(w, heights, 0),
        terrainMu: tileCore(w, friction, MATERIAL.defaultMu),
        terrainKe: tileCore(w, stiffness, MATERIAL.defaultKe),
      },
      grad: true,
    });
    return trajectoryLoss(r, truth, spec.recordDt);
  };
}

/** Options of {@link terrainModelLoss}. */
export interface TerrainLossOptions {
  /** Weight of the heightmap term (default 1). */
  heightWeight?: number;
}

/**
 * The model's loss on a batch (a tfjs scalar, differentiable with respect to the network's
 * weights): time-weighted trajectory error of the engine rollouts on the predicted maps plus
 * `heightWeight` times the mean squared height error over the cells the sensor saw (where the
 * dataset's true height is the label). Checks the batch's grid against the network's input.
 */
export function terrainModelLoss(tf: TfModule, net: LayersModel, spec: TerrainSpec, batch: readonly StoredSample[], opts: TerrainLossOptions = {}): TfTensor {
  const inShape = net.inputs[0]!.shape;
  checkGrid({ ...spec.grid, ny: inShape[1] as number, nx: inShape[2] as number }, spec.grid, 'terrain model input');
  const { nx, ny } = spec.grid;
  const { input, base } = networkInput(tf, spec, batch);
  const trueH = new Float32Array(batch.length * nx * ny);
  const mask = new Float32Array(batch.length * nx * ny);
  batch.forEach((s, b) => {
    trueH.set(s.sample.heights, b * nx * ny);
    mask.set(s.sample.sensorMask, b * nx * ny);
  });
  const rollLoss = tfOp(batchTrajectoryLoss(spec, batch), { name: 'terrain-rollout' });
  const loss = tf.tidy(() => {
    const raw = net.apply(input) as TfTensor;
    const maps = mapsFromOutput(tf, raw, base);
    const traj = rollLoss(maps.heights, maps.friction, maps.stiffness);
    const m = tf.tensor3d(mask, [batch.length, ny, nx]);
    const d = tf.mul(tf.sub(maps.heights, tf.tensor3d(trueH, [batch.length, ny, nx])), m);
    const hTerm = tf.div(tf.sum(tf.square(d)), tf.maximum(tf.sum(m), 1));
    return tf.add(traj, tf.mul(opts.heightWeight ?? 1, hTerm));
  });
  tf.dispose([input, base]);
  return loss;
}

/** A float64 constant map [B, ny, nx] filled with v (for checks). */
export function constantMaps(spec: TerrainSpec, B: number, v: number): CoreTensor {
  return new Tensor(new Float64Array(B * spec.grid.nx * spec.grid.ny).fill(v), [B, spec.grid.ny, spec.grid.nx]);
}
