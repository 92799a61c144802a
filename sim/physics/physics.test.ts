// Tests of the physics engine (sim/physics): the physics each kernel implements, the tape
// (gradients to state, controls and parameters), checkpointing, batched worlds, NaN/Inf
// reporting, gradient clipping and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, backward, full, gradients, mul, noGrad, sum, tensor, zeros } from '../core/index.ts';
import {
  BodyDesc,
  Control,
  ModelBuilder,
  ModelError,
  SimulationError,
  State,
  rollout,
  simulate,
  terrainHeight,
  boxShape,
  capsuleShape,
  sphereShape,
} from './index.ts';

const close = (a: number, b: number, tol: number, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

test('free flight follows the semi-implicit Euler closed form x_n = x0 + v0 t + g dt^2 n(n+1)/2', () => {
  const b = new ModelBuilder().setGround(false);
  b.addParticle([0, 0, 10], [1, 2, 3], 1, 0.1);
  const M = b.finalize();
  const dt = 0.01;
  const n = 50;
  const r = noGrad(() => rollout(M, M.state(), { steps: n, dt }));
  const q = r.final.particleQ.data;
  close(q[0]!, n * dt, 1e-12, 'x');
  close(q[1]!, 2 * n * dt, 1e-12, 'y');
  close(q[2]!, 10 + 3 * n * dt - 9.81 * dt * dt * ((n * (n + 1)) / 2), 1e-12, 'z');
});

test('a particle comes to rest on the ground at height r - m g / ke', () => {
  const b = new ModelBuilder().setGround({ ke: 1e4, kd: 50, kf: 50, mu: 0.5 });
  b.addParticle([0, 0, 0.3], [0, 0, 0], 2, 0.1);
  const M = b.finalize();
  const r = noGrad(() => rollout(M, M.state(), { steps: 400, dt: 1 / 100, substeps: 10 }));
  close(r.final.particleQ.data[2]!, 0.1 - (2 * 9.81) / 1e4, 1e-7, 'rest height');
});

test('a particle sliding with Coulomb friction stops within 2% of v^2 / (2 mu g)', () => {
  const ke = 1e4;
  const b = new ModelBuilder().setGround({ ke, kd: 100, kf: 100, mu: 0.4 });
  b.addParticle([0, 0, 0.05 - 9.81 / ke], [3, 0, 0], 1, 0.05);
  const M = b.finalize();
  const r = noGrad(() => rollout(M, M.state(), { steps: 300, dt: 1 / 100, substeps: 10 }));
  close(r.final.particleQ.data[0]!, 9 / (2 * 0.4 * 9.81), 0.02 * (9 / (2 * 0.4 * 9.81)), 'stopping distance');
});

test('a spring between two particles oscillates with period 2 pi sqrt(mu_red / ke)', () => {
  const g0 = new ModelBuilder({ gravity: [0, 0, 0] }).setGround(false);
  g0.addParticle([0, 0, 0], [0, 0, 0], 1, 0);
  g0.addParticle([1.1, 0, 0], [0, 0, 0], 1, 0);
  g0.addSpring(0, 1, 100, 0, 1);
  const M = g0.finalize();
  const dt = 1e-3;
  const r = noGrad(() => rollout(M, M.state(), { steps: 2000, dt }));
  // first time the separation returns to a maximum after t = 0
  const sep = r.states.map((s) => s.particleQ.data[3]! - s.particleQ.data[0]!);
  let k = 2;
  while (k < sep.length - 1 && !(sep[k]! >= sep[k - 1]! && sep[k]! > sep[k + 1]!)) k++;
  close(k * dt, 2 * Math.PI * Math.sqrt(0.5 / 100), 2e-3, 'period');
});

test('simulate stores fresh tensors into stateOut and leaves stateIn untouched', () => {
  const b = new ModelBuilder();
  b.addParticle([0, 0, 1], [1, 0, 0], 1, 0.1);
  b.addBody(BodyDesc.sphere(0.1).setTranslation(1, 0, 1));
  const M = b.finalize();
  const s0 = M.state();
  const before = s0.tensors().map((t) => t.data.slice());
  const out = M.state();
  const outArrays = out.tensors().map((t) => t.data);
  const res = simulate(M, s0, out, 0.01);
  assert.equal(res, out);
  s0.tensors().forEach((t, i) => assert.deepEqual(t.data, before[i]));
  out.tensors().forEach((t, i) => assert.notEqual(t.data, outArrays[i]));
  close(out.particleQ.data[0]!, 0.01, 1e-12);
});

test('gradients reach the initial state, the controls of every step and the model parameters', () => {
  const b = new ModelBuilder().setGround({ ke: 2e3, kd: 20, kf: 50, mu: 0.5 });
  b.addParticle([0, 0, 0.05], [1, 0, -0.5], 1, 0.06);
  b.addParticle([0.3, 0, 0.05], [1, 0, -0.5], 1, 0.06);
  b.addSpring(0, 1, 50, 1);
  b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setTranslation(1, 0, 0.099).setLinvel(1, 0, 0));
  const M = b.finalize();
  M.groundMu.requireGrad();
  M.springKe.requireGrad();
  M.bodyMass.requireGrad();
  const s0 = M.state().requireGrad();
  const ctls = [0, 1, 2].map(() => new Control({ particleF: zeros([2, 3]).requireGrad(), bodyF: zeros([1, 3]).requireGrad() }));
  const r = rollout(M, s0, { steps: 3, dt: 0.01, control: ctls });
  // weights differ per particle: the spring's internal forces cancel in an unweighted sum
  backward(
    add(
      sum(r.final.bodyPos),
      sum(
        mul(
          r.final.particleQ,
          tensor([
            [1, 1, 1],
            [2, 3, 4],
          ]),
        ),
      ),
    ),
  );
  for (const t of [s0.particleQd, s0.bodyVel, M.groundMu, M.springKe, M.bodyMass, ...ctls.map((c) => c.particleF!), ...ctls.map((c) => c.bodyF!)]) {
    assert.ok(t.grad, 'gradient missing');
    assert.ok(t.grad.data.every(Number.isFinite));
    assert.ok(
      t.grad.data.some((v) => v !== 0),
      'gradient is all zero',
    );
  }
  // d x_T / d F_t for a free-sliding mass: dt^2 (T - t) / m in the direction of the force (x component, body)
  close(ctls[2]!.bodyF!.grad!.data[0]!, 0.01 * 0.01 * 1, 2e-5, 'last-step control gradient');
});

test('a checkpointed rollout keeps every K-th state and gives the same gradients as a plain one', () => {
  const b = new ModelBuilder().setGround({ ke: 2e3, kd: 20, kf: 50, mu: 0.5 });
  b.addClothGrid({ origin: [0, 0, 0.3], nx: 3, ny: 3, cellSize: 0.1, mass: 0.1, radius: 0.02, ke: 100, kd: 0.5, vel: [1, 0, -1] });
  b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setTranslation(1, 0, 0.2).setLinvel(1, 0, 0).setAngvel(0, 1, 0));
  const M = b.finalize();
  const run = (K?: number): { grads: Float64Array[]; kept: number[] } => {
    const s0 = M.state().requireGrad();
    const mu = M.groundMu.clone().requireGrad();
    const r = rollout(M.with({ groundMu: mu }), s0, { steps: 40, dt: 0.005, substeps: 2, checkpointEvery: K });
    const loss = sum(mul(r.final.particleQ, r.final.particleQ));
    const gs = gradients(loss, [s0.particleQd, s0.bodyVel, mu], undefined, { allowUnused: true });
    return { grads: gs.map((g) => g!.data), kept: r.steps };
  };
  const plain = run();
  const ck = run(8);
  assert.deepEqual(ck.kept, [0, 8, 16, 24, 32, 40]);
  assert.equal(plain.kept.length, 41);
  plain.grads.forEach((g, i) => g.forEach((v, j) => close(ck.grads[i]![j]!, v, 1e-12 * Math.max(1, Math.abs(v)))));
});

test('batched worlds (addBuilder) step exactly like separate worlds', () => {
  const one = (): ModelBuilder => {
    const b = new ModelBuilder();
    b.addParticle([0, 0, 0.5], [1, 0, 0], 1, 0.05);
    b.addParticle([0.2, 0, 0.5], [0, 1, 0], 1, 0.05);
    b.addSpring(0, 1, 80, 0.5);
    b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setTranslation(0, 1, 0.3).setAngvel(1, 2, 3));
    return b;
  };
  const single = one().finalize();
  const batch = new ModelBuilder();
  for (let w = 0; w < 3; w++) batch.addBuilder(one(), [5 * w, 0, 0]);
  const B = batch.finalize();
  assert.equal(B.worldCount, 3);
  assert.deepEqual(Array.from(B.bodyWorld), [0, 1, 2]);
  const r1 = noGrad(() => rollout(single, single.state(), { steps: 100, dt: 0.005, substeps: 2 }));
  const rB = noGrad(() => rollout(B, B.state(), { steps: 100, dt: 0.005, substeps: 2 }));
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 6; i++) close(rB.final.particleQ.data[6 * w + i]!, r1.final.particleQ.data[i]! + (i % 3 === 0 ? 5 * w : 0), 1e-9);
    for (let i = 0; i < 4; i++) close(rB.final.bodyRot.data[4 * w + i]!, r1.final.bodyRot.data[i]!, 1e-12);
  }
});

test('a NaN in the forward pass is reported with step, particle index and quantity', () => {
  const b = new ModelBuilder();
  b.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  b.addParticle([1, 0, 1], [0, 0, 0], 1, 0.1);
  const M = b.finalize();
  const bad = new Control({ particleF: tensor([0, 0, 0, 0, NaN, 0], [2, 3]) });
  assert.throws(
    () => rollout(M, M.state(), { steps: 6, dt: 0.01, control: (t) => (t === 3 ? bad : null) }),
    (e: unknown) =>
      e instanceof SimulationError && e.step === 3 && e.index === 1 && e.quantity === 'particle_qd' && e.phase === 'forward' && /component y/.test(e.message),
  );
});

test('a NaN in the backward pass is reported with step, body index and quantity', () => {
  const b = new ModelBuilder();
  b.addBody(BodyDesc.sphere(0.1).setTranslation(0, 0, 1));
  b.addBody(BodyDesc.sphere(0.1).setTranslation(1, 0, 1));
  const M = b.finalize();
  const s0 = M.state().requireGrad();
  const r = rollout(M, s0, { steps: 4, dt: 0.01 });
  const seed = tensor([0, 0, 0, 0, 0, NaN], [2, 3]);
  assert.throws(
    () => gradients([r.final.bodyPos], [s0.bodyPos], [seed]),
    (e: unknown) => e instanceof SimulationError && e.phase === 'backward' && e.step === 3 && e.index === 1 && e.quantity === 'body_pos',
  );
});

test('clipGradNorm scales the adjoint of a step output down to the given norm', () => {
  const b = new ModelBuilder().setGround(false);
  for (let i = 0; i < 4; i++) b.addParticle([i, 0, 1], [0, 0, 0], 1, 0);
  const M = b.finalize();
  const q0 = M.state().particleQ.requireGrad();
  const s0 = new State({ ...M.state(), particleQ: q0 });
  const s1 = simulate(M, s0, null, 0.01, null, { clipGradNorm: 0.5 });
  const [g] = gradients(sum(s1.particleQ), [q0]);
  // free particles: d q1 / d q0 = I, the adjoint (all ones, norm sqrt(12)) is scaled to norm 0.5
  for (const v of g!.data) close(v, 0.5 / Math.sqrt(12), 1e-14);
});

test('bad input gets a named error: dt, mass, spring index, terrain map size, NaN parameter', () => {
  const b = new ModelBuilder();
  b.addParticle([0, 0, 1], [0, 0, 0], 1, 0.1);
  const M = b.finalize();
  assert.throws(
    () => simulate(M, M.state(), null, 0),
    (e: unknown) => e instanceof ModelError && e.field === 'dt',
  );
  assert.throws(() => simulate(M, M.state(), null, -1), /dt = -1 must be/);
  assert.throws(
    () => new ModelBuilder().addParticle([0, 0, 0], [0, 0, 0], 0),
    (e: unknown) => e instanceof ModelError && /particle 0 mass = 0/.test(e.message),
  );
  assert.throws(() => new ModelBuilder().addParticle([0, 0, 0], [0, 0, 0], -2), /must be a finite number > 0/);
  const bs = new ModelBuilder();
  bs.addParticle([0, 0, 0], [0, 0, 0], 1);
  assert.throws(
    () => bs.addSpring(0, 3, 1, 0),
    (e: unknown) => e instanceof ModelError && e.field === 'springs[0].j',
  );
  assert.throws(
    () =>
      new ModelBuilder().setTerrain({
        origin: [0, 0],
        cellSize: 1,
        heights: [
          [0, 0],
          [0, 0],
        ],
        mu: [[0.5, 0.5, 0.5]],
      }),
    (e: unknown) => e instanceof ModelError && e.field === 'terrain.mu',
  );
  const nanModel = M.with({ groundKe: tensor(NaN, []) });
  assert.throws(
    () => rollout(nanModel, M.state(), { steps: 1, dt: 0.01 }),
    (e: unknown) => e instanceof ModelError && e.field === 'groundKe[0]',
  );
  assert.throws(() => rollout(M, M.state(), { steps: 1, dt: 0.01, checkpointEvery: 0 }), /checkpointEvery = 0/);
});

test('shape inertias match the textbook formulas', () => {
  const s = sphereShape(0.5);
  close(s.unitInertia[0]!, 0.4 * 0.25, 1e-15);
  const bx = boxShape(0.5, 1, 1.5);
  close(bx.unitInertia[0]!, (4 + 9) / 12, 1e-15);
  close(bx.unitInertia[8]!, (1 + 4) / 12, 1e-15);
  // a capsule tends to a solid sphere as its cylinder vanishes
  const c = capsuleShape(1e-9, 0.3);
  close(c.unitInertia[0]!, 0.4 * 0.09, 1e-9);
  close(c.unitInertia[8]!, 0.4 * 0.09, 1e-9);
});

test('a torque-free spinning body keeps a unit quaternion and (nearly) its angular momentum', () => {
  const b = new ModelBuilder({ gravity: [0, 0, 0] }).setGround(false);
  b.addBody(BodyDesc.box(0.1, 0.2, 0.3).setMass(2).setAngvel(1, 3, 0.5));
  const M = b.finalize();
  const I = M.bodyInertia.data;
  const L = (s: State): number[] => {
    const q = s.bodyRot.data;
    const w = s.bodyAngVel.data;
    // L = R I R^T w
    const R = quatMat(q);
    const wb = [0, 1, 2].map((i) => R[0 + i]! * w[0]! + R[3 + i]! * w[1]! + R[6 + i]! * w[2]!);
    const Lb = [0, 1, 2].map((i) => I[3 * i]! * wb[0]! + I[3 * i + 1]! * wb[1]! + I[3 * i + 2]! * wb[2]!);
    return [0, 1, 2].map((i) => R[3 * i]! * Lb[0]! + R[3 * i + 1]! * Lb[1]! + R[3 * i + 2]! * Lb[2]!);
  };
  const r = noGrad(() => rollout(M, M.state(), { steps: 1000, dt: 1e-3 }));
  const q = r.final.bodyRot.data;
  close(Math.hypot(...q), 1, 1e-12, '|q|');
  const L0 = L(r.states[0]!);
  const L1 = L(r.final);
  for (let i = 0; i < 3; i++) close(L1[i]!, L0[i]!, 0.02 * Math.hypot(...L0), `L[${i}]`);
});

function quatMat(q: Float64Array): number[] {
  const [x, y, z, w] = [q[0]!, q[1]!, q[2]!, q[3]!];
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ];
}

test('terrain: bilinear height is exact on a plane; a particle on it sits at r - m g cos / ke and creeps downhill at m g sin / kf', () => {
  const plane = (x: number, y: number): number => 0.1 * x - 0.05 * y + 0.2;
  const heights = [0, 1, 2, 3].map((j) => [0, 1, 2, 3, 4].map((i) => plane(-1 + 0.5 * i, -1 + 0.5 * j)));
  const ke = 1e4;
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({ origin: [-1, -1], cellSize: 0.5, heights, ke, kd: 50, mu: 1, kf: 200 });
  b.addParticle([0.1, 0.2, plane(0.1, 0.2) + 0.15], [0, 0, 0], 1, 0.1);
  const M = b.finalize();
  const h = terrainHeight(
    M,
    tensor([
      [0.13, -0.4],
      [0.9, 0.4],
    ]),
  );
  close(h.data[0]!, plane(0.13, -0.4), 1e-15);
  close(h.data[1]!, plane(0.9, 0.4), 1e-15);
  const r = noGrad(() => rollout(M, M.state(), { steps: 300, dt: 1 / 100, substeps: 10 }));
  const [x, y, z] = Array.from(r.final.particleQ.data);
  const n = [-0.1, 0.05, 1];
  const nn = Math.hypot(...n);
  const dist = (z! - plane(x!, y!)) / nn;
  // the normal force balances the normal part of gravity
  close(dist, 0.1 - 9.81 / nn / ke, 2e-5, 'distance to the plane');
  // below mu |fn| friction is viscous (kf |vt|): the particle creeps downhill at m g sin(theta) / kf
  const v = Array.from(r.final.particleQd.data);
  const speed = Math.hypot(...v);
  close(speed, (9.81 * Math.hypot(0.1, 0.05)) / nn / 200, 1e-5, 'creep speed');
  close(v[0]! / speed, -0.1 / Math.hypot(0.1, 0.05, 0.0125), 0.01, 'creeps downhill (x)');
});

test('tracks: equal drive forces move a point-set robot straight ahead, unequal ones turn it', () => {
  const build = (): ReturnType<ModelBuilder['finalize']> => {
    const b = new ModelBuilder().setGround({ ke: 5e3, kd: 100, kf: 200, mu: 0.5 });
    const pts: number[][] = [];
    for (const x of [-0.2, 0.2]) for (const y of [-0.15, 0.15]) pts.push([x, y, 0]);
    const r = b.addBody(
      BodyDesc.points(pts)
        .setMass(4)
        .setTranslation(0, 0, -(4 * 9.81) / (4 * 5e3)),
    );
    b.addTrack(r, [0, 2], [1, 0, 0]);
    b.addTrack(r, [1, 3], [1, 0, 0]);
    return b.finalize();
  };
  const M = build();
  const go = (right: number, left: number): State =>
    noGrad(() => rollout(M, M.state(), { steps: 100, dt: 0.01, substeps: 4, control: new Control({ trackF: tensor([right, left]) }) }).final);
  const straight = go(15, 15);
  assert.ok(straight.bodyPos.data[0]! > 0.3, `moves forward: x = ${straight.bodyPos.data[0]}`);
  close(straight.bodyPos.data[1]!, 0, 1e-9, 'no drift sideways');
  // skid steering: the left track pushes harder, the robot yaws clockwise (turns right)
  const turn = go(5, 25);
  assert.ok(turn.bodyRot.data[2]! < -0.1, `yaws right: ${Array.from(turn.bodyRot.data)}`);
  const turnLeft = go(25, 5);
  assert.ok(turnLeft.bodyRot.data[2]! > 0.1, `yaws left: ${Array.from(turnLeft.bodyRot.data)}`);
});

test('the friction-map gradient is non-zero only at grid points under the body', () => {
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({ origin: [0, 0], cellSize: 1, heights: [0, 1, 2, 3, 4].map(() => [0, 0, 0, 0, 0]), ke: 5e3, kd: 50, mu: 0.5, kf: 100 });
  b.addBody(
    BodyDesc.box(0.1, 0.1, 0.1)
      .setMass(1)
      .setTranslation(1.5, 1.5, 0.1 - 9.81 / 2e4)
      .setLinvel(0.5, 0, 0),
  );
  const M = b.finalize();
  const mu = full([5, 5], 0.5).requireGrad();
  const r = rollout(M.with({ terrainMu: mu }), M.state(), { steps: 20, dt: 0.005, substeps: 2 });
  backward(sum(r.final.bodyPos));
  const g = mu.grad!.data;
  const under = new Set([1 * 5 + 1, 1 * 5 + 2, 2 * 5 + 1, 2 * 5 + 2]);
  g.forEach((v, k) => (under.has(k) ? assert.ok(v !== 0, `grid point ${k} under the box`) : assert.equal(v, 0, `grid point ${k} away from the box`)));
});
