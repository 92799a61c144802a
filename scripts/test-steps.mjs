// `npm test`: the long steps one after the other (lint and format check, type-check, the test
// run), each announced when it starts and timed when it ends, with a summary of the times.
// Stops at the first failing step with its exit code. Usage: node scripts/test-steps.mjs
import { spawnSync } from 'node:child_process';

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
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
];

const times = [];
const fmt = (ms) => (ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`);
for (const step of steps) {
  console.log(`\n>> ${step.name}: ${step.what} ...`);
  const t0 = Date.now();
  let status = 0;
  for (const [cmd, args] of step.cmds) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
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
