// Tests of `impulse eval pred`: ADE / FDE / miss rate per model label of a prediction file, against
// values computed by hand, from impulse.predictions JSON and from MCAP; K predictions of one label
// are best-of-K; bad files and options are named errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McapLogWriter, type PredictionsJson } from '../../data/index.ts';
import { loadPredictionFile, metricsByLabel } from '../report/prediction-metrics.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'impulse.js');
let tmp: string;

function impulse(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// Two sets on times 0.5, 1, 1.5 s. Errors per step: set 1: A 1, 1, 1; B 0, 0, 3. Set 2: A 0, 0, 0;
// B 0, 0, 0.5. So A: ADE@1.5 = (1 + 0) / 2 = 0.5, FDE 0.5 / 0.5 / 0.5, miss (> 2 m) 0;
// B: ADE@1.5 = (1 + 0.5 / 3) / 2 = 0.58333, FDE 0 / 0 / 1.75, miss 1 of 2.
const times = [0.5, 1, 1.5];
const FILE: PredictionsJson = {
  format: 'impulse.predictions',
  version: 1,
  name: 'hand-made',
  sets: [
    {
      t0: 10,
      times,
      gt: [
        [1, 0, 0],
        [2, 0, 0],
        [3, 0, 0],
      ],
      predictions: [
        {
          label: 'A',
          positions: [
            [1, 1, 0],
            [2, 1, 0],
            [3, 1, 0],
          ],
        },
        {
          label: 'B',
          positions: [
            [1, 0, 0],
            [2, 0, 0],
            [3, 3, 0],
          ],
        },
      ],
    },
    {
      t0: 11,
      times,
      gt: [
        [0, 1, 0],
        [0, 2, 0],
        [0, 3, 0],
      ],
      predictions: [
        {
          label: 'A',
          positions: [
            [0, 1, 0],
            [0, 2, 0],
            [0, 3, 0],
          ],
        },
        {
          label: 'B',
          positions: [
            [0, 1, 0],
            [0, 2, 0],
            [0, 3.5, 0],
          ],
        },
      ],
    },
  ],
};

interface JsonOut {
  sets: number;
  horizons: number[];
  missThreshold: number;
  models: { label: string; k: number; horizons: { horizon: number; samples: number; ade: number; fde: number; missRate: number }[] }[];
}

function close(a: number, b: number): void {
  assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
}

function checkHandValues(out: JsonOut): void {
  assert.deepEqual(out.horizons, [0.5, 1, 1.5]);
  const [a, b] = out.models;
  assert.equal(a!.label, 'A');
  assert.equal(b!.label, 'B');
  assert.deepEqual(
    a!.horizons.map((h) => h.fde),
    [0.5, 0.5, 0.5],
  );
  close(a!.horizons[2]!.ade, 0.5);
  assert.equal(a!.horizons[2]!.missRate, 0);
  assert.deepEqual(
    b!.horizons.map((h) => h.fde),
    [0, 0, 1.75],
  );
  close(b!.horizons[2]!.ade, (1 + 0.5 / 3) / 2);
  assert.equal(b!.horizons[2]!.missRate, 0.5);
  assert.equal(b!.horizons[2]!.samples, 2);
}

async function writeMcap(path: string, topics: string[], labelled = true): Promise<void> {
  const w = await McapLogWriter.create(path);
  const pose = (p: number[]) => ({ position: p, orientation: [0, 0, 0, 1] });
  for (const topic of topics)
    for (const s of FILE.sets)
      await w.addPredictionSet(topic, {
        stampNs: BigInt(s.t0) * 1_000_000_000n,
        frameId: 'world',
        groundTruth: { times, poses: s.gt.map(pose) },
        predictions: s.predictions.map((q) => ({ ...(labelled ? { label: q.label } : {}), times, poses: q.positions.map(pose) })),
      });
  await w.close();
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'impulse-eval-pred-'));
  writeFileSync(join(tmp, 'pred.json'), JSON.stringify(FILE));
  await writeMcap(join(tmp, 'pred.mcap'), ['/pred']);
  await writeMcap(join(tmp, 'two.mcap'), ['/pred', '/pred2']);
  await writeMcap(join(tmp, 'unlabelled.mcap'), ['/pred'], false);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('impulse eval pred prints ADE, FDE and miss rate per model (hand-computed values)', () => {
  const r = impulse('eval', 'pred', join(tmp, 'pred.json'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 prediction sets, 2 models/);
  assert.match(r.stdout, /miss rate +share of sets with FDE@1\.5 s > 2 m/);
  assert.match(r.stdout, /model +sets +ADE@1\.5 s +FDE@0\.5 s +FDE@1 s +FDE@1\.5 s +miss rate/);
  assert.match(r.stdout, /\nA +2 +0\.500 +0\.500 +0\.500 +0\.500 +0\.0 %/);
  assert.match(r.stdout, /\nB +2 +0\.583 +0\.00 +0\.00 +1\.75 +50\.0 %/);
  const j = impulse('eval', 'pred', join(tmp, 'pred.json'), '--json');
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as JsonOut;
  assert.equal(out.sets, 2);
  assert.equal(out.missThreshold, 2);
  checkHandValues(out);
});

test('impulse eval pred reads MCAP prediction sets with their labels and takes --horizons and --miss', () => {
  const r = impulse('eval', 'pred', join(tmp, 'pred.mcap'), '--json');
  assert.equal(r.code, 0, r.stderr);
  checkHandValues(JSON.parse(r.stdout) as JsonOut);
  const h = impulse('eval', 'pred', join(tmp, 'pred.mcap'), '--topic', '/pred', '--horizons', '1', '--miss', '0.4', '--json');
  assert.equal(h.code, 0, h.stderr);
  const out = JSON.parse(h.stdout) as JsonOut;
  assert.deepEqual(out.horizons, [1]);
  // at 1 s: A errs 1 and 0 (ADE (1 + 0) / 2 = 0.5, one miss over 0.4 m); B errs 0 and 0
  assert.deepEqual(
    out.models.map((m) => [m.label, m.horizons[0]!.ade, m.horizons[0]!.fde, m.horizons[0]!.missRate]),
    [
      ['A', 0.5, 0.5, 0.5],
      ['B', 0, 0, 0],
    ],
  );
});

test('bad input to eval pred: named errors, JSON error objects with --json, exit 1', () => {
  const bad = impulse('eval', 'pred', join(tmp, 'pred.json'), '--horizons', '0.5,-1');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--horizons must be positive seconds separated by commas, got '-1'/);
  const missing = impulse('eval', 'pred', join(tmp, 'none.json'), '--json');
  assert.equal(missing.code, 1);
  const err = JSON.parse(missing.stdout) as { error: { name: string; file: string; message: string } };
  assert.equal(err.error.file, join(tmp, 'none.json'));
  assert.match(err.error.message, /file not found/);
  const two = impulse('eval', 'pred', join(tmp, 'two.mcap'));
  assert.equal(two.code, 1);
  assert.match(two.stderr, /two\.mcap: several prediction topics, choose one with --topic: \/pred, \/pred2/);
  const far = impulse('eval', 'pred', join(tmp, 'pred.json'), '--horizons', '3');
  assert.equal(far.code, 1);
  assert.match(far.stderr, /MetricError: model 'A': no sample reaches the horizon 3 s/);
});

test('loadPredictionFile and metricsByLabel: unlabelled MCAP predictions, best of K, errors naming file and field', async () => {
  const u = await loadPredictionFile(join(tmp, 'unlabelled.mcap'));
  assert.deepEqual(
    metricsByLabel(u).map((m) => m.label),
    ['prediction 0', 'prediction 1'],
  );
  assert.equal(u.frame_id, 'world');
  // both predictions labelled A: best of K = 2 per set
  const k2: PredictionsJson = { ...FILE, sets: FILE.sets.map((s) => ({ ...s, predictions: s.predictions.map((q) => ({ ...q, label: 'A' })) })) };
  const [m] = metricsByLabel(k2, { horizons: [1.5] });
  assert.equal(m!.k, 2);
  // set 1: min(1, 3) = 1; set 2: min(0, 0.5) = 0 -> minFDE 0.5; mean over K: (2 + 0.25) / 2
  close(m!.horizons[0]!.fde, 0.5);
  close(m!.horizons[0]!.meanFde, (2 + 0.25) / 2);
  await assert.rejects(loadPredictionFile(join(tmp, 'pred.mcap'), { topic: '/nope' }), /pred\.mcap: no topic '\/nope' \(prediction topics: \/pred\)/);
  await assert.rejects(loadPredictionFile(join(tmp, 'pred.json'), { topic: '/pred' }), /--topic applies to MCAP input only/);
  const dir = join(tmp, 'adir.json');
  mkdirSync(dir);
  await assert.rejects(loadPredictionFile(dir), /adir\.json: is a directory/);
  const broken = structuredClone(FILE);
  broken.sets[1]!.predictions[1]!.positions.pop();
  writeFileSync(join(tmp, 'broken.json'), JSON.stringify(broken));
  await assert.rejects(
    loadPredictionFile(join(tmp, 'broken.json')),
    /broken\.json, field 'sets\[1\]\.predictions\[1\]\.positions': prediction 'B' has 2 positions for 3 times/,
  );
  writeFileSync(join(tmp, 'nan.json'), JSON.stringify(FILE).replace('3.5', '"NaN"'));
  await assert.rejects(loadPredictionFile(join(tmp, 'nan.json')), /nan\.json, field 'sets\[1\]\.predictions\[1\]\.positions\[2\]\[1\]'/);
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
    [],
  );
});
