// Tests of the step's buffers (sim/physics/integrator.ts): the fused step takes what it hands
// out from one allocation per step and reuses pooled scratch for what it keeps to itself.
// None of that may change a number: a rollout's final state and gradients equal, bit for
// bit, the kernels of the kernel list called directly on plain arrays; substeps (pooled
// states between them) equal the same number of plain steps; forward with and without a tape
// agree exactly; a step's gradient buffers are not overwritten by later steps; and the
// reverse pass's reuse of input-state adjoints (two buffers cycling through a rollout's
// backward) never touches a gradient the caller holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, gradients, noGrad, sum, mul, tensor, Tensor } from '../core/index.ts';
import { BodyDesc, Control, ModelBuilder, modelData, rollout, simulate, zeroParamGrads, type Model } from './index.ts';
import * as P from './kernels/particles.ts';

type F64 = Float64Array;

function cloth(side: number): Model {
  const b = new ModelBuilder().setGround({ ke: 1e3, kd: 5, kf: 10, mu: 0.4 });
  b.addClothGrid({ origin: [0, 0, 0.009], nx: side, ny: side, cellSize: 0.02, mass: 0.01, radius: 0.01, ke: 50, kd: 0.05, vel: [0.5, 0.2, 0], shear: true });
  return b.finalize();
}

/** The particle kernels called directly, T steps forward and the adjoint of sum(q_T) backward. */
function plainLoop(model: Model, T: number, dt: number): { q: F64; qd: F64; aq: F64; aqd: F64; gKe: F64; gMu: number } {
  const M = modelData(model);
  const n3 = 3 * M.np;
  const qs: F64[] = [model.initial.particleQ.slice()];
  const qds: F64[] = [model.initial.particleQd.slice()];
  const fs: F64[] = [];
  for (let t = 0; t < T; t++) {
    const f = new Float64Array(n3);
    P.eval_particle_drag(M, qds[t]!, f);
    P.eval_springs(M, qs[t]!, qds[t]!, f);
    P.eval_particle_ground_contacts(M, qs[t]!, qds[t]!, f);
    const q1 = new Float64Array(n3);
    const qd1 = new Float64Array(n3);
    P.integrate_particles(M, qs[t]!, qds[t]!, f, dt, q1, qd1);
    fs.push(f);
    qs.push(q1);
    qds.push(qd1);
  }
  const G = zeroParamGrads(model);
  let aq: F64 = new Float64Array(n3).fill(1);
  let aqd: F64 = new Float64Array(n3);
  for (let t = T - 1; t >= 0; t--) {
    const aq0 = new Float64Array(n3);
    const aqd0 = new Float64Array(n3);
    const af = new Float64Array(n3);
    P.adj_integrate_particles(M, fs[t]!, dt, aq, aqd, aq0, aqd0, af, G);
    P.adj_eval_particle_ground_contacts(M, qs[t]!, qds[t]!, af, aq0, aqd0, G);
    P.adj_eval_springs(M, qs[t]!, qds[t]!, af, aq0, aqd0, G);
    P.adj_eval_particle_drag(M, qds[t]!, af, aqd0, G);
    aq = aq0;
    aqd = aqd0;
  }
  return { q: qs[T]!, qd: qds[T]!, aq, aqd, gKe: G.springKe, gMu: G.groundMu[0]! };
}

function assertExact(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} !== ${b[i]}`);
}

test('a 1k-particle rollout equals the plain kernel loop bit for bit: final state, state gradients and parameter gradients', () => {
  const model = cloth(32);
  const T = 60;
  const dt = 1e-3;
  const s0 = model.state().requireGrad();
  const ke = model.springKe.clone().requireGrad();
  const mu = model.groundMu.clone().requireGrad();
  const r = rollout(model.with({ springKe: ke, groundMu: mu }), s0, { steps: T, dt });
  backward(sum(r.final.particleQ));
  const ref = plainLoop(model, T, dt);
  assertExact(r.final.particleQ.data, ref.q, 'final particleQ');
  assertExact(r.final.particleQd.data, ref.qd, 'final particleQd');
  assertExact(s0.particleQ.grad!.data, ref.aq, 'gradient of particleQ0');
  assertExact(s0.particleQd.grad!.data, ref.aqd, 'gradient of particleQd0');
  // the parameters' gradients are added in place into one accumulator, step after step, in
  // the plain loop's order
  assertExact(ke.grad!.data, ref.gKe, 'gradient of springKe');
  assertExact(mu.grad!.data, [ref.gMu], 'gradient of groundMu');
  // the forward without a tape (pooled forces) is the same as with one
  const f = noGrad(() => rollout(model, model.state(), { steps: T, dt })).final;
  assertExact(f.particleQ.data, ref.q, 'final particleQ without a tape');
});

test('substeps (pooled states and adjoints between them) equal as many plain steps, forward and backward', () => {
  const model = cloth(8);
  const dt = 3e-3;
  const ctl = new Control({
    particleF: tensor(
      Array.from({ length: 3 * model.particleCount }, (_, i) => 0.01 * Math.sin(i)),
      [model.particleCount, 3],
    ),
  });
  const run = (steps: number, h: number, substeps: number): { q: Tensor; g: Tensor; gqd: Tensor } => {
    const s0 = model.state().requireGrad();
    const r = rollout(model, s0, { steps, dt: h, substeps, control: ctl });
    backward(sum(mul(r.final.particleQ, r.final.particleQd)));
    return { q: r.final.particleQ, g: s0.particleQ.grad!, gqd: s0.particleQd.grad! };
  };
  const a = run(10, dt, 3);
  const b = run(30, dt / 3, 1);
  assertExact(a.q.data, b.q.data, 'final particleQ');
  assertExact(a.g.data, b.g.data, 'gradient of particleQ0');
  assertExact(a.gqd.data, b.gqd.data, 'gradient of particleQd0');
  const c = noGrad(() => rollout(model, model.state(), { steps: 10, dt, substeps: 3, control: ctl })).final;
  assertExact(c.particleQ.data, a.q.data, 'final particleQ without a tape');
});

test('bodies with substeps: pooled body scratch gives the same state and gradients as plain steps', () => {
  const b = new ModelBuilder().setGround({ ke: 2e4, kd: 100, kf: 100, mu: 0.5 });
  for (let k = 0; k < 4; k++)
    b.addBody(
      BodyDesc.box(0.1, 0.1, 0.1)
        .setMass(1)
        .setTranslation(0.15 * k, 0.02 * k, 0.06)
        .setLinvel(0.5, 0.2, 0)
        .setAngvel(0.1, 0.2, 0.3),
    );
  const model = b.finalize();
  const run = (steps: number, h: number, substeps: number): Tensor[] => {
    const s0 = model.state().requireGrad();
    const r = rollout(model, s0, { steps, dt: h, substeps });
    backward(sum(mul(r.final.bodyPos, tensor([1, 2, 3]))));
    return [r.final.bodyPos, r.final.bodyRot, s0.bodyPos.grad!, s0.bodyRot.grad!, s0.bodyVel.grad!, s0.bodyAngVel.grad!];
  };
  const x = run(20, 2e-3, 2);
  const y = run(40, 1e-3, 1);
  x.forEach((t, i) => assertExact(t.data, y[i]!.data, `output ${i}`));
});

test("a step's returned gradients and states are its own: later steps do not overwrite them", () => {
  const model = cloth(4);
  const s0 = model.state().requireGrad();
  const s1 = simulate(model, s0, null, 1e-3, null, { substeps: 2 });
  const copy1 = s1.particleQ.data.slice();
  const s2 = simulate(model, s1, null, 1e-3, null, { substeps: 2 });
  noGrad(() => simulate(model, s2, null, 1e-3, null, { substeps: 2 }));
  assertExact(s1.particleQ.data, copy1, 'state 1 after later steps');
  backward(sum(s2.particleQ));
  const g = s0.particleQ.grad!.data.slice();
  const s0b = model.state().requireGrad();
  backward(sum(simulate(model, simulate(model, s0b, null, 1e-3, null, { substeps: 2 }), null, 1e-3, null, { substeps: 2 }).particleQ));
  assertExact(s0.particleQ.grad!.data, g, 'gradient of state 0 after another backward pass');
  assertExact(s0b.particleQ.grad!.data, g, 'gradient of the same step again');
});

test('gradients the caller holds are never reused: intermediate state gradients, repeated passes, checkpointed rollouts', () => {
  const model = cloth(6);
  const dt = 1e-3;
  const T = 12;
  const ke = model.springKe.clone().requireGrad();
  const m = model.with({ springKe: ke });
  const s0 = m.state().requireGrad();
  const r = rollout(m, s0, { steps: T, dt });
  const loss = (): Tensor => sum(mul(r.final.particleQ, r.final.particleQ));
  // asked for an intermediate state's gradient: it is returned, so the pass must not recycle it
  const s5 = r.states[5]!;
  const [g5, g5d, g0, gKe] = gradients(loss(), [s5.particleQ, s5.particleQd, s0.particleQ, ke]);
  const held = [g5!, g5d!, g0!, gKe!];
  const names = ['particleQ 5', 'particleQd 5', 'particleQ 0', 'springKe'];
  const copies = held.map((g) => g.data.slice());
  const unchanged = (when: string): void => held.forEach((g, i) => assertExact(g.data, copies[i]!, `gradient of ${names[i]} held by the caller, ${when}`));
  // more passes over the same steps (each cycling its adjoints through the pooled buffers)
  for (let k = 0; k < 3; k++) backward(loss());
  unchanged('after three more passes');
  // the held gradients of state 5 seed a pass over steps 0..4 (a pass that did not create them)
  const [h0] = gradients([s5.particleQ, s5.particleQd], [s0.particleQ], [g5!, g5d!]);
  const keepH0 = h0!.data.slice();
  backward(loss());
  unchanged('after seeding another pass with them');
  assertExact(h0!.data, keepH0, 'gradient from the seeded pass');
  // and the chained result equals the direct one
  assertExact(h0!.data, copies[2]!, 'state 0 gradient through the held state 5 gradients');
  // checkpointed: the same gradients as without
  const s0c = m.state().requireGrad();
  const rc = rollout(m, s0c, { steps: T, dt, checkpointEvery: 4 });
  const [gc0] = gradients(sum(mul(rc.final.particleQ, rc.final.particleQ)), [s0c.particleQ]);
  assertExact(gc0!.data, copies[2]!, 'state 0 gradient of the checkpointed rollout');
});
