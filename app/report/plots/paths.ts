// The "paths on a map" plot of a run report (app/report/plots): an overview of the ground-truth path
// with the drawn prediction times numbered, and one zoomed panel per selected prediction set with the
// ground truth over the horizon and every model's prediction, at equal scale on both axes. The sets
// drawn are each model's worst and median by final error plus a few evenly spaced ones.

import type { TopLevelSpec } from 'vega-lite';
import type { PredictionsJson } from '../../../data/index.ts';
import { fmtSig } from '../format.ts';
import { finalErrors } from '../prediction-metrics.ts';
import { PLOT_CONFIG } from '../render.ts';
import { GROUND_TRUTH, modelColorScale } from './colors.ts';

/** The two position axes drawn on the map (indices into [x, y, z]) and their names. */
export interface MapPlane {
  axes: [number, number];
  names: [string, string];
}

const AXIS_NAMES = ['x', 'y', 'z'];

/**
 * The map plane. A planar file (every third coordinate 0, as `impulse train` writes its ground-plane
 * coordinates) is drawn on its first two coordinates, named after `plane` ('xz' for KITTI's camera
 * frame, default 'xy'); otherwise the two axes along which the ground truth spreads most.
 */
export function choosePlane(p: PredictionsJson, plane?: string): MapPlane {
  const pts = [...(p.ground_truth?.positions ?? []), ...p.sets.flatMap((s) => s.gt)];
  if (pts.every((q) => q[2] === 0)) {
    const names = typeof plane === 'string' && /^[xyz]{2}$/.test(plane) && plane[0] !== plane[1] ? plane : 'xy';
    return { axes: [0, 1], names: [names[0]!, names[1]!] };
  }
  const extent = [0, 1, 2].map((k) => {
    let lo = Infinity,
      hi = -Infinity;
    for (const q of pts) {
      lo = Math.min(lo, q[k]!);
      hi = Math.max(hi, q[k]!);
    }
    return pts.length ? hi - lo : 0;
  });
  const [a, b] = [0, 1, 2]
    .sort((i, j) => extent[j]! - extent[i]! || i - j)
    .slice(0, 2)
    .sort((i, j) => i - j) as [number, number];
  return { axes: [a, b], names: [AXIS_NAMES[a]!, AXIS_NAMES[b]!] };
}

/** A prediction set chosen for drawing and why. */
export interface SelectedSet {
  index: number;
  reasons: string[];
}

/**
 * Picks the sets to draw: per model the worst and the median by final error, then `evenly` sets
 * evenly spaced in time; at most `max` sets, returned in time order.
 */
export function selectSets(p: PredictionsJson, models: readonly string[], evenly = 4, max = 16): SelectedSet[] {
  const n = p.sets.length;
  if (n === 0) return [];
  const picks = new Map<number, string[]>();
  const add = (i: number, why: string): void => {
    const r = picks.get(i);
    if (r) r.push(why);
    else if (picks.size < max) picks.set(i, [why]);
  };
  const ranked = models.map((m) => {
    const fde = finalErrors(p, m);
    const order = fde
      .map((v, i) => [v, i] as const)
      .filter(([v]) => Number.isFinite(v))
      .sort((a, b) => a[0] - b[0]);
    return { m, fde, order };
  });
  for (const { m, fde, order } of ranked) if (order.length) add(order[order.length - 1]![1], `worst for ${m} (${fmtSig(fde[order[order.length - 1]![1]]!)} m)`);
  for (const { m, fde, order } of ranked)
    if (order.length) {
      const i = order[Math.floor((order.length - 1) / 2)]![1];
      add(i, `median for ${m} (${fmtSig(fde[i]!)} m)`);
    }
  const k = Math.min(evenly, n);
  for (let j = 0; j < k; j++) add(k === 1 ? 0 : Math.round((j * (n - 1)) / (k - 1)), 'evenly spaced');
  return [...picks.entries()].sort((a, b) => p.sets[a[0]]!.t0 - p.sets[b[0]]!.t0 || a[0] - b[0]).map(([index, reasons]) => ({ index, reasons }));
}

/** Equal-scale square domains around points (10 % margin, at least `minSide` metres wide). */
function squareDomain(xs: number[], ys: number[], minSide = 1): { x: [number, number]; y: [number, number] } {
  const x0 = Math.min(...xs),
    x1 = Math.max(...xs),
    y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  const side = Math.max(x1 - x0, y1 - y0, minSide) * 1.1;
  const cx = (x0 + x1) / 2,
    cy = (y0 + y1) / 2;
  return { x: [cx - side / 2, cx + side / 2], y: [cy - side / 2, cy + side / 2] };
}

/** Position at time t0 on the whole ground-truth path, when the file has one and t0 is on it. */
function startPosition(p: PredictionsJson, t0: number): number[] | undefined {
  const gt = p.ground_truth;
  if (!gt || gt.times.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < gt.times.length; i++) if (Math.abs(gt.times[i]! - t0) < Math.abs(gt.times[best]! - t0)) best = i;
  return Math.abs(gt.times[best]! - t0) < 1e-3 ? gt.positions[best] : undefined;
}

/** Options of {@link pathsSpec}. */
export interface PathsSpecOptions {
  /** Model labels in colour order (see colors.ts). */
  models: readonly string[];
  plane: MapPlane;
  selected: SelectedSet[];
  /** Panels per row (default 4). */
  columns?: number;
}

/** The Vega-Lite spec of the map plot. */
export function pathsSpec(p: PredictionsJson, o: PathsSpecOptions): TopLevelSpec {
  const [a, b] = o.plane.axes;
  const [na, nb] = o.plane.names;
  const color = modelColorScale(o.models, [...new Set(p.sets.flatMap((s) => s.predictions.map((q) => q.label)))], true);
  const fullPath = p.ground_truth?.positions ?? p.sets.flatMap((s) => s.gt);
  const stride = Math.max(1, Math.ceil(fullPath.length / 1500));
  const pathRows = fullPath.filter((_, i) => i % stride === 0 || i === fullPath.length - 1).map((q, k) => ({ k, x: q[a]!, y: q[b]! }));
  const setStride = Math.max(1, Math.ceil(p.sets.length / 3000));
  const setRows = p.sets.filter((_, i) => i % setStride === 0).map((s) => ({ x: s.gt[0]![a]!, y: s.gt[0]![b]! }));
  const dom = squareDomain(
    pathRows.map((r) => r.x),
    pathRows.map((r) => r.y),
  );
  // panel numbers on the map; numbers whose places would overlap share one label ("5, 6")
  const near = 0.03 * (dom.x[1] - dom.x[0]);
  const markRows: { n: string; x: number; y: number }[] = [];
  o.selected.forEach((sel, j) => {
    const q = p.sets[sel.index]!.gt[0]!;
    const m = markRows.find((r) => Math.hypot(r.x - q[a]!, r.y - q[b]!) < near);
    if (m) m.n += `, ${j + 1}`;
    else markRows.push({ n: String(j + 1), x: q[a]!, y: q[b]! });
  });
  const W = 560;
  const xs = { scale: { domain: dom.x, nice: false, zero: false } };
  const ys = { scale: { domain: dom.y, nice: false, zero: false } };
  const overview = {
    title: { text: 'Ground-truth path', subtitle: `${p.sets.length} prediction times (cyan); numbers: the panels below` },
    width: W,
    height: W,
    layer: [
      {
        data: { values: pathRows },
        mark: { type: 'line' as const, color: '#888', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'x', type: 'quantitative' as const, title: `${na} (m)`, ...xs },
          y: { field: 'y', type: 'quantitative' as const, title: `${nb} (m)`, ...ys },
          order: { field: 'k', type: 'quantitative' as const },
        },
      },
      {
        data: { values: setRows },
        mark: { type: 'circle' as const, color: '#17becf', size: 6, opacity: 0.5 },
        encoding: { x: { field: 'x', type: 'quantitative' as const, ...xs }, y: { field: 'y', type: 'quantitative' as const, ...ys } },
      },
      {
        data: { values: markRows },
        mark: { type: 'text' as const, fontSize: 12, fontWeight: 'bold' as const, dx: 8, dy: -8, color: '#000' },
        encoding: {
          x: { field: 'x', type: 'quantitative' as const, ...xs },
          y: { field: 'y', type: 'quantitative' as const, ...ys },
          text: { field: 'n', type: 'nominal' as const },
        },
      },
    ],
  };
  const panels = o.selected.map((sel, j) => {
    const s = p.sets[sel.index]!;
    const start = startPosition(p, s.t0);
    const rows: { series: string; k: number; x: number; y: number }[] = [];
    const line = (series: string, pts: number[][]): void => {
      const all = start ? [start, ...pts] : pts;
      all.forEach((q, k) => rows.push({ series, k, x: q[a]!, y: q[b]! }));
    };
    line(GROUND_TRUTH, s.gt);
    for (const q of s.predictions) line(q.label, q.positions);
    const d = squareDomain(
      rows.map((r) => r.x),
      rows.map((r) => r.y),
    );
    return {
      title: { text: `${j + 1}: t0 = ${fmtSig(s.t0, 4)} s`, subtitle: sel.reasons, subtitleFontSize: 10 },
      width: 200,
      height: 200,
      data: { values: rows },
      mark: { type: 'line' as const, point: { size: 14 }, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'x', type: 'quantitative' as const, title: `${na} (m)`, scale: { domain: d.x, nice: false, zero: false } },
        y: { field: 'y', type: 'quantitative' as const, title: `${nb} (m)`, scale: { domain: d.y, nice: false, zero: false } },
        color: { field: 'series', type: 'nominal' as const, title: 'model', scale: color },
        detail: { field: 'series', type: 'nominal' as const },
        order: { field: 'k', type: 'quantitative' as const },
      },
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: PLOT_CONFIG,
    vconcat: [overview, { concat: panels, columns: o.columns ?? 4, resolve: { scale: { x: 'independent', y: 'independent', color: 'shared' } } }],
    resolve: { scale: { x: 'independent', y: 'independent', color: 'shared' } },
  } as TopLevelSpec;
}
