// Tests of the renderer's pure parts (app/renderer): time lookup and interpolation on a trajectory
// layer, decoding of the API's packed arrays (the same bytes app/api/packed.ts writes), colour maps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from '../api/packed.ts';
import { lastAtOrBefore, positionAt, trajLayer } from './model.ts';
import { f32, f64, i32, toBase64 } from './packed.ts';
import { divergingColor, errorColor } from './colors.ts';

test('lastAtOrBefore and positionAt interpolate between poses and clamp at the ends', () => {
  const times = Float64Array.from([0, 1, 2, 4]);
  assert.equal(lastAtOrBefore(times, -1), 0);
  assert.equal(lastAtOrBefore(times, 0), 0);
  assert.equal(lastAtOrBefore(times, 1.5), 1);
  assert.equal(lastAtOrBefore(times, 4), 3);
  assert.equal(lastAtOrBefore(times, 9), 3);
  assert.equal(lastAtOrBefore(new Float64Array(0), 1), -1);
  const l = trajLayer(
    'k',
    'f1',
    undefined,
    {
      name: 't',
      source: 't',
      count: 4,
      times: pack(times, 'f64'),
      timeSource: 'stamps',
      origin: [100, 200, 0],
      positions: pack([0, 0, 0, 1, 0, 0, 2, 2, 0, 2, 4, 0], 'f32'),
      quaternions: pack(new Array(16).fill(0), 'f32'),
      bbox: { min: [100, 200, 0], max: [102, 204, 0] },
    },
    [1, 1, 1],
  );
  assert.deepEqual(positionAt(l, 0.5), [100.5, 200, 0]);
  assert.deepEqual(positionAt(l, 3), [102, 203, 0]);
  assert.deepEqual(positionAt(l, -5), [100, 200, 0]);
  assert.deepEqual(positionAt(l, 50), [102, 204, 0]);
});

test('packed arrays decode to the values the backend packed', () => {
  const a = Float64Array.from([Math.PI, -1e300, 0.1]);
  assert.deepEqual(Array.from(f64(pack(a, 'f64'))), Array.from(a));
  assert.deepEqual(Array.from(f32(pack([1.5, -2.25], 'f32'))), [1.5, -2.25]);
  assert.deepEqual(Array.from(i32(pack([0, 15, 2 ** 30], 'i32'))), [0, 15, 2 ** 30]);
  assert.throws(() => f32(pack([1], 'f64')), /expected a packed f32 array, got f64/);
  const bytes = new Uint8Array(70000).map((_, i) => i % 251);
  assert.equal(toBase64(bytes.buffer), Buffer.from(bytes).toString('base64'));
});

test('colour maps: error green to red, diverging white at zero', () => {
  const lo = errorColor(0),
    hi = errorColor(1);
  assert.ok(lo[1] > lo[0] && hi[0] > hi[1]);
  assert.deepEqual(errorColor(NaN), errorColor(0));
  const w = divergingColor(0);
  assert.ok(w.every((c) => c > 0.9));
  assert.ok(divergingColor(-1)[2] > divergingColor(-1)[0] && divergingColor(1)[0] > divergingColor(1)[2]);
});
