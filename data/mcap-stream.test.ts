// Streaming MCAP input (data/formats/mcap-stream.ts): a pose topic converted batch by batch gives
// the in-memory conversion's text byte for byte (TUM, KITTI + times, EuRoC with velocities, batch
// boundaries anywhere, repeated stamps across them) and its errors, and a topic whose header
// stamps go backwards is left to the in-memory path, which sorts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertMcapStreaming } from './formats/mcap-stream.ts';
import { McapLogWriter, convertTrajectoryFile } from './index.ts';

const EX = join(import.meta.dirname, '..', 'examples', 'data');

test('MCAP topics stream to TUM, KITTI + times and EuRoC with the in-memory text, across batch boundaries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-mcapstream-'));
  try {
    const cdr = join(dir, 'cdr.mcap');
    const json = join(dir, 'json.mcap');
    await convertTrajectoryFile(join(EX, 'freiburg1_xyz-groundtruth.txt'), cdr);
    await convertTrajectoryFile(join(EX, 'freiburg1_xyz-groundtruth.txt'), json, { mcapEncoding: 'json' });
    const cases: [string, string | undefined, string][] = [
      [cdr, undefined, 'tum'],
      [json, undefined, 'kitti'],
      [cdr, undefined, 'csv'],
      [join(EX, 'nav2_turtlebot.mcap'), '/odom', 'csv'], // Odometry: velocity columns in EuRoC
      [join(EX, 'nav2_turtlebot.mcap'), '/amcl_pose', 'tum'],
    ];
    for (const [src, topic, ext] of cases) {
      const times = ext === 'kitti' ? { outTimesFile: join(dir, 'ts.txt') } : {};
      const r = await convertTrajectoryFile(src, join(dir, `s.${ext}`), { topic, ...times });
      assert.equal(r.streamed, true, `${src} ${topic}`);
      const m = await convertTrajectoryFile(src, join(dir, `m.${ext}`), {
        topic,
        inMemory: true,
        outTimesFile: ext === 'kitti' ? join(dir, 'tm.txt') : undefined,
      });
      assert.equal(m.streamed, false);
      assert.equal(r.poses, m.poses);
      assert.deepEqual(r.duplicates, m.duplicates);
      assert.equal(readFileSync(join(dir, `s.${ext}`), 'utf8'), readFileSync(join(dir, `m.${ext}`), 'utf8'), `${src} ${topic} -> ${ext}`);
      if (ext === 'kitti') assert.equal(readFileSync(join(dir, 'ts.txt'), 'utf8'), readFileSync(join(dir, 'tm.txt'), 'utf8'));
      // batches of 7 poses: every formatter's header once, no line lost or doubled
      const tiny = await convertMcapStreaming(src, join(dir, `t.${ext}`), {
        to: ext === 'csv' ? 'euroc' : (ext as 'tum' | 'kitti'),
        topic: topic ?? '/trajectory',
        batch: 7,
      });
      assert.equal(tiny?.poses, m.poses);
      assert.equal(readFileSync(join(dir, `t.${ext}`), 'utf8'), readFileSync(join(dir, `m.${ext}`), 'utf8'), `${src} in batches of 7`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('header stamps going backwards are sorted in memory; repeated stamps are counted across batches as in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-mcapstream-'));
  try {
    // log times in order, header stamps not: 0, 2, 1, 3 s
    const w2 = await McapLogWriter.create(join(dir, 'back.mcap'));
    for (const [i, s] of [0, 2, 1, 3].entries())
      await w2.addJson('/p', 'foxglove.PoseInFrame', BigInt(i + 1) * 1000n, {
        timestamp: { sec: s, nsec: 0 },
        frame_id: 'world',
        pose: { position: { x: s, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
    await w2.close();
    assert.equal(await convertMcapStreaming(join(dir, 'back.mcap'), join(dir, 'o.tum'), { to: 'tum', topic: '/p' }), null);
    assert.deepEqual(readdirSync(dir), ['back.mcap'], 'nothing left by the dropped stream');
    const r = await convertTrajectoryFile(join(dir, 'back.mcap'), join(dir, 'o.tum'));
    assert.equal(r.streamed, false);
    assert.deepEqual(
      readFileSync(join(dir, 'o.tum'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(' ')[0]),
      ['0', '1', '2', '3'],
    );
    // a repeated stamp with another pose on a batch boundary
    const w3 = await McapLogWriter.create(join(dir, 'dup.mcap'));
    for (const [i, [s, x]] of [
      [0, 0],
      [1, 1],
      [1, 5],
      [2, 2],
      [2, 2],
      [3, 3],
    ].entries())
      await w3.addJson('/p', 'foxglove.PoseInFrame', BigInt(i + 1) * 1000n, {
        timestamp: { sec: s, nsec: 0 },
        frame_id: 'world',
        pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
    await w3.close();
    const m = await convertTrajectoryFile(join(dir, 'dup.mcap'), join(dir, 'm.tum'), { inMemory: true });
    for (const batch of [1, 2, 3, 100]) {
      const s = await convertMcapStreaming(join(dir, 'dup.mcap'), join(dir, 's.tum'), { to: 'tum', topic: '/p', batch });
      assert.deepEqual(s?.duplicates, m.duplicates, `batch ${batch}`);
      assert.equal(readFileSync(join(dir, 's.tum'), 'utf8'), readFileSync(join(dir, 'm.tum'), 'utf8'));
    }
    assert.equal(m.duplicates.count, 1);
    // a zero quaternion: the same named error streamed as in memory
    const w4 = await McapLogWriter.create(join(dir, 'zero.mcap'));
    for (let i = 0; i < 4; i++)
      await w4.addJson('/p', 'foxglove.PoseInFrame', BigInt(i + 1) * 1000n, {
        timestamp: { sec: i, nsec: 0 },
        frame_id: 'world',
        pose: { position: { x: i, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: i === 2 ? 0 : 1 } },
      });
    await w4.close();
    const err = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: Error) => e.message,
      );
    const streamed = await err(convertTrajectoryFile(join(dir, 'zero.mcap'), join(dir, 'z.tum')));
    assert.match(streamed, /zero\.mcap, index 2: .*quaternion/);
    assert.equal(streamed, await err(convertTrajectoryFile(join(dir, 'zero.mcap'), join(dir, 'z.tum'), { inMemory: true })));
    assert.ok(!readdirSync(dir).includes('z.tum'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MCAP topics stream to MCAP (PoseStamped CDR and PoseInFrame JSON) and Impulse JSON byte-identical to the in-memory route; backwards stamps go in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-mcapstream-'));
  try {
    const fr1 = join(dir, 'fr1.mcap');
    await convertTrajectoryFile(join(EX, 'freiburg1_xyz-groundtruth.txt'), fr1, { mcapEncoding: 'json' });
    const cases: [string, string | undefined, { frameId?: string; outTopic?: string }][] = [
      [fr1, undefined, {}],
      [join(EX, 'nav2_turtlebot.mcap'), '/odom', {}],
      [join(EX, 'nav2_turtlebot.mcap'), '/amcl_pose', { frameId: 'odom', outTopic: '/est' }],
    ];
    for (const [input, topic, o] of cases)
      for (const mcapEncoding of ['cdr', 'json'] as const) {
        const a = join(dir, 'a.mcap');
        const b = join(dir, 'b.mcap');
        const rs = await convertTrajectoryFile(input, a, { topic, mcapEncoding, ...o });
        const rm = await convertTrajectoryFile(input, b, { topic, mcapEncoding, ...o, inMemory: true });
        assert.equal(rs.streamed, true);
        assert.deepEqual({ ...rs, streamed: false }, rm);
        assert.ok(readFileSync(a).equals(readFileSync(b)), `${input} ${topic} ${mcapEncoding}`);
      }
    // and to Impulse JSON (arrays spooled to temporary files, appended at the end)
    for (const [input, topic] of cases) {
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      const rs = await convertTrajectoryFile(input, a, { topic });
      const rm = await convertTrajectoryFile(input, b, { topic, inMemory: true });
      assert.equal(rs.streamed, true);
      assert.deepEqual({ ...rs, streamed: false }, rm);
      assert.ok(readFileSync(a).equals(readFileSync(b)), `${input} ${topic} -> JSON`);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
        'spool files removed',
      );
    }
    // header stamps 0, 2, 1 s: nothing streamed, sorted in memory
    const w = await McapLogWriter.create(join(dir, 'back.mcap'));
    for (const [i, s] of [0, 2, 1].entries())
      await w.addJson('/p', 'foxglove.PoseInFrame', BigInt(i + 1) * 1000n, {
        timestamp: { sec: s, nsec: 0 },
        frame_id: 'world',
        pose: { position: { x: s, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
    await w.close();
    assert.equal(await convertMcapStreaming(join(dir, 'back.mcap'), join(dir, 'o.mcap'), { to: 'mcap', topic: '/p' }), null);
    assert.equal(await convertMcapStreaming(join(dir, 'back.mcap'), join(dir, 'o.json'), { to: 'json', topic: '/p' }), null);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('o.') || f.endsWith('.tmp')),
      [],
      'nothing left by the dropped stream',
    );
    assert.equal((await convertTrajectoryFile(join(dir, 'back.mcap'), join(dir, 'o.mcap'))).streamed, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
