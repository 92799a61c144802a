// Dynamics of one rigid body simulated by the physics engine (sim/physics), for MPC (mpc/):
// state x = [pos (3), quat [x, y, z, w] (4), vel (3), angvel (3)] (world frame), one physics
// step of dt (with substeps) per MPC step. Rows of a batched call become worlds of one Model
// (Warp's add_builder), so linearising T-1 steps of B items is one simulate call per reverse
// pass. The engine's step is a fused op with a first-order adjoint: `firstOrderOnly`.
import { ShapeError, Tensor, concat, fmtShape, slice, zeros } from '../sim/core/index.ts';
import { simulate, State, type Control, type Model, type ModelBuilder, type ModelParamName } from '../sim/physics/index.ts';
import type { Dynamics } from './dynamics.ts';

/** Options of `bodyDynamics`. */
export interface BodyDynamicsOptions {
  name: string;
  /** Builds one world: the controlled body (its only body) and the shared ground / terrain. */
  world: () => ModelBuilder;
  /** Control dimension. */
  nu: number;
  /** MPC step (s) and physics substeps per step. */
  dt: number;
  substeps?: number;
  /** Maps controls u [N, nu] and body orientations rot [N, 4] to the step's Control (core ops: differentiable). */
  control: (u: Tensor, rot: Tensor) => Control;
  /**
   * MPC parameters theta that are Model parameters, as (name, tensor, expand): `expand` maps
   * theta to the parameter of an N-world model (e.g. tile a per-body mass); default: as is
   * (shared parameters such as terrainMu).
   */
  params?: { name: ModelParamName; value: Tensor; expand?: (theta: Tensor, N: number) => Tensor }[];
}

/** The state dimension of a body: position, quaternion, velocity, angular velocity. */
export const BODY_NX = 13;

/**
 * A Dynamics over the physics engine for one controlled rigid body per batch item. Jacobians
 * come from the engine's adjoint on the tape (one simulate over all rows per reverse pass).
 *
 * @example
 * const dyn = bodyDynamics({ name: 'drone', world: () => droneWorld(), nu: 4, dt: 0.05, substeps: 4, control: thrustControl });
 */
export function bodyDynamics(o: BodyDynamicsOptions): Dynamics & { modelFor(N: number): Model } {
  const models = new Map<number, Model>();
  const modelFor = (N: number): Model => {
    let m = models.get(N);
    if (!m) {
      const b = o.world();
      for (let k = 1; k < N; k++) b.addBuilder(o.world());
      m = b.finalize();
      if (m.bodyCount !== N) throw new ShapeError(`bodyDynamics '${o.name}': a world must hold exactly one body, got ${m.bodyCount / N}`);
      models.set(N, m);
    }
    return m;
  };
  const specs = o.params ?? [];
  return {
    name: o.name,
    nx: BODY_NX,
    nu: o.nu,
    params: specs.map((p) => p.value),
    firstOrderOnly: true,
    modelFor,
    step(x, u, params) {
      const N = x.shape[0]!;
      if (x.ndim !== 2 || x.shape[1] !== BODY_NX) throw new ShapeError(`bodyDynamics '${o.name}': x has shape ${fmtShape(x.shape)}, expected [N, ${BODY_NX}]`);
      let model = modelFor(N);
      if (specs.length) {
        const rep: Partial<Record<ModelParamName, Tensor>> = {};
        specs.forEach((p, i) => (rep[p.name] = p.expand ? p.expand(params[i]!, N) : params[i]!));
        model = model.with(rep);
      }
      const rot = slice(x, [0, 3], [N, 4]);
      const s0 = new State({
        particleQ: zeros([0, 3]),
        particleQd: zeros([0, 3]),
        bodyPos: slice(x, [0, 0], [N, 3]),
        bodyRot: rot,
        bodyVel: slice(x, [0, 7], [N, 3]),
        bodyAngVel: slice(x, [0, 10], [N, 3]),
      });
      const s1 = simulate(model, s0, null, o.dt, o.control(u, rot), { substeps: o.substeps ?? 1 });
      return concat([s1.bodyPos, s1.bodyRot, s1.bodyVel, s1.bodyAngVel], 1);
    },
  };
}

/** The initial MPC state [1, 13] of body 0 of a model (its builder's initial pose and twist). */
export function bodyState(model: Model, body = 0): Tensor {
  const s = model.initial;
  const d = new Float64Array(BODY_NX);
  d.set(s.bodyPos.subarray(3 * body, 3 * body + 3), 0);
  d.set(s.bodyRot.subarray(4 * body, 4 * body + 4), 3);
  d.set(s.bodyVel.subarray(3 * body, 3 * body + 3), 7);
  d.set(s.bodyAngVel.subarray(3 * body, 3 * body + 3), 10);
  return new Tensor(d, [1, BODY_NX]);
}
