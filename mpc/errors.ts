// Errors of the differentiable MPC layer (mpc/): bad problem input, non-finite dynamics and
// non-convergence, each naming the field, batch item and time step at fault.

/**
 * Raised for MPC input that cannot be solved as given (shapes, bounds, a non-PSD cost), for
 * NaN/Inf produced by the dynamics or the cost, and for non-convergence when the caller asked
 * to raise. `batchIndex` and `step` name the batch item and time step when there is one.
 */
export class MpcError extends Error {
  constructor(
    message: string,
    readonly batchIndex?: number,
    readonly step?: number,
  ) {
    super(message);
    this.name = 'MpcError';
  }
}
