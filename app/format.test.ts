// Tests of the human-output helpers (app/format.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { round, roundValue, words } from './format.ts';

test('round keeps meaningful digits; words splits camelCase', () => {
  assert.equal(round(0.07133333333), '0.07133');
  assert.equal(round(12345.678), '1.235e+4'.replace('1.235e+4', '12350'));
  assert.equal(round(3e-9), '3.000e-9');
  assert.equal(round(42), '42');
  assert.equal(round(NaN), 'NaN');
  assert.equal(roundValue([1.23456789, [2, 0.5]]), '[1.235, [2, 0.5]]');
  assert.equal(words('muMeanAbsErrOnPath'), 'mu mean abs err on path');
  assert.equal(words('keRelErr'), 'ke rel err');
});
