// Tests of the recent-files list (app/electron/recent-files.ts) on a temporary userData folder:
// order and de-duplication, the cap, pruning of missing files, corrupt or invalid files set
// aside, and no temporary file left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecentFiles, RECENT_FILES_NAME, recentFileSchema } from './recent-files.ts';
import type { ShellLogger } from './types.ts';

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-recent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = ['a.tum', 'b.mcap', 'c.json', 'd.csv'].map((n) => join(dir, n));
  files.forEach((f) => writeFileSync(f, ''));
  const run = join(dir, 'runs', 'train-1');
  mkdirSync(run, { recursive: true });
  const warnings: string[] = [];
  const logger: ShellLogger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  let clock = Date.UTC(2026, 0, 1);
  const make = (max?: number) => new RecentFiles(join(dir, RECENT_FILES_NAME), { max, logger, now: () => (clock += 1000) });
  return { dir, files, run, warnings, make, store: join(dir, RECENT_FILES_NAME) };
}

test('newest first, de-duplicated, capped, persisted as validated JSON', (t) => {
  const { files, run, make, store, dir } = setup(t);
  const r = make(3);
  assert.deepEqual(r.paths(), []);
  assert.equal(existsSync(store), false, 'nothing written until something is opened');
  r.add(files[0]!);
  r.add(run);
  r.add(files[1]!);
  r.add(files[0]!);
  assert.deepEqual(r.paths(), [files[0], files[1], run]);
  r.add(files[2]!);
  assert.deepEqual(r.paths(), [files[2], files[0], files[1]], 'capped at 3');
  const saved = recentFileSchema.parse(JSON.parse(readFileSync(store, 'utf8')));
  assert.deepEqual(
    saved.entries.map((e) => e.path),
    [files[2], files[0], files[1]],
  );
  assert.ok(saved.entries.every((e) => !Number.isNaN(Date.parse(e.openedAt))));
  assert.deepEqual(make(3).paths(), [files[2], files[0], files[1]], 'read back by a new instance');
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
  r.remove(files[0]!);
  r.remove('/not/there');
  assert.deepEqual(make(3).paths(), [files[2], files[1]]);
  r.clear();
  assert.deepEqual(make().paths(), []);
});

test('relative paths are stored absolute; bad paths refused', (t) => {
  const { make } = setup(t);
  const r = make();
  r.add('relative/file.tum');
  assert.equal(r.list().length, 0, 'a path that does not exist is pruned on listing');
  assert.throws(() => r.add(''), /invalid path/);
  assert.throws(() => r.add('a\0b'), /invalid path/);
  assert.throws(() => new RecentFiles('relative.json'), /must be an absolute path/);
  assert.throws(() => new RecentFiles('/x.json', { max: 0 }), /max must be a positive integer/);
});

test('entries whose file or folder is gone are pruned from the list and the file', (t) => {
  const { files, run, make, store } = setup(t);
  const r = make();
  r.add(files[0]!);
  r.add(run);
  r.add(files[1]!);
  rmSync(files[0]!);
  rmSync(run, { recursive: true });
  assert.deepEqual(make().paths(), [files[1]]);
  assert.deepEqual(
    recentFileSchema.parse(JSON.parse(readFileSync(store, 'utf8'))).entries.map((e) => e.path),
    [files[1]],
  );
});

test('a corrupt or invalid file is set aside as .bad with a warning naming it, and the list starts empty', (t) => {
  const { files, make, store, warnings } = setup(t);
  const bad: Array<[string, RegExp]> = [
    ['{ not json', /not JSON/],
    [JSON.stringify({ version: 2, entries: [] }), /version/],
    [JSON.stringify({ version: 1, entries: [{ path: 'relative.tum', openedAt: '2026-01-01T00:00:00.000Z' }] }), /entries\.0\.path: must be an absolute path/],
    [JSON.stringify({ version: 1, entries: [{ path: files[0], openedAt: 'yesterday' }] }), /entries\.0\.openedAt/],
    [JSON.stringify({ version: 1, entries: [], extra: true }), /\(root\)|extra/],
    [JSON.stringify([files[0]]), /\(root\)/],
  ];
  for (const [text, re] of bad) {
    warnings.length = 0;
    writeFileSync(store, text);
    const r = make();
    assert.deepEqual(r.paths(), [], text);
    assert.equal(warnings.length, 1, text);
    assert.match(warnings[0]!, re, text);
    assert.ok(warnings[0]!.includes(store), 'names the file');
    assert.equal(readFileSync(`${store}.bad`, 'utf8'), text, 'the bad file is kept aside, not lost');
    r.add(files[1]!);
    assert.deepEqual(make().paths(), [files[1]], 'a fresh list is written');
  }
});

test('duplicate entries in the file are collapsed and the cap applies on read', (t) => {
  const { files, make, store } = setup(t);
  const at = '2026-01-01T00:00:00.000Z';
  writeFileSync(store, JSON.stringify({ version: 1, entries: [files[0], files[1], files[0], files[2], files[3]].map((path) => ({ path, openedAt: at })) }));
  assert.deepEqual(make(3).paths(), [files[0], files[1], files[2]]);
});
