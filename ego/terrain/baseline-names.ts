// Names of the terrain dataset's no-learning baselines (ego/terrain), in a module of their own
// so that the CLI can list them without loading the engine (baseline.ts re-exports them).

/** Names of the baselines. */
export const BASELINES = ['physics-default', 'physics-true-heights', 'physics-oracle', 'unicycle'] as const;
export type BaselineName = (typeof BASELINES)[number];
