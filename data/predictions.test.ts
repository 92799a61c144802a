// Tests of the prediction-set JSON format (data/formats/predictions.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPredictionsJson, parsePredictionsJson, predictionLabels, predictionSamples, predictionMetrics, type PredictionsJson } from './index.ts';

const file: PredictionsJson = {
  format: 'impulse.predictions',
  version: 1,
  name: 'toy',
  sets: [
    {
      t0: 1,
      frame: 10,
      times: [0.1, 0.2],
      gt: [
        [1, 0, 0],
        [2, 0, 0],
      ],
      predictions: [
        {
          label: 'cv',
          positions: [
            [1, 0, 0],
            [2, 1, 0],
          ],
        },
        {
          label: 'nn',
          positions: [
            [1, 0, 0],
            [2, 0, 0],
          ],
        },
      ],
    },
  ],
};

test('prediction JSON round-trips and feeds the prediction metrics', () => {
  const back = parsePredictionsJson(formatPredictionsJson(file), 'p.json');
  assert.deepEqual(back, file);
  assert.deepEqual(predictionLabels(back), ['cv', 'nn']);
  const [m] = predictionMetrics(predictionSamples(back, 'cv'), { horizons: [0.2] });
  assert.equal(m!.minFde, 1);
  assert.equal(m!.minAde, 0.5);
});

test('prediction JSON errors name the file and the field', () => {
  const bad = structuredClone(file);
  bad.sets[0]!.predictions[1]!.positions.pop();
  assert.throws(
    () => parsePredictionsJson(JSON.stringify(bad), 'p.json'),
    /p\.json, field 'sets\[0\]\.predictions\[1\]\.positions': prediction 'nn' has 1 positions for 2 times/,
  );
  const nan = JSON.stringify(file).replace('"t0":1', '"t0":"x"');
  assert.throws(() => parsePredictionsJson(nan, 'p.json'), /p\.json, field 'sets\[0\]\.t0'/);
  assert.throws(() => parsePredictionsJson('{', 'p.json'), /p\.json: invalid JSON/);
});
