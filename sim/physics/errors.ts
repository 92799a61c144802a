// Errors of the physics engine (sim/physics, layer sim): bad model or scene input, and
// non-finite values found while simulating or back-propagating, each naming where it happened.

/** Bad model input (builder or Model fields): names the field and index at fault. */
export class ModelError extends Error {
  constructor(
    message: string,
    /** The field at fault, e.g. `particleMass[3]` or `dt`. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** A scene file that does not validate: names the file and the JSON path of the bad field. */
export class SceneError extends Error {
  constructor(
    message: string,
    /** JSON path of the field at fault, e.g. `springs[2].j`. */
    readonly path: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'SceneError';
  }
}

/** A NaN or Inf in a state (forward) or in a gradient (backward): names step, index and quantity. */
export class SimulationError extends Error {
  constructor(
    message: string,
    /** Step index of the rollout (the `step` option of `simulate`). */
    readonly step: number,
    /** Quantity, e.g. `particle_qd` or `body_rot`. */
    readonly quantity: string,
    /** Particle or body index. */
    readonly index: number,
    readonly phase: 'forward' | 'backward',
  ) {
    super(message);
    this.name = 'SimulationError';
  }
}

/** A step the explicit integrator cannot integrate stably (stability.ts): names the particle or body, the bound and the value. */
export class StabilityError extends Error {
  constructor(
    message: string,
    readonly kind: 'particle' | 'body',
    /** Particle or body index. */
    readonly index: number,
    /** The largest stable substep (s). */
    readonly bound: number,
    /** The substep asked for (s). */
    readonly value: number,
  ) {
    super(message);
    this.name = 'StabilityError';
  }
}
