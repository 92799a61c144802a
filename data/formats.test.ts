// Tests of the trajectory file formats (data/formats/): the real shared files, round trips of every
// format, detection, every malformed-input case of issue 6, and atomic writes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTrajectory, writeTrajectory, detectFormat, withRate, TRAJECTORY_FORMATS, type TrajectoryFormat } from './formats/index.ts';
import { parseTum } from './formats/tum.ts';
import { parseKitti, parseTimes } from './formats/kitti.ts';
import { parseEuroc } from './formats/euroc.ts';
import { parseMonoforce } from './formats/monoforce.ts';
import { parseTrajectoryJson } from './formats/json.ts';
import { Trajectory } from './trajectory.ts';
import { FormatError, NonFiniteValueError, ParseError, QuaternionNormError, TimestampOrderError, DataError } from './errors.ts';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'data'); // bundled copies of shared/data
const tmp = mkdtempSync(join(tmpdir(), 'impulse-formats-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function isErr<T extends DataError>(cls: new (...a: never[]) => T, re: RegExp, line?: number): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, re);
    if (line !== undefined) assert.equal((e as DataError).line, line, (e as Error).message);
    return true;
  };
}

test('reads the shared KITTI, TUM and EuRoC files with their pose counts and first values', async () => {
  const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'), { timesFile: join(DATA, 'KITTI_00_gt_times.txt') });
  assert.equal(gt.length, 4541);
  assert.equal(gt.timestamps![1], 0.1037359);
  assert.deepEqual(gt.position(1), [-0.04690294, -0.02839928, 0.8586941]);
  const orb = await readTrajectory(join(DATA, 'KITTI_00_ORB.txt'));
  assert.equal(orb.length, 4541);
  assert.equal(orb.timestamps, null);
  const fr2 = await readTrajectory(join(DATA, 'fr2_desk_groundtruth.txt'));
  assert.equal(fr2.length, 20957);
  assert.equal(fr2.timestamps![0], 1311868163.8697);
  assert.deepEqual(fr2.position(0), [-0.1357, -1.4217, 1.4764]);
  assert.equal((await readTrajectory(join(DATA, 'fr2_desk_ORB.txt'))).length, 2893);
  assert.equal((await readTrajectory(join(DATA, 'freiburg1_xyz-groundtruth.txt'))).length, 3000);
  assert.equal((await readTrajectory(join(DATA, 'freiburg1_xyz-rgbdslam.txt'))).length, 788);
  const v = await readTrajectory(join(DATA, 'V102_groundtruth.csv'));
  assert.equal(v.length, 16702);
  assert.equal(v.stampsNs![0], 1403715524907143168n);
  assert.equal(v.timestamps![0], 1403715524907143168 / 1e9);
  assert.deepEqual(Array.from(v.velocities!.subarray(0, 3)), [-0.002276, -0.009616, -0.005214]);
  // EuRoC quaternion is w first: (w, x, y, z) = (0.161996, 0.789985, -0.205376, 0.554528), normalised
  const q = v.quaternion(0);
  const n = Math.hypot(0.161996, 0.789985, -0.205376, 0.554528);
  assert.ok(Math.abs(q[3] - 0.161996 / n) < 1e-12 && Math.abs(q[0] - 0.789985 / n) < 1e-12);
  assert.equal((await readTrajectory(join(DATA, 'V102.txt'))).length, 807);
});

test('detects formats from content: TUM, KITTI, EuRoC, MonoForce, JSON, MCAP', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const head = (f: string) => readFileSync(join(DATA, f)).subarray(0, 4096);
  assert.equal(detectFormat('a.txt', head('fr2_desk_groundtruth.txt')), 'tum');
  assert.equal(detectFormat('a.txt', head('KITTI_00_gt.txt')), 'kitti');
  assert.equal(detectFormat('a.csv', head('V102_groundtruth.csv')), 'euroc');
  assert.equal(detectFormat('a.csv', enc('stamp,T00,T01,T02,T03,T10,T11,T12,T13,T20,T21,T22,T23\n0,1,0,0,0,0,1,0,0,0,0,1,0\n')), 'monoforce');
  assert.equal(detectFormat('a', enc('{"format":"impulse.trajectory"}')), 'json');
  assert.equal(detectFormat('a', Uint8Array.of(0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a)), 'mcap');
  assert.throws(() => detectFormat('a.txt', enc('1 2 3\n')), isErr(FormatError, /3 fields/));
});

test('every format round-trips through a file: poses to 1e-12, timestamps exactly, EuRoC ns stamps exactly', async () => {
  const src = (await readTrajectory(join(DATA, 'V102_groundtruth.csv'))).select(Array.from({ length: 300 }, (_, i) => i * 7));
  const kitti = (await readTrajectory(join(DATA, 'KITTI_00_SPTAM.txt'))).select(Array.from({ length: 200 }, (_, i) => i));
  for (const format of TRAJECTORY_FORMATS) {
    for (const [label, traj0] of [
      ['euroc', src],
      ['kitti', withRate(kitti, 10, 100)],
    ] as const) {
      const path = join(tmp, `rt-${label}.${format}`);
      await writeTrajectory(path, traj0, { format, timesFile: format === 'kitti' ? path + '.times' : undefined });
      const back = await readTrajectory(path, {
        format,
        topic: format === 'mcap' ? '/trajectory' : undefined,
        timesFile: format === 'kitti' ? path + '.times' : undefined,
      });
      assert.equal(back.length, traj0.length, `${format}/${label} length`);
      let d = 0;
      for (let i = 0; i < traj0.length; i++) {
        const a = traj0.position(i),
          b = back.position(i);
        const qa = traj0.quaternion(i),
          qb = back.quaternion(i);
        for (let k = 0; k < 3; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
        for (let k = 0; k < 4; k++) d = Math.max(d, Math.abs(qa[k]! - qb[k]!));
      }
      assert.ok(d < 1e-12, `${format}/${label} poses differ by ${d}`);
      if (format === 'kitti' || format === 'json' || format === 'monoforce') {
        assert.deepEqual(Array.from(back.poses), Array.from(traj0.poses), `${format}/${label} matrices exact`);
      }
      if (format === 'mcap' || format === 'euroc') {
        for (let i = 0; i < traj0.length; i++) assert.ok(Math.abs(back.timestamps![i]! - traj0.timestamps![i]!) < 1e-6, `${format} time ${i}`);
        if (label === 'euroc') assert.deepEqual(Array.from(back.stampsNs!), Array.from(traj0.stampsNs!), `${format} ns stamps exact`);
      } else assert.deepEqual(Array.from(back.timestamps!), Array.from(traj0.timestamps!), `${format}/${label} timestamps exact`);
    }
  }
});

test('bad input: truncated lines and wrong column counts name file and line', () => {
  assert.throws(
    () => parseTum('# c\n1 0 0 0 0 0 0 1\n2 0 0 0 0 0\n', 'x.tum'),
    isErr(ParseError, /^x\.tum, line 3: TUM line has 6 fields, expected 8 \(truncated line\?\)/, 3),
  );
  assert.throws(() => parseTum('1 0 0 0 0 0 0 1 9\n', 'x.tum'), isErr(ParseError, /9 fields, expected 8/, 1));
  assert.throws(() => parseKitti('1 0 0 0 0 1 0 0 0 0 1 0\n1 0 0 0 0 1 0 0 0 0 1\n', 'k.txt'), isErr(ParseError, /line 2: KITTI line has 11 fields/, 2));
  assert.throws(() => parseEuroc('#h\n1,0,0,0,1,0,0\n', 'e.csv'), isErr(ParseError, /line 2: EuRoC line has 7 fields/, 2));
  assert.throws(() => parseMonoforce('stamp,T00\n0,1,0,0,0,0,1,0,0,0,0,1\n', 'm.csv'), isErr(ParseError, /line 2: MonoForce CSV line has 12 fields/, 2));
  assert.throws(
    () => parseKitti('1 0 0 0 0 1 0 0 0 0 1 0\n', 'k.txt', { content: '0\n1\n', file: 't.txt' }),
    isErr(ParseError, /t\.txt.*2 timestamps for 1 poses/),
  );
});

test('bad input: non-numeric fields and NaN / inf are named errors with line and column', () => {
  assert.throws(() => parseTum('1 0 0 abc 0 0 0 1\n', 'x.tum'), isErr(ParseError, /line 1, column 4, field 'tz': 'abc' is not a number/, 1));
  assert.throws(() => parseTum('1 0 0 0 nan 0 0 1\n', 'x.tum'), isErr(NonFiniteValueError, /column 5, field 'qx': value 'nan' is not finite/, 1));
  assert.throws(() => parseKitti('1 0 0 inf 0 1 0 0 0 0 1 0\n', 'k.txt'), isErr(NonFiniteValueError, /column 4, field 'T03'/, 1));
  assert.throws(() => parseEuroc('1,0,0,0,1,0,0,x\n', 'e.csv'), isErr(ParseError, /field 'q_z'/, 1));
  assert.throws(() => parseTimes('0\n0.1\n0.2x\n', 3, 't.txt'), isErr(ParseError, /line 3/, 3));
  assert.throws(
    () => parseTrajectoryJson('{"format":"impulse.trajectory","version":1,"timestamps":null,"poses":[[1,0,0,0,0,1,0,0,0,0,1]]}', 'j.json'),
    isErr(ParseError, /field 'poses\[0\]'/),
  );
  assert.throws(() => parseTrajectoryJson('{"format":"impulse.trajectory",\n"version":1,\n"poses":[1,}', 'j.json'), isErr(ParseError, /invalid JSON/, 3));
  assert.throws(() => parseTum('', 'empty.tum'), isErr(ParseError, /no poses/));
});

test('bad input: timestamps going backwards and zero-norm quaternions are named errors with the line', () => {
  assert.throws(
    () => parseTum('1 0 0 0 0 0 0 1\n1 0 0 0 0 0 0 1\n0.5 0 0 0 0 0 0 1\n', 'x.tum'),
    isErr(TimestampOrderError, /line 3: timestamp 0.5 goes backwards/, 3),
  );
  assert.throws(() => parseEuroc('2000,0,0,0,1,0,0,0\n1000,0,0,0,1,0,0,0\n', 'e.csv'), isErr(TimestampOrderError, /line 2/, 2));
  assert.throws(() => parseTimes('0\n1\n0.5\n', undefined, 't.txt'), isErr(TimestampOrderError, /line 3/, 3));
  assert.throws(
    () => parseTum('1 0 0 0 0 0 0 1\n2 0 0 0 0 0 0 0\n', 'x.tum'),
    isErr(QuaternionNormError, /line 2: quaternion \(0, 0, 0, 0\) has zero norm/, 2),
  );
  assert.throws(() => parseEuroc('1,0,0,0,0,0,0,0\n', 'e.csv'), isErr(QuaternionNormError, /line 1/, 1));
  assert.throws(
    () => new Trajectory({ poses: new Float64Array(24), timestamps: Float64Array.of(2, 1) }),
    (e: unknown) => e instanceof TimestampOrderError && (e as TimestampOrderError).index === 1,
  );
});

test('writes are atomic: a failing write leaves neither a partial output nor a temp file, and keeps an existing file', async () => {
  const dir = mkdtempSync(join(tmp, 'atomic-'));
  const out = join(dir, 'out.tum');
  writeFileSync(out, 'previous content\n');
  const noTime = await readTrajectory(join(DATA, 'KITTI_00_ORB.txt'));
  for (const format of ['tum', 'euroc', 'monoforce', 'mcap'] as TrajectoryFormat[]) {
    await assert.rejects(writeTrajectory(out, noTime, { format }), isErr(FormatError, /needs timestamps/));
  }
  assert.equal(readFileSync(out, 'utf8'), 'previous content\n');
  assert.deepEqual(readdirSync(dir), ['out.tum']);
  const out2 = join(dir, 'new.tum');
  await writeTrajectory(out2, withRate(noTime.select([0, 1, 2]), 10));
  assert.ok(existsSync(out2));
  assert.deepEqual(readdirSync(dir).sort(), ['new.tum', 'out.tum']);
});

test('withAtomicFile moves a completed file into place and leaves nothing when filling throws', async () => {
  const { withAtomicFile } = await import('./fsutil.ts');
  const dir = mkdtempSync(join(tmp, 'atomic-async-'));
  await withAtomicFile(join(dir, 'a.txt'), async (fh) => {
    await fh.write('done');
  });
  await assert.rejects(
    withAtomicFile(join(dir, 'b.txt'), async (fh) => {
      await fh.write('half');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(readdirSync(dir), ['a.txt']);
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'done');
});
