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
import { BodyDesc, Control, ModelBuilder, rollout, simulate } from './index.ts';
import { bareParticles, clothOnGround } from './test-util.ts';

function assertExact(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} !== ${b[i]}`);
}

test('a 1k-particle rollout equals the plain kernel loop bit for bit: final state, state gradients and parameter gradients', () => {
  const model = clothOnGround(32);
  const T = 60;
  const dt = 1e-3;
  const s0 = model.state().requireGrad();
  const ke = model.springKe.clone().requireGrad();
  const mu = model.groundMu.clone().requireGrad();
  const r = rollout(model.with({ springKe: ke, groundMu: mu }), s0, { steps: T, dt });
  backward(sum(r.final.particleQ));
  const ref = bareParticles(model, T, dt, true);
  const adj = ref.adjoint!;
  assertExact(r.final.particleQ.data, ref.q, 'final particleQ');
  assertExact(r.final.particleQd.data, ref.qd, 'final particleQd');
  assertExact(s0.particleQ.grad!.data, adj.q, 'gradient of particleQ0');
  assertExact(s0.particleQd.grad!.data, adj.qd, 'gradient of particleQd0');
  // the parameters' gradients are added in place into one accumulator, step after step, in
  // the plain loop's order
  assertExact(ke.grad!.data, adj.params.springKe, 'gradient of springKe');
  assertExact(mu.grad!.data, adj.params.groundMu, 'gradient of groundMu');
  // the forward without a tape (pooled forces) is the same as with one
  const f = noGrad(() => rollout(model, model.state(), { steps: T, dt })).final;
  assertExact(f.particleQ.data, ref.q, 'final particleQ without a tape');
});

test('substeps (pooled states and adjoints between them) equal as many plain steps, forward and backward', () => {
  const model = clothOnGround(8);
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
  const model = clothOnGround(4);
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
  const model = clothOnGround(6);
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
