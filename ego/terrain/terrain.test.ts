// Tests of the terrain dataset (ego/terrain): determinism of the generator, the OOD obstacle
// kinds, the Rapier heightfield layout against the maps, the dataset format's round trip and
// its named errors (missing, partial, corrupt, mis-sized), the engine model against Rapier,
// NaN reporting with terrain, robot and step, the baselines' metrics, and rollouts over
// worker threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import RAPIER from '@dimforge/rapier3d-compat';
import {
  DEFAULT_SPEC,
  ID_KINDS,
  MATERIAL,
  OOD_KINDS,
  RolloutNonFiniteError,
  TerrainDataError,
  TerrainShapeError,
  checkGrid,
  generateDataset,
  generateTerrain,
  openTerrainDataset,
} from './index.ts';
import { addTerrain, initRapier, rapierHeights } from './rapier-truth.ts';
import { buildBatch, robotPath, rolloutBatch, tiledTensor, trajectoryLoss } from './engine.ts';
import { RolloutPool } from './parallel.ts';
import { checkSetup } from './checks.ts';
import { backward } from '../../sim/core/index.ts';
import { evaluateBaselines, fillSensorMap } from './baseline.ts';

const spec = DEFAULT_SPEC;

test('the generator is a pure function of (seed, index, split); OOD sets use only unseen obstacle kinds', () => {
  const a = generateTerrain(spec, 5, 3);
  const b = generateTerrain(spec, 5, 3);
  assert.deepEqual(a.heights, b.heights);
  assert.deepEqual(a.commands, b.commands);
  assert.deepEqual(a.sensorHeights, b.sensorHeights);
  assert.notDeepEqual(generateTerrain(spec, 5, 4).heights, a.heights);
  for (let i = 0; i < 6; i++) {
    const o = generateTerrain(spec, 5, i, true);
    assert.ok(o.kinds.length > 0 && o.kinds.every((k) => (OOD_KINDS as readonly string[]).includes(k)), `ood kinds ${o.kinds}`);
    const d = generateTerrain(spec, 5, i);
    assert.ok(d.kinds.every((k) => (ID_KINDS as readonly string[]).includes(k)));
  }
  // the sensor sees part of the map (range and occlusion), with noise where it sees
  const seen = a.sensorMask.reduce((s, m) => s + m, 0) / a.sensorMask.length;
  assert.ok(seen > 0.2 && seen < 0.95, `seen fraction ${seen}`);
  let maxNoise = 0;
  a.sensorMask.forEach((m, k) => {
    if (m) maxNoise = Math.max(maxNoise, Math.abs(a.sensorHeights[k]! - a.heights[k]!));
    else assert.equal(a.sensorHeights[k], 0);
  });
  assert.ok(maxNoise > 0.02 && maxNoise < 0.15, `noise ${maxNoise}`);
  // occluded cells are filled from seen neighbours
  const filled = fillSensorMap(spec, a.sensorHeights, a.sensorMask);
  assert.ok(filled.every(Number.isFinite));
});

test("Rapier's heightfield colliders (one per patch) lie where the maps say, with the patch's friction", async () => {
  await initRapier();
  const s = generateTerrain(spec, 11, 0);
  const h = rapierHeights(s);
  const world = new RAPIER.World({ x: 0, y: 0, z: -9.81 });
  try {
    addTerrain(world, spec, s, h);
    world.step();
    const g = spec.grid;
    let n = 0;
    for (let j = 3; j < g.ny; j += 9)
      for (let i = 2; i < g.nx; i += 7) {
        // just off the grid point (a ray exactly through a triangle vertex may miss)
        const x = g.origin[0] + i * g.cellSize + 1e-4;
        const y = g.origin[1] + j * g.cellSize + 1e-4;
        const hit = world.castRayAndGetNormal(new RAPIER.Ray({ x, y, z: 10 }, { x: 0, y: 0, z: -1 }), 100, true);
        assert.ok(hit, `no terrain under grid point (${i}, ${j})`);
        assert.ok(Math.abs(10 - hit.timeOfImpact - h[j * g.nx + i]!) < 2e-3, `height at (${i}, ${j})`);
        assert.ok(Math.abs(hit.collider.friction() - s.friction[j * g.nx + i]!) < 1e-6, `friction at (${i}, ${j})`);
        n++;
      }
    assert.ok(n > 50);
  } finally {
    world.free();
  }
});

test('dataset round trip, named errors for missing, partial, corrupt and mis-sized data; engine vs Rapier; baselines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-terrain-'));
  try {
    const out = join(dir, 'ds');
    const r = await generateDataset({ n: 3, seed: 2, out });
    assert.equal(r.manifest.samples.length, 3);
    const ds = openTerrainDataset(out);
    const s0 = ds.load(0);
    const again = generateTerrain(spec, 2, 0);
    assert.deepEqual(Array.from(s0.sample.heights), Array.from(Float32Array.from(again.heights)));
    assert.equal(s0.truth.poses.length, 7 * 51);
    // the robot moved, stayed on the map and upright
    const p = s0.truth.poses;
    assert.ok(Math.hypot(p[7 * 50]! - p[0]!, p[7 * 50 + 1]! - p[1]!) > 0.5);

    // engine model with the true maps follows Rapier's path (model mismatch, not a different path)
    const items = [0, 1, 2].map((i) => ds.load(i));
    const w = buildBatch(
      spec,
      items.map((s) => s.sample),
      items.map((s, i) => ({ tile: i, pose0: s.truth.poses.subarray(0, 7), velocity0: s.truth.velocity0, commands: s.sample.commands })),
    );
    const roll = rolloutBatch(w);
    items.forEach((s, i) => {
      const e = robotPath(roll, i);
      const k = 10; // 1 s
      const err = Math.hypot(e[3 * k]! - s.truth.poses[7 * k]!, e[3 * k + 1]! - s.truth.poses[7 * k + 1]!);
      assert.ok(err < 0.3, `sample ${i}: engine vs Rapier after 1 s: ${err} m`);
    });

    const base = evaluateBaselines(ds);
    assert.deepEqual(
      base.results.map((b) => b.name),
      ['physics-default', 'physics-true-heights', 'physics-oracle', 'unicycle'],
    );
    for (const b of base.results) {
      assert.deepEqual(
        b.metrics.map((m) => m.horizon),
        [1, 3, 5],
      );
      for (const m of b.metrics) assert.ok(Number.isFinite(m.minAde) && m.minAde > 0 && m.minFde >= 0, `${b.name} ${JSON.stringify(m)}`);
      assert.ok(b.metrics[0]!.minAde < b.metrics[2]!.minAde, `${b.name}: error grows with the horizon`);
    }

    // bad input: each names the file and record
    const bad = (mutate: (d: string) => void, re: RegExp, load = false): void => {
      const d = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
      cpSync(out, d, { recursive: true });
      mutate(d);
      assert.throws(
        () => {
          const x = openTerrainDataset(d);
          if (load) for (let i = 0; i < x.size; i++) x.load(i);
        },
        (e: Error) => (e instanceof TerrainDataError || e instanceof TerrainShapeError) && re.test(e.message),
      );
    };
    const f1 = 'samples/train-000001.bin';
    bad((d) => rmSync(join(d, f1)), /train-000001\.bin, record 1: sample file is missing/);
    bad((d) => truncateSync(join(d, f1), 1000), /train-000001\.bin, record 1: partial or wrong-size sample file: 1000 bytes/);
    bad(
      (d) => {
        const b = readFileSync(join(d, f1));
        b[100] = b[100]! ^ 0xff;
        writeFileSync(join(d, f1), b);
      },
      /train-000001\.bin, record 1: corrupt sample file: SHA-256/,
      true,
    );
    bad((d) => rmSync(join(d, 'manifest.json')), /manifest\.json: no manifest\.json/);
    bad((d) => writeFileSync(join(d, 'manifest.json'), '{"format": '), /manifest\.json: not valid JSON/);
    bad((d) => {
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      m.samples[2].start[1] = 'x';
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    }, /manifest\.json, record 2: field 'samples\.2\.start\.1'/);
    bad((d) => {
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      m.spec.grid.nx = 64;
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    }, /arrays\[0\] is heights \[72 x 72\], expected heights \[72 x 64\]/);
    assert.throws(
      () => checkGrid(spec.grid, { ...spec.grid, nx: 64 }, 'model input'),
      /model input: grid 72 x 64 at 0.16 m does not match the expected 72 x 72/,
    );
    assert.throws(
      () => buildBatch(spec, [{ heights: new Float64Array(10), friction: new Float64Array(10), stiffness: new Float64Array(10) }], []),
      /terrain 0: heights has 10 values, the grid 72 x 72 needs 5184/,
    );

    // NaN in a rollout: named with terrain, robot and step
    const blow = { ...items[1]!.sample, stiffness: items[1]!.sample.stiffness.map(() => 1e13) };
    const wb = buildBatch(
      spec,
      [items[0]!.sample, blow],
      [0, 1].map((i) => ({
        tile: i,
        pose0: items[i]!.truth.poses.subarray(0, 7),
        velocity0: items[i]!.truth.velocity0,
        commands: items[i]!.sample.commands,
        label: items[i]!.record.id,
      })),
    );
    assert.throws(
      () => rolloutBatch(wb),
      (e: Error) =>
        e instanceof RolloutNonFiniteError &&
        e.robot === 1 &&
        e.terrain === 'train-000001' &&
        e.step >= 1 &&
        /terrain train-000001, robot 1, step \d+/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RolloutPool: two worker threads give the in-process paths, loss and map gradients', async () => {
  const { spec, maps, robots } = checkSetup();
  const second = { heights: maps.heights.map((v) => 0.5 * v), friction: maps.friction, stiffness: maps.stiffness };
  const terrains = [maps, second];
  // the terrains interleaved, so that the pool's grouping of robots by terrain reorders them
  const rb = robots.flatMap((r) => [r, { ...r, tile: 1 }]);
  const truth = rb.map((r) => Float64Array.from({ length: 9 }, (_, k) => (r.pose0[k % 3]! as number) + (k % 3 === 0 ? 0.02 * Math.floor(k / 3) : 0)));
  // in process
  const w = buildBatch(spec, terrains, rb);
  const h = tiledTensor(
    w,
    terrains.map((t) => t.heights),
    0,
  ).requireGrad();
  const mu = tiledTensor(
    w,
    terrains.map((t) => t.friction),
    MATERIAL.defaultMu,
  ).requireGrad();
  const ke = tiledTensor(
    w,
    terrains.map((t) => t.stiffness),
    MATERIAL.defaultKe,
  ).requireGrad();
  const r = rolloutBatch(w, { maps: { terrainHeights: h, terrainMu: mu, terrainKe: ke } });
  const loss = trajectoryLoss(r, truth, spec.recordDt);
  backward(loss);
  const pool = new RolloutPool(2);
  try {
    const fwd = await pool.run({ spec, terrains, robots: rb, mode: 'forward' });
    assert.equal(fwd.parts, 2);
    // each robot is its own world; a terrain's tile offset may differ between a thread's Model
    // and the in-process one, so positions agree to rounding
    rb.forEach((_, i) => {
      const a = robotPath(r, i);
      fwd.paths[i]!.forEach((v, k) => assert.ok(Math.abs(v - a[k]!) <= 1e-12 * (1 + Math.abs(a[k]!)), `robot ${i} path[${k}]: ${v} vs ${a[k]}`));
    });
    const g = await pool.run({ spec, terrains, robots: rb, mode: 'grad', truth });
    assert.ok(Math.abs(g.loss! - loss.data[0]!) < 1e-12 * Math.max(1, loss.data[0]!) + 1e-15, `loss ${g.loss} vs ${loss.data[0]}`);
    const { nx, ny } = spec.grid;
    terrains.forEach((_, t) => {
      const [ox, oy] = [(t % w.cols) * nx, Math.floor(t / w.cols) * ny];
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          for (const [name, ten] of [
            ['heights', h],
            ['friction', mu],
            ['stiffness', ke],
          ] as const) {
            // the same sums in another order: equal to rounding
            const ref = ten.grad!.data[(oy + j) * w.cols * nx + ox + i]!;
            const got = g.grads![t]![name][j * nx + i]!;
            assert.ok(Math.abs(got - ref) <= 1e-12 * Math.abs(ref) + 1e-300, `tile ${t} dL/d${name}[${j}][${i}]: ${got} vs ${ref}`);
          }
        }
    });
  } finally {
    await pool.close();
  }
});
