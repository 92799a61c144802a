// Tests of the `example` command (app/commands/example.ts) through commander: the list, the
// complete --json result and the rounded, worded human output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from './example.ts';
import { runCommand, type CommandOutput } from './test-util.ts';

const run = (args: string[]): Promise<CommandOutput> => runCommand(register, args);

test('example lists the examples and runs one with --json', async () => {
  const list = await run(['example', '--json']);
  assert.deepEqual(Object.keys(JSON.parse(list.out)), ['bounce', 'cloth-throw', 'box-toss', 'terrain-id']);
  const r = await run(['example', 'bounce', '--iterations', '5', '--no-gradcheck', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.example, 'bounce');
  assert.equal(j.iterations, 5);
  assert.ok(j.finalLoss < j.initialLoss);
  const bad = await run(['example', 'nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /unknown example 'nope'/);
});

test('example prints words and rounded numbers, never camelCase keys or full-precision floats', async () => {
  const r = await run(['example', 'bounce', '--iterations', '3', '--no-gradcheck']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^initial velocity \(m\/s\)/m);
  assert.match(r.out, /^gradient check +skipped/m);
  assert.doesNotMatch(r.out, /\b[a-z]+[A-Z][a-zA-Z]*\b/, 'a camelCase key in the human output');
  assert.doesNotMatch(r.out, /\d\.\d{8,}/, 'a number printed at full precision');
});

test('example --iterations rejects a negative count when parsing', async () => {
  const r = await run(['example', 'bounce', '--iterations', '-1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--iterations -1: expected a non-negative integer/);
});
