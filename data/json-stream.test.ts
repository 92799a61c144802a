// Streaming JSON trajectory input (data/formats/json-stream.ts): the streamed read equals the
// JSON.parse + zod path on random spellings, key orders and sizes (tiny blocks put refills inside
// numbers, strings and rows); convert JSON -> TUM/KITTI/EuRoC/MCAP is byte-identical to the
// in-memory route; bad documents get the in-memory path's messages with the JSON path, line and
// column, and nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertTrajectoryFile, JsonTrajectorySource, readJsonTrajectoryFile, writeTrajectory } from './index.ts';
import { parseTrajectoryJson } from './formats/json.ts';
import { DataError } from './errors.ts';

const EX = join(import.meta.dirname, '..', 'examples', 'data');

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random JSON spelling of the number x. */
function spell(x: number, r: () => number): string {
  const k = r();
  if (k < 0.5) return String(x);
  if (k < 0.65) return x.toExponential(Math.floor(r() * 17));
  if (k < 0.75) return x.toExponential().replace('e', 'E');
  if (k < 0.85) return x.toFixed(Math.floor(r() * 12));
  if (k < 0.9 && x === 0) return '-0';
  return JSON.stringify(x);
}

/** A random valid trajectory document: members shuffled, whitespace anywhere, optional members, escapes. */
function randomDoc(r: () => number, n: number): string {
  const ws = (): string => ['', ' ', '\n', '\t', '\r\n', '  \n    ', ''][Math.floor(r() * 7)]!;
  const arr = (items: string[]): string => `[${ws()}${items.map((s) => s + ws()).join(`,${ws()}`)}${ws()}]`;
  const num = (x: number): string => spell(x, r);
  const nullTimes = r() < 0.1;
  let t = r() * 1e9 * (r() < 0.5 ? 1 : 1e-9);
  const ts: number[] = [];
  for (let i = 0; i < n; i++) ts.push((t += r() < 0.05 ? 0 : r() * 0.1));
  const exact = (x: number): string => (r() < 0.7 ? String(x) : r() < 0.5 ? x.toExponential() : x.toExponential().replace('e+', 'E'));
  const pose = (): number[] => {
    const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
    const s = Math.hypot(...q);
    const [x, y, z, w] = q.map((v) => v / s) as [number, number, number, number];
    const R = [
      [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
      [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
      [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ];
    const tr = [r() * 100 - 50, Math.round(r() * 10), r() < 0.2 ? 0 : r() * 1e-3];
    return [...R[0]!, tr[0]!, ...R[1]!, tr[1]!, ...R[2]!, tr[2]!];
  };
  const members: string[] = [
    `"format"${ws()}:${ws()}"impulse.trajectory"`,
    `"version":${ws()}${r() < 0.5 ? '1' : '1.0'}`,
    `"timestamps":${ws()}${nullTimes ? 'null' : arr(ts.map(exact))}`,
    `"poses":${arr(Array.from({ length: n }, () => arr(pose().map(num))))}`,
  ];
  if (r() < 0.5) members.push(`"name":"run \\"${Math.floor(r() * 100)}\\" caf\\u00e9 \\n/\\/"`);
  if (r() < 0.5) members.push(`"frame_id":${ws()}"${r() < 0.5 ? 'map' : 'od\\u006fm'}"`);
  if (r() < 0.3) members.push(`"child_frame_id":"base_link"`);
  if (r() < 0.4 && !nullTimes) members.push(`"stamps_ns":${arr(ts.map((x) => `"${r() < 0.1 ? '0' : ''}${Math.round(x * 1e9)}"`))}`);
  if (r() < 0.4) members.push(`"velocities":${arr(Array.from({ length: n }, () => arr([r(), -r(), r() * 1e-7].map(num))))}`);
  if (r() < 0.3) members.push(`"angular_velocities":${arr(Array.from({ length: n }, () => arr([r(), 0, -1].map(num))))}`);
  if (r() < 0.3) members.push(`"extra":{"a":[1,"x]}",null,true,{"b":[]}],"c":-1.5e-3}`);
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [members[i], members[j]] = [members[j]!, members[i]!];
  }
  return `${ws()}{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
}

/** Reads a document through the streaming source into plain arrays. */
async function readStreamed(file: string, blockBytes?: number) {
  const src = await JsonTrajectorySource.open(file, { blockBytes });
  try {
    const poses: number[] = [];
    const ts: number[] = [];
    const ns: bigint[] = [];
    const vel: number[] = [];
    while (src.next()) {
      poses.push(...src.pose.pose);
      if (src.hasTimestamps) ts.push(src.pose.t);
      if (src.pose.ns !== null) ns.push(src.pose.ns);
      if (src.pose.velocity) vel.push(...src.pose.velocity);
    }
    return { poses, ts, ns, vel, frameId: src.frameId, hasTimestamps: src.hasTimestamps };
  } finally {
    src.close();
  }
}

test('streamed JSON read equals JSON.parse + zod on random spellings, key orders and sizes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-jsonstream-'));
  try {
    const r = rng(13);
    for (let d = 0; d < 40; d++) {
      const n = 1 + Math.floor(r() * (d < 30 ? 30 : 600));
      const text = randomDoc(r, n);
      const file = join(dir, `d${d}.json`);
      writeFileSync(file, text);
      const ref = parseTrajectoryJson(text, file);
      const got = await readStreamed(file, d % 3 === 0 ? 64 : d % 3 === 1 ? 1000 : undefined);
      assert.deepEqual(Float64Array.from(got.poses), ref.poses, `doc ${d}`);
      assert.equal(got.hasTimestamps, ref.timestamps !== null);
      if (ref.timestamps) assert.deepEqual(Float64Array.from(got.ts), ref.timestamps);
      assert.deepEqual(got.ns, ref.stampsNs ? Array.from(ref.stampsNs) : []);
      assert.deepEqual(Float64Array.from(got.vel), ref.velocities ?? new Float64Array(0));
      assert.equal(got.frameId, ref.frameId);
      // readTrajectory's JSON reader (the source, into a Trajectory) gives the same trajectory
      const whole = await readJsonTrajectoryFile(file);
      for (const k of ['poses', 'timestamps', 'stampsNs', 'velocities', 'angularVelocities', 'name', 'frameId', 'childFrameId'] as const)
        assert.deepEqual(whole[k], ref[k], `doc ${d} ${k}`);
      // every output byte-identical to the in-memory route
      const outs = ref.timestamps ? (['tum', 'kitti', 'euroc', 'mcap'] as const) : (['kitti'] as const);
      for (const to of outs) {
        const a = join(dir, `a.${to}`);
        const b = join(dir, `b.${to}`);
        const mcapEncoding = to === 'mcap' && d % 2 ? 'json' : undefined;
        const rs = await convertTrajectoryFile(file, a, { to, mcapEncoding });
        const rm = await convertTrajectoryFile(file, b, { to, mcapEncoding, inMemory: true });
        assert.equal(rs.streamed, true);
        assert.deepEqual({ ...rs, streamed: false }, rm);
        assert.ok(readFileSync(a).equals(readFileSync(b)), `doc ${d} -> ${to} (in-memory convert)`);
        // and to JSON.parse + zod, then the in-memory writers
        await writeTrajectory(b, ref, { format: to, mcapEncoding });
        assert.ok(readFileSync(a).equals(readFileSync(b)), `doc ${d} -> ${to}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON written from the bundled examples converts to TUM, KITTI (+ times), EuRoC and MCAP as the in-memory route does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-jsonstream-'));
  try {
    for (const [ex, rate] of [
      ['freiburg1_xyz-groundtruth.txt', undefined],
      ['V102_groundtruth.csv', undefined],
      ['KITTI_00_gt.txt', 10],
    ] as const) {
      const file = join(dir, `${ex}.json`);
      await convertTrajectoryFile(join(EX, ex), file, { to: 'json', rate });
      for (const to of ['tum', 'kitti', 'euroc', 'mcap'] as const) {
        const a = join(dir, `a.${to}`);
        const b = join(dir, `b.${to}`);
        const rs = await convertTrajectoryFile(file, a, { to, outTimesFile: to === 'kitti' ? join(dir, 'ta.txt') : undefined });
        await writeTrajectory(b, parseTrajectoryJson(readFileSync(file, 'utf8'), file), {
          format: to,
          timesFile: to === 'kitti' ? join(dir, 'tb.txt') : undefined,
        });
        assert.equal(rs.streamed, true);
        assert.ok(readFileSync(a).equals(readFileSync(b)), `${ex} -> ${to}`);
        if (to === 'kitti') assert.ok(readFileSync(join(dir, 'ta.txt')).equals(readFileSync(join(dir, 'tb.txt'))));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad JSON documents: the in-memory messages with path, line and column; malformed JSON named; nothing written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-jsonstream-'));
  try {
    const P = '1,0,0,0.5,0,1,0,2,0,0,1,3';
    const doc = (ts: string, poses: string[], extra = ''): string =>
      `{"format":"impulse.trajectory","version":1,\n"timestamps":[${ts}],\n"poses":[\n${poses.map((p) => `[${p}]`).join(',\n')}\n]${extra}}\n`;
    const good = [P, P, P];
    // [document, expected field (schema errors, same detail as the in-memory path) or null (malformed JSON), expected line]
    const cases: [string, string | null, number | undefined][] = [
      [doc('0,1,2', [P, '1,0,0,"x",0,1,0,2,0,0,1,3', P]), 'poses[1][3]', 5],
      [doc('0,1,2', [P, P, '1,0,0,0.5,0,1,0,2,0,0,1']), 'poses[2]', 6],
      [doc('0,1,2', [P, P, P + ',4']), 'poses[2]', 6],
      [doc('0,1,2', [P, '{"a":1}', P]), 'poses[1][0]', 5],
      [doc('0,1e999,2', good), 'timestamps[1]', 2],
      [doc('0,null,2', good), 'timestamps[1]', 2],
      [doc('0,1,2,3', good), 'timestamps', 2],
      [doc('0,1', good), 'timestamps', 2],
      [doc('0,2,1', good), 'timestamps[2]', 2],
      [doc('0,1,2', good, ',"stamps_ns":["0","1.5","2"]'), 'stamps_ns[1]', 7],
      [doc('0,1,2', good, ',"stamps_ns":["0","1"]'), 'stamps_ns', 7],
      [doc('0,1,2', good, ',"velocities":[[1,2,3],[1,2],[1,2,3]]'), 'velocities[1]', 7],
      [doc('0,1,2', good).replace('"version":1', '"version":2'), 'version', 1],
      [doc('0,1,2', good).replace('impulse.trajectory', 'other'), 'format', 1],
      [doc('0,1,2', good).replace('"timestamps"', '"times"'), 'timestamps', undefined],
      [doc('0,1,2', good).replace('"poses":[', '"poses":"x","p":['), 'poses', 3],
      [doc('0,1,2', good).slice(0, 120), null, 5],
      [doc('0,1,2', good) + 'x', null, 8],
      [doc('0,1,2', [P, '1,0,0,0.5,0,1,0,2,0,0,1 3', P]), null, 5],
      [doc('0,1,2', [P, P, P]).replace('0.5', '00.5'), null, 4],
      [doc('0,1,2,', good), null, 2],
      [doc('0,-,2', good), null, 2],
      [doc('0,1,2', good).replace('"version"', 'version'), null, 1],
    ];
    for (const [i, [text, field, line]] of cases.entries()) {
      const file = join(dir, `bad${i}.json`);
      writeFileSync(file, text);
      const out = join(dir, 'out.tum');
      let inMemory: DataError | null = null;
      try {
        parseTrajectoryJson(text, file);
      } catch (e) {
        inMemory = e as DataError;
      }
      assert.ok(inMemory, `case ${i}: the in-memory path rejects it`);
      await assert.rejects(
        convertTrajectoryFile(file, out, { to: 'tum' }),
        (e: DataError) => {
          assert.equal(e.file, file, `case ${i}: ${e.message}`);
          assert.equal(e.line, line, `case ${i}: ${e.message}`);
          if (field === null) assert.match(e.message, /invalid JSON: .*/, `case ${i}`);
          else {
            assert.equal(e.field, field, `case ${i}: ${e.message}`);
            if (inMemory!.field !== undefined) assert.equal(e.field, inMemory!.field, `case ${i}: ${e.message}`);
            assert.equal(e.detail, inMemory!.detail, `case ${i}`);
          }
          return true;
        },
        `case ${i}`,
      );
      assert.equal(existsSync(out), false, `case ${i}: nothing written`);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
        `case ${i}: no temp file`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
