// ODE-defined dynamics for the MPC layer (mpc/): a continuous-time model dx/dt = f(x, u, theta)
// held at a constant control over each MPC step (zero-order hold) and integrated by the ODE
// layer (models/implicit/ode.ts). Backprop through the solver's ops (default) keeps the step
// twice differentiable, so the implicit MPC backward uses exact second derivatives; the
// continuous adjoint (`adjoint: true`) is first-order only and marks the dynamics so.
import { ShapeError, Tensor, fmtShape, reshape, slice } from '../sim/core/index.ts';
import { odeint, type OdeMethod } from '../models/implicit/ode.ts';
import type { Dynamics } from './dynamics.ts';

/** Options of `odeDynamics`. */
export interface OdeDynamicsOptions {
  /** Name used in error messages. */
  name: string;
  /** State and control dimensions. */
  nx: number;
  nu: number;
  /**
   * The vector field, written with the core's ops: x [N, nx], u [N, nu] (held over the step),
   * theta -> dx/dt [N, nx]. Rows are independent (one row per time step and batch item).
   */
  f: (x: Tensor, u: Tensor, params: readonly Tensor[]) => Tensor;
  /** Parameters theta (gradients flow to those that require grad). */
  params?: readonly Tensor[];
  /** MPC step length dt (s). */
  dt: number;
  /**
   * Integrator over one step: 'rk4' (default) or 'euler' with `substeps` equal steps, or
   * 'dopri5' (adaptive, rtol/atol). dopri5 chooses one step size for all rows of a call, so a
   * row's result depends slightly (within the tolerances) on the other rows; fixed-step
   * methods make each row exact and independent.
   */
  method?: OdeMethod;
  /** Fixed-step methods: steps per MPC step (default 4). */
  substeps?: number;
  rtol?: number;
  atol?: number;
  /** Backward by the continuous adjoint (first-order only) instead of backprop through the solver (default false). */
  adjoint?: boolean;
}

/**
 * Discrete-time dynamics x_{t+1} = phi_dt(x_t; u_t, theta) from a continuous-time model, for
 * `mpc`. The control is held constant over the step.
 *
 * @example
 * // the pendulum as an ODE: state (th, thdot), dthdot/dt = 3 g / (2 l) sin th + 3 u / (m l^2)
 * const dyn = odeDynamics({
 *   name: 'pendulum-ode', nx: 2, nu: 1, dt: 0.05, params: [tensor([10, 1, 1])],
 *   f: (x, u, [th]) => { ... },
 * });
 * const r = mpc({ dynamics: dyn, cost, x_init, T: 20, u_lower: -2, u_upper: 2 });
 */
export function odeDynamics(o: OdeDynamicsOptions): Dynamics {
  if (!(o.dt > 0) || !Number.isFinite(o.dt)) throw new RangeError(`odeDynamics '${o.name}': dt must be a positive number, got ${o.dt}`);
  const substeps = o.substeps ?? 4;
  if (!Number.isInteger(substeps) || substeps < 1) throw new RangeError(`odeDynamics '${o.name}': substeps must be a positive integer, got ${substeps}`);
  const method = o.method ?? 'rk4';
  const adjoint = o.adjoint ?? false;
  return {
    name: o.name,
    nx: o.nx,
    nu: o.nu,
    params: o.params ?? [],
    firstOrderOnly: adjoint,
    step(x, u, params) {
      const N = x.shape[0]!;
      if (x.ndim !== 2 || x.shape[1] !== o.nx) throw new ShapeError(`odeDynamics '${o.name}': x has shape ${fmtShape(x.shape)}, expected [N, ${o.nx}]`);
      if (u.ndim !== 2 || u.shape[0] !== N || u.shape[1] !== o.nu)
        throw new ShapeError(`odeDynamics '${o.name}': u has shape ${fmtShape(u.shape)}, expected [${N}, ${o.nu}]`);
      const field = (_t: Tensor, y: Tensor, [uu, ...th]: readonly Tensor[]): Tensor => o.f(y, uu!, th);
      try {
        const sol = odeint(field, x, [0, o.dt], [u, ...params], {
          method,
          step: method === 'dopri5' ? undefined : o.dt / substeps,
          rtol: o.rtol,
          atol: o.atol,
          adjoint,
        });
        return reshape(slice(sol.y, [1, 0, 0], [1, N, o.nx]), [N, o.nx]);
      } catch (e) {
        // name the dynamics in the ODE layer's error (its type and fields stay as they are)
        if (e instanceof Error && !e.message.startsWith('odeDynamics')) e.message = `odeDynamics '${o.name}': ${e.message}`;
        throw e;
      }
    },
  };
}
