// Tests of the worker pool's start-up (models/implicit/worker-pool.ts) under the Node options a
// user may run with: V8 flags that Node refuses in a worker's execArgv (--max-old-space-size,
// --no-wasm-dynamic-tiering) do not stop the threaded layers, and the heap limit carries over
// to the workers; -e / --input-type (the parent's own script) are not passed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const HERE = import.meta.dirname;

test('node --max-old-space-size and other V8 flags: the workers start, take the heap limit, and answer', () => {
  const pool = pathToFileURL(join(HERE, 'worker-pool.ts')).href;
  const tasks = pathToFileURL(join(HERE, 'test-util.ts')).href;
  const script = `
    const { runOnWorkers } = await import(${JSON.stringify(pool)});
    const jobs = [0, 1].map((i) => ({ module: ${JSON.stringify(tasks)}, fn: i ? 'heapLimitTask' : 'doubleTask', payload: new Float64Array([1, 2]), start: i, end: i + 1 }));
    const [mine, [doubled, worker]] = runOnWorkers(() => 'local', jobs, 'test');
    console.log(JSON.stringify({ mine, doubled: Array.from(doubled), worker }));
  `;
  const r = spawnSync(process.execPath, ['--max-old-space-size=3000', '--no-wasm-dynamic-tiering', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { mine: string; doubled: number[]; worker: { heapLimitMb: number; execArgv: string[] } };
  assert.equal(out.mine, 'local');
  assert.deepEqual(out.doubled, [2, 4]);
  // the worker's old generation is the parent's 3000 MB (plus V8's young generation)
  assert.ok(out.worker.heapLimitMb >= 3000 && out.worker.heapLimitMb < 3200, `worker heap limit ${out.worker.heapLimitMb} MB`);
  assert.ok(
    !out.worker.execArgv.some((f) => f.startsWith('--max-old-space-size') || f === '-e' || f.startsWith('--input-type')),
    out.worker.execArgv.join(' '),
  );
  assert.ok(out.worker.execArgv.includes('--import'), 'the other options (tsx) carry over');
});
