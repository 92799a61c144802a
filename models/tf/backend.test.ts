// Tests of the TensorFlow.js backend choice (models/tf/backend.ts): request parsing, the
// IMPULSE_TF_BACKEND override, invalid names, fallback down tensorflow > wasm > cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TF_BACKENDS, describeTfBackend, getTf, initTf, resolveBackendRequest, tfBackendInfo } from './backend.ts';

const BACKEND_FILE = fileURLToPath(new URL('./backend.ts', import.meta.url));

/** Runs `initTf(arg, opts)` in a fresh Node process (the choice is per process) and returns its JSON result or error. */
function initInChild(env: Record<string, string | undefined>, arg?: string, opts?: object): { ok?: Record<string, unknown>; error?: string } {
  const script = [
    `const m = await import(${JSON.stringify(BACKEND_FILE)});`,
    `try { const r = await m.initTf(${JSON.stringify(arg ?? null)} ?? undefined, ${JSON.stringify(opts ?? {})});`,
    `  const { tf, ...rest } = r; console.log(JSON.stringify({ ok: { ...rest, active: tf.getBackend(), sum: Array.from(tf.add(tf.tensor1d([1, 2]), 2).dataSync()) } })); }`,
    `catch (e) { console.log(JSON.stringify({ error: e.message })); }`,
  ].join('\n');
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv[`IMPULSE_TF_BACKEND`];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: childEnv, encoding: 'utf8' });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as { ok?: Record<string, unknown>; error?: string };
}

test('resolveBackendRequest: the explicit argument beats IMPULSE_TF_BACKEND, which beats auto', () => {
  assert.deepEqual(resolveBackendRequest('cpu', { IMPULSE_TF_BACKEND: 'wasm' }), { requested: 'cpu', source: 'argument' });
  assert.deepEqual(resolveBackendRequest(undefined, { IMPULSE_TF_BACKEND: 'wasm' }), { requested: 'wasm', source: 'env' });
  assert.deepEqual(resolveBackendRequest('', { IMPULSE_TF_BACKEND: ' WASM ' }), { requested: 'wasm', source: 'env' });
  assert.deepEqual(resolveBackendRequest(undefined, {}), { requested: 'auto', source: 'default' });
  assert.deepEqual(resolveBackendRequest('TensorFlow', {}), { requested: 'tensorflow', source: 'argument' });
});

test('resolveBackendRequest: an unknown name throws, naming its source and listing the valid backends', () => {
  assert.throws(
    () => resolveBackendRequest('metalgpu', {}),
    /unknown TensorFlow\.js backend 'metalgpu' in backend argument \(--backend\); valid backends: tensorflow, webgpu, wasm, cpu, auto/,
  );
  assert.throws(
    () => resolveBackendRequest(undefined, { IMPULSE_TF_BACKEND: 'gpu' }),
    /'gpu' in environment variable IMPULSE_TF_BACKEND; valid backends: tensorflow, webgpu, wasm, cpu, auto/,
  );
});

test('getTf throws a clear error before initTf has run', () => {
  assert.throws(() => getTf(), /not initialised; `await initTf\(\)` first/);
  assert.equal(tfBackendInfo(), null);
});

test('initTf with an invalid name rejects listing the valid backends', async () => {
  await assert.rejects(initTf('metal'), /valid backends: tensorflow, webgpu, wasm, cpu, auto/);
});

test('initTf auto: picks tensorflow when tfjs-node loads, else falls back to wasm with the native packages named', async () => {
  const r = await initTf();
  assert.ok((TF_BACKENDS as readonly string[]).includes(r.backend));
  assert.equal(r.tf.getBackend(), r.backend);
  assert.equal(getTf(), r.tf);
  assert.equal(typeof r.tf.grads, 'function', 'the full @tensorflow/tfjs (with gradients) is loaded');
  if (r.backend === 'tensorflow') {
    assert.match(r.nativePackage ?? '', /^@tensorflow\/tfjs-node(-gpu)?$/);
  } else {
    // tfjs-backend-wasm is a regular dependency, so when the native backend is absent wasm must work.
    assert.equal(r.backend, 'wasm', `expected wasm, fallback reason: ${r.fallbackReason}`);
    assert.match(r.fallbackReason ?? '', /^tensorflow: @tensorflow\/tfjs-node-gpu .*, @tensorflow\/tfjs-node /);
    assert.equal(describeTfBackend(r), `TensorFlow.js backend: wasm (requested auto; fell back: ${r.fallbackReason})`);
  }
  assert.equal(await initTf(), r, 'a second call without arguments returns the same result');
});

test('initTf: an explicit backend switches, and later argument-less calls keep it', async () => {
  const cpu = await initTf('cpu');
  assert.equal(cpu.backend, 'cpu');
  assert.equal(cpu.fallbackReason, undefined);
  assert.equal(cpu.tf.getBackend(), 'cpu');
  assert.equal(describeTfBackend(cpu), 'TensorFlow.js backend: cpu (requested cpu from --backend)');
  assert.equal(await initTf(), cpu);
  assert.equal(await initTf('CPU'), cpu);
  const wasm = await initTf('wasm');
  assert.equal(wasm.backend, 'wasm', `wasm failed here: ${wasm.fallbackReason}`);
  assert.equal(wasm.tf.getBackend(), 'wasm');
  assert.deepEqual(Array.from(wasm.tf.tidy(() => wasm.tf.matMul(wasm.tf.tensor2d([[1, 2]]), wasm.tf.tensor2d([[3], [4]])).dataSync())), [11]);
  assert.equal(tfBackendInfo(), wasm);
});

test('initTf tensorflow: without loadable tfjs-node it falls back to wasm and says why', async () => {
  const r = await initTf('tensorflow');
  assert.equal(r.requested, 'tensorflow');
  if (r.backend !== 'tensorflow') {
    assert.equal(r.backend, 'wasm');
    assert.match(r.fallbackReason ?? '', /tfjs-node-gpu/);
  }
});

test('IMPULSE_TF_BACKEND selects the backend in a fresh process', () => {
  const r = initInChild({ IMPULSE_TF_BACKEND: 'cpu' });
  assert.deepEqual(r.ok && { backend: r.ok.backend, source: r.ok.source, active: r.ok.active, sum: r.ok.sum }, {
    backend: 'cpu',
    source: 'env',
    active: 'cpu',
    sum: [3, 4],
  });
  const bad = initInChild({ IMPULSE_TF_BACKEND: 'cuda' });
  assert.match(bad.error ?? '', /'cuda' in environment variable IMPULSE_TF_BACKEND; valid backends: tensorflow, webgpu, wasm, cpu, auto/);
  const arg = initInChild({ IMPULSE_TF_BACKEND: 'cpu' }, 'wasm');
  assert.equal(arg.ok?.backend, 'wasm', 'the explicit argument wins over the environment variable');
});

test('wasm whose .wasm files cannot be read falls back to cpu with the file error as reason', () => {
  const r = initInChild({}, 'wasm', { wasmPaths: '/nonexistent/impulse-wasm/' });
  assert.equal(r.ok?.backend, 'cpu');
  assert.equal(r.ok?.active, 'cpu');
  assert.deepEqual(r.ok?.sum, [3, 4]);
  assert.match(String(r.ok?.fallbackReason), /^wasm: initialization failed: .*ENOENT.*\/nonexistent\/impulse-wasm\/tfjs-backend-wasm/);
});
