// Runs every registered `linalg.*` gradient check (sim/linalg/checks.ts) at the default bar
// (relative error 1e-6), as `impulse gradcheck` does, so CI fails when one regresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registeredGradchecks, runGradchecks } from '../core/index.ts';
import './checks.ts';

const ROUTINES = ['solve', 'det', 'slogdet', 'inv', 'cholesky', 'cholesky_solve', 'triangular_solve', 'qr', 'lstsq', 'eigh'];

test('every linalg routine registers a gradient check, and solve a second-order one', () => {
  const names = registeredGradchecks()
    .map((c) => c.name)
    .filter((n) => n.startsWith('linalg.'));
  for (const r of ROUTINES) assert.ok(names.includes(`linalg.${r}`), `missing linalg.${r}`);
  assert.ok(names.includes('linalg.solve_grad2'));
});

test('all linalg gradient checks pass at relative error 1e-6', () => {
  const results = runGradchecks('linalg.');
  assert.ok(results.length >= ROUTINES.length);
  for (const r of results) {
    assert.equal(r.error, undefined, `${r.name} threw: ${r.error}`);
    assert.ok(r.passed, `${r.name}: maxRelErr ${r.maxRelErr}, maxAbsErr ${r.maxAbsErr}`);
    assert.ok(r.maxRelErr <= 1e-6 || r.maxAbsErr <= 1e-10, r.name);
  }
});
