// Runs the registered physics gradchecks (sim/physics/checks.ts): every kernel's
// hand-written adjoint (the force kernels' checks generated from the kernel list), the fused
// step and multi-step rollouts against central differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, runGradchecks } from '../core/index.ts';
import { physicsChecks } from './checks.ts';
import { BODY_FORCE_KERNELS, PARTICLE_FORCE_KERNELS } from './kernels/list.ts';

const KERNELS = [
  'physics.eval_springs',
  'physics.eval_particle_drag',
  'physics.eval_particle_ground_contacts',
  'physics.eval_particle_ground_contacts_smooth',
  'physics.eval_particle_ground_contacts_c1',
  'physics.eval_particle_terrain_contacts_c1',
  'physics.eval_body_terrain_contacts_c1',
  'physics.eval_body_ground_contacts_c1',
  'physics.eval_body_body_contacts_c1',
  'physics.terrain_height_spline',
  'physics.rollout_c1',
  'physics.eval_particle_terrain_contacts',
  'physics.integrate_particles',
  'physics.eval_body_ground_contacts',
  'physics.eval_body_terrain_contacts',
  'physics.eval_body_terrain_contacts_smooth',
  'physics.eval_body_body_contacts',
  'physics.eval_track_drive',
  'physics.integrate_bodies',
  'physics.terrain_height',
  'physics.simulate',
  'physics.simulate_body_contact',
  'physics.rollout',
  'physics.rollout_checkpointed',
];

test('every kernel, the fused step and the rollouts have a registered gradcheck', () => {
  assert.deepEqual([...physicsChecks.keys()].sort(), [...KERNELS].sort());
});

test('every force kernel of the kernel list has checks generated from its entry: the exact model and each listed variant; every contact kernel has a C1 variant', () => {
  for (const k of [...PARTICLE_FORCE_KERNELS, ...BODY_FORCE_KERNELS]) {
    assert.ok(physicsChecks.has(`physics.${k.name}`), `no gradcheck physics.${k.name}`);
    if (!k.check) continue;
    for (const v of k.check.variants) assert.ok(physicsChecks.has(`physics.${k.name}_${v}`), `no gradcheck physics.${k.name}_${v}`);
    if (k.name.includes('contacts')) assert.ok(k.check.variants.includes('c1'), `${k.name} lists no C1 variant`);
    // the generated check's inputs are the state it reads and the parameters of its entry, named
    const { inputs } = physicsChecks.get(`physics.${k.name}`)!();
    const names = inputs.map((t) => t.name);
    for (const p of Object.keys(k.check.params))
      assert.ok(
        names.some((n) => n === p || n?.startsWith(`${p}/`)),
        `${k.name}: no input ${p}`,
      );
  }
});

test('all physics gradchecks pass at 1e-6 relative error', () => {
  const results = runGradchecks('physics.');
  assert.equal(results.length, KERNELS.length);
  for (const r of results) {
    assert.equal(r.error, undefined, `${r.name}: ${r.error}`);
    assert.ok(r.passed && r.maxRelErr <= 1e-6, `${r.name}: maxRelErr ${r.maxRelErr}`);
  }
});

test('a gradcheck catches a wrong adjoint (the check can fail)', () => {
  const make = physicsChecks.get('physics.eval_springs')!;
  const { fn, inputs } = make();
  const r = gradcheck((q, qd, ke, kd, rest) => fn(q!, qd!, ke!, kd!, rest!), inputs);
  assert.ok(r.passed);
  const broken = gradcheck((q, qd, ke, kd, rest) => {
    const f = fn(q!, qd!, ke!, kd!, rest!);
    // alter the output after it was recorded: the recorded adjoint no longer matches the values
    const d = f.data;
    for (let i = 0; i < d.length; i++) d[i] = d[i]! + 0.3 * q!.data[i]! ** 2;
    return f;
  }, inputs);
  assert.ok(!broken.passed);
});
