// Unit tests of the report's pieces: number rounding, mean ± spread over seeds, the choice of the
// prediction sets drawn and of the map plane.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PredictionsJson } from '../../data/index.ts';
import { fmtMeanStd, fmtPercent, fmtSig, meanStd } from './format.ts';
import { choosePlane, selectSets } from './plots/paths.ts';

test('numbers are rounded to three significant digits, spreads to the decimals of their mean', () => {
  assert.equal(fmtSig(1.7888), '1.79');
  assert.equal(fmtSig(0.012345), '0.0123');
  assert.equal(fmtSig(12.345), '12.3');
  assert.equal(fmtSig(1234.5), '1235');
  assert.equal(fmtSig(0), '0.00');
  assert.equal(fmtSig(null), 'n/a');
  assert.equal(fmtPercent(0.4021), '40.2 %');
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
  assert.deepEqual(meanStd([5]), { mean: 5, std: 0, n: 1 });
  assert.equal(meanStd([null, NaN]), null);
  assert.equal(fmtMeanStd({ mean: 1.703, std: 0.0512, n: 3 }), '1.70 ± 0.05');
  assert.equal(fmtMeanStd({ mean: 1.7, std: 0.0031, n: 3 }), '1.700 ± 0.003');
  assert.equal(fmtMeanStd({ mean: 0.25, std: 0.01, n: 3 }, true), '25.0 ± 1.0 %');
  assert.equal(fmtMeanStd(null), 'n/a');
});

// four sets along x; model A's final errors 0, 1, 5, 2 (worst: set 2; lower median: 1 m, set 1)
const line = (x0: number, dy: number): number[][] => [1, 2, 3].map((k) => [x0 + k, dy, 0]);
const FILE: PredictionsJson = {
  format: 'impulse.predictions',
  version: 1,
  sets: [0, 1, 5, 2].map((e, i) => ({ t0: i, times: [0.1, 0.2, 0.3], gt: line(10 * i, 0), predictions: [{ label: 'A', positions: line(10 * i, e) }] })),
};

test('selectSets picks each model worst and median set and evenly spaced ones, in time order', () => {
  const sel = selectSets(FILE, ['A'], 2);
  assert.deepEqual(sel, [
    { index: 0, reasons: ['evenly spaced'] },
    { index: 1, reasons: ['median for A (1.00 m)'] },
    { index: 2, reasons: ['worst for A (5.00 m)'] },
    { index: 3, reasons: ['evenly spaced'] },
  ]);
  assert.equal(selectSets(FILE, ['A'], 4, 2).length, 2);
});

test('choosePlane: planar files use their first two coordinates named after the run plane; 3D the widest axes', () => {
  assert.deepEqual(choosePlane(FILE, 'xz'), { axes: [0, 1], names: ['x', 'z'] });
  assert.deepEqual(choosePlane(FILE), { axes: [0, 1], names: ['x', 'y'] });
  const spatial: PredictionsJson = {
    ...FILE,
    ground_truth: {
      times: [0, 1, 2],
      positions: [
        [0, 0.1, 0],
        [5, 0.2, 9],
        [10, 0.1, 20],
      ],
    },
  };
  assert.deepEqual(choosePlane(spatial), { axes: [0, 2], names: ['x', 'z'] });
});
