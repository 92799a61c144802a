// Tests of the ego-motion windows, split and kinematic baselines on the bundled KITTI 00.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKitti, KITTI_00 } from './kitti.ts';
import { futurePositions, splitTrack, wrapAngle, EgoError, loadTrack } from './windows.ts';
import { integrateCtrv, predictCtrv, predictCv } from './baselines.ts';
import { egoMetrics } from './metrics.ts';

test('KITTI 00 split: 1,348 test windows, no training or validation frame in the test part', async () => {
  const tr = await loadKitti();
  const s = splitTrack(tr.t.length);
  assert.equal(s.frames, 4541);
  assert.equal(s.testStart, 3178);
  assert.equal(s.test.length, 1348);
  assert.equal(s.test[0], 3178);
  assert.equal(s.test.at(-1), 4541 - 16);
  assert.ok(s.train.at(-1)! + 15 < s.valStart);
  assert.ok(s.val[0]! - 5 >= s.valStart && s.val.at(-1)! + 15 < s.testStart);
});

test('CV and CTRV baselines on the KITTI 00 test split (FDE@1.5 about 1.70 m and 1.45 m)', async () => {
  const tr = await loadKitti();
  const s = splitTrack(tr.t.length);
  const gt = s.test.map((i) => futurePositions(tr, i));
  const cv = egoMetrics(
    s.test.map((i) => predictCv(tr, i)),
    gt,
  );
  const ctrv = egoMetrics(
    s.test.map((i) => predictCtrv(tr, i)),
    gt,
  );
  assert.equal(cv.samples, 1348);
  assert.ok(Math.abs(cv.fde['1.5'] - 1.6963) < 1e-3, `CV FDE@1.5 ${cv.fde['1.5']}`);
  assert.ok(Math.abs(ctrv.fde['1.5'] - 1.4534) < 1e-3, `CTRV FDE@1.5 ${ctrv.fde['1.5']}`);
  assert.ok(ctrv.ade < cv.ade);
});

test('CTRV integration: a full circle at constant yaw rate returns to the start', () => {
  const n = 15;
  const dt = new Float64Array(n).fill((2 * Math.PI) / n);
  const p = integrateCtrv(0, 0, 0, 1, 1, dt);
  assert.ok(Math.hypot(p[2 * n - 2]!, p[2 * n - 1]!) < 1e-12);
  assert.ok(Math.abs(wrapAngle(3 * Math.PI) - Math.PI) < 1e-12 || Math.abs(wrapAngle(3 * Math.PI) + Math.PI) < 1e-12);
});

test('bad input: missing pose file, corrupt pose file, missing times file, too short a trajectory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ego-win-'));
  try {
    await assert.rejects(loadTrack(join(dir, 'nope.txt'), { plane: 'xz', timesFile: KITTI_00.times }), /nope\.txt/);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '1 0 0 0 0 1 0 0 0 0 1 0\n1 0 0 x 0 1 0 0 0 0 1 0\n');
    await assert.rejects(loadTrack(bad, { plane: 'xz', timesFile: KITTI_00.times }), /bad\.txt, line 2/);
    await assert.rejects(loadTrack(KITTI_00.poses, { plane: 'xz', timesFile: join(dir, 'times.txt') }), /times\.txt/);
    assert.throws(() => splitTrack(40), EgoError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
