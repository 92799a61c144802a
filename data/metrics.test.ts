// Tests of the evo-compatible metrics (data/metrics/): APE/RPE/association/alignment on the shared KITTI,
// TUM and EuRoC files against values from an independent numpy/scipy re-implementation of evo's
// definitions (data/testdata/evo_crosscheck.py -> evo-crosscheck.json), statistics, prediction metrics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrajectory } from './formats/index.ts';
import { evaluateApe, evaluateRpe } from './metrics/evaluate.ts';
import { associateTrajectories, matchingTimeIndices } from './metrics/associate.ts';
import { errorStatistics } from './metrics/stats.ts';
import { rpePairs, type PoseRelation, type DeltaUnit } from './metrics/pose-error.ts';
import { alignTrajectory, type AlignMode } from './metrics/align.ts';
import { predictionMetrics, timeWeightedPositionError } from './metrics/prediction.ts';
import { Trajectory } from './trajectory.ts';
import { AssociationError, MetricError } from './errors.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const DATA = resolve(HERE, '..', 'examples', 'data'); // bundled copies of shared/data
type Stats = { rmse: number; mean: number; median: number; std: number; min: number; max: number; sse: number; n?: number; scale?: number };
const REF = JSON.parse(readFileSync(join(HERE, 'testdata', 'evo-crosscheck.json'), 'utf8')) as Record<string, Stats | number>;

function close(a: number, b: number, what: string, rel = 1e-9): void {
  assert.ok(Math.abs(a - b) <= Math.max(rel * Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);
}

function checkStats(key: string, got: { stats: Stats; errors: Float64Array; setup?: { scale: number } }): void {
  const want = REF[key] as Stats;
  assert.ok(want, `no cross-check value for ${key}`);
  for (const k of ['rmse', 'mean', 'median', 'std', 'min', 'max', 'sse'] as const) close(got.stats[k], want[k], `${key}.${k}`);
  if (want.n !== undefined) assert.equal(got.errors.length, want.n, `${key}.n`);
  if (want.scale !== undefined && got.setup) close(got.setup.scale, want.scale, `${key}.scale`);
}

test('APE on KITTI 00 (ORB, S-PTAM; SE(3), Sim(3), scale, none; trans, rot-deg, full) equals the numpy/scipy evo re-implementation', async () => {
  const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
  for (const est of ['ORB', 'SPTAM']) {
    const pe = await readTrajectory(join(DATA, `KITTI_00_${est}.txt`));
    for (const mode of ['none', 'se3', 'sim3', 'scale'] as AlignMode[])
      for (const rel of ['trans', 'rot-deg', 'full'] as PoseRelation[])
        checkStats(`kitti_${est}_ape_${mode}_${rel}`, evaluateApe(gt, pe, { mode, relation: rel }));
    checkStats(`kitti_${est}_ape_se3n100_trans`, evaluateApe(gt, pe, { mode: 'se3', nAlign: 100 }));
  }
  // the headline numbers, pinned literally: evo_ape kitti KITTI_00_gt.txt KITTI_00_ORB.txt -a / -as
  const orb = await readTrajectory(join(DATA, 'KITTI_00_ORB.txt'));
  close(evaluateApe(gt, orb, { mode: 'se3' }).stats.rmse, 1.303449714565045, 'ORB se3 rmse', 1e-12);
  close(evaluateApe(gt, orb, { mode: 'sim3' }).stats.rmse, 0.937709073611404, 'ORB sim3 rmse', 1e-12);
});

test('RPE on KITTI 00 (1 frame, 10 frames all pairs, 100 m consecutive and all pairs, 10 deg) equals the numpy/scipy evo re-implementation', async () => {
  const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
  for (const est of ['ORB', 'SPTAM']) {
    const pe = await readTrajectory(join(DATA, `KITTI_00_${est}.txt`));
    const rr = (key: string, relation: PoseRelation, delta: number, deltaUnit: DeltaUnit, allPairs = false) =>
      checkStats(key, evaluateRpe(gt, pe, { relation, delta, deltaUnit, allPairs }));
    rr(`kitti_${est}_rpe_1f_trans`, 'trans', 1, 'f');
    rr(`kitti_${est}_rpe_1f_rot-deg`, 'rot-deg', 1, 'f');
    rr(`kitti_${est}_rpe_100m_trans`, 'trans', 100, 'm');
    rr(`kitti_${est}_rpe_100m_all_trans`, 'trans', 100, 'm', true);
    rr(`kitti_${est}_rpe_10deg_rotdeg`, 'rot-deg', 10, 'deg');
    rr(`kitti_${est}_rpe_10f_all_trans`, 'trans', 10, 'f', true);
  }
});

test('TUM fr2_desk, fr1_xyz and EuRoC V102: association counts, APE (all relations, none/SE(3)/Sim(3)) and RPE equal the numpy/scipy evo re-implementation', async () => {
  for (const [name, rf, ef] of [
    ['fr2', 'fr2_desk_groundtruth.txt', 'fr2_desk_ORB.txt'],
    ['fr1', 'freiburg1_xyz-groundtruth.txt', 'freiburg1_xyz-rgbdslam.txt'],
    ['v102', 'V102_groundtruth.csv', 'V102.txt'],
  ] as const) {
    const r = await readTrajectory(join(DATA, rf));
    const e = await readTrajectory(join(DATA, ef));
    assert.equal(associateTrajectories(r, e).matches, REF[`${name}_matches`], `${name} matches`);
    for (const mode of ['none', 'se3', 'sim3'] as AlignMode[])
      for (const rel of ['trans', 'rot-deg', 'rot-rad', 'rot', 'full'] as PoseRelation[])
        checkStats(`${name}_ape_${mode}_${rel}`, evaluateApe(r, e, { mode, relation: rel }));
    for (const rel of ['trans', 'rot-deg'] as PoseRelation[]) checkStats(`${name}_rpe_1f_${rel}`, evaluateRpe(r, e, { relation: rel }));
    checkStats(`${name}_rpe_0.5m_trans`, evaluateRpe(r, e, { delta: 0.5, deltaUnit: 'm' }));
    assert.equal(associateTrajectories(r, e, { maxDiff: 0.02, offset: 0.005 }).matches, REF[`${name}_matches_0.02_0.005`], `${name} matches with offset`);
    checkStats(`${name}_ape_se3_trans_off`, evaluateApe(r, e, { mode: 'se3', maxDiff: 0.02, offset: 0.005 }));
  }
});

test('association matches each stamp of the shorter trajectory to the nearest (first on ties) within max diff, with the offset on the estimate', () => {
  const a = Float64Array.of(0, 1, 2, 3);
  const b = Float64Array.of(0.004, 0.996, 1.004, 2.5, 3.02);
  assert.deepEqual(matchingTimeIndices(a, b, 0.01, 0), [
    [0, 1],
    [0, 1],
  ]);
  // same pairs as numpy's argmin loop in evo's matching_time_indices
  assert.deepEqual(matchingTimeIndices(a, b, 0.03, -0.02), [
    [0, 1, 3],
    [0, 2, 4],
  ]);
  const pose = (n: number) => new Float64Array(12 * n).map((_, i) => (i % 12 === 0 || i % 12 === 5 || i % 12 === 10 ? 1 : 0));
  const ref = new Trajectory({ poses: pose(3), timestamps: Float64Array.of(0, 1, 2), source: 'ref.tum' });
  const est = new Trajectory({ poses: pose(2), timestamps: Float64Array.of(10, 11), source: 'est.tum' });
  assert.throws(
    () => associateTrajectories(ref, est),
    (e: unknown) =>
      e instanceof AssociationError &&
      /found no matching timestamps between ref\.tum and est\.tum/.test((e as Error).message) &&
      (e as AssociationError).file === 'est.tum',
  );
  assert.equal(associateTrajectories(ref, est, { offset: -10 }).matches, 2);
  const noTime = new Trajectory({ poses: pose(2) });
  assert.throws(
    () => evaluateApe(ref, noTime),
    (e: unknown) => e instanceof AssociationError && /paired by index/.test((e as Error).message),
  );
});

test('statistics follow numpy: population std, median of an even count is the mean of the middle two', () => {
  const s = errorStatistics(Float64Array.of(1, 2, 3, 4));
  assert.deepEqual(s, { rmse: Math.sqrt(7.5), mean: 2.5, median: 2.5, std: Math.sqrt(1.25), min: 1, max: 4, sse: 30 });
  assert.equal(errorStatistics([3, 1, 2]).median, 2);
  assert.throws(() => errorStatistics([]), MetricError);
});

test('RPE pair selection follows evo: frames, path metres (first id where the path reaches delta), angle bounds, empty-list error', () => {
  // straight line, 1 m steps
  const n = 10;
  const poses = new Float64Array(12 * n);
  for (let i = 0; i < n; i++) poses.set([1, 0, 0, i, 0, 1, 0, 0, 0, 0, 1, 0], 12 * i);
  const line = new Trajectory({ poses });
  assert.deepEqual(rpePairs(line, { delta: 3 }), [
    [0, 3],
    [3, 6],
    [6, 9],
  ]);
  assert.equal(rpePairs(line, { delta: 3, allPairs: true }).length, 7);
  assert.deepEqual(rpePairs(line, { delta: 2, deltaUnit: 'm' }), [
    [2, 4],
    [4, 6],
    [6, 8],
  ]);
  assert.deepEqual(rpePairs(line, { delta: 2.5, deltaUnit: 'm', allPairs: true, relDeltaTol: 0.2 }).slice(0, 2), [
    [0, 2],
    [1, 3],
  ]);
  assert.throws(() => rpePairs(line, { delta: 200, deltaUnit: 'deg' }), /within \[0, 180\]/);
  assert.throws(
    () => rpePairs(line, { delta: 20 }),
    (e: unknown) => e instanceof MetricError && /produced an empty index list/.test((e as Error).message),
  );
  assert.throws(() => rpePairs(line, { delta: 1.5 }), /positive integer/);
});

test('origin alignment moves the first estimated pose onto the first reference pose', async () => {
  const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
  const orb = await readTrajectory(join(DATA, 'KITTI_00_SPTAM.txt'));
  const al = alignTrajectory(orb.select([100, 200, 300]), gt.select([100, 200, 300]), { alignOrigin: true });
  assert.ok(Math.max(...al.est.pose(0).map((x, i) => Math.abs(x - gt.pose(100)[i]!))) < 1e-12);
  const r = evaluateApe(gt, orb, { mode: 'se3', alignOrigin: true });
  assert.ok(r.errors[0]! < 1e-9);
});

test('prediction metrics: ADE/FDE best-of-K and mean, miss rate at horizons (worked example)', () => {
  const times = Float64Array.of(0, 1, 2, 3);
  const gt = Float64Array.of(0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0);
  const p1 = Float64Array.of(0, 0, 0, 1, 1, 0, 2, 1, 0, 3, 1, 0); // 1 m off at t > 0
  const p2 = Float64Array.of(0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 3, 0); // exact, then 3 m off at t = 3
  const rows = predictionMetrics([{ t0: 0, times, gt, predictions: [p1, p2] }], { horizons: [2, 3], missThreshold: 2 });
  assert.deepEqual(rows[0], { horizon: 2, samples: 1, minAde: 0, minFde: 0, meanAde: 0.5, meanFde: 0.5, missRate: 0 });
  assert.deepEqual(rows[1], { horizon: 3, samples: 1, minAde: 1, minFde: 1, meanAde: 1, meanFde: 2, missRate: 0 });
  const miss = predictionMetrics([{ t0: 0, times, gt, predictions: [p2] }], { horizons: [3], missThreshold: 2 });
  assert.equal(miss[0]!.missRate, 1);
  assert.throws(() => predictionMetrics([{ t0: 0, times, gt, predictions: [p1] }], { horizons: [5] }), /no sample reaches the horizon 5/);
  assert.throws(() => predictionMetrics([{ t0: 0, times, gt, predictions: [Float64Array.of(0, 0, NaN)] }]), MetricError);
});

test('MonoForce time-weighted position error: nearest predicted time, weights 1/(1+gamma t), mean of squares (worked example)', () => {
  const predT = Float64Array.of(0, 0.5, 1, 1.5, 2);
  const predP = Float64Array.of(0, 0, 0, 0.5, 0, 0, 1, 0, 0, 1.5, 0, 0, 2, 0, 0);
  const gtT = Float64Array.of(0, 1, 2);
  const gtP = Float64Array.of(0, 0, 0, 1, 1, 0, 2, 0, 3);
  // t=1: w = 1/2, error (0, -1, 0) -> 0.25; t=2: w = 1/3, error (0, 0, -3) -> 1; mean over 9 components
  assert.ok(Math.abs(timeWeightedPositionError(predT, predP, gtT, gtP, 1) - (0.25 + 1) / 9) < 1e-15);
  assert.ok(Math.abs(timeWeightedPositionError(predT, predP, gtT, gtP, 0) - (1 + 9) / 9) < 1e-15);
});
