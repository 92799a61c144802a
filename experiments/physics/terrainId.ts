// Example `terrain-id` (sim/physics/examples, layer sim): system identification through the
// simulator, as the ego-motion predictor will do with real logs. A point-set tracked robot
// (MonoForce-like) drives over a heightmap with two friction patches; from one observed
// trajectory (its pose every 10 steps) gradient descent (Adam) recovers the friction map
// (every grid point's mu) and the terrain stiffness (one value, broadcast to the ke map).
import { Tensor, exp, full, mean, mul, noGrad, ones, square, stack, sub, tensor } from '../../sim/core/index.ts';
import { BodyDesc, ModelBuilder, rollout, Control, type Model } from '../../sim/physics/index.ts';
import { exampleResult, fitWithAdam, type ExampleOptions, type ExampleResult } from './common.ts';

const NX = 16;
const NY = 6;
const CELL = 0.5;
const ORIGIN: [number, number] = [-0.5, -1.25];
/** True terrain stiffness (N/m per contact point). */
export const TRUE_KE = 3000;

/** True friction map: 0.3 for x < 2 m, 0.6 beyond, with a smooth 1 m transition. */
export function trueMu(x: number): number {
  return 0.3 + 0.3 / (1 + Math.exp(-(x - 2) / 0.25));
}

function heights(): number[][] {
  const h: number[][] = [];
  for (let j = 0; j < NY; j++)
    h.push(Array.from({ length: NX }, (_, i) => 0.02 * Math.sin((ORIGIN[0] + CELL * i) / 1.5) * Math.cos((ORIGIN[1] + CELL * j) / 2)));
  return h;
}

/** The robot on the terrain; true maps unless replaced later through Model.with. */
export function terrainIdModel(): Model {
  const h = heights();
  const mu = h.map((row) => row.map((_, i) => trueMu(ORIGIN[0] + CELL * i)));
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({ origin: ORIGIN, cellSize: CELL, heights: h, ke: TRUE_KE, kd: 100, mu, kf: 200 });
  const pts: number[][] = [];
  for (const x of [-0.2, 0, 0.2]) for (const y of [-0.15, 0.15]) pts.push([x, y, -0.05]);
  pts.push([0, 0, 0.1]);
  // resting on the terrain at (0, 0.6) (height 0 on the line x = 0), sunk by its static load; the top point never touches
  const z0 = 0.05 - (10 * 9.81) / (6 * TRUE_KE);
  const robot = b.addBody(BodyDesc.points(pts, 0).setMass(10).setTranslation(0, 0.6, z0));
  // tracks: points 0, 2, 4 (y = -0.15) right, 1, 3, 5 (y = +0.15) left
  b.addTrack(robot, [0, 2, 4], [1, 0, 0]);
  b.addTrack(robot, [1, 3, 5], [1, 0, 0]);
  return b.finalize();
}

/** Runs the example: observe with the true maps, then fit mu map and ke from a wrong guess. */
export function runTerrainId(opts: ExampleOptions = {}): ExampleResult {
  const t0 = performance.now();
  const model = terrainIdModel();
  const steps = 240;
  const dt = 1 / 120;
  const substeps = 3;
  const K = 10;
  const control = new Control({ trackF: tensor([34, 36]) });
  const s0 = model.state();
  const observe = (m: Model): Tensor[] => rollout(m, s0, { steps, dt, substeps, control, checkpointEvery: K }).states.map((s) => s.bodyPos);
  const observed = noGrad(() => observe(model)).map((t) => t.detach());
  const obs = stack(observed, 0);
  const onesMap = ones([NY, NX]);
  const zWeight = tensor([[1, 1, 5]]);
  const fitted = (muMap: Tensor, logKe: Tensor): Model => model.with({ terrainMu: muMap, terrainKe: mul(onesMap, mul(exp(logKe), TRUE_KE)) });
  const loss = (muMap: Tensor, logKe: Tensor): Tensor => {
    const pred = stack(observe(fitted(muMap, logKe)), 0);
    // vertical errors weigh 5x: the stiffness shows mostly in how deep the robot sinks
    return mean(square(mul(sub(pred, obs), zWeight)));
  };
  // initial guess: uniform mu 0.45, stiffness half the truth
  const muMap = full([NY, NX], 0.45);
  const logKe = tensor(Math.log(0.5), []);
  const fit = fitWithAdam(loss, [muMap, logKe], [0.02, 0.05], 100, () => [full([NY, NX], 0.45), tensor(Math.log(0.5), [])], opts);
  // friction error on the grid points the robot drove over (within 0.5 m of its path)
  const path = observed.map((p) => [p.data[0]!, p.data[1]!]);
  let errSum = 0;
  let visited = 0;
  for (let j = 0; j < NY; j++) {
    for (let i = 0; i < NX; i++) {
      const x = ORIGIN[0] + CELL * i;
      const y = ORIGIN[1] + CELL * j;
      if (!path.some(([px, py]) => Math.hypot(px! - x, py! - y) < 0.5)) continue;
      visited++;
      errSum += Math.abs(muMap.data[j * NX + i]! - trueMu(x));
    }
  }
  const keFit = Math.exp(logKe.item()) * TRUE_KE;
  return exampleResult('terrain-id', fit, t0, {
    keTrue: TRUE_KE,
    keInitial: 0.5 * TRUE_KE,
    keFitted: keFit,
    keRelErr: Math.abs(keFit - TRUE_KE) / TRUE_KE,
    muInitial: 0.45,
    muMeanAbsErrOnPath: errSum / Math.max(visited, 1),
    gridPointsOnPath: visited,
    pathEnd: path[path.length - 1],
    observations: observed.length,
  });
}
