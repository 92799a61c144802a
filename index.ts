// Impulse: differentiable robotics simulation in TypeScript. The root entry re-exports the
// layers as namespaces: `import { sim, models, mpc, data } from 'impulse'`.
export * as sim from './sim/index.ts';
export * as models from './models/index.ts';
