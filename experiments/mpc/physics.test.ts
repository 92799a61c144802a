// Tests of MPC through the physics engine (mpc/body-dynamics.ts, experiments/mpc/drone.ts,
// experiments/mpc/terrain-robot.ts): hover thrust holds the drone, a drone plan moves towards the
// reference, the terrain robot's friction-map gradient is finite and local to the robot.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, slice, sum, tensor } from '../../sim/core/index.ts';
import { bodyState, quadCost, mpc } from '../../mpc/index.ts';
import { DRONE, droneCost, droneDynamics } from './drone.ts';
import {
  TERRAIN_ROBOT,
  TERRAIN_ROBOT_SMOOTH_CONTACT,
  optimiseFrictionWithC1,
  runTerrainRobot,
  terrainRobotCost,
  terrainRobotDynamics,
  trueFrictionMap,
} from './terrain-robot.ts';
import { C1_CONTACT } from '../../sim/physics/index.ts';

const ctx = { rows: 1, times: new Int32Array(1), items: new Int32Array(1), T: 2, B: 1 };

test('the drone hovers under four equal thrusts m g / 4', () => {
  const dyn = droneDynamics();
  const x0 = bodyState(dyn.modelFor(1));
  const h = (DRONE.mass * 9.81) / 4;
  const x1 = dyn.step(x0, tensor([[h, h, h, h]]), dyn.params, ctx);
  for (let i = 0; i < 13; i++) assert.ok(Math.abs(x1.data[i]! - x0.data[i]!) < 1e-12, `state ${i}`);
});

test('a drone MPC plan through the simulator converges and climbs towards the reference', () => {
  const dyn = droneDynamics();
  const x0 = bodyState(dyn.modelFor(1));
  const { C, c } = droneCost(1.0, 8); // the reference is ahead of (and above) the hovering drone
  const r = mpc({ dynamics: dyn, cost: quadCost(C, c), x_init: x0, T: 8, u_lower: 0, u_upper: DRONE.uMax });
  assert.equal(r.converged[0], true);
  const z = Array.from({ length: 8 }, (_, t) => r.x.data[t * 13 + 2]!);
  assert.ok(z[7]! > z[0]! + 0.01, `planned heights ${z.join(', ')}`);
  assert.ok(r.x.data[7 * 13]! > 0.01, 'moves along +x');
});

test('the terrain robot: gradient of its planned final position w.r.t. the friction map is finite and local', () => {
  const mu = trueFrictionMap().requireGrad();
  const dyn = terrainRobotDynamics(mu);
  const x0 = bodyState(dyn.modelFor(1));
  const T = 6;
  const R = TERRAIN_ROBOT;
  const { C, c } = terrainRobotCost(T);
  const r = mpc({ dynamics: dyn, cost: quadCost(C, c), x_init: x0, T, u_lower: -R.uMax, u_upper: R.uMax }, { tol: 1e-6, maxIter: 30 });
  const [g] = gradients(sum(slice(r.x, [0, T - 1, 0], [1, 1, 2])), [mu]);
  let near = 0;
  for (let j = 0; j < R.ny; j++) {
    for (let i = 0; i < R.nx; i++) {
      const v = g!.data[j * R.nx + i]!;
      assert.ok(Number.isFinite(v));
      const x = R.origin[0] + R.cell * i;
      const y = R.origin[1] + R.cell * j;
      if (Math.hypot(x, y) > 1.5) assert.equal(v, 0, `grid point (${x}, ${y}) far from the robot`);
      else near += Math.abs(v);
    }
  }
  assert.ok(near > 0, 'the friction under the robot matters');
});

test('terrain robot closed loop (12 MPC steps): the simulator-alone gradient matches central differences to 1e-6; with re-planning, to 1e-2 (2 solves do not converge, 1 stalls at a kink of the contact dynamics)', async () => {
  const r = await runTerrainRobot({ steps: 12, solver: { tol: 1e-8, maxIter: 100 } });
  const open = r.openLoop.check!;
  assert.ok(open.relErr < 1e-6, `open loop: analytic ${open.analytic}, central difference ${open.finiteDifference}`);
  const closed = r.directionalCheck!;
  assert.ok(closed.relErr < 1e-2, `closed loop: analytic ${closed.analytic}, central difference ${closed.finiteDifference}`);
  // re-planning changes the gradient: the MPC layers' implicit backward contributes
  assert.ok(Math.abs(r.gradNorm - r.openLoop.gradNorm) > 1e-2 * r.openLoop.gradNorm, `closed ${r.gradNorm} vs open ${r.openLoop.gradNorm}`);
  assert.equal(r.files.trajectory, null);
  assert.equal(r.stalled, 1, 'solves stopped as stalled');
  assert.equal(r.nonConverged, 2);
});

test('terrain robot closed loop on the C1 contact model (12 MPC steps, iLQR tol 1e-8): every solve converges and the closed-loop gradient matches central differences to 1e-4 over a sweep of steps', async () => {
  const r = await runTerrainRobot({ steps: 12, contactSmoothing: { ...C1_CONTACT }, solver: { tol: 1e-8, maxIter: 60 }, checkEps: [1e-3, 1e-4, 1e-5] });
  assert.equal(r.nonConverged, 0);
  assert.equal(r.gaussNewtonFallbacks, 0);
  const [e3, e4, e5] = r.directionalSweep;
  assert.ok(e4!.relErr < 1e-4 && e5!.relErr < 1e-4, `relative errors ${r.directionalSweep.map((c) => c.relErr.toExponential(2)).join(', ')}`);
  // the differences converge to the analytic value as eps shrinks (truncation ~ eps^2)
  assert.ok(e5!.relErr <= e3!.relErr, 'smaller steps agree better');
  assert.ok(
    Math.abs(r.gradNorm - r.openLoop.gradNorm) > 1e-3 * r.openLoop.gradNorm,
    `re-planning contributes: closed ${r.gradNorm} vs open ${r.openLoop.gradNorm}`,
  );
});

test('the C1 gradient is a descent direction of the exact-model loss: two steps along it over the friction map reduce the exact closed-loop goal distance', () => {
  const r = optimiseFrictionWithC1({ c1: { ...C1_CONTACT }, steps: 6, iters: 2, step: 0.1 });
  const [l0, l1, l2] = r.exactLoss;
  assert.ok(l1! < l0! && l2! < l1!, `exact-model losses ${r.exactLoss.join(', ')}`);
  // a step of 0.1 along a unit direction with slope about -0.2 m per unit of friction
  assert.ok(l2! < l0! - 0.02, `exact-model loss fell by ${l0! - l2!} m only`);
  assert.ok(r.cosineToExactGradient > 0.5, `cosine to the exact model's gradient ${r.cosineToExactGradient}`);
});

test('terrain robot with smoothed contact: the option reaches the engine (different, close trajectory) and the report says so', async () => {
  const exact = await runTerrainRobot({ steps: 4, check: false });
  const smooth = await runTerrainRobot({ steps: 4, check: false, contactSmoothing: { ...TERRAIN_ROBOT_SMOOTH_CONTACT } });
  assert.equal(exact.contactSmoothing, null);
  assert.deepEqual(smooth.contactSmoothing, { damping: 0.05, friction: 4 });
  const d = Math.hypot(...exact.finalPosition.map((v, i) => v - smooth.finalPosition[i]!));
  assert.ok(d > 1e-6 && d < 0.05, `final positions differ by ${d} m`);
});

test('terrain robot with --out writes the trajectory and terrain/maps.json (height, friction, the gradient) for the app', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-terrain-robot-'));
  try {
    const out = join(dir, 'trajectory.json');
    const r = await runTerrainRobot({ steps: 3, check: false, out });
    assert.equal(r.files.terrain, join(dir, 'terrain', 'maps.json'));
    const g = JSON.parse(readFileSync(r.files.terrain!, 'utf8'));
    assert.equal(g.column_count, TERRAIN_ROBOT.nx);
    assert.deepEqual(
      g.fields.map((f: { name: string }) => f.name),
      ['height', 'friction', 'grad_friction'],
    );
    const buf = Buffer.from(g.data, 'base64');
    let maxAbs = 0;
    for (let c = 0; c < TERRAIN_ROBOT.nx * TERRAIN_ROBOT.ny; c++) maxAbs = Math.max(maxAbs, Math.abs(buf.readFloatLE(c * g.cell_stride + 8)));
    // the gradient layer is the report's d(final distance)/d(friction), in float32
    assert.ok(Math.abs(maxAbs - Math.abs(r.gradMax.value)) <= 1e-6 * Math.abs(r.gradMax.value) + 1e-12, `${maxAbs} vs ${r.gradMax.value}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
