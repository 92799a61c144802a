// End-to-end tests of the data-layer CLI commands (app/commands/data.ts: eval ape|rpe, replay, convert) on
// the shared data. The commands run in one child process (the test itself imports nothing from app/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const TRAJ = resolve(ROOT, 'examples', 'data'); // the bundled copies of shared/data's files
const NAV2 = resolve(ROOT, 'examples', 'data', 'nav2_turtlebot.mcap');
const tmp = mkdtempSync(join(tmpdir(), 'impulse-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs several CLI invocations in one child process; each gets a fresh commander program. */
function runAll(argvs: string[][]): Run[] {
  const driver = `
const { Command } = await import('commander');
const { register } = await import(${JSON.stringify(join(ROOT, 'app', 'commands', 'data.ts'))});
const argvs = JSON.parse(process.env.IMPULSE_ARGVS);
const results = [];
const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
for (const argv of argvs) {
  let out = '', err = '';
  process.exitCode = 0;
  process.stdout.write = (s) => ((out += s), true);
  process.stderr.write = (s) => ((err += s), true);
  const p = new Command('impulse').exitOverride();
  register(p);
  try { await p.parseAsync(argv, { from: 'user' }); } catch (e) { err += String(e && e.message); process.exitCode = 2; }
  process.stdout.write = ow; process.stderr.write = ew;
  results.push({ stdout: out, stderr: err, code: process.exitCode ?? 0 });
}
process.exitCode = 0;
ow(JSON.stringify(results));
`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', driver], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, IMPULSE_ARGVS: JSON.stringify(argvs) },
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Run[];
}

test('CLI: eval ape/rpe on KITTI, TUM and EuRoC files (JSON and tables), replay summary/extract, convert round trip, errors name file and line', () => {
  const bad = join(tmp, 'bad.tum');
  writeFileSync(bad, '1 0 0 0 0 0 0 1\n2 0 0 0 0 0 0 1\n3 0 0 x 0 0 0 1\n');
  const odomTum = join(tmp, 'odom.tum');
  const kittiJson = join(tmp, 'orb.json');
  const kittiBack = join(tmp, 'orb.kitti');
  const kittiMcap = join(tmp, 'orb.mcap');
  const [apeJson, apeTable, rpeJson, euroc, summary, extract, conv1, conv2, conv3, conv4, badRun, badMcap, noTimes] = runAll([
    ['eval', 'ape', join(TRAJ, 'KITTI_00_gt.txt'), join(TRAJ, 'KITTI_00_ORB.txt'), '--align', 'se3', '--json'],
    ['eval', 'ape', join(TRAJ, 'fr2_desk_groundtruth.txt'), join(TRAJ, 'fr2_desk_ORB.txt'), '--align', 'sim3'],
    ['eval', 'rpe', join(TRAJ, 'KITTI_00_gt.txt'), join(TRAJ, 'KITTI_00_SPTAM.txt'), '--delta', '100', '--delta-unit', 'm', '--all-pairs', '--json'],
    ['eval', 'ape', join(TRAJ, 'V102_groundtruth.csv'), join(TRAJ, 'V102.txt'), '--align', 'se3', '--relation', 'full', '--json'],
    ['replay', NAV2, '--summary', '--json'],
    ['replay', NAV2, '--topic', '/odom', '--out', odomTum, '--json'],
    ['convert', join(TRAJ, 'KITTI_00_ORB.txt'), kittiJson],
    ['convert', kittiJson, kittiBack, '--json'],
    ['convert', join(TRAJ, 'KITTI_00_ORB.txt'), kittiMcap, '--times', join(TRAJ, 'KITTI_00_gt_times.txt')],
    [
      'eval',
      'ape',
      join(TRAJ, 'KITTI_00_gt.txt'),
      kittiMcap,
      '--est-topic',
      '/trajectory',
      '--ref-times',
      join(TRAJ, 'KITTI_00_gt_times.txt'),
      '--align',
      'se3',
      '--json',
    ],
    ['eval', 'ape', join(TRAJ, 'fr2_desk_groundtruth.txt'), bad, '--json'],
    ['replay', join(TRAJ, 'V102.txt')],
    ['convert', join(TRAJ, 'KITTI_00_ORB.txt'), join(tmp, 'orb.tum')],
  ]);
  const a = JSON.parse(apeJson!.stdout);
  assert.equal(apeJson!.code, 0);
  assert.ok(Math.abs(a.stats.rmse - 1.303449714565045) < 1e-12);
  assert.equal(a.setup.associated, false);
  assert.match(apeTable!.stdout, /APE w\.r\.t\. translation part \(m\) \(with Sim\(3\) Umeyama alignment\)\n/);
  assert.match(apeTable!.stdout, /2174 of max\. 2893 matched by time/);
  assert.match(apeTable!.stdout, /\s+rmse\s+0\.006123\n/);
  const r = JSON.parse(rpeJson!.stdout);
  assert.equal(r.pairCount, 4457); // numpy/scipy evo re-implementation: kitti_SPTAM_rpe_100m_all_trans
  assert.ok(Math.abs(r.stats.rmse - 2.714585998251639) < 1e-9);
  assert.equal(r.allPairs, true);
  const e = JSON.parse(euroc!.stdout);
  assert.equal(e.setup.matches, 798);
  assert.ok(Math.abs(e.stats.rmse - 0.11360997601271182) < 1e-11);
  const s = JSON.parse(summary!.stdout);
  assert.equal(s.messageCount, 8197);
  assert.equal(s.startTime, '1778234353382747000');
  assert.ok(s.trajectories.some((t: { source: string; count: number }) => t.source === '/odom' && t.count === 2639));
  const x = JSON.parse(extract!.stdout);
  assert.equal(x.poses, 2639);
  assert.equal(readFileSync(odomTum, 'utf8').trim().split('\n').length, 2640);
  assert.equal(conv1!.code, 0);
  assert.match(conv1!.stdout, /converted .* \(json, 4541 poses, no timestamps\)/);
  assert.equal(JSON.parse(conv2!.stdout).poses, 4541);
  assert.equal(
    readFileSync(kittiBack, 'utf8'),
    readFileSync(join(TRAJ, 'KITTI_00_ORB.txt'), 'utf8').replace(/(-?\d+\.\d+)/g, (m) => String(Number(m))),
  );
  assert.equal(conv3!.code, 0);
  const viaMcap = JSON.parse(conv4!.stdout);
  assert.ok(Math.abs(viaMcap.stats.rmse - 1.303449714565045) < 1e-9, `${viaMcap.stats.rmse}`);
  assert.equal(badRun!.code, 1);
  assert.match(badRun!.stderr, /ParseError: .*bad\.tum, line 3, column 4, field 'tz': 'x' is not a number/);
  assert.deepEqual(JSON.parse(badRun!.stdout).error.line, 3);
  assert.equal(badMcap!.code, 1);
  assert.match(badMcap!.stderr, /McapFormatError: .*V102\.txt, offset 0: not an MCAP file/);
  assert.equal(noTimes!.code, 1);
  assert.match(noTimes!.stderr, /TUM output needs timestamps/);
  assert.ok(!existsSync(join(tmp, 'orb.tum')));
});

test('CLI: convert writes MCAP as ROS 2 PoseStamped CDR, or foxglove.PoseInFrame JSON with --mcap-encoding json; a bad encoding is refused', () => {
  const cdr = join(tmp, 'fr1.mcap');
  const json = join(tmp, 'fr1-json.mcap');
  const [c1, c2, s1, s2, bad] = runAll([
    ['convert', join(TRAJ, 'freiburg1_xyz-groundtruth.txt'), cdr],
    ['convert', join(TRAJ, 'freiburg1_xyz-groundtruth.txt'), json, '--mcap-encoding', 'json'],
    ['replay', cdr, '--summary', '--json'],
    ['replay', json, '--summary', '--json'],
    ['convert', join(TRAJ, 'freiburg1_xyz-groundtruth.txt'), join(tmp, 'x.mcap'), '--mcap-encoding', 'xml'],
  ]);
  assert.equal(c1!.code, 0, c1!.stderr);
  assert.equal(c2!.code, 0, c2!.stderr);
  const a = JSON.parse(s1!.stdout);
  const b = JSON.parse(s2!.stdout);
  const schemaOf = (s: { channels: { topic: string; schemaName: string; messageEncoding: string }[] }) =>
    s.channels.map((ch) => `${ch.topic} ${ch.schemaName} ${ch.messageEncoding}`);
  assert.deepEqual(schemaOf(a), ['/trajectory geometry_msgs/msg/PoseStamped cdr']);
  assert.deepEqual(schemaOf(b), ['/trajectory foxglove.PoseInFrame json']);
  assert.equal(a.messageCount, b.messageCount);
  assert.equal(bad!.code, 2);
  assert.match(bad!.stderr, /--mcap-encoding.*'xml' is invalid.*cdr, json/);
  assert.ok(!existsSync(join(tmp, 'x.mcap')));
});

test('CLI: convert streams Impulse JSON input and MCAP -> JSON; a bad JSON element is named with its path and line, exit 1, nothing written', () => {
  const json = join(tmp, 'fr1-stream.json');
  const bad = join(tmp, 'bad-stream.json');
  writeFileSync(
    bad,
    '{"format":"impulse.trajectory","version":1,\n"timestamps":[0,1],\n"poses":[\n[1,0,0,0,0,1,0,0,0,0,1,0],\n[1,0,0,0,0,1,0,0,0,0,1,"x"]\n]}\n',
  );
  const [c1, c2, c3, c4] = runAll([
    ['convert', join(TRAJ, 'freiburg1_xyz-groundtruth.txt'), join(tmp, 'fr1-stream.mcap')],
    ['convert', join(tmp, 'fr1-stream.mcap'), json],
    ['convert', json, join(tmp, 'fr1-stream.tum')],
    ['convert', bad, join(tmp, 'bad-stream.tum'), '--json'],
  ]);
  assert.equal(c1!.code, 0, c1!.stderr);
  assert.match(c2!.stdout, /-> .*fr1-stream\.json \(json, 3000 poses\), read as mcap, streamed/);
  assert.match(c3!.stdout, /-> .*fr1-stream\.tum \(tum, 3000 poses\), read as json, streamed/);
  assert.equal(c4!.code, 1);
  const err = JSON.parse(c4!.stdout).error;
  assert.equal(err.field, 'poses[1][11]');
  assert.equal(err.line, 5);
  assert.match(err.message, /Invalid input: expected number, received string/);
  assert.ok(!existsSync(join(tmp, 'bad-stream.tum')));
});
