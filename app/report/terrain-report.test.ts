// Test of the run report of a terrain run (app/report on an ego/terrain run folder): a tiny
// generated dataset with an out-of-distribution set, one epoch of training, then writeReport;
// the report holds the in-distribution metrics table and the out-of-distribution one, each with
// every model of metrics.json and its own figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf } from '../../models/index.ts';
import { DEFAULT_SPEC, generateDataset, runTerrain, type TerrainSpec } from '../../ego/terrain/index.ts';
import { writeReport } from './write-report.ts';

const SMALL: TerrainSpec = { ...DEFAULT_SPEC, grid: { nx: 24, ny: 24, cellSize: 0.2, origin: [-2.3, -2.3] }, patches: 2, duration: 2, sensorRange: 3 };

/** The rows (cells) of the table in the report section with this id. */
function sectionRows(html: string, id: string): string[][] {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  assert.ok(m, `section ${id} in the report`);
  const table = /<table>([\s\S]*?)<\/table>/.exec(m[1]!);
  assert.ok(table, `a table in section ${id}`);
  // the body rows (the header row has <th> cells)
  return [...table[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .filter((r) => !r[1]!.includes('<th>'))
    .map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
}

test('the report of a terrain run shows the in-distribution and the out-of-distribution metrics tables', async () => {
  const { tf } = await initTf('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'impulse-terrain-report-'));
  try {
    await generateDataset({ n: 6, seed: 3, out: join(dir, 'id'), spec: SMALL });
    await generateDataset({ n: 2, seed: 4, out: join(dir, 'ood'), spec: SMALL, ood: true });
    const out = join(dir, 'run');
    const res = await runTerrain({
      tf,
      data: join(dir, 'id'),
      ood: join(dir, 'ood'),
      config: { epochs: 1, batchSize: 4, channels: 4, nnEpochs: 5, nnHidden: [8], seed: 1 },
      out,
    });
    const r = await writeReport(out, { png: false });
    const html = readFileSync(r.html, 'utf8');
    const id = sectionRows(html, 'metrics');
    const ood = sectionRows(html, 'ood');
    const names = [...new Set(res.metrics.models.map((m) => m.name))];
    assert.deepEqual(
      id.map((row) => row[0]),
      names,
    );
    assert.deepEqual(
      ood.map((row) => row[0]),
      names,
    );
    // each table carries its own set's figures (ADE of the default-physics row)
    const ade = (rows: typeof res.metrics.models): string => rows.find((m) => m.name === 'physics-default')!.ade.toPrecision(3);
    assert.ok(
      id[0]!.some((c) => c.startsWith(ade(res.metrics.models).slice(0, 4))),
      `${id[0]} vs ${ade(res.metrics.models)}`,
    );
    assert.ok(
      ood[0]!.some((c) => c.startsWith(ade(res.metrics.ood!.models).slice(0, 4))),
      `${ood[0]} vs ${ade(res.metrics.ood!.models)}`,
    );
    assert.match(html, /out-of-distribution/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
