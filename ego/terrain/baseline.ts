// Baselines of the terrain dataset without learning (ego/terrain): the engine's model of the
// robot rolled out with the sample's commands on (a) the sensor heightmap (occluded cells
// filled from their neighbours) with default friction and stiffness — what a physics model
// knows before any learning; (b) the true heights with default materials; (c) the true
// heights, friction and stiffness (the engine-vs-Rapier model mismatch alone); and a
// kinematic baseline integrating the commanded (v, omega) as a unicycle. ADE and FDE at
// 1, 3 and 5 s against the Rapier ground truth with data/metrics/prediction.ts.
import { predictionMetrics, type HorizonMetrics, type PredictionSample } from '../../data/index.ts';
import { buildBatch, robotPath, rolloutBatch, type TerrainMaps } from './engine.ts';
import { MATERIAL, bilinearAt, type TerrainSpec } from './generate.ts';
import type { StoredSample, TerrainDataset } from './format.ts';
import { comHeight, ROBOT } from './robot.ts';

import { BASELINES, type BaselineName } from './baseline-names.ts';
export { BASELINES, type BaselineName } from './baseline-names.ts';

/**
 * Fills the cells the sensor did not see (mask 0) by repeated averaging of filled
 * neighbours (4-neighbourhood) until every cell has a value; an all-unseen map becomes 0.
 */
export function fillSensorMap(spec: TerrainSpec, heights: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const { nx, ny } = spec.grid;
  const h = Float64Array.from(heights);
  let known = Uint8Array.from(mask, (m) => (m > 0.5 ? 1 : 0));
  if (!known.some((k) => k === 1)) return new Float64Array(nx * ny);
  let missing = known.reduce((a, k) => a + (1 - k), 0);
  while (missing > 0) {
    const next = known.slice();
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const k = j * nx + i;
        if (known[k]) continue;
        let s = 0;
        let c = 0;
        const add = (q: number): void => {
          if (known[q]) {
            s += h[q]!;
            c++;
          }
        };
        if (i > 0) add(k - 1);
        if (i < nx - 1) add(k + 1);
        if (j > 0) add(k - nx);
        if (j < ny - 1) add(k + nx);
        if (c > 0) {
          h[k] = s / c;
          next[k] = 1;
          missing--;
        }
      }
    known = next;
  }
  return h;
}

/** The terrain maps a baseline rolls out on. */
export function baselineMaps(spec: TerrainSpec, s: StoredSample, which: Exclude<BaselineName, 'unicycle'>): TerrainMaps {
  const N = spec.grid.nx * spec.grid.ny;
  const def = (v: number): Float64Array => new Float64Array(N).fill(v);
  if (which === 'physics-oracle') return { heights: s.sample.heights, friction: s.sample.friction, stiffness: s.sample.stiffness };
  if (which === 'physics-true-heights') return { heights: s.sample.heights, friction: def(MATERIAL.defaultMu), stiffness: def(MATERIAL.defaultKe) };
  return { heights: fillSensorMap(spec, s.sample.sensorHeights, s.sample.sensorMask), friction: def(MATERIAL.defaultMu), stiffness: def(MATERIAL.defaultKe) };
}

/** Unicycle integration of the commands from the ground-truth start, z on the filled sensor map. */
export function unicyclePath(spec: TerrainSpec, s: StoredSample): Float64Array {
  const nPose = Math.round(spec.duration / spec.recordDt) + 1;
  const fill = fillSensorMap(spec, s.sample.sensorHeights, s.sample.sensorMask);
  const p0 = s.truth.poses;
  const q = [p0[3]!, p0[4]!, p0[5]!, p0[6]!];
  let yaw = Math.atan2(2 * (q[3]! * q[2]! + q[0]! * q[1]!), 1 - 2 * (q[1]! * q[1]! + q[2]! * q[2]!));
  let x = p0[0]!;
  let y = p0[1]!;
  const dz = p0[2]! - bilinearAt(spec.grid, fill, x, y);
  const out = new Float64Array(3 * nPose);
  out.set([x, y, p0[2]!], 0);
  const h = 0.01;
  const sub = Math.round(spec.recordDt / h);
  for (let k = 1; k < nPose; k++) {
    for (let m = 0; m < sub; m++) {
      const t = (k - 1) * spec.recordDt + m * h;
      const c = Math.min(Math.floor(t / spec.commandDt + 1e-9), s.sample.commands.length / 2 - 1);
      const v = s.sample.commands[2 * c]!;
      const w = s.sample.commands[2 * c + 1]!;
      x += v * Math.cos(yaw) * h;
      y += v * Math.sin(yaw) * h;
      yaw += w * h;
    }
    out.set([x, y, bilinearAt(spec.grid, fill, x, y) + dz], 3 * k);
  }
  return out;
}

/** One baseline's metrics and its predicted paths. */
export interface BaselineResult {
  name: BaselineName;
  metrics: HorizonMetrics[];
  /** Rollout wall time (ms) for the whole set. */
  ms: number;
  paths: Float64Array[];
}

/** Options of {@link evaluateBaselines}. */
export interface BaselineOptions {
  /** Which baselines (default all). */
  baselines?: readonly BaselineName[];
  /** Horizons in seconds (default 1, 3, 5). */
  horizons?: number[];
  /** Samples per engine batch (default 64). */
  batch?: number;
}

/** Ground-truth positions [T + 1][3] of a sample (centre of mass). */
export function truthPath(s: StoredSample): Float64Array {
  const P = s.truth.poses;
  const n = P.length / 7;
  const out = new Float64Array(3 * n);
  for (let k = 0; k < n; k++) out.set(P.subarray(7 * k, 7 * k + 3), 3 * k);
  return out;
}

/** Predicted paths [T + 1][3] (flat) of one baseline for the given samples, in batches of `batch` worlds. */
export function baselinePaths(spec: TerrainSpec, name: BaselineName, items: readonly StoredSample[], batch = 64): Float64Array[] {
  if (name === 'unicycle') return items.map((s) => unicyclePath(spec, s));
  const paths: Float64Array[] = [];
  for (let b0 = 0; b0 < items.length; b0 += batch) {
    const part = items.slice(b0, b0 + batch);
    const w = buildBatch(
      spec,
      part.map((s) => baselineMaps(spec, s, name)),
      part.map((s, i) => ({ tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: s.sample.commands, label: s.record.id })),
    );
    const r = rolloutBatch(w);
    part.forEach((_, i) => paths.push(robotPath(r, i)));
  }
  return paths;
}

/** ADE / FDE per horizon of predicted paths against the samples' ground truth. */
export function pathMetrics(spec: TerrainSpec, items: readonly StoredSample[], paths: readonly Float64Array[], horizons?: number[]): HorizonMetrics[] {
  const nPose = Math.round(spec.duration / spec.recordDt) + 1;
  const times = Float64Array.from({ length: nPose }, (_, k) => k * spec.recordDt);
  const hs = horizons ?? [1, 3, 5].filter((h) => h <= spec.duration + 1e-9);
  const samples: PredictionSample[] = paths.map((p, i) => ({ t0: 0, times, gt: truthPath(items[i]!), predictions: [p] }));
  return predictionMetrics(samples, { horizons: hs });
}

/** Runs the baselines on every sample of a dataset and returns ADE / FDE per horizon. */
export function evaluateBaselines(ds: TerrainDataset, opts: BaselineOptions = {}): { samples: number; results: BaselineResult[] } {
  const spec = ds.spec;
  const which = opts.baselines ?? BASELINES;
  const items = Array.from({ length: ds.size }, (_, i) => ds.load(i));
  const results: BaselineResult[] = which.map((name) => {
    const t0 = performance.now();
    const paths = baselinePaths(spec, name, items, opts.batch);
    const ms = performance.now() - t0;
    return { name, metrics: pathMetrics(spec, items, paths, opts.horizons), ms, paths };
  });
  return { samples: items.length, results };
}

/** Height of the robot's centre of mass above the terrain when resting (m): for reference in reports. */
export const REST_HEIGHT = comHeight() + ROBOT.radius;
