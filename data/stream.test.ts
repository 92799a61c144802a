// Streaming conversion (data/formats/stream.ts): the same output as reading the whole file and
// writing it, block boundaries anywhere (tiny blocks), bad lines named by file and line, and
// nothing left behind on errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertStreaming, convertTrajectoryFile, readTrajectory } from './index.ts';

const EX = join(import.meta.dirname, '..', 'examples', 'data');

test('streamed conversions equal the in-memory ones (TUM, TUM with commas, EuRoC, KITTI -> TUM, KITTI + times, EuRoC, MCAP)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    const tumComma = join(dir, 'comma.txt');
    writeFileSync(tumComma, readFileSync(join(EX, 'freiburg1_xyz-rgbdslam.txt'), 'utf8').replaceAll(' ', ','));
    const cases: [string, string, { rate?: number }][] = [
      [join(EX, 'freiburg1_xyz-rgbdslam.txt'), 'kitti', {}],
      [tumComma, 'tum', {}],
      [join(EX, 'fr2_desk_ORB.txt'), 'csv', {}],
      [join(EX, 'V102_groundtruth.csv'), 'tum', {}],
      [join(EX, 'KITTI_00_ORB.txt'), 'tum', { rate: 10 }],
      [join(EX, 'KITTI_00_ORB.txt'), 'kitti', {}],
    ];
    for (const [input, ext, o] of cases) {
      const a = join(dir, `a.${ext}`);
      const b = join(dir, `b.${ext}`);
      const rs = await convertTrajectoryFile(input, a, {
        rate: o.rate,
        outTimesFile: ext === 'kitti' && o.rate === undefined && !input.includes('KITTI') ? join(dir, 'ta.txt') : undefined,
      });
      const rm = await convertTrajectoryFile(input, b, {
        rate: o.rate,
        inMemory: true,
        outTimesFile: ext === 'kitti' && o.rate === undefined && !input.includes('KITTI') ? join(dir, 'tb.txt') : undefined,
      });
      assert.equal(rs.streamed, true, input);
      assert.equal(rm.streamed, false);
      assert.equal(rs.poses, rm.poses);
      assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'), `${input} -> .${ext}`);
    }
    assert.equal(readFileSync(join(dir, 'ta.txt'), 'utf8'), readFileSync(join(dir, 'tb.txt'), 'utf8'));
    // MCAP: the poses read back are the same
    const src = join(EX, 'freiburg1_xyz-groundtruth.txt');
    await convertTrajectoryFile(src, join(dir, 's.mcap'));
    await convertTrajectoryFile(src, join(dir, 'm.mcap'), { inMemory: true });
    const [s, m] = [await readTrajectory(join(dir, 's.mcap')), await readTrajectory(join(dir, 'm.mcap'))];
    assert.deepEqual(Array.from(s.poses), Array.from(m.poses));
    assert.deepEqual(Array.from(s.timestamps!), Array.from(m.timestamps!));
    // tiny blocks: lines cut anywhere
    await convertStreaming(tumComma, join(dir, 'tiny.tum'), { from: 'tum', to: 'tum', blockBytes: 7 });
    await convertTrajectoryFile(tumComma, join(dir, 'whole.tum'), { inMemory: true });
    assert.equal(readFileSync(join(dir, 'tiny.tum'), 'utf8'), readFileSync(join(dir, 'whole.tum'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad line deep in a streamed file is named by file and line, and no output or temp file is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    const lines = readFileSync(join(EX, 'freiburg1_xyz-groundtruth.txt'), 'utf8').split('\n');
    const bad = [...lines];
    bad[2500] = bad[2500]!.replace(/ [^ ]+$/, ' nan');
    writeFileSync(join(dir, 'bad.tum'), bad.join('\n'));
    await assert.rejects(
      convertStreaming(join(dir, 'bad.tum'), join(dir, 'o.kitti'), { from: 'tum', to: 'kitti', blockBytes: 4096 }),
      /bad\.tum, line 2501, column 8, field 'qw': value 'nan' is not finite/,
    );
    const back = [...lines];
    back[1000] = back[1000]!.replace(/^\S+/, '1.0');
    writeFileSync(join(dir, 'back.tum'), back.join('\n'));
    await assert.rejects(convertTrajectoryFile(join(dir, 'back.tum'), join(dir, 'o.mcap')), /back\.tum, line 1001: timestamp 1 goes backwards/);
    assert.deepEqual(readdirSync(dir).sort(), ['back.tum', 'bad.tum']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('streamed TUM edge cases (comments, blank lines, CRLF, commas, scientific notation, odd decimals, any block size) equal the in-memory conversion; a bad line is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    const text = [
      '# timestamp tx ty tz qx qy qz qw',
      '',
      '   # indented comment',
      '1.5 1e-3 -2.5E+2 +.5 0 0 0 1\r',
      '\t',
      '1.6,5.,-0.0,12345678901234567890,0,0,0.0000000000000000000000001,1\r',
      '1.7 , 0.1 , 0.2 , 1e-30 , 0 , 0 , 0.7071067811865476 , 0.7071067811865476',
      '1.8\t3.14159265358979323846\t007\t-1E2\t0.1\t0.2\t0.3\t0.9',
      '1.9 123456789.123456789 9007199254740993 1e22 0 0 0 2',
      '2.0 0.30000000000000004 1e23 -1e-22 0 0 0 1',
    ].join('\n');
    const input = join(dir, 'edge.tum');
    writeFileSync(input, text);
    for (const ext of ['tum', 'kitti', 'csv']) {
      const whole = join(dir, `whole.${ext}`);
      await convertTrajectoryFile(input, whole, { inMemory: true, outTimesFile: ext === 'kitti' ? join(dir, 'tw.txt') : undefined });
      for (const blockBytes of [1, 3, 7, 64, 1 << 20]) {
        const to = ext === 'csv' ? 'euroc' : ext;
        const out = join(dir, `s${blockBytes}.${ext}`);
        await convertStreaming(input, out, { from: 'tum', to: to as 'tum', blockBytes, timesFile: ext === 'kitti' ? join(dir, 'ts.txt') : undefined });
        assert.equal(readFileSync(out, 'utf8'), readFileSync(whole, 'utf8'), `${ext}, blocks of ${blockBytes}`);
        if (ext === 'kitti') assert.equal(readFileSync(join(dir, 'ts.txt'), 'utf8'), readFileSync(join(dir, 'tw.txt'), 'utf8'));
      }
    }
    // a UTF-8 byte order mark (written by some Windows tools)
    writeFileSync(join(dir, 'bom.tum'), '\ufeff' + text.split('\n').slice(3).join('\n'));
    await convertTrajectoryFile(join(dir, 'bom.tum'), join(dir, 'bom-s.tum'), { from: 'tum' });
    await convertTrajectoryFile(join(dir, 'bom.tum'), join(dir, 'bom-m.tum'), { from: 'tum', inMemory: true });
    assert.equal(readFileSync(join(dir, 'bom-s.tum'), 'utf8'), readFileSync(join(dir, 'bom-m.tum'), 'utf8'));
    const bad = join(dir, 'bad.tum');
    writeFileSync(bad, text.replace('1.8\t3.14159265358979323846', '1.8\t3.14.15'));
    for (const blockBytes of [5, 1 << 20])
      await assert.rejects(
        convertStreaming(bad, join(dir, 'o.tum'), { from: 'tum', to: 'tum', blockBytes }),
        /bad\.tum, line 8, column 2, field 'tx': '3\.14\.15' is not a number/,
      );
    writeFileSync(bad, text.replace('1.9 ', '1.9 1e ').replace('\n2.0', '\n1.95 1 2 3 0 0 0 1\n2.0'));
    await assert.rejects(
      convertStreaming(bad, join(dir, 'o.tum'), { from: 'tum', to: 'tum', blockBytes: 4 }),
      /bad\.tum, line 9: TUM line has 9 fields, expected 8/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KITTI with its times file streams (times read alongside, any block size) and equals the in-memory conversion; a times file of another length or with a bad line is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    const poses = join(EX, 'KITTI_00_gt.txt');
    const times = join(EX, 'KITTI_00_gt_times.txt');
    for (const ext of ['tum', 'mcap']) {
      const s = join(dir, `s.${ext}`);
      const m = join(dir, `m.${ext}`);
      const rs = await convertTrajectoryFile(poses, s, { from: 'kitti', timesFile: times });
      const rm = await convertTrajectoryFile(poses, m, { from: 'kitti', timesFile: times, inMemory: true });
      assert.equal(rs.streamed, true);
      assert.equal(rs.poses, rm.poses);
      if (ext === 'tum') assert.equal(readFileSync(s, 'utf8'), readFileSync(m, 'utf8'));
      else assert.deepEqual(Array.from((await readTrajectory(s)).timestamps!), Array.from((await readTrajectory(m)).timestamps!));
    }
    // small blocks of both files; comments and blank lines in the times file
    const lines = readFileSync(times, 'utf8').trim().split('\n');
    const t2 = join(dir, 'times.txt');
    writeFileSync(t2, ['# times', ...lines.slice(0, 10), '', ...lines.slice(10)].join('\n'));
    await convertStreaming(poses, join(dir, 'b.tum'), { from: 'kitti', to: 'tum', timesFileIn: t2, blockBytes: 333 });
    assert.equal(readFileSync(join(dir, 'b.tum'), 'utf8'), readFileSync(join(dir, 's.tum'), 'utf8'));
    // one timestamp short, one too many, a bad value, going backwards: the in-memory reader's errors
    writeFileSync(t2, lines.slice(0, -1).join('\n'));
    await assert.rejects(
      convertTrajectoryFile(poses, join(dir, 'o.tum'), { timesFile: t2 }),
      /times\.txt, line 4540: times file has 4540 timestamps for 4541 poses/,
    );
    writeFileSync(t2, [...lines, '999'].join('\n'));
    await assert.rejects(convertTrajectoryFile(poses, join(dir, 'o.tum'), { timesFile: t2 }), /times file has 4542 timestamps for 4541 poses/);
    writeFileSync(t2, lines.map((l, i) => (i === 2000 ? 'x' : l)).join('\n'));
    await assert.rejects(
      convertTrajectoryFile(poses, join(dir, 'o.tum'), { timesFile: t2 }),
      /times\.txt, line 2001, column 1, field 'timestamp': 'x' is not a number/,
    );
    writeFileSync(t2, lines.map((l, i) => (i === 3000 ? '1' : l)).join('\n'));
    await assert.rejects(convertTrajectoryFile(poses, join(dir, 'o.tum'), { timesFile: t2 }), /times\.txt, line 3001: timestamp 1 goes backwards/);
    assert.deepEqual(readdirSync(dir).sort(), ['m.mcap', 'm.tum', 's.mcap', 's.tum', 'b.tum', 'times.txt'].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MonoForce CSV streams (commas or spaces, 13 or 17 columns, header) and equals the in-memory conversion; bad lines are named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    const poses = readFileSync(join(EX, 'KITTI_00_gt.txt'), 'utf8').trim().split('\n').slice(0, 800);
    const times = readFileSync(join(EX, 'KITTI_00_gt_times.txt'), 'utf8').trim().split('\n');
    const header = 'stamp,T00,T01,T02,T03,T10,T11,T12,T13,T20,T21,T22,T23';
    const variants: Record<string, string> = {
      'comma13.csv': [header, ...poses.map((p, i) => [times[i]!.trim(), ...p.trim().split(/\s+/)].join(','))].join('\n'),
      'space17.csv': ['# t pose', ...poses.map((p, i) => `${times[i]!.trim()} ${p.trim()} 0 0 0 1`)].join('\n') + '\n',
    };
    for (const [name, text] of Object.entries(variants)) {
      const input = join(dir, name);
      writeFileSync(input, text);
      for (const ext of ['tum', 'kitti', 'txt']) {
        const s = join(dir, `s.${ext}`);
        const m = join(dir, `m.${ext}`);
        const to = ext === 'txt' ? 'euroc' : ext;
        const rs = await convertTrajectoryFile(input, s, { from: 'monoforce', to: to as 'tum' });
        const rm = await convertTrajectoryFile(input, m, { from: 'monoforce', to: to as 'tum', inMemory: true });
        assert.equal(rs.streamed, true, `${name} -> ${ext}`);
        assert.equal(rm.streamed, false);
        assert.equal(rs.poses, rm.poses);
        assert.equal(readFileSync(s, 'utf8'), readFileSync(m, 'utf8'), `${name} -> ${ext}`);
      }
      await convertStreaming(input, join(dir, 'tiny.tum'), { from: 'monoforce', to: 'tum', blockBytes: 13 });
      assert.equal(readFileSync(join(dir, 'tiny.tum'), 'utf8'), readFileSync(join(dir, 'm.tum'), 'utf8'));
    }
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, variants['space17.csv']!.replace(/ 0 0 0 1\n/, ' 0 0 1 1\n'));
    await assert.rejects(
      convertTrajectoryFile(bad, join(dir, 'o.tum'), { from: 'monoforce' }),
      /bad\.csv, line 2: bottom row T30\.\.T33 is 0 0 1 1, expected 0 0 0 1/,
    );
    writeFileSync(bad, variants['comma13.csv']!.replace(/\n([^,\n]+),[^,\n]+,/, '\n$1,x,'));
    await assert.rejects(convertTrajectoryFile(bad, join(dir, 'o.tum'), { from: 'monoforce' }), /bad\.csv, line 2, column 2, field 'T00': 'x' is not a number/);
    writeFileSync(
      bad,
      variants['comma13.csv']!.split('\n')
        .map((l, i) => (i === 5 ? l.split(',').slice(0, 10).join(',') : l))
        .join('\n'),
    );
    await assert.rejects(
      convertTrajectoryFile(bad, join(dir, 'o.tum'), { from: 'monoforce' }),
      /bad\.csv, line 6: MonoForce CSV line has 10 fields, expected 13 to 17 \(truncated line\?\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('streamed output equals the in-memory writers on random values written every way a number can be (signs, exponents, zeros, long mantissas, commas)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-stream-'));
  try {
    let s = 99;
    const r = (): number => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 4294967296;
    };
    const text = (x: number): string => {
      const k = Math.floor(r() * 7);
      if (k === 0) return String(x);
      if (k === 1) return x.toFixed(Math.floor(r() * 10));
      if (k === 2) return x.toExponential(Math.floor(r() * 17));
      if (k === 3) return x.toPrecision(1 + Math.floor(r() * 21));
      if (k === 4) return (x >= 0 ? '+' : '') + x.toFixed(6) + '000';
      if (k === 5) return x.toExponential(3).replace('e', 'E');
      return x.toFixed(20);
    };
    const lines: string[] = ['# timestamp tx ty tz qx qy qz qw'];
    let t = 1e9 * r();
    for (let i = 0; i < 3000; i++) {
      t += r() < 0.05 ? 0 : r() * 0.1;
      const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
      const p = [(r() - 0.5) * 10 ** Math.floor(r() * 12 - 6), (r() - 0.5) * 100, r() < 0.1 ? 0 : -r()];
      const sep = i % 500 === 7 ? ', ' : ' ';
      const time = [String(t), t.toPrecision(17), t.toExponential(16), t.toFixed(20)][Math.floor(r() * 4)]!; // exact: the order is kept
      lines.push([time, ...p.map(text), ...q.map(text)].join(sep));
    }
    const src = join(dir, 'random.tum');
    writeFileSync(src, lines.join('\n') + '\n');
    for (const ext of ['tum', 'csv', 'kitti']) {
      await convertTrajectoryFile(src, join(dir, `s.${ext}`));
      await convertTrajectoryFile(src, join(dir, `m.${ext}`), { inMemory: true });
      assert.equal(readFileSync(join(dir, `s.${ext}`), 'utf8'), readFileSync(join(dir, `m.${ext}`), 'utf8'), ext);
    }
    // and through MCAP back to TUM: PoseStamped CDR gives what foxglove.PoseInFrame JSON gives
    await convertTrajectoryFile(src, join(dir, 'cdr.mcap'));
    await convertTrajectoryFile(src, join(dir, 'json.mcap'), { mcapEncoding: 'json' });
    await convertTrajectoryFile(join(dir, 'cdr.mcap'), join(dir, 'cdr.tum'));
    await convertTrajectoryFile(join(dir, 'json.mcap'), join(dir, 'json.tum'));
    assert.equal(readFileSync(join(dir, 'cdr.tum'), 'utf8'), readFileSync(join(dir, 'json.tum'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
