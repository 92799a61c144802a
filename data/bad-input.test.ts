// Bad inputs of the data layer answered with named errors (and nothing lost): format detection
// from content (TUM written with commas, ambiguous lines refused naming the candidates), folders
// and missing folders, MCAP topic choice, repeated timestamps, temp files on errors and signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trajectory, convertTrajectoryFile, detectFormat, duplicateStamps, readTrajectory, writeFileAtomicSync, writeTrajectory } from './index.ts';
import { McapLogWriter } from './mcap/writer.ts';

const EX = join(import.meta.dirname, '..', 'examples', 'data');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'impulse-bad-'));
}

test('a TUM file written with commas is read as TUM (seconds, qx qy qz qw), not EuRoC', async () => {
  const dir = tmp();
  try {
    const src = readFileSync(join(EX, 'freiburg1_xyz-rgbdslam.txt'), 'utf8');
    const p = join(dir, 'tum_comma.txt');
    writeFileSync(p, src.replaceAll(' ', ','));
    assert.equal(detectFormat(p, enc(src.replaceAll(' ', ',').slice(0, 4096))), 'tum');
    const a = await readTrajectory(join(EX, 'freiburg1_xyz-rgbdslam.txt'));
    const b = await readTrajectory(p);
    assert.equal(b.length, a.length);
    assert.deepEqual(Array.from(b.timestamps!.slice(0, 5)), Array.from(a.timestamps!.slice(0, 5)));
    assert.deepEqual(Array.from(b.poses.slice(0, 24)), Array.from(a.poses.slice(0, 24)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EuRoC (integer nanoseconds) is still EuRoC; an 8-field comma line with a short integer stamp is refused naming TUM and EuRoC', () => {
  assert.equal(detectFormat('x.txt', enc('1403715273262142976,1,2,3,1,0,0,0\n1403715273267142912,1,2,3,1,0,0,0\n')), 'euroc');
  const amb = enc('1,0,0,0,0,0,0,1\n2,0,0,0,0,0,0,1\n');
  assert.throws(() => detectFormat('a.txt', amb), /a\.txt, line 1: ambiguous format: .*TUM .*EuRoC.*give the format explicitly/);
  assert.equal(detectFormat('a.tum', amb), 'tum');
  assert.equal(detectFormat('a.csv', amb), 'euroc');
});

test('a folder as input or output, and an output folder that does not exist, are named errors', async () => {
  const dir = tmp();
  try {
    await assert.rejects(readTrajectory(dir), (e: Error) => e.message === `${dir}: is a folder, not a trajectory file`);
    const t = await readTrajectory(join(EX, 'freiburg1_xyz-rgbdslam.txt'));
    mkdirSync(join(dir, 'sub.tum'));
    await assert.rejects(writeTrajectory(join(dir, 'sub.tum'), t), /sub\.tum: is a folder; give a file name to write/);
    await assert.rejects(writeTrajectory(join(dir, 'missing', 'x.tum'), t), /missing[/\\]x\.tum: the output folder '.*missing' does not exist/);
    await assert.rejects(writeTrajectory(join(dir, 'missing', 'x.mcap'), t), /the output folder '.*missing' does not exist/);
    assert.throws(
      () => writeFileAtomicSync(join(dir, 'sub.tum'), 'x'),
      (e: Error) => !e.message.includes('.tmp') && e.message.includes('sub.tum'),
    );
    assert.deepEqual(readdirSync(dir), ['sub.tum']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MCAP without a topic: the only pose topic is picked; several are listed in the error', async () => {
  const dir = tmp();
  try {
    const t = await readTrajectory(join(EX, 'freiburg1_xyz-rgbdslam.txt'));
    const p = join(dir, 'traj.mcap');
    await writeTrajectory(p, t);
    const back = await readTrajectory(p);
    assert.equal(back.length, t.length);
    await assert.rejects(readTrajectory(join(EX, 'nav2_turtlebot.mcap')), /2 topics carry poses: \/odom \(nav_msgs\/Odometry\), \/amcl_pose .*--topic/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('repeated timestamps with different poses are found (identical repeats are not)', () => {
  const id = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  const moved = [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0];
  const t = new Trajectory({ poses: Float64Array.from([...id, ...id, ...moved, ...id]), timestamps: Float64Array.from([1, 1, 1, 2]) });
  assert.deepEqual(duplicateStamps(t), [{ index: 2, timestamp: 1 }]);
});

test('SIGTERM during an MCAP write removes the temporary file (and leaves no output)', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'big.mcap');
    const writer = new URL('./mcap/writer.ts', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { McapLogWriter } = await import(${JSON.stringify(writer)});
         const w = await McapLogWriter.create(${JSON.stringify(out)}, { compression: 'none' });
         const pose = { position: [1, 2, 3], orientation: [0, 0, 0, 1] };
         for (let i = 0; ; i++) { await w.addPoseInFrame('/t', BigInt(i + 1) * 1000n, 'world', pose); if (i === 2000) console.log('writing'); }`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('writing')) child.kill('SIGTERM');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    assert.deepEqual(readdirSync(dir), [], 'the temp file (or a partial output) was left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('McapLogWriter errors name the user path', async () => {
  const dir = tmp();
  try {
    await assert.rejects(McapLogWriter.create(join(dir, 'nope', 'x.mcap')), (e: Error) => /nope[/\\]x\.mcap/.test(e.message) && !e.message.includes('.tmp'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated MCAP (recording cut off) is an error naming the offset; with recover, every complete chunk is read and the loss reported', async () => {
  const dir = tmp();
  try {
    const t = await readTrajectory(join(EX, 'freiburg1_xyz-groundtruth.txt'));
    const full = join(dir, 'full.mcap');
    const w = await McapLogWriter.create(full, { compression: 'none', chunkSize: 16 * 1024 });
    for (let i = 0; i < t.length; i++) await w.addPoseInFrame('/trajectory', BigInt(Math.round(t.timestamps![i]! * 1e9)), 'world', t.pose(i));
    await w.close();
    const bytes = readFileSync(full);
    const cut = join(dir, 'cut.mcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(readTrajectory(cut), /cut\.mcap, offset \d+: .*truncated/);
    const r = await convertTrajectoryFile(cut, join(dir, 'out.tum'), { recover: true });
    assert.ok(r.recovered && r.recovered.lostBytes > 0 && r.recovered.truncatedAt > 0, JSON.stringify(r.recovered));
    assert.ok(r.poses > 0.4 * t.length && r.poses < 0.65 * t.length, `${r.poses} of ${t.length} poses recovered`);
    const back = await readTrajectory(join(dir, 'out.tum'));
    assert.deepEqual(Array.from(back.timestamps!.slice(0, 3)), Array.from(t.timestamps!.slice(0, 3)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
