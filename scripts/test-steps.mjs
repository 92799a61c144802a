// `npm test`: the long steps one after the other (lint and format check, type-check, the test
// run), each announced when it starts and timed when it ends, with a summary of the times.
// Stops at the first failing step with its exit code. Usage: node scripts/test-steps.mjs
import { spawnSync } from 'node:child_process';

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
/** Test paths rerun with the JS kernels: the folders whose code runs in the wasm kernels when they are active. */
const JS_KERNEL_TESTS = process.argv.length > 2 ? process.argv.slice(2) : ['^sim/linalg/', '^sim/core/', '^models/implicit/', '^mpc/'];
const steps = [
  {
    name: 'lint',
    what: 'eslint and prettier --check',
    cmds: [
      [npx, ['eslint', '.']],
      [npx, ['prettier', '--check', '.']],
    ],
  },
  { name: 'type-check', what: 'tsc --noEmit -p . (the whole project)', cmds: [[npx, ['tsc', '--noEmit', '-p', '.']]] },
  { name: 'tests', what: "every *.test.ts with node's test runner", cmds: [[process.execPath, ['scripts/run-tests.mjs', ...process.argv.slice(2)]]] },
  {
    name: 'tests (JS kernels)',
    what: 'the tests of the layers with WebAssembly SIMD kernels again with IMPULSE_KERNELS=js (the pure-JS fallback)',
    env: { IMPULSE_KERNELS: 'js' },
    cmds: [[process.execPath, ['scripts/run-tests.mjs', ...JS_KERNEL_TESTS]]],
  },
];

const times = [];
const fmt = (ms) => (ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`);
for (const step of steps) {
  console.log(`\n>> ${step.name}: ${step.what} ...`);
  const t0 = Date.now();
  let status = 0;
  for (const [cmd, args] of step.cmds) {
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...(step.env ?? {}) } });
    status = r.status ?? 1;
    if (status !== 0) break;
  }
  const ms = Date.now() - t0;
  times.push([step.name, ms, status]);
  console.log(`>> ${step.name}: ${status === 0 ? 'passed' : `FAILED (exit ${status})`} in ${fmt(ms)}`);
  if (status !== 0) break;
}
console.log(`\n>> times: ${times.map(([n, ms, s]) => `${n} ${fmt(ms)}${s ? ' (failed)' : ''}`).join(', ')}`);
process.exit(times.some(([, , s]) => s !== 0) ? 1 : 0);
