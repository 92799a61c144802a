// Tests that `impulse eval ape` names the alignment it used in its first line: the unaligned and the
// SE(3)-aligned errors of the same files differ several-fold (KITTI 00 ORB: 7.79 m vs 1.30 m RMSE).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'impulse.js');
const GT = join(root, 'examples', 'data', 'KITTI_00_gt.txt');
const ORB = join(root, 'examples', 'data', 'KITTI_00_ORB.txt');

function firstLineAndRmse(...args: string[]): [string, string] {
  const r = spawnSync(process.execPath, [bin, 'eval', 'ape', GT, ORB, ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return [r.stdout.split('\n')[0]!, /\n\s*rmse\s+(\S+)\n/.exec(r.stdout)![1]!];
}

test('impulse eval ape says in its first line which alignment it used', () => {
  const [none, rmseNone] = firstLineAndRmse();
  assert.equal(none, 'APE w.r.t. translation part (m) (not aligned: --align se3|sim3|scale to align)');
  const [se3, rmseSe3] = firstLineAndRmse('--align', 'se3');
  assert.equal(se3, 'APE w.r.t. translation part (m) (with SE(3) Umeyama alignment)');
  assert.ok(Math.abs(Number(rmseSe3) - 1.30345) < 1e-5, rmseSe3);
  assert.ok(Number(rmseNone) > 5 * Number(rmseSe3), `${rmseNone} vs ${rmseSe3}`);
  const [origin] = firstLineAndRmse('--align-origin');
  assert.equal(origin, 'APE w.r.t. translation part (m) (with origin alignment)');
});
