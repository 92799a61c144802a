// Runs every *.test.ts under the layer folders with node's test runner (through tsx).
// Usage: node scripts/run-tests.mjs [filter ...]: a file runs when its path contains any of
// the filters (a filter starting with ^ must start the path); all files without filters
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['sim', 'models', 'mpc', 'data', 'ego', 'app', 'bench', 'examples', 'experiments', 'e2e'];
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => (f.startsWith('^') ? p.startsWith(f.slice(1)) : p.includes(f)))))
      files.push(p);
  }
}
roots.forEach(walk);
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
console.log(`running ${files.length} test files`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
