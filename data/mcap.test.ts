// Tests of MCAP / ROS 2 handling (data/mcap/, data/tf.ts): the real nav2 TurtleBot log (summary, odometry
// and TF extraction, replay cursor), files written by Impulse (Foxglove schemas, prediction sets),
// non-indexed and unchunked files, bounded replay memory, and damaged or undecodable files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McapWriter, type IWritable } from '@mcap/core';
import { McapLog, nsToSec } from './mcap/reader.ts';
import {
  extractTrajectory,
  loadTfBuffer,
  summarizeTrajectories,
  readPredictionSamples,
  poseFromMessage,
  transformsFromMessage,
  PoseExtractor,
} from './mcap/extract.ts';
import { DecoderCache } from './mcap/decode.ts';
import { McapLogWriter, ROS2_ODOMETRY_DEFINITION } from './mcap/writer.ts';
import { predictionMetrics } from './metrics/prediction.ts';
import { composePoses, rotationAngle } from './se3.ts';
import { McapFormatError, TfLookupError, UnknownEncodingError, FormatError, MessageDecodeError } from './errors.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const NAV2 = resolve(HERE, '..', 'examples', 'data', 'nav2_turtlebot.mcap'); // bundled copy of shared/data
const tmp = mkdtempSync(join(tmpdir(), 'impulse-mcap-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('nav2 log summary from the index: topics, schemas, encodings, counts and time range', async () => {
  const log = await McapLog.open(NAV2);
  const s = await log.summary();
  await log.close();
  assert.equal(s.indexed, true);
  assert.equal(s.profile, 'ros2');
  assert.equal(s.messageCount, 8197);
  assert.equal(s.startTime, 1778234353382747000n);
  assert.equal(s.endTime, 1778234450738043000n);
  assert.deepEqual(s.compression, { zstd: 1 });
  assert.deepEqual(
    s.channels.map((c) => [c.topic, c.schemaName, c.messageEncoding, c.schemaEncoding, c.messageCount]),
    [
      ['/odom', 'nav_msgs/msg/Odometry', 'cdr', 'ros2msg', 2639],
      ['/tf', 'tf2_msgs/msg/TFMessage', 'cdr', 'ros2msg', 5422],
      ['/tf_static', 'tf2_msgs/msg/TFMessage', 'cdr', 'ros2msg', 1],
      ['/amcl_pose', 'geometry_msgs/msg/PoseWithCovarianceStamped', 'cdr', 'ros2msg', 135],
    ],
  );
});

test('nav2 odometry extracts (2639 poses, header stamps); its path length equals the one of the /tf odom->base_link link, read independently', async () => {
  const odom = await extractTrajectory(NAV2, { topic: '/odom' });
  assert.equal(odom.length, 2639);
  assert.equal(odom.frameId, 'odom');
  assert.equal(odom.childFrameId, 'base_link');
  assert.equal(odom.timestamps![0], 928.8);
  assert.equal(odom.stampsNs![0], 928800000000n);
  assert.ok(odom.velocities && odom.velocities.length === 3 * 2639);
  const tf = await extractTrajectory(NAV2, { tf: { parent: 'odom', child: 'base_link' } });
  assert.equal(tf.length, 2639);
  assert.ok(Math.abs(odom.pathLength() - tf.pathLength()) < 1e-12);
  assert.ok(Math.abs(odom.pathLength() - 34.32188621831887) < 1e-9);
  const amcl = await extractTrajectory(NAV2, { topic: '/amcl_pose' });
  assert.equal(amcl.length, 135);
  assert.equal(amcl.frameId, 'map');
});

test('the fast CDR pose reader and the generic decoder agree on every nav2 message', async () => {
  const log = await McapLog.open(NAV2);
  const dec = new DecoderCache(log);
  const px = new PoseExtractor(log);
  let n = 0;
  for await (const m of log.messages()) {
    const msg = dec.decode(m);
    assert.deepEqual(px.pose(m), poseFromMessage(m.schemaName, msg));
    assert.deepEqual(px.transforms(m), transformsFromMessage(m.schemaName, msg));
    n++;
  }
  await log.close();
  assert.equal(n, 8197);
});

test('TF from the nav2 log: map->base_link is map->odom composed with odom->base_link, static links resolve, missing links are named', async () => {
  const buf = await loadTfBuffer(NAV2);
  const t = 1000.0;
  const a = buf.lookup('map', 'odom', t);
  const b = buf.lookup('odom', 'base_link', t);
  const ab = new Float64Array(12);
  composePoses(a, 0, b, 0, ab, 0);
  const direct = buf.lookup('map', 'base_link', t);
  assert.ok(Math.max(...direct.map((x, i) => Math.abs(x - ab[i]!))) < 1e-12);
  // a static chain: base_link -> shell_link -> rplidar_link
  const lidar = buf.lookup('base_link', 'rplidar_link', t);
  assert.ok(Math.abs(lidar[3]! - -0.04) < 1e-12 && Math.abs(lidar[11]! - (0.0942 + 0.098715)) < 1e-12);
  buf.add({ parent: 'elsewhere', child: 'camera', time: t, translation: [0, 0, 0], rotation: [0, 0, 0, 1] });
  assert.throws(
    () => buf.lookup('map', 'camera', t),
    (e: unknown) => e instanceof TfLookupError && /missing link between 'map' and 'elsewhere'/.test((e as Error).message),
  );
  await assert.rejects(
    extractTrajectory(NAV2, { tf: { parent: 'map', child: 'nowhere' } }),
    (e: unknown) => e instanceof TfLookupError && (e as TfLookupError).file === NAV2,
  );
  const mb = await extractTrajectory(NAV2, { tf: { parent: 'map', child: 'base_link' } });
  assert.ok(mb.length > 2500 && mb.frameId === 'map');
});

test('trajectory summary streams the pose topics and TF links: counts, lengths, endpoints', async () => {
  const stats = await summarizeTrajectories(NAV2);
  const odom = stats.find((s) => s.source === '/odom')!;
  assert.equal(odom.count, 2639);
  assert.ok(Math.abs(odom.pathLength - 34.32188621831887) < 1e-9);
  assert.deepEqual(odom.start, [-2.8019166340612314, 1.0977901491292252, 0]);
  assert.equal(stats.find((s) => s.source === 'tf:map->odom')!.count, 921);
  assert.equal(stats.find((s) => s.source === '/amcl_pose')!.count, 135);
});

test('replay cursor: all messages in log-time order, seek, step, and play paced at a speed', async () => {
  const log = await McapLog.open(NAV2);
  const c = log.cursor();
  let n = 0,
    last = -1n;
  for await (const m of c) {
    assert.ok(m.logTime >= last);
    last = m.logTime;
    n++;
  }
  assert.equal(n, 8197);
  const mid = 1778234400000000000n;
  c.seek(mid);
  const first = await c.next();
  assert.ok(first && first.logTime >= mid);
  const all = [];
  for await (const m of log.messages({ start: mid })) all.push(m);
  assert.equal(all[0]!.logTime, first.logTime);
  const tenth = await c.step(9);
  assert.equal(tenth!.logTime, all[9]!.logTime);
  // topic filter + time window
  const odom = [];
  for await (const m of log.messages({ topics: ['/odom'], end: mid })) odom.push(m);
  assert.ok(odom.length > 0 && odom.every((m) => m.topic === '/odom' && m.logTime <= mid));
  // play at 4x with a fake clock: the waits add up to a quarter of the log span
  let clock = 0;
  let waited = 0;
  const p = log.cursor({ topics: ['/amcl_pose'] });
  let count = 0,
    t0 = 0n,
    t1 = 0n;
  for await (const m of p.play({
    speed: 4,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      waited += ms;
    },
  })) {
    if (count === 0) t0 = m.logTime;
    t1 = m.logTime;
    count++;
  }
  assert.equal(count, 135);
  assert.ok(Math.abs(waited - Number(t1 - t0) / 1e6 / 4) < 1e-6);
  await log.close();
});

test('Impulse-written MCAP (Foxglove JSON schemas) reads back: PoseInFrame trajectory, FrameTransform via TF, Grid, prediction sets', async () => {
  const path = join(tmp, 'written.mcap');
  const w = await McapLogWriter.create(path);
  for (let i = 0; i < 20; i++) {
    const ns = BigInt(i) * 100000000n + 5000000000n;
    await w.addPoseInFrame('/est', ns, 'world', { position: [i, 0, 0], orientation: [0, 0, Math.sin(i / 20), Math.cos(i / 20)] });
    await w.addFrameTransform('/tf', ns, 'world', 'robot', { position: [0, i, 0], orientation: [0, 0, 0, 1] });
  }
  await w.addGrid('/heightmap', 5000000000n, 'world', {
    columns: 3,
    rows: 2,
    cellSize: [0.1, 0.1],
    layers: [
      { name: 'height', values: Float32Array.of(0, 1, 2, 3, 4, 5) },
      { name: 'friction', values: Float32Array.of(0.5, 0.5, 0.6, 0.6, 0.7, 0.7) },
    ],
  });
  const times = [0, 0.5, 1];
  const line = (dy: number) => times.map((t) => ({ position: [t, dy, 0], orientation: [0, 0, 0, 1] }));
  await w.addPredictionSet('/pred', {
    stampNs: 5000000000n,
    frameId: 'world',
    groundTruth: { times, poses: line(0) },
    predictions: [
      { label: 'a', times, poses: line(1) },
      { label: 'b', times, poses: line(0.5) },
    ],
  });
  await w.close();

  const est = await extractTrajectory(path, { topic: '/est' });
  assert.equal(est.length, 20);
  assert.deepEqual(est.position(7), [7, 0, 0]);
  assert.ok(Math.abs(rotationAngle(est.pose(7)) - 2 * (7 / 20)) < 1e-12);
  const robot = await extractTrajectory(path, { tf: { parent: 'world', child: 'robot' } });
  assert.deepEqual(robot.position(3), [0, 3, 0]);
  const log = await McapLog.open(path);
  const dec = new DecoderCache(log);
  const s = await log.summary();
  assert.deepEqual(s.channels.map((c) => c.schemaName).sort(), [
    'foxglove.FrameTransform',
    'foxglove.Grid',
    'foxglove.PoseInFrame',
    'foxglove.PosesInFrame',
    'foxglove.PosesInFrame',
    'foxglove.PosesInFrame',
    'impulse.PredictionSet',
  ]);
  for await (const m of log.messages({ topics: ['/heightmap'] })) {
    const g = dec.decode(m) as { column_count: number; cell_stride: number; fields: { name: string }[]; data: string };
    const bytes = Buffer.from(g.data, 'base64');
    assert.equal(g.column_count, 3);
    assert.deepEqual(
      g.fields.map((f) => f.name),
      ['height', 'friction'],
    );
    assert.equal(bytes.readFloatLE(5 * g.cell_stride), 5);
    assert.ok(Math.abs(bytes.readFloatLE(5 * g.cell_stride + 4) - 0.7) < 1e-6);
  }
  await log.close();
  const samples = await readPredictionSamples(path, '/pred');
  assert.equal(samples.length, 1);
  const [h] = predictionMetrics(samples, { horizons: [1], missThreshold: 0.8 });
  assert.deepEqual(h, { horizon: 1, samples: 1, minAde: 0.5, minFde: 0.5, meanAde: 0.75, meanFde: 0.75, missRate: 0 });
});

class BufWritable implements IWritable {
  chunks: Uint8Array[] = [];
  private n = 0n;
  async write(b: Uint8Array): Promise<void> {
    this.chunks.push(b.slice());
    this.n += BigInt(b.length);
  }
  position(): bigint {
    return this.n;
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

async function rawLog(opts: { chunked: boolean; indexed: boolean; messageEncoding?: string; schemaEncoding?: string }): Promise<Uint8Array> {
  const wr = new BufWritable();
  const w = new McapWriter({
    writable: wr,
    useChunks: opts.chunked,
    chunkSize: 2048,
    useStatistics: opts.indexed,
    useSummaryOffsets: opts.indexed,
    useChunkIndex: opts.indexed,
    useMessageIndex: opts.indexed,
    repeatSchemas: opts.indexed,
    repeatChannels: opts.indexed,
  });
  await w.start({ profile: 'ros2', library: 'test' });
  const sid = await w.registerSchema({
    name: 'nav_msgs/msg/Odometry',
    encoding: opts.schemaEncoding ?? 'ros2msg',
    data: new TextEncoder().encode(ROS2_ODOMETRY_DEFINITION),
  });
  const a = await w.registerChannel({ topic: '/odom', schemaId: sid, messageEncoding: opts.messageEncoding ?? 'cdr', metadata: new Map() });
  const b = await w.registerChannel({ topic: '/odom2', schemaId: sid, messageEncoding: opts.messageEncoding ?? 'cdr', metadata: new Map() });
  const { MessageWriter } = await import('@foxglove/rosmsg2-serialization');
  const { parse } = await import('@foxglove/rosmsg');
  const mw = new MessageWriter(parse(ROS2_ODOMETRY_DEFINITION, { ros2: true }));
  for (let i = 0; i < 100; i++) {
    for (const [ch, dt] of [
      [a, 0n],
      [b, 5000000n],
    ] as const) {
      const ns = BigInt(i) * 10000000n + dt;
      const data = mw.writeMessage({
        header: { stamp: { sec: 0, nanosec: Number(ns) }, frame_id: 'odom' },
        child_frame_id: 'base',
        pose: { pose: { position: { x: i, y: ch, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Float64Array(36) },
        twist: { twist: { linear: { x: 1, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: new Float64Array(36) },
      });
      await w.addMessage({ channelId: ch, sequence: i, logTime: ns, publishTime: ns, data });
    }
  }
  await w.end();
  return wr.bytes();
}

test('non-indexed chunked and unchunked files replay in time order across channels and extract the same trajectory', async () => {
  for (const chunked of [true, false]) {
    const path = join(tmp, `noindex-${chunked}.mcap`);
    writeFileSync(path, await rawLog({ chunked, indexed: false }));
    const log = await McapLog.open(path);
    assert.equal(log.indexed, false);
    const s = await log.summary();
    assert.equal(s.messageCount, 200);
    assert.deepEqual(
      s.channels.map((c) => c.messageCount),
      [100, 100],
    );
    let last = -1n,
      n = 0;
    for await (const m of log.messages()) {
      assert.ok(m.logTime > last, 'strictly interleaved order');
      last = m.logTime;
      n++;
    }
    assert.equal(n, 200);
    const t = await extractTrajectory(log, { topic: '/odom2' });
    assert.equal(t.length, 100);
    assert.deepEqual(t.position(42), [42, 1, 0]); // y holds the channel id (0, 1)
    await log.close();
  }
});

test('replay memory is bounded: a many-chunk log is read holding at most a couple of chunks at once', async () => {
  const path = join(tmp, 'many-chunks.mcap');
  writeFileSync(path, await rawLog({ chunked: true, indexed: true }));
  const log = await McapLog.open(path);
  assert.ok(log.blockList().length > 20, `${log.blockList().length} chunks`);
  const c = log.cursor();
  let n = 0;
  for await (const _m of c) n++;
  assert.equal(n, 200);
  assert.equal(c.blocksLoaded, log.blockList().length);
  assert.ok(c.maxBlocksHeld <= 2, `held ${c.maxBlocksHeld} chunks at once`);
  await log.close();
});

test('bad input: a corrupt chunk is a McapFormatError naming the file and the chunk offset', async () => {
  const bad = join(tmp, 'corrupt.mcap');
  const bytes = new Uint8Array(readFileSync(NAV2));
  bytes[58 + 5000] = bytes[58 + 5000]! ^ 0xff; // inside the zstd data of the only chunk (record at offset 58)
  writeFileSync(bad, bytes);
  const log = await McapLog.open(bad);
  await assert.rejects(
    (async () => {
      for await (const _m of log.messages()) void _m;
    })(),
    (e: unknown) =>
      e instanceof McapFormatError && (e as McapFormatError).offset === 58 && (e as McapFormatError).file === bad && /corrupt chunk/.test((e as Error).message),
  );
  await log.close();
  // uncompressed chunk: the CRC catches a flipped payload byte
  const raw = await rawLog({ chunked: true, indexed: true });
  const log2path = join(tmp, 'crc.mcap');
  const i = Buffer.from(raw).indexOf(Buffer.from('base'));
  raw[i] = 'c'.charCodeAt(0);
  writeFileSync(log2path, raw);
  const log2 = await McapLog.open(log2path);
  await assert.rejects(
    (async () => {
      for await (const _m of log2.messages()) void _m;
    })(),
    (e: unknown) => e instanceof McapFormatError && /CRC mismatch/.test((e as Error).message) && typeof (e as McapFormatError).offset === 'number',
  );
  await log2.close();
});

test('bad input: truncated files and non-MCAP files are McapFormatErrors with the record offset', async () => {
  const cut = join(tmp, 'truncated.mcap');
  writeFileSync(cut, readFileSync(NAV2).subarray(0, 300000));
  await assert.rejects(
    McapLog.open(cut),
    (e: unknown) => e instanceof McapFormatError && (e as McapFormatError).offset === 58 && /truncated file/.test((e as Error).message),
  );
  const notMcap = join(tmp, 'not.mcap');
  writeFileSync(notMcap, 'hello world, not an mcap');
  await assert.rejects(
    McapLog.open(notMcap),
    (e: unknown) => e instanceof McapFormatError && /bad magic/.test((e as Error).message) && (e as McapFormatError).offset === 0,
  );
  const cutRaw = join(tmp, 'truncated-raw.mcap');
  const raw = await rawLog({ chunked: false, indexed: false });
  writeFileSync(cutRaw, raw.subarray(0, raw.length - 200));
  await assert.rejects(McapLog.open(cutRaw), McapFormatError);
  const noFooter = join(tmp, 'nofooter.mcap');
  const rawNoFooter = await rawLog({ chunked: false, indexed: false });
  // cut right after the last complete message record: find the DataEnd record (opcode 0x0f) and cut there
  const fh = await open(noFooter, 'w');
  const de = Buffer.from(rawNoFooter).lastIndexOf(Buffer.from([0x0f, 4, 0, 0, 0, 0, 0, 0, 0]));
  await fh.write(rawNoFooter.subarray(0, de));
  await fh.close();
  await assert.rejects(
    McapLog.open(noFooter),
    (e: unknown) => e instanceof McapFormatError && /without a data-end record or footer/.test((e as Error).message),
  );
  const partial = await McapLog.open(noFooter, { allowIncomplete: true });
  assert.equal((await partial.summary()).messageCount, 200);
  await partial.close();
});

test('bad input: an unknown schema encoding is an UnknownEncodingError naming the channel; a pose-less topic is a FormatError', async () => {
  const path = join(tmp, 'protobuf.mcap');
  writeFileSync(path, await rawLog({ chunked: true, indexed: true, messageEncoding: 'protobuf', schemaEncoding: 'protobuf' }));
  const log = await McapLog.open(path);
  assert.equal((await log.summary()).messageCount, 200); // summary still works
  await assert.rejects(
    extractTrajectory(log, { topic: '/odom' }),
    (e: unknown) =>
      e instanceof UnknownEncodingError &&
      /channel \d+ \('\/odom'\): message encoding 'protobuf' with schema encoding 'protobuf' is not supported/.test((e as Error).message) &&
      (e as UnknownEncodingError).file === path,
  );
  await log.close();
  await assert.rejects(extractTrajectory(NAV2, { topic: '/nope' }), (e: unknown) => e instanceof FormatError && /no topic '\/nope'/.test((e as Error).message));
  const written = join(tmp, 'grid-only.mcap');
  const w = await McapLogWriter.create(written);
  await w.addGrid('/g', 1n, 'map', { columns: 1, rows: 1, cellSize: [1, 1], layers: [{ name: 'h', values: Float32Array.of(1) }] });
  await w.close();
  await assert.rejects(extractTrajectory(written, { topic: '/g' }), (e: unknown) => e instanceof FormatError && /carries no pose/.test((e as Error).message));
  // a CDR message cut short is a MessageDecodeError with the block offset
  const short = join(tmp, 'short.mcap');
  const w2 = await McapLogWriter.create(short, { compression: 'none' });
  await w2.addRos2Raw('/odom', 'nav_msgs/msg/Odometry', ROS2_ODOMETRY_DEFINITION, 1n, Uint8Array.of(0, 1, 0, 0, 1, 0, 0, 0));
  await w2.close();
  await assert.rejects(
    extractTrajectory(short, { topic: '/odom' }),
    (e: unknown) => e instanceof MessageDecodeError && typeof (e as MessageDecodeError).offset === 'number',
  );
  assert.equal(nsToSec(1500000000n), 1.5);
});
