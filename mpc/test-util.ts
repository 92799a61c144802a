// Dynamics factories for the tests of mpc/parallel.ts (Dynamics.remote): one that exits its
// worker thread while it is being rebuilt, one that rebuilds the pendulum with a NaN step.
import type { Tensor } from '../sim/core/index.ts';
import type { Dynamics } from './dynamics.ts';
import { pendulum } from './pendulum.ts';

/** Exits the worker thread with code 4. */
export function exitingDynamics(): Dynamics {
  process.exit(4);
}

/** The pendulum whose raw step returns NaN (in a worker: an MpcError there). */
export function nanPendulum(params: Tensor[]): Dynamics {
  const d = pendulum(params[0]);
  return { ...d, stepRaw: (_x, _u, _p, ctx, out) => out.fill(NaN, 0, ctx.rows * 3) };
}
