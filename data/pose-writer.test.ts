// The PoseStamped MCAP writer (data/mcap/pose-writer.ts): every message is the CDR that the ROS 2
// serializer writes, the file passes @mcap/core's readers with CRCs checked (indexed and
// streamed), a converted trajectory reads back as the same poses as through foxglove.PoseInFrame
// JSON, and stamps ROS 2 cannot hold are refused by name with nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import { loadDecompressHandlers } from '@mcap/support';
import { parse as parseRosMsg } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { PoseStampedWriter } from './mcap/pose-writer.ts';
import { ROS2_POSE_STAMPED_DEFINITION, convertTrajectoryFile, readTrajectory } from './index.ts';

const EX = join(import.meta.dirname, '..', 'examples', 'data');

test('PoseStampedWriter: each message is the ROS 2 CDR of the pose; indexed and streamed readers accept the file with CRCs checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-posew-'));
  try {
    const path = join(dir, 'p.mcap');
    const frameIds = ['map', 'world', 'odom_frame_long_name']; // three paddings before the float64s
    for (const frameId of frameIds) {
      const w = await PoseStampedWriter.create(path, { topic: '/est', frameId, chunkSize: 3000, compression: frameId === 'map' ? 'none' : 'zstd' });
      const want: { sec: number; nsec: number; v: number[] }[] = [];
      for (let i = 0; i < 200; i++) {
        const v = [i * 0.1, -i, 1e-300 * i, Math.sin(i), Math.cos(i), -0.5, 0.25];
        const sec = 1700000000 + Math.floor(i / 3);
        const nsec = (i % 3) * 333333333 + i;
        w.add(sec, nsec, v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!);
        want.push({ sec, nsec, v });
        if (i % 50 === 0) await w.flush();
      }
      await w.close();
      const ros = new MessageWriter(parseRosMsg(ROS2_POSE_STAMPED_DEFINITION, { ros2: true }));
      const fh = await open(path, 'r');
      try {
        const size = (await fh.stat()).size;
        const reader = await McapIndexedReader.Initialize({
          readable: {
            size: async () => BigInt(size),
            read: async (offset, length) => {
              const b = new Uint8Array(Number(length));
              await fh.read(b, 0, b.length, Number(offset));
              return b;
            },
          },
          decompressHandlers: await loadDecompressHandlers(),
        });
        assert.equal(reader.chunkIndexes.length > 5, true, 'several chunks');
        assert.equal(reader.statistics?.messageCount, 200n);
        const ch = [...reader.channelsById.values()][0]!;
        assert.equal(ch.topic, '/est');
        assert.equal(ch.messageEncoding, 'cdr');
        assert.equal(reader.schemasById.get(ch.schemaId)?.name, 'geometry_msgs/msg/PoseStamped');
        let k = 0;
        for await (const m of reader.readMessages()) {
          const { sec, nsec, v } = want[k]!;
          assert.equal(m.logTime, BigInt(sec) * 1000000000n + BigInt(nsec));
          assert.equal(m.sequence, k);
          const ref = ros.writeMessage({
            header: { stamp: { sec, nanosec: nsec }, frame_id: frameId },
            pose: { position: { x: v[0], y: v[1], z: v[2] }, orientation: { x: v[3], y: v[4], z: v[5], w: v[6] } },
          });
          assert.deepEqual(Buffer.from(m.data), Buffer.from(ref), `message ${k} (${frameId})`);
          k++;
        }
        assert.equal(k, 200);
      } finally {
        await fh.close();
      }
      // the streamed reader checks the chunk CRCs and reads every record through the footer
      const stream = new McapStreamReader({ decompressHandlers: await loadDecompressHandlers(), validateCrcs: true });
      stream.append(readFileSync(path));
      const kinds = new Map<string, number>();
      for (let r; (r = stream.nextRecord());) kinds.set(r.type, (kinds.get(r.type) ?? 0) + 1);
      assert.ok(stream.done(), 'read to the closing magic');
      assert.equal(kinds.get('Message'), 200);
      assert.equal(kinds.get('Footer'), 1);
      assert.ok(kinds.get('ChunkIndex')! > 5);
      assert.equal(kinds.get('MessageIndex'), kinds.get('ChunkIndex'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('convert TUM -> MCAP (PoseStamped CDR) -> TUM gives what the foxglove.PoseInFrame JSON path gives, byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-posew-'));
  try {
    for (const src of [join(EX, 'freiburg1_xyz-groundtruth.txt'), join(EX, 'V102_groundtruth.csv')]) {
      const r = await convertTrajectoryFile(src, join(dir, 'cdr.mcap'));
      assert.equal(r.streamed, true);
      await convertTrajectoryFile(src, join(dir, 'json.mcap'), { mcapEncoding: 'json' });
      await convertTrajectoryFile(src, join(dir, 'mem.mcap'), { inMemory: true });
      await convertTrajectoryFile(join(dir, 'cdr.mcap'), join(dir, 'cdr.tum'));
      await convertTrajectoryFile(join(dir, 'json.mcap'), join(dir, 'json.tum'));
      await convertTrajectoryFile(join(dir, 'mem.mcap'), join(dir, 'mem.tum'));
      const cdr = readFileSync(join(dir, 'cdr.tum'), 'utf8');
      assert.equal(cdr, readFileSync(join(dir, 'json.tum'), 'utf8'), src);
      assert.equal(cdr, readFileSync(join(dir, 'mem.tum'), 'utf8'), src);
      const a = await readTrajectory(src);
      const b = await readTrajectory(join(dir, 'cdr.mcap'));
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a.timestamps![i]! - b.timestamps![i]!) < 1e-9, `time ${i}`);
      for (let i = 0; i < a.poses.length; i++) assert.ok(Math.abs(a.poses[i]! - b.poses[i]!) < 1e-12, `pose entry ${i}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stamp beyond ROS 2 int32 seconds is refused naming the line and the JSON alternative; nothing is left behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-posew-'));
  try {
    writeFileSync(join(dir, 'late.tum'), '1 0 0 0 0 0 0 1\n2 0 0 0 0 0 0 1\n3000000000.5 1 0 0 0 0 0 1\n');
    await assert.rejects(
      convertTrajectoryFile(join(dir, 'late.tum'), join(dir, 'o.mcap')),
      /late\.tum, line 3: timestamp 3000000000\.5 s does not fit ROS 2 .*--mcap-encoding json/,
    );
    await assert.rejects(
      convertTrajectoryFile(join(dir, 'late.tum'), join(dir, 'o.mcap'), { inMemory: true }),
      /o\.mcap, index 2: timestamp 3000000000 s does not fit/,
    );
    assert.deepEqual(readdirSync(dir), ['late.tum']);
    await convertTrajectoryFile(join(dir, 'late.tum'), join(dir, 'o.mcap'), { mcapEncoding: 'json' });
    assert.equal((await readTrajectory(join(dir, 'o.mcap'))).timestamps![2], 3000000000.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a negative stamp is refused naming the line (streamed) or the index (in memory); nothing is left behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-posew-'));
  try {
    writeFileSync(join(dir, 'neg.tum'), '-2 0 0 0 0 0 0 1\n-1 0 0 0 0 0 0 1\n');
    await assert.rejects(
      convertTrajectoryFile(join(dir, 'neg.tum'), join(dir, 'o.mcap')),
      /neg\.tum, line 1: negative timestamp -2000000000 ns cannot be written to MCAP/,
    );
    assert.deepEqual(readdirSync(dir), ['neg.tum']);
    // the in-memory route names the output and the pose index (PoseStampedWriter.addPose)
    await assert.rejects(
      convertTrajectoryFile(join(dir, 'neg.tum'), join(dir, 'o.mcap'), { inMemory: true }),
      /o\.mcap, index 0: negative timestamp -2000000000 ns cannot be written/,
    );
    assert.deepEqual(readdirSync(dir), ['neg.tum']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
