// Data-layer benchmark (bench/, run by `npm run bench -- data`): parse KITTI 00 and fr2_desk ground
// truth, APE with SE(3) alignment on KITTI 00, and the summary and full replay of a generated MCAP of
// ROS 2 pose messages (default 1 GiB; `--size-mb N` for smaller runs), timed in child processes so
// their peak resident memory is measured alone. Returns a JSON object; asserts nothing.

import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseRosMsg } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { McapLogWriter, ROS2_ODOMETRY_DEFINITION, ROS2_POSE_STAMPED_DEFINITION, evaluateApe, readTrajectory } from '../data/index.ts';
import { argNum, round, timeMsAsync } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description =
  'trajectory parsing, APE, streaming convert of TUM, Impulse JSON and MCAP input (MB/s, peak RSS), MCAP summary and replay of a generated log';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(ROOT, 'examples', 'data');

/** Byte offsets of float64 sentinels in a CDR message, so a template can be patched without re-encoding. */
function sentinelOffsets(bytes: Uint8Array, values: number[]): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return values.map((v) => {
    for (let o = 4; o + 8 <= bytes.length; o++) if (dv.getFloat64(o, true) === v) return o;
    throw new Error(`sentinel ${v} not found`);
  });
}

/**
 * Writes an indexed MCAP of nav_msgs/Odometry (/odom) and geometry_msgs/PoseStamped (/pose) at 100 Hz
 * each along a circle, uncompressed chunks, until the file reaches `bytes`.
 */
export async function generateLog(path: string, bytes: number): Promise<{ messages: number; seconds: number }> {
  const t0 = performance.now();
  const w = await McapLogWriter.create(path, { compression: 'none', profile: 'ros2' });
  const odomW = new MessageWriter(parseRosMsg(ROS2_ODOMETRY_DEFINITION, { ros2: true }));
  const poseW = new MessageWriter(parseRosMsg(ROS2_POSE_STAMPED_DEFINITION, { ros2: true }));
  const S = [1111.5, 2222.5, 3333.5, 4444.5, 5555.5, 6666.5];
  const pose = { position: { x: S[0], y: S[1], z: 0 }, orientation: { x: 0, y: 0, z: S[2], w: S[3] } };
  const header = { stamp: { sec: 0, nanosec: 0 }, frame_id: 'odom' };
  const odomT = odomW.writeMessage({
    header,
    child_frame_id: 'base_link',
    pose: { pose, covariance: new Float64Array(36) },
    twist: { twist: { linear: { x: S[4], y: 0, z: 0 }, angular: { x: 0, y: 0, z: S[5] } }, covariance: new Float64Array(36) },
  });
  const poseT = poseW.writeMessage({ header, pose });
  const oOff = sentinelOffsets(odomT, S);
  const pOff = sentinelOffsets(poseT, S.slice(0, 4));
  // register channels with a real first message, then append patched copies through the same API
  let n = 0;
  const r = 5; // circle radius, m
  for (let k = 0; ; k++) {
    const t = k * 0.01;
    const ns = BigInt(k) * 10000000n + 1700000000000000000n;
    const sec = Number(ns / 1000000000n),
      nsec = Number(ns % 1000000000n);
    const th = 0.2 * t;
    const vals = [r * Math.cos(th), r * Math.sin(th), Math.sin((th + Math.PI / 2) / 2), Math.cos((th + Math.PI / 2) / 2), r * 0.2, 0.2];
    const od = odomT.slice();
    const dvo = new DataView(od.buffer);
    dvo.setInt32(4, sec, true);
    dvo.setUint32(8, nsec, true);
    oOff.forEach((o, i) => dvo.setFloat64(o, vals[i]!, true));
    const ps = poseT.slice();
    const dvp = new DataView(ps.buffer);
    dvp.setInt32(4, sec, true);
    dvp.setUint32(8, nsec, true);
    pOff.forEach((o, i) => dvp.setFloat64(o, vals[i]!, true));
    await w.addRos2Raw('/odom', 'nav_msgs/msg/Odometry', ROS2_ODOMETRY_DEFINITION, ns, od);
    await w.addRos2Raw('/pose', 'geometry_msgs/msg/PoseStamped', ROS2_POSE_STAMPED_DEFINITION, ns, ps);
    n += 2;
    if (k % 4096 === 0 && w.bytesWritten() >= bytes) break;
  }
  await w.close();
  return { messages: n, seconds: (performance.now() - t0) / 1000 };
}

const CHILD = `
const [mode, path] = process.argv.slice(-2);
const { McapLog, summarizeTrajectories } = await import(${JSON.stringify(join(ROOT, 'data', 'index.ts'))});
const t0 = performance.now();
let out;
if (mode === 'summary') {
  const log = await McapLog.open(path);
  const s = await log.summary();
  await log.close();
  out = { messages: s.messageCount, channels: s.channels.length, chunks: s.chunkCount };
} else {
  const log = await McapLog.open(path);
  const stats = await summarizeTrajectories(log);
  await log.close();
  out = { trajectories: stats.map((s) => ({ source: s.source, poses: s.count, pathLength: s.pathLength })) };
}
out.seconds = (performance.now() - t0) / 1000;
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify(out));
`;

const CONVERT_CHILD = `
const [input, output, opts] = process.argv.slice(-3);
const { convertTrajectoryFile } = await import(${JSON.stringify(join(ROOT, 'data', 'index.ts'))});
const { statSync } = await import('node:fs');
const t0 = performance.now();
const c0 = process.cpuUsage();
const r = await convertTrajectoryFile(input, output, JSON.parse(opts));
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const cpuSeconds = (c.user + c.system) / 1e6;
const inMB = statSync(input).size / 1e6;
console.log(JSON.stringify({ poses: r.poses, streamed: r.streamed, seconds, cpuSeconds, inputMBperSec: inMB / seconds, inputMBperCpuSec: inMB / cpuSeconds, outputMB: statSync(output).size / 1e6, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
`;

/** Writes a TUM file of about `bytes` bytes (poses along a helix turning about a tilted axis, 100 Hz, 6 decimals as TUM tools write). */
async function generateTum(path: string, bytes: number): Promise<number> {
  const fh = await open(path, 'w');
  let n = 0;
  let size = 0;
  try {
    await fh.write('# timestamp tx ty tz qx qy qz qw\n');
    while (size < bytes) {
      const parts: string[] = [];
      for (let k = 0; k < 10000; k++, n++) {
        const th = n * 0.001;
        // a rotation about a tilted axis, so that all four quaternion components vary (as in real logs)
        const s = Math.sin(th / 2);
        const line = `${(1305031102 + n * 0.01).toFixed(6)} ${(5 * Math.cos(th)).toFixed(6)} ${(5 * Math.sin(th)).toFixed(6)} ${(0.001 * n).toFixed(6)} ${(0.48 * s).toFixed(6)} ${(0.6 * s).toFixed(6)} ${(0.64 * s).toFixed(6)} ${Math.cos(th / 2).toFixed(6)}\n`;
        parts.push(line);
        size += line.length;
      }
      await fh.write(parts.join(''));
    }
  } finally {
    await fh.close();
  }
  return n;
}

/**
 * Writes an Impulse JSON trajectory of about `bytes` bytes in the order formatTrajectoryJson writes
 * (format, version, timestamps, poses, frame_id), one number row a line: the TUM generator's helix at
 * 100 Hz with full-precision rotation matrices (as the project's writer prints them).
 */
async function generateJson(path: string, bytes: number): Promise<number> {
  const pose = (n: number): number[] => {
    const th = n * 0.001;
    const s = Math.sin(th / 2);
    const [x, y, z, w] = [0.48 * s, 0.6 * s, 0.64 * s, Math.cos(th / 2)];
    return [
      1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w), 5 * Math.cos(th),
      2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w), 5 * Math.sin(th),
      2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y), 0.001 * n,
    ]; // prettier-ignore
  };
  const stamp = (n: number): number => 1305031102 + n * 0.01;
  const perPose = JSON.stringify(pose(1234)).length + String(stamp(1234)).length + 3;
  const n = Math.max(1, Math.round(bytes / perPose));
  const fh = await open(path, 'w');
  try {
    await fh.write('{"format":"impulse.trajectory","version":1,"timestamps":[\n');
    for (let a = 0; a < n; a += 10000) {
      const parts: string[] = [];
      for (let i = a; i < Math.min(n, a + 10000); i++) parts.push(String(stamp(i)));
      await fh.write(parts.join(',\n') + (a + 10000 < n ? ',\n' : '\n],"poses":[\n'));
    }
    for (let a = 0; a < n; a += 10000) {
      const parts: string[] = [];
      for (let i = a; i < Math.min(n, a + 10000); i++) parts.push(JSON.stringify(pose(i)));
      await fh.write(parts.join(',\n') + (a + 10000 < n ? ',\n' : '\n],"frame_id":"world"}\n'));
    }
  } finally {
    await fh.close();
  }
  return n;
}

function runConvertChild(input: string, output: string, opts: Record<string, unknown> = {}): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CONVERT_CHILD, input, output, JSON.stringify(opts)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`bench child 'convert ${input} ${output}' failed: ${r.stderr}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, 3) : v]));
}

function runChild(mode: 'summary' | 'replay', path: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, mode, path], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`bench child '${mode}' failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/**
 * Runs the data benchmark. Args: `--size-mb N` (generated MCAP size, default 1024), `--convert-mb N`
 * (generated TUM file for the streaming convert, default 200; 0 skips), `--json-mb N` (generated
 * Impulse JSON trajectory converted by the streaming JSON reader, default the `--convert-mb` size;
 * 0 skips; `--json-in-memory` adds the route that reads the whole trajectory, then writes TUM),
 * `--reps N` (default 5),
 * `--keep` (keep the MCAP).
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const sizeMb = argNum(args, 'size-mb', 1024, { bench: 'data', allowZero: true });
  const convertMb = argNum(args, 'convert-mb', 200, { bench: 'data', allowZero: true });
  const jsonMb = argNum(args, 'json-mb', convertMb, { bench: 'data', allowZero: true });
  const reps = argNum(args, 'reps', 5, { bench: 'data' });
  const out: Record<string, unknown> = {};
  out.parseKitti00Ms = await timeMsAsync(() => readTrajectory(join(DATA, 'KITTI_00_gt.txt')), reps);
  out.parseFr2DeskGtMs = await timeMsAsync(() => readTrajectory(join(DATA, 'fr2_desk_groundtruth.txt')), reps);
  const gt = await readTrajectory(join(DATA, 'KITTI_00_gt.txt'));
  const orb = await readTrajectory(join(DATA, 'KITTI_00_ORB.txt'));
  out.kitti00Poses = gt.length;
  out.apeSe3Kitti00Ms = await timeMsAsync(() => evaluateApe(gt, orb, { mode: 'se3' }), reps);
  out.apeSe3Kitti00Rmse = evaluateApe(gt, orb, { mode: 'se3' }).stats.rmse;

  const dir = mkdtempSync(join(tmpdir(), 'impulse-bench-data-'));
  const path = join(dir, 'poses.mcap');
  try {
    if (convertMb > 0) {
      const tum = join(dir, 'big.tum');
      const poses = await generateTum(tum, convertMb * 1e6);
      const conv: Record<string, unknown> = {
        inputMB: round(statSync(tum).size / 1e6, 1),
        poses,
        method:
          'impulse convert (convertTrajectoryFile) in a fresh child process each; peak RSS from getrusage; MB/s per wall second and per CPU second (the second is what a busy machine does not change)',
        targets: { inputMBperSec: 50, peakRssMB: 300 },
      };
      for (const ext of ['kitti', 'tum', 'csv', 'mcap']) {
        const outPath = join(dir, `out.${ext}`);
        conv[`tumTo_${ext}`] = runConvertChild(tum, outPath);
        if (ext !== 'mcap') rmSync(outPath, { force: true });
      }
      // MCAP with foxglove.PoseInFrame JSON messages (--mcap-encoding json) instead of PoseStamped CDR
      conv.tumTo_mcapJson = runConvertChild(tum, join(dir, 'out-json.mcap'), { mcapEncoding: 'json' });
      rmSync(join(dir, 'out-json.mcap'), { force: true });
      rmSync(tum, { force: true });
      // MCAP input streamed back to TUM (MB/s of the MCAP file)
      conv.mcapTo_tum = { mcapMB: round(statSync(join(dir, 'out.mcap')).size / 1e6, 1), ...runConvertChild(join(dir, 'out.mcap'), join(dir, 'back.tum')) };
      // and to MCAP and to Impulse JSON (both streamed too)
      conv.mcapTo_mcap = runConvertChild(join(dir, 'out.mcap'), join(dir, 'back.mcap'));
      conv.mcapTo_json = runConvertChild(join(dir, 'out.mcap'), join(dir, 'back.json'));
      rmSync(join(dir, 'back.mcap'), { force: true });
      rmSync(join(dir, 'back.json'), { force: true });
      rmSync(join(dir, 'out.mcap'), { force: true });
      rmSync(join(dir, 'back.tum'), { force: true });
      out.streamingConvert = conv;
    }
    if (jsonMb > 0) {
      const json = join(dir, 'big.json');
      const poses = await generateJson(json, jsonMb * 1e6);
      const conv: Record<string, unknown> = {
        inputMB: round(statSync(json).size / 1e6, 1),
        poses,
        method: 'impulse convert of an Impulse JSON trajectory (streaming JSON reader) in a fresh child process each; peak RSS from getrusage',
        targets: { inputMBperSec: 50, peakRssMB: 300 },
      };
      for (const ext of ['tum', 'kitti', 'csv', 'mcap']) {
        const outPath = join(dir, `out.${ext}`);
        conv[`jsonTo_${ext}`] = runConvertChild(json, outPath);
        rmSync(outPath, { force: true });
      }
      if (args.includes('--json-in-memory')) {
        conv.jsonTo_tumInMemory = runConvertChild(json, join(dir, 'out.tum'), { inMemory: true });
        rmSync(join(dir, 'out.tum'), { force: true });
      }
      rmSync(json, { force: true });
      out.jsonConvert = conv;
    }
    const gen = await generateLog(path, sizeMb * 1024 * 1024);
    out.mcap = {
      sizeMB: statSync(path).size / (1024 * 1024),
      messages: gen.messages,
      generateSec: gen.seconds,
      summary: runChild('summary', path),
      replay: runChild('replay', path),
      targets: { summarySec: 2, replayPeakRssMB: 300 },
    };
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else out.keptFile = path;
  }
  return out;
}
