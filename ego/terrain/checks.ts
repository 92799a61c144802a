// Gradient checks of the terrain robot's engine model (ego/terrain), registered for
// `impulse gradcheck`: the time-weighted trajectory loss of a batched rollout (the on-tape
// track controller and the engine's fused steps on tiled maps) with respect to the height,
// friction and stiffness maps. Central differences, float64, bar 1e-6 relative, step 1e-5
// (stiff contact, as sim/physics' rollout checks); stiffness enters in units of 1e4 N/m. The
// scene is short (10 steps of two robots driving on gentle slopes, track points resting in
// contact from the start), so no contact switches on or off under the step. A second check
// takes per-terrain maps [B, ny, nx] through the differentiable tiling (tileCore): the
// float64 function behind the terrain model's tfjs op.
import { Tensor, mul, registerGradcheck } from '../../sim/core/index.ts';
import { tileCore } from './model.ts';
import { buildBatch, rolloutBatch, tiledTensor, trajectoryLoss, type RobotRun } from './engine.ts';
import { startHeight, yawQuat } from './rapier-truth.ts';
import type { TerrainSpec } from './generate.ts';
import { ROBOT } from './robot.ts';

/** A small terrain (8 x 7 points, 0.3 m cells, gentle slopes, varied materials) and 0.2 s of driving. */
export function checkSetup(): { spec: TerrainSpec; maps: { heights: Float64Array; friction: Float64Array; stiffness: Float64Array }; robots: RobotRun[] } {
  const spec: TerrainSpec = {
    grid: { nx: 8, ny: 7, cellSize: 0.3, origin: [-1.05, -0.9] },
    patches: 2,
    duration: 0.2,
    recordDt: 0.1,
    commandDt: 0.1,
    sensorNoise: 0,
    sensorHeight: 1,
    sensorRange: 5,
  };
  const { nx, ny } = spec.grid;
  const heights = new Float64Array(nx * ny);
  const friction = new Float64Array(nx * ny);
  const stiffness = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      heights[k] = 0.03 * Math.sin(0.9 * i + 0.3) * Math.cos(0.7 * j);
      friction[k] = 0.5 + 0.2 * Math.sin(1.3 * i + 2.1 * j);
      stiffness[k] = 9000 + 2000 * Math.cos(0.8 * i - 0.5 * j);
    }
  const sink = (ROBOT.mass * 9.81) / (10 * 9000);
  const robots: RobotRun[] = [
    [0.04, -0.03, 0.2],
    [-0.05, 0.06, -0.5],
  ].map(([x, y, yaw], i) => ({
    tile: 0,
    pose0: [x!, y!, startHeight(spec, heights, x!, y!, yaw!) - sink, ...yawQuat(yaw!)],
    velocity0: [0.3 * Math.cos(yaw!), 0.3 * Math.sin(yaw!), 0, 0, 0, 0.1],
    commands: [0.6, 0.3, 0.5, -0.2],
    label: `check-${i}`,
  }));
  return { spec, maps: { heights, friction, stiffness }, robots };
}

function lossOf(heights: Tensor, friction: Tensor, stiffness1e4: Tensor): Tensor {
  const { spec, maps, robots } = checkSetup();
  const w = buildBatch(spec, [maps], robots);
  const r = rolloutBatch(w, { maps: { terrainHeights: heights, terrainMu: friction, terrainKe: mul(stiffness1e4, 1e4) }, grad: true });
  // the target: 5 cm ahead of the start along x, at every recorded time
  const truth = robots.map((rb) => {
    const p = new Float64Array(3 * r.positions.length);
    for (let k = 0; k < r.positions.length; k++) p.set([rb.pose0[0]! + 0.05, rb.pose0[1]!, rb.pose0[2]!], 3 * k);
    return p;
  });
  return trajectoryLoss(r, truth, spec.recordDt);
}

/**
 * The loss as a function of per-terrain maps [2, ny, nx] (two terrains, one robot each, tiled
 * with `tileCore`): the float64 function behind the terrain model's tfjs op. Stiffness in units
 * of 1e4 N/m.
 */
export function tiledCheckLoss(): { fn: (h: Tensor, mu: Tensor, ke1e4: Tensor) => Tensor; inputs: Tensor[] } {
  const { spec, maps, robots } = checkSetup();
  const second = { heights: maps.heights.map((v) => -0.7 * v), friction: maps.friction.map((v) => 1.1 * v), stiffness: maps.stiffness.map((v) => 0.9 * v) };
  const rb = robots.map((r, i) => ({ ...r, tile: i }));
  const w = buildBatch(spec, [maps, second], rb);
  const stack2 = (a: Float64Array, b: Float64Array, s = 1): Tensor => {
    const d = new Float64Array(2 * a.length);
    d.set(a.map((v) => v * s));
    d.set(
      b.map((v) => v * s),
      a.length,
    );
    return new Tensor(d, [2, spec.grid.ny, spec.grid.nx]);
  };
  const fn = (h: Tensor, mu: Tensor, ke1e4: Tensor): Tensor => {
    const r = rolloutBatch(w, {
      maps: { terrainHeights: tileCore(w, h, 0), terrainMu: tileCore(w, mu, 0.6), terrainKe: tileCore(w, mul(ke1e4, 1e4), 8000) },
      grad: true,
    });
    const truth = rb.map((x) => {
      const p = new Float64Array(3 * r.positions.length);
      for (let k = 0; k < r.positions.length; k++) p.set([x.pose0[0]! + 0.05, x.pose0[1]!, x.pose0[2]!], 3 * k);
      return p;
    });
    return trajectoryLoss(r, truth, spec.recordDt);
  };
  return {
    fn,
    inputs: [stack2(maps.heights, second.heights), stack2(maps.friction, second.friction), stack2(maps.stiffness, second.stiffness, 1e-4)],
  };
}

/** Registers the terrain checks. */
export function registerTerrainGradchecks(): void {
  registerGradcheck('terrain.rollout_maps', () => {
    const { spec, maps, robots } = checkSetup();
    const w = buildBatch(spec, [maps], robots);
    const h = tiledTensor(w, [maps.heights], 0).requireGrad();
    h.name = 'heights';
    const mu = tiledTensor(w, [maps.friction], 0.6).requireGrad();
    mu.name = 'friction';
    const ke = tiledTensor(w, [maps.stiffness.map((v) => v / 1e4)], 0.8).requireGrad();
    ke.name = 'stiffness/1e4';
    return { fn: lossOf, inputs: [h, mu, ke], opts: { eps: 1e-5 } };
  });
  registerGradcheck('terrain.rollout_tiled_maps', () => {
    const { fn, inputs } = tiledCheckLoss();
    inputs.forEach((t, i) => {
      t.requireGrad();
      t.name = ['heights', 'friction', 'stiffness/1e4'][i];
    });
    return { fn, inputs, opts: { eps: 1e-5 } };
  });
}

registerTerrainGradchecks();
