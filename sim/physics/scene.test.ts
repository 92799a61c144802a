// Tests of scene files (sim/physics/scene.ts, run.ts): the shipped scenes validate and run,
// and bad scenes fail with a SceneError naming the file and the JSON path at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SceneError, SceneSchema, buildScene, loadScene, parseScene, runSceneFile } from './index.ts';
import { PARAMS, groupParams } from './params.ts';
import { readTrajectory } from '../../data/index.ts';

const SCENES = ['bounce', 'cloth', 'box-slide', 'tracked-robot'].map((n) => join(import.meta.dirname, '../../examples/physics', `${n}.json`));

function expectPath(scene: unknown, path: string, message?: RegExp): void {
  assert.throws(
    () => buildScene(parseScene(scene, 'bad.json'), 'bad.json'),
    (e: unknown) => e instanceof SceneError && e.path === path && e.message.startsWith(`bad.json: ${path}`) && (!message || message.test(e.message)),
  );
}

test('the shipped example scenes validate and build', () => {
  for (const f of SCENES) {
    const b = buildScene(loadScene(f), f);
    assert.ok(b.model.particleCount + b.model.bodyCount > 0, f);
  }
});

test('runSceneFile writes a trajectory and a summary; --steps and --dt override the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-sim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'traj.json');
  const r = await runSceneFile(SCENES[2]!, { steps: 300, dt: 0.005, out });
  assert.equal(r.steps, 300);
  assert.equal(r.bodies, 3);
  // the box slides to rest near v^2 / (2 mu g)
  assert.ok(Math.abs(r.bodyPos[0]![0]! - 4 / (2 * 0.5 * 9.81)) < 0.01, `stopped at ${r.bodyPos[0]![0]}`);
  const traj = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(traj.steps.length, 301);
  assert.equal(traj.bodies[300].pos.length, 3);
  assert.equal(traj.bodies[300].rot[0].length, 4);
  const robot = await runSceneFile(SCENES[3]!, { steps: 60 });
  assert.ok(robot.bodyPos[0]![0]! > 0.2, 'the tracked robot drives forward');
});

test("runSceneFile --body writes that body's poses in the data layer's formats (TUM, MCAP), read back by readTrajectory", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-sim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const ext of ['tum', 'mcap']) {
    const out = join(dir, `box.${ext}`);
    const r = await runSceneFile(SCENES[2]!, { steps: 300, dt: 0.005, out, body: 0 });
    assert.equal(r.body, 0);
    const t = await readTrajectory(out, ext === 'mcap' ? { topic: '/trajectory' } : {});
    assert.equal(t.length, 301);
    assert.ok(Math.abs(t.timestamps![300]! - 1.5) < 1e-9, `last stamp ${t.timestamps![300]}`);
    const p = t.position(300);
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(p[a]! - r.bodyPos[0]![a]!) < 1e-6, `${ext}: final position axis ${a}`);
  }
  await assert.rejects(runSceneFile(SCENES[2]!, { out: join(dir, 'x.tum'), body: 7 }), /--body 7: the scene has 3 bodies \(indices 0..2\)/);
  await assert.rejects(runSceneFile(SCENES[2]!, { body: 0 }), /--body needs --out/);
});

test('bad scenes name the field: negative mass, spring index, map size, dt, unknown key, track point, bad file', async (t) => {
  const base = {
    particles: [
      { pos: [0, 0, 1], mass: 1 },
      { pos: [1, 0, 1], mass: 1 },
    ],
  };
  expectPath(
    {
      ...base,
      particles: [
        { pos: [0, 0, 1], mass: 1 },
        { pos: [1, 0, 1], mass: -1 },
      ],
    },
    'particles[1].mass',
    />0/,
  );
  expectPath({ ...base, particles: [{ pos: [0, 0, 1], mass: 0 }] }, 'particles[0].mass');
  expectPath(
    {
      ...base,
      springs: [
        { i: 0, j: 1, ke: 10 },
        { i: 0, j: 5, ke: 10 },
      ],
    },
    'springs[1].j',
    /out of range \[0, 2\)/,
  );
  expectPath({ ...base, springs: [{ i: 1, j: 1, ke: 10 }] }, 'springs[0]', /both ends/);
  expectPath({ ...base, dt: 0 }, 'dt');
  expectPath({ ...base, dt: -0.01 }, 'dt');
  expectPath({ ...base, gravity: [0, 0] }, 'gravity');
  expectPath({ ...base, particle: [] }, '(root)', /Unrecognized key/);
  const terrain = {
    origin: [0, 0],
    cellSize: 1,
    heights: [
      [0, 0, 0],
      [0, 0, 0],
    ],
  };
  expectPath({ terrain: { ...terrain, mu: [[0.5, 0.5, 0.5]] } }, 'terrain.mu', /1 rows, expected 2/);
  expectPath(
    {
      terrain: {
        ...terrain,
        ke: [
          [1, 1, 1],
          [1, 1],
        ],
      },
    },
    'terrain.ke[1]',
    /2 entries, expected 3/,
  );
  expectPath({ terrain: { ...terrain, heights: [[0, 0, 0]] } }, 'terrain.heights', /at least 2 x 2/);
  expectPath({ terrain: { ...terrain, kf: -1 } }, 'terrain.kf');
  // the terrain fields come from the parameter table: each names itself with its constraint
  expectPath({ terrain: { ...terrain, ke: 'NaN' } }, 'terrain.ke');
  expectPath({ terrain: { ...terrain, mu: -0.5 } }, 'terrain.mu');
  expectPath(
    {
      terrain: {
        ...terrain,
        kd: [
          [1, 1, 1],
          [1, -1, 1],
        ],
      },
    },
    'terrain.kd[1][1]',
  );
  expectPath(
    {
      terrain: {
        ...terrain,
        heights: [
          [0, 0, 0],
          [0, 'x', 0],
        ],
      },
    },
    'terrain.heights[1][1]',
  );
  expectPath({ terrain: { origin: [0, 0], cellSize: 1 } }, 'terrain.heights');
  expectPath({ terrain: { ...terrain, kf: 'NaN' } }, 'terrain.kf');
  expectPath({ bodies: [{ shape: { type: 'box', halfExtents: [0.1, 0.1, 0] } }] }, 'bodies[0].shape.halfExtents[2]');
  expectPath({ bodies: [{ shape: { type: 'cone' } }] }, 'bodies[0].shape.type');
  expectPath({ bodies: [{ shape: { type: 'sphere', radius: 0.1 }, tracks: [{ points: [0, 1] }] }] }, 'bodies[0].tracks[0].points[1]', /out of range \[0, 1\)/);
  expectPath({ bodies: [{ shape: { type: 'sphere', radius: 0.1 }, rot: [0, 0, 0, 0] }] }, 'bodies[0].rot');
  expectPath({ ...base, control: { particleF: [[0, 0, 1]] } }, 'control.particleF', /1 entries, expected 2/);
  const dir = mkdtempSync(join(tmpdir(), 'impulse-sim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"particles": [');
  assert.throws(
    () => loadScene(broken),
    (e: unknown) => e instanceof SceneError && e.message.includes('broken.json') && /invalid JSON/.test(e.message),
  );
  assert.throws(() => loadScene(join(dir, 'missing.json')), /cannot read scene file/);
  await assert.rejects(runSceneFile(SCENES[0]!, { dt: 0 }), /--dt 0: must be a finite number > 0/);
});

test('the scene schema has one terrain field per table parameter with a terrain scene key, with its default', () => {
  const fields = groupParams('terrain').map(([f]) => f);
  assert.deepEqual(fields, ['heights', 'ke', 'kd', 'mu', 'kf']);
  const terrainShape = (SceneSchema.shape.terrain.unwrap() as { shape: Record<string, unknown> }).shape;
  for (const f of fields) assert.ok(f in terrainShape, `terrain.${f} missing from the scene schema`);
  // a map given as one number fills every cell; an absent one takes the table's default
  const heights = [
    [0, 0],
    [0, 0],
  ];
  const one = buildScene(parseScene({ terrain: { origin: [0, 0], cellSize: 1, heights, mu: 0.3 } }, 'a.json'), 'a.json').model;
  assert.deepEqual([...one.terrainMu.data], [0.3, 0.3, 0.3, 0.3]);
  assert.deepEqual([...one.terrainKe.data], [1e4, 1e4, 1e4, 1e4]);
  assert.equal(one.terrainKf.data[0], PARAMS.terrainKf.default);
});
