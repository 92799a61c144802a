// Test and bench support of the physics engine (not part of the package): the cloth lying on
// the ground that the step-buffer tests and `npm run bench -- sim` use, and the same particle
// physics as a bare loop (the kernels of the kernel list on preallocated plain arrays: no tape,
// no tensors), the reference the engine is held to bit for bit and timed against.
import { ModelBuilder, modelData, zeroParamGrads, type Model, type ParamGrads } from './index.ts';
import * as P from './kernels/particles.ts';

type F64 = Float64Array;

/** A side x side cloth (springs with shear) lying on the ground, every particle in contact, sliding. */
export function clothOnGround(side: number): Model {
  const b = new ModelBuilder().setGround({ ke: 1e3, kd: 5, kf: 10, mu: 0.4 });
  b.addClothGrid({ origin: [0, 0, 0.009], nx: side, ny: side, cellSize: 0.02, mass: 0.01, radius: 0.01, ke: 50, kd: 0.05, vel: [0.5, 0.2, 0], shear: true });
  return b.finalize();
}

/** What the bare loop gives: the final state and, with the adjoint, the gradients of sum(q_T). */
export interface BareParticles {
  q: F64;
  qd: F64;
  /** Gradients of sum(q_T) w.r.t. q_0, qd_0 and the parameters (null without the adjoint). */
  adjoint: { q: F64; qd: F64; params: ParamGrads } | null;
}

/** The particle kernels called directly: T steps forward and, `withAdjoint`, the adjoint of sum(q_T) backward. */
export function bareParticles(model: Model, T: number, dt: number, withAdjoint: boolean): BareParticles {
  const M = modelData(model);
  const n3 = 3 * M.np;
  const qs: F64[] = [model.initial.particleQ.slice()];
  const qds: F64[] = [model.initial.particleQd.slice()];
  const fs: F64[] = [];
  for (let t = 0; t < T; t++) {
    qs.push(new Float64Array(n3));
    qds.push(new Float64Array(n3));
    fs.push(new Float64Array(n3));
  }
  for (let t = 0; t < T; t++) {
    const f = fs[t]!;
    const q = qs[t]!;
    const qd = qds[t]!;
    P.eval_particle_drag(M, qd, f);
    P.eval_springs(M, q, qd, f);
    P.eval_particle_ground_contacts(M, q, qd, f);
    P.integrate_particles(M, q, qd, f, dt, qs[t + 1]!, qds[t + 1]!);
  }
  if (!withAdjoint) return { q: qs[T]!, qd: qds[T]!, adjoint: null };
  const G = zeroParamGrads(model);
  let aq: F64 = new Float64Array(n3).fill(1);
  let aqd: F64 = new Float64Array(n3);
  const aq0 = new Float64Array(n3);
  const aqd0 = new Float64Array(n3);
  const af = new Float64Array(n3);
  for (let t = T - 1; t >= 0; t--) {
    aq0.fill(0);
    aqd0.fill(0);
    af.fill(0);
    P.adj_integrate_particles(M, fs[t]!, dt, aq, aqd, aq0, aqd0, af, G);
    P.adj_eval_particle_ground_contacts(M, qs[t]!, qds[t]!, af, aq0, aqd0, G);
    P.adj_eval_springs(M, qs[t]!, qds[t]!, af, aq0, aqd0, G);
    P.adj_eval_particle_drag(M, qds[t]!, af, aqd0, G);
    aq = aq0.slice();
    aqd = aqd0.slice();
  }
  return { q: qs[T]!, qd: qds[T]!, adjoint: { q: aq, qd: aqd, params: G } };
}
