// Cross-checks against Rapier (sim/rapier): the same scenes in Impulse's soft-contact
// engine and in Rapier's constraint-based one. Tolerances, and why they differ:
// - free flight: semi-implicit Euler lags the parabola by exactly g t dt / 2 (Impulse, float64);
//   Rapier (float32) stays within the same bound; the two engines within g t dt of each other.
// - resting box: no drift in either (Impulse 1e-9 m, Rapier 1e-4 m); Impulse sinks by its soft
//   contact's static deflection m g / (4 ke), Rapier by up to its allowed penetration (~1 mm).
// - sliding box: stopping distance within 5% of Rapier's and of v^2 / (2 mu g) (the soft model
//   adds a short viscous phase kf |vt| near rest, Rapier an exact Coulomb stop).
// - dropped sphere: rest height r - m g / ke in Impulse, r minus Rapier's allowed penetration.
// - at dt = 1/60 in both engines (Impulse's substeps chosen from its stability bound): the
//   sliding box's stopping distance and a 65 g ball's rest height within 5%.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ballResting, bodiesAt, boxResting, boxSliding, boxSlidingAt, freeFlight, sphereDrop } from './scenes.ts';

const G = 9.81;

test('free flight: both engines follow the analytic parabola (Impulse exactly g t dt / 2 behind)', async () => {
  const dt = 1 / 240;
  const T = 1;
  const r = await freeFlight(dt, T);
  const lag = (G * T * dt) / 2;
  for (let a = 0; a < 2; a++) {
    assert.ok(Math.abs(r.impulse[a]! - r.analytic[a]!) < 1e-9, `impulse axis ${a}`);
    assert.ok(Math.abs(r.rapier[a]! - r.analytic[a]!) < 1e-4, `rapier axis ${a}`);
  }
  assert.ok(Math.abs(r.analytic[2]! - lag - r.impulse[2]!) < 1e-9, `impulse z ${r.impulse[2]} vs ${r.analytic[2]! - lag}`);
  assert.ok(Math.abs(r.rapier[2]! - r.analytic[2]!) <= lag + 1e-4, `rapier z ${r.rapier[2]}`);
  assert.ok(Math.abs(r.rapier[2]! - r.impulse[2]!) <= 2 * lag, 'engines within g t dt');
});

test('box resting on the ground: no drift in either engine, heights within the contact models', async () => {
  const r = await boxResting(2);
  assert.ok(Math.abs(r.impulse.pos[0]! - 0.3) < 1e-9 && Math.abs(r.impulse.pos[1]! + 0.2) < 1e-9, `impulse drift ${r.impulse.pos}`);
  assert.ok(Math.abs(r.rapier.pos[0]! - 0.3) < 1e-4 && Math.abs(r.rapier.pos[1]! + 0.2) < 1e-4, `rapier drift ${r.rapier.pos}`);
  assert.ok(Math.abs(r.impulse.pos[2]! - (0.1 - r.sink)) < 1e-6, `impulse rest height ${r.impulse.pos[2]}`);
  assert.ok(Math.abs(r.rapier.pos[2]! - 0.1) < 1e-3, `rapier rest height ${r.rapier.pos[2]}`);
  assert.ok(Math.abs(r.impulse.rot[3]! - 1) < 1e-9 && Math.abs(r.rapier.rot[3]! - 1) < 1e-6, 'no rotation');
});

for (const [v0, mu] of [
  [2, 0.5],
  [3, 0.3],
] as const) {
  test(`box sliding to rest (v0 = ${v0}, mu = ${mu}): stopping distance within 5% of Rapier and of v^2 / (2 mu g)`, async () => {
    const r = await boxSliding(v0, mu);
    assert.ok(Math.abs(r.impulse - r.rapier) <= 0.05 * r.rapier, `impulse ${r.impulse} vs rapier ${r.rapier}`);
    assert.ok(Math.abs(r.impulse - r.analytic) <= 0.05 * r.analytic, `impulse ${r.impulse} vs analytic ${r.analytic}`);
    assert.ok(Math.abs(r.rapier - r.analytic) <= 0.05 * r.analytic, `rapier ${r.rapier} vs analytic ${r.analytic}`);
  });
}

test('sphere dropped on the ground: rest height r - m g / ke (Impulse) and r within 1 mm (Rapier)', async () => {
  const r = await sphereDrop(0.2, 1, 1e4);
  assert.ok(Math.abs(r.impulse - (0.2 - r.sink)) < 1e-6, `impulse ${r.impulse}`);
  assert.ok(Math.abs(r.rapier - 0.2) < 1e-3, `rapier ${r.rapier}`);
  assert.ok(Math.abs(r.impulse - r.rapier) <= r.sink + 1e-3, 'engines within the soft deflection + 1 mm');
});

test('dt = 1/60 in both engines (Impulse substeps from its stability bound): sliding box within 5% of Rapier and of v^2 / (2 mu g)', async () => {
  const r = await boxSlidingAt(2, 0.5, 1 / 60);
  assert.ok(r.substeps > 1, `substeps ${r.substeps}`);
  assert.ok(Math.abs(r.impulse - r.rapier) <= 0.05 * r.rapier, `impulse ${r.impulse} vs rapier ${r.rapier}`);
  assert.ok(Math.abs(r.impulse - r.analytic) <= 0.05 * r.analytic, `impulse ${r.impulse} vs analytic ${r.analytic}`);
});

test('dt = 1/60: a 65 g ball (default contact, unstable at one substep of 1/240 s) settles within 5% of Rapier, no bounce back', async () => {
  const r = await ballResting(0.065, 0.03, 0.5, 1 / 60);
  assert.ok(Math.abs(r.impulse - (0.03 - r.sink)) < 1e-6, `impulse ${r.impulse}`);
  assert.ok(Math.abs(r.impulse - r.rapier) <= 0.05 * 0.03, `impulse ${r.impulse} vs rapier ${r.rapier}`);
  assert.ok(r.impulseMaxLate < 0.031, `after 1 s the ball stays down (max z ${r.impulseMaxLate})`);
});

/** Max over bodies and axes of |impulse - rapier| relative to `scale`. */
function maxRel(a: number[][], b: number[][], scale: number): number {
  let m = 0;
  a.forEach((p, i) => p.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i]![k]!) / scale))));
  return m;
}

test('body-body at dt = 1/60: a three-box stack stays at rest, heights within 5% of Rapier (and of the box sizes)', async () => {
  const r = await bodiesAt(
    [
      { box: [0.3, 0.3, 0.1], mass: 3, pos: [0, 0, 0.1] },
      { box: [0.2, 0.2, 0.1], mass: 2, pos: [0.02, -0.01, 0.3] },
      { box: [0.1, 0.1, 0.1], mass: 1, pos: [-0.03, 0.02, 0.5] },
    ],
    1 / 60,
    2,
  );
  r.impulse.forEach((p, i) => assert.ok(Math.abs(p[2]! - (0.1 + 0.2 * i)) < 0.005, `impulse box ${i} at ${p}`));
  assert.ok(maxRel(r.impulse, r.rapier, 0.5) < 0.05, `impulse ${JSON.stringify(r.impulse)} vs rapier ${JSON.stringify(r.rapier)}`);
});

test('body-body at dt = 1/60: a ball dropped on a resting box comes to rest on top of it, within 5% of Rapier', async () => {
  const r = await bodiesAt(
    [
      { box: [0.2, 0.2, 0.1], mass: 2, pos: [0, 0, 0.1] },
      { ball: 0.05, mass: 0.2, pos: [0, 0, 0.6] },
    ],
    1 / 60,
    3,
  );
  assert.ok(Math.abs(r.impulse[1]![2]! - 0.25) < 0.005, `ball rests on the box: ${r.impulse[1]}`);
  assert.ok(maxRel(r.impulse, r.rapier, 0.25) < 0.05, `impulse ${JSON.stringify(r.impulse)} vs rapier ${JSON.stringify(r.rapier)}`);
});

test('body-body at dt = 1/60: a box dropped on a box lands on it and stays, within 5% of Rapier', async () => {
  const r = await bodiesAt(
    [
      { box: [0.25, 0.25, 0.1], mass: 2, pos: [0, 0, 0.1] },
      { box: [0.1, 0.1, 0.1], mass: 1, pos: [0.03, 0, 0.7], vel: [0, 0, -1] },
    ],
    1 / 60,
    3,
  );
  assert.ok(Math.abs(r.impulse[1]![2]! - 0.3) < 0.005, `top box rests on the bottom one: ${r.impulse[1]}`);
  assert.ok(r.impulseLateMax[1]! < 0.31, 'no bounce after the first second');
  assert.ok(maxRel(r.impulse, r.rapier, 0.3) < 0.05, `impulse ${JSON.stringify(r.impulse)} vs rapier ${JSON.stringify(r.rapier)}`);
});
