// The renderer's data model (app/renderer): the trajectory, prediction and terrain layers decoded
// from API responses, and time lookups on them (binary search + interpolation).

import { f32, f64, i32, type Packed } from './packed.ts';
import type { Rgb } from './colors.ts';
import type { TrajectoryData } from '../api/files.ts';

/** A trajectory shown in the scene. */
export interface TrajLayer {
  key: string;
  fileId: string;
  source?: string;
  name: string;
  origin: [number, number, number];
  /** Positions relative to `origin`, 3 per pose. */
  pos: Float32Array;
  quat: Float32Array;
  times: Float64Array;
  timeSource: 'stamps' | 'log' | 'index';
  color: Rgb;
  /** Per-pose error used to colour the line (after a metrics call), or null. */
  errors: Float32Array | null;
  bbox: { min: number[]; max: number[] };
}

/** Prediction sets shown in the scene. */
export interface PredLayer {
  key: string;
  fileId: string;
  name: string;
  origin: [number, number, number];
  offsets: Int32Array;
  t0: Float64Array;
  times: Float32Array;
  gt: Float32Array;
  labels: string[];
  preds: { label: string; positions: Float32Array; fde: Float32Array; ade: Float32Array }[];
  bbox: { min: number[]; max: number[] };
}

/** A terrain grid with its layers. */
export interface TerrainGrid {
  name: string;
  columns: number;
  rows: number;
  cellSize: [number, number];
  origin: [number, number, number];
  layers: { name: string; values: Float32Array; min: number; max: number }[];
}

/** The part of the API's `trajectory` response the renderer reads (type-only: nothing of app/api is bundled). */
export type TrajectoryResponse = Omit<TrajectoryData, 'pathLength' | 'frameId'>;

/** Decodes a `trajectory` response. */
export function trajLayer(key: string, fileId: string, source: string | undefined, r: TrajectoryResponse, color: Rgb): TrajLayer {
  return {
    key,
    fileId,
    source,
    name: r.name,
    origin: r.origin,
    pos: f32(r.positions),
    quat: f32(r.quaternions),
    times: f64(r.times),
    timeSource: r.timeSource,
    color,
    errors: null,
    bbox: r.bbox,
  };
}

/** API response of `predictions`. */
export interface PredictionsResponse {
  name: string;
  setCount: number;
  labels: string[];
  origin: [number, number, number];
  offsets: Packed;
  t0: Packed;
  times: Packed;
  gt: Packed;
  predictions: { label: string; positions: Packed; fde: Packed; ade: Packed }[];
  bbox: { min: number[]; max: number[] };
}

/** Decodes a `predictions` response. */
export function predLayer(key: string, fileId: string, name: string, r: PredictionsResponse): PredLayer {
  return {
    key,
    fileId,
    name: r.name || name,
    origin: r.origin,
    offsets: i32(r.offsets),
    t0: f64(r.t0),
    times: f32(r.times),
    gt: f32(r.gt),
    labels: r.labels,
    preds: r.predictions.map((p) => ({ label: p.label, positions: f32(p.positions), fde: f32(p.fde), ade: f32(p.ade) })),
    bbox: r.bbox,
  };
}

/** Index of the last element <= t (0 when t is before the first; -1 for an empty array). */
export function lastAtOrBefore(times: ArrayLike<number>, t: number): number {
  let lo = 0,
    hi = times.length - 1;
  if (hi < 0) return -1;
  if (t < times[0]!) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Position of a trajectory at time t (linear interpolation between poses; clamped at the ends), in data coordinates. */
export function positionAt(l: TrajLayer, t: number): [number, number, number] {
  const n = l.times.length;
  const i = lastAtOrBefore(l.times, t);
  const j = Math.min(n - 1, i + 1);
  const ti = l.times[i]!,
    tj = l.times[j]!;
  const f = j > i && tj > ti ? Math.min(1, Math.max(0, (t - ti) / (tj - ti))) : 0;
  const o = l.origin;
  return [0, 1, 2].map((k) => o[k]! + l.pos[3 * i + k]! + f * (l.pos[3 * j + k]! - l.pos[3 * i + k]!)) as [number, number, number];
}
