// Impulse: differentiable robotics simulation in TypeScript. The root entry re-exports the
// layers as namespaces: `import { data, sim, models } from 'impulse'`.
export * as data from './data/index.ts';
export * as sim from './sim/index.ts';
export * as models from './models/index.ts';
export * as mpc from './mpc/index.ts';
