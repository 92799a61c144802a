// Runs the ODE layer's registered gradient checks (models/implicit/checks-ode.ts) at the default
// bar (relative error 1e-6 against central differences), as `impulse gradcheck implicit.ode` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGradchecks } from '../../sim/core/index.ts';
import './checks-ode.ts';

test('every implicit.ode.* gradient check passes at 1e-6', () => {
  const results = runGradchecks('implicit.ode.');
  assert.ok(results.length >= 10, `only ${results.length} checks registered`);
  for (const r of results) assert.ok(r.passed, `${r.name}: max rel err ${r.maxRelErr}${r.error ? ` (${r.error})` : ''}`);
});
