// Tests of the terrain predictor's training and run folder (ego/terrain/train.ts, run.ts) on a
// tiny generated dataset (24 x 24 grid, 2 s trajectories): training lowers the CNN's loss and
// the trained CNN beats the default-parameter physics baseline on its training terrains (it
// starts exactly at that baseline), the run folder holds what docs/RUNS.md lists (checkpoints,
// history, metrics with ID and OOD rows, predictions, terrain maps with loss gradients),
// `impulse eval ego` re-evaluates it, resume continues it, and a dataset whose grid does not fit
// the trained models or the training set is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf } from '../../models/index.ts';
import { generateDataset } from './dataset.ts';
import { DEFAULT_SPEC, type TerrainSpec } from './generate.ts';
import { RolloutPool } from './parallel.ts';
import { parseTerrainConfig } from './config.ts';
import { evaluateTerrainRun, loadTerrainSplit, runTerrain, type TerrainRunMetrics } from './run.ts';
import { adeFde, cnnPaths, trainTerrain } from './train.ts';
import { baselinePaths } from './baseline.ts';
import { TerrainShapeError } from './errors.ts';

const SMALL: TerrainSpec = { ...DEFAULT_SPEC, grid: { nx: 24, ny: 24, cellSize: 0.2, origin: [-2.3, -2.3] }, patches: 2, duration: 2, sensorRange: 3 };

test('terrain training lowers the loss, beats the default physics on its terrains, and writes a complete run folder', async () => {
  const { tf } = await initTf('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'impulse-terrain-train-'));
  try {
    await generateDataset({ n: 8, seed: 3, out: join(dir, 'id'), spec: SMALL });
    await generateDataset({ n: 3, seed: 4, out: join(dir, 'ood'), spec: SMALL, ood: true });
    const config = parseTerrainConfig({ epochs: 4, batchSize: 5, channels: 4, nnEpochs: 40, nnHidden: [16], learningRate: 0.002, seed: 1 });

    // learning: the CNN starts at the default-parameter baseline and must end below it on its training terrains
    const split = loadTerrainSplit(join(dir, 'id'), undefined, config);
    assert.deepEqual([split.train.length, split.val.length, split.test.length], [5, 1, 2]);
    const pool = new RolloutPool(2);
    try {
      const before = adeFde(SMALL, split.train, baselinePaths(SMALL, 'physics-default', split.train)).ade;
      const t = await trainTerrain(tf, pool, split, { ...config, models: ['terrain-cnn'] });
      const losses = t.history.map((r) => r.trainLoss);
      assert.ok(losses[losses.length - 1]! < losses[0]!, `training loss ${losses.join(' -> ')}`);
      const cnn = t.models[0]!;
      // the best-validation weights on the training terrains
      const after = adeFde(SMALL, split.train, await cnnPaths(tf, cnn.net, pool, SMALL, split.train)).ade;
      assert.ok(after < before, `trained CNN ADE ${after} must beat the default physics ${before} on its training terrains`);
      cnn.net.dispose();
    } finally {
      await pool.close();
    }

    // the run folder
    const out = join(dir, 'run');
    const res = await runTerrain({ tf, data: join(dir, 'id'), ood: join(dir, 'ood'), config: { ...config, epochs: 2 }, out, seeds: 2 });
    for (const f of [
      'config.json',
      'history.json',
      'metrics.json',
      'predictions.json',
      'checkpoints/latest.json',
      'checkpoints/epoch-0002/terrain-cnn/model.json',
      'checkpoints/epoch-0002/pure-nn/weights.bin',
      'checkpoints/epoch-0002/optimizer.json',
      'terrain/maps.mcap',
    ])
      assert.ok(existsSync(join(out, f)), f);
    const grid = JSON.parse(readFileSync(join(out, 'terrain', `${split.test[0]!.record.id}.json`), 'utf8'));
    assert.deepEqual(
      grid.fields.map((f: { name: string }) => f.name),
      ['height', 'friction', 'stiffness', 'true_height', 'true_friction', 'true_stiffness', 'sensor_height', 'grad_height', 'grad_friction', 'grad_stiffness'],
    );
    const m = res.metrics;
    const names = (rows: TerrainRunMetrics['models']): string[] => [...new Set(rows.map((r) => r.name))];
    assert.deepEqual(names(m.models), ['physics-default', 'unicycle', 'physics-oracle', 'terrain-cnn', 'pure-nn']);
    assert.deepEqual(names(m.ood!.models), names(m.models));
    assert.equal(m.models.filter((r) => r.name === 'terrain-cnn').length, 2, 'one row per seed');
    assert.deepEqual(Object.keys(m.models[0]!.fde), ['1'], 'horizons 1, 3, 5 s up to the 2 s trajectories');
    for (const r of [...m.models, ...m.ood!.models])
      for (const h of ['1']) assert.ok(Number.isFinite(r.fde[h]!) && Number.isFinite(r.adeAt[h]!), `${r.name} @${h}`);

    // eval re-evaluates the same models to the same figures; resume continues to more epochs
    const e = await evaluateTerrainRun(tf, out);
    const cnnRow = (x: TerrainRunMetrics): number => x.models.find((r) => r.name === 'terrain-cnn' && r.seed === 1)!.ade;
    assert.ok(Math.abs(cnnRow(e) - cnnRow(m)) < 1e-9, `${cnnRow(e)} vs ${cnnRow(m)}`);
    const r2 = await runTerrain({ tf, data: join(dir, 'id'), out, resume: true, epochs: 3 });
    assert.deepEqual(
      r2.history.filter((h) => h.model === 'terrain-cnn').map((h) => h.epoch),
      [1, 2, 3],
    );
    await assert.rejects(runTerrain({ tf, data: join(dir, 'id'), out }), /a run folder already exists here/);

    // a dataset that no longer fits the trained models is named
    const cfgPath = join(out, 'config.json');
    const rc = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...rc, input: { path: join(dir, 'other') } }));
    await generateDataset({ n: 8, seed: 5, out: join(dir, 'other'), spec: { ...SMALL, grid: { ...SMALL.grid, nx: 20 } } });
    await assert.rejects(
      evaluateTerrainRun(tf, out),
      (err: Error) => err instanceof TerrainShapeError && /terrain-cnn\): grid 24 x 20 at 0\.2 m does not match the expected 24 x 24/.test(err.message),
    );

    // an OOD set on another grid is named
    assert.throws(
      () => loadTerrainSplit(join(dir, 'id'), join(dir, 'other'), config),
      (err: Error) => err instanceof TerrainShapeError && err.message.includes('other: out-of-distribution terrains: grid 24 x 20'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
