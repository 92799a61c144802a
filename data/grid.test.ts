// Tests of the Grid JSON files (data/formats/grid.ts) and the foxglove.Grid message they share with the MCAP writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatGridJson, writeGridJson } from './index.ts';

test('Grid JSON holds each layer as float32 cells, row-major from the origin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-grid-'));
  try {
    const file = join(dir, 'maps.json');
    writeGridJson(file, {
      columns: 3,
      rows: 2,
      cellSize: [0.5, 0.25],
      origin: { position: [-1, 2, 0], orientation: [0, 0, 0, 1] },
      layers: [
        { name: 'height', values: Float64Array.from([0, 1, 2, 3, 4, 5]) },
        { name: 'grad_friction', values: Float64Array.from([-0.5, 0, 0.5, 1, 1.5, 2]) },
      ],
    });
    assert.deepEqual(readdirSync(dir), ['maps.json'], 'no temporary file left');
    const g = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(g.column_count, 3);
    assert.deepEqual(g.cell_size, { x: 0.5, y: 0.25 });
    assert.deepEqual(g.pose.position, { x: -1, y: 2, z: 0 });
    assert.deepEqual(
      g.fields.map((f: { name: string }) => f.name),
      ['height', 'grad_friction'],
    );
    const buf = Buffer.from(g.data, 'base64');
    assert.equal(buf.length, 6 * g.cell_stride);
    // cell (row 1, column 2): height 5, gradient 2
    const at = 1 * g.row_stride + 2 * g.cell_stride;
    assert.equal(buf.readFloatLE(at), 5);
    assert.equal(buf.readFloatLE(at + 4), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Grid JSON refuses a layer of the wrong size, naming it', () => {
  assert.throws(
    () => formatGridJson({ columns: 2, rows: 2, cellSize: [1, 1], layers: [{ name: 'friction', values: new Float64Array(3) }] }, 'world', 'maps.json'),
    /maps\.json: grid layer 'friction' has 3 values for 2x2 cells/,
  );
});
