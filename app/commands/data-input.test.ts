// Bad inputs of the data commands (app/commands/data.ts) through commander: numeric options out
// of range rejected when parsing, convert refusing to overwrite its input without --force,
// KITTI output saying where the timestamps went, repeated timestamps warned about, the format
// option named on an unknown extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './data.ts';
import { runCommand, type CommandOutput } from './test-util.ts';

const EX = join(import.meta.dirname, '..', '..', 'examples', 'data');

const run = (args: string[]): Promise<CommandOutput> => runCommand(register, args);

test('negative or zero numeric options are rejected when parsing, naming the option', async () => {
  const gt = join(EX, 'freiburg1_xyz-groundtruth.txt');
  const cases: [string[], RegExp][] = [
    [['eval', 'ape', gt, gt, '--t-max-diff', '-1'], /--t-max-diff must be >= 0, got '-1'/],
    [['eval', 'rpe', gt, gt, '--delta', '0'], /--delta must be positive, got '0'/],
    [['eval', 'ape', gt, gt, '--n-align', '-2'], /--n-align must be an integer >= -1, got '-2'/],
    [['replay', 'x.mcap', '--print', '--limit', '-1'], /--limit must be an integer >= 0, got '-1'/],
    [['replay', 'x.mcap', '--print', '--speed', '-2'], /--speed must be positive/],
    [['replay', 'x.mcap', '--from', '-3'], /--from must be >= 0/],
    [['convert', gt, 'x.tum', '--rate', '-10'], /--rate must be positive/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.err, /commander\.invalidArgument/, args.join(' '));
    assert.match(r.err, re, args.join(' '));
  }
});

test('convert refuses to overwrite its input unless --force; KITTI output says the timestamps were not written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-convert-'));
  try {
    const p = join(dir, 'same.tum');
    copyFileSync(join(EX, 'freiburg1_xyz-rgbdslam.txt'), p);
    const before = readFileSync(p, 'utf8');
    for (const args of [
      ['convert', p, p, '--to', 'kitti'],
      ['convert', p, join(dir, '.', 'same.tum')],
      ['convert', p, join(dir, 'x.kitti'), '--out-times', p],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, /is the input file; converting would overwrite it .*--force/);
      assert.equal(readFileSync(p, 'utf8'), before, 'the input was changed');
    }
    const forced = await run(['convert', p, p, '--force']);
    assert.equal(forced.code, 0, forced.err);

    const k = await run(['convert', p, join(dir, 'out.kitti'), '--json']);
    assert.equal(k.code, 0, k.err);
    assert.match(k.err, /warning: KITTI poses carry no timestamps: the 788 timestamps .* --out-times/);
    assert.match(JSON.parse(k.out).warnings[0], /--out-times/);
    const kt = await run(['convert', p, join(dir, 'out2.kitti'), '--out-times', join(dir, 'times.txt')]);
    assert.equal(kt.code, 0, kt.err);
    assert.doesNotMatch(kt.err, /warning/);

    const ext = await run(['convert', p, join(dir, 'out.xyz')]);
    assert.equal(ext.code, 1);
    assert.match(ext.err, /cannot tell the output format from the extension '\.xyz': use one of .*\.kitti \(kitti\).*--to/);
    const folder = await run(['convert', p, dir]);
    assert.match(folder.err, /is a folder; give a file name to write/);
    const nodir = await run(['convert', p, join(dir, 'no', 'x.tum'), '--json']);
    assert.match(nodir.err, /the output folder .* does not exist/);
    assert.match(JSON.parse(nodir.out).error.message, /does not exist/);

    writeFileSync(join(dir, 'dup.tum'), '1.0 0 0 0 0 0 0 1\n1.0 1 0 0 0 0 0 1\n2.0 0 0 0 0 0 0 1\n');
    const dup = await run(['convert', join(dir, 'dup.tum'), join(dir, 'dup.json')]);
    assert.equal(dup.code, 0, dup.err);
    assert.match(dup.err, /warning: .*dup\.tum: 1 repeated timestamp\(s\) with a different pose \(pose 1 at t = 1\)/);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
