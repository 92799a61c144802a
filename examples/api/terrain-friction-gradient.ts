// Gradient of where a box comes to rest with respect to every cell of a terrain's friction
// map, through 300 simulator steps (hand-written adjoints of the contact and integration
// kernels). Run: npx tsx examples/api/terrain-friction-gradient.ts
import { BodyDesc, ModelBuilder, State, gradients, rollout, slice, sum, tensor } from 'impulse/sim';

const n = 9;
const heights = Array.from({ length: n }, () => new Array<number>(n).fill(0));
const b = new ModelBuilder().setGround(false);
b.setTerrain({ origin: [-1, -1], cellSize: 0.25, heights, ke: 2e4, kd: 100, mu: 0.4, kf: 100 });
b.addBody(
  BodyDesc.box(0.1, 0.1, 0.1)
    .setMass(1)
    .setTranslation(-0.6, 0, 0.1 - 9.81 / (4 * 2e4)),
);
const model = b.finalize();

const mu = model.terrainMu.clone().requireGrad(); // [n, n] friction map, a differentiable input
const s0 = model.state();
const start = new State({ ...s0, bodyVel: tensor([[2, 0, 0]]) }); // slide along +x
const { final } = rollout(model.with({ terrainMu: mu }), start, { steps: 300, dt: 1 / 200, substeps: 5 });
const x = sum(slice(final.bodyPos, [0, 0], [1, 1])); // final x of the box
const [g] = gradients(x, [mu]);
console.log(`the box stops at x = ${x.item().toFixed(4)} m (v^2 / (2 mu g) predicts ${(-0.6 + 4 / (2 * 0.4 * 9.81)).toFixed(4)})`);
let total = 0;
for (const v of g!.data) total += v;
console.log(`d x_final / d mu summed over the map = ${total.toFixed(4)} (a uniform map: -(v^2 / (2 g mu^2)) = ${(-4 / (2 * 9.81 * 0.16)).toFixed(4)})`);
console.log('cells with the largest |gradient| (row, col, value):');
const cells = Array.from(g!.data, (v, i) => [Math.floor(i / n), i % n, v] as const).sort((p, q) => Math.abs(q[2]) - Math.abs(p[2]));
for (const [r, c, v] of cells.slice(0, 4)) console.log(`  (${r}, ${c}) ${v.toFixed(4)}`);
