// Runs the registered implicit.root/deq/argmin/kkt gradient checks (models/implicit/checks-root.ts)
// at the default bar (relative error 1e-6), as `impulse gradcheck` does, so CI fails on a regression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registeredGradchecks, runGradchecks } from '../../sim/core/index.ts';
import './checks-root.ts';

const PREFIXES = ['implicit.root.', 'implicit.deq.', 'implicit.argmin.', 'implicit.kkt.'];

test('every layer registers random-input gradient checks, including second-order ones', () => {
  const names = registeredGradchecks().map((c) => c.name);
  for (const p of PREFIXES)
    assert.ok(
      names.some((n) => n.startsWith(p)),
      `no ${p}* check`,
    );
  for (const p of PREFIXES) assert.ok(names.includes(`${p}grad2`), `no ${p}grad2`);
});

for (const p of PREFIXES) {
  test(`all ${p}* gradient checks pass at relative error 1e-6`, () => {
    const results = runGradchecks(p);
    assert.ok(results.length > 0);
    for (const r of results) {
      assert.equal(r.error, undefined, `${r.name} threw: ${r.error}`);
      assert.ok(r.passed, `${r.name}: maxRelErr ${r.maxRelErr}, maxAbsErr ${r.maxAbsErr}`);
    }
  });
}
