// Tests of body-body contact (sim/physics/kernels/bodybody.ts): the broad phase finds exactly
// the pairs a brute-force test finds (hundreds of bodies, worlds kept apart), contact forces
// are equal and opposite, a sphere rests on a box at the soft contact's deflection, and bodies
// overlapping at the start are refused naming both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, noGrad } from '../core/index.ts';
import { BodyDesc, ModelBuilder, SceneError, bodyPairs, modelData, rollout, runSceneFile } from './index.ts';
import { rotationMatrices } from './math.ts';
import { eval_body_body_contacts } from './kernels/bodybody.ts';

test('the sweep-and-prune broad phase finds the same pairs as all-pairs tests (400 bodies, two worlds)', () => {
  const rng = new Rng(5);
  const w = new ModelBuilder();
  for (let i = 0; i < 200; i++) {
    const d = i % 3 === 0 ? BodyDesc.sphere(rng.range(0.05, 0.2)) : i % 3 === 1 ? BodyDesc.box(0.1, rng.range(0.05, 0.2), 0.1) : BodyDesc.capsule(0.1, 0.05);
    w.addBody(d.setTranslation(rng.range(-3, 3), rng.range(-3, 3), rng.range(0, 2)));
  }
  const b = new ModelBuilder().addBuilder(w).addBuilder(w, [0.05, 0, 0]);
  const m = b.finalize();
  const M = modelData(m);
  const pos = m.initial.bodyPos;
  const got = new Set<string>();
  const pairs = bodyPairs(M, pos);
  for (let i = 0; i < pairs.length; i += 2) got.add(`${pairs[i]},${pairs[i + 1]}`);
  const want = new Set<string>();
  for (let a = 0; a < m.bodyCount; a++)
    for (let c = a + 1; c < m.bodyCount; c++) {
      if (m.bodyWorld[a] !== m.bodyWorld[c]) continue;
      const d = Math.hypot(pos[3 * a]! - pos[3 * c]!, pos[3 * a + 1]! - pos[3 * c + 1]!, pos[3 * a + 2]! - pos[3 * c + 2]!);
      if (d < M.bodyBound[a]! + M.bodyBound[c]!) want.add(`${a},${c}`);
    }
  assert.ok(want.size > 20, `${want.size} overlapping pairs`);
  assert.deepEqual([...got].sort(), [...want].sort());
});

test('contact forces are equal and opposite (momentum conserved); a sphere rests on a box at r + h - m g / ke', () => {
  const b = new ModelBuilder().setGround({ ke: 1e5, kd: 200, kf: 200 }).setBodyContact({ ke: 1e4, kd: 50, kf: 50, mu: 0.5 });
  b.addBody(BodyDesc.box(0.3, 0.3, 0.1).setMass(5).setTranslation(0, 0, 0.1));
  b.addBody(BodyDesc.sphere(0.1).setMass(1).setTranslation(0.05, 0, 0.35));
  const m = b.finalize();
  const M = modelData(m);
  const f = new Float64Array(6);
  const t = new Float64Array(6);
  const pos = Float64Array.from([0, 0, 0.1, 0.05, 0.02, 0.29]);
  const vel = Float64Array.from([0.1, 0, 0, -0.3, 0.2, -0.5]);
  const w = Float64Array.from([0, 0, 1, 0.5, 0, 0]);
  eval_body_body_contacts(M, pos, rotationMatrices(m.initial.bodyRot, 2), vel, w, bodyPairs(M, pos), f, t);
  assert.ok(f[5]! > 0, 'the box pushes the sphere up');
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(f[a]! + f[3 + a]!) < 1e-12, 'equal and opposite');
  const r = noGrad(() => rollout(m, m.state(), { steps: 180, dt: 1 / 60, substeps: 'auto' }));
  const z = r.final.bodyPos.data[5]!;
  const boxTop = r.final.bodyPos.data[2]! + 0.1;
  assert.ok(Math.abs(z - (boxTop + 0.1 - 9.81 / 1e4)) < 1e-5, `sphere at ${z}, box top ${boxTop}`);
});

test('bodies overlapping at the start are refused naming both; "bodyContact": false lets them pass through', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-bb-'));
  const scene = join(dir, 'overlap.json');
  const bodies = [
    { shape: { type: 'box', halfExtents: [0.2, 0.2, 0.2] }, pos: [0, 0, 0.2] },
    { shape: { type: 'sphere', radius: 0.1 }, pos: [5, 0, 0.1] },
    { shape: { type: 'sphere', radius: 0.1 }, pos: [0.15, 0, 0.3] },
  ];
  writeFileSync(scene, JSON.stringify({ bodies }));
  await assert.rejects(
    runSceneFile(scene, { steps: 1 }),
    (e: unknown) => e instanceof SceneError && e.path === 'bodies[2]' && /bodies\[0\] and bodies\[2\] overlap by 1\d\d\.\d mm at the start/.test(e.message),
  );
  writeFileSync(scene, JSON.stringify({ bodies, bodyContact: false }));
  const r = await runSceneFile(scene, { steps: 1 });
  assert.equal(r.bodies, 3);
  rmSync(dir, { recursive: true });
});
