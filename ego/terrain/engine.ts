// The engine's model of the dataset's robot (ego/terrain): the same point set and tracks as
// a body of sim/physics on heightmap terrain with per-point friction and stiffness maps, all
// robots of a batch as worlds of one Model. Each distinct terrain is a tile of one large
// heightmap (the engine has one terrain per Model; robots of different worlds never touch
// each other, so several robots may share a tile). The track-speed controller runs on the
// tape, so a loss on the recorded poses differentiates through controller, contacts and maps.
// `rolloutBatchGpu` runs the same batch on the GPU (sim/gpu): each robot one world, the
// controller in WGSL with its adjoint, the rollout one op of the tape.
import { Tensor, add, mul, noGrad, reshape, sub, sum, tensor } from '../../sim/core/index.ts';
import { BodyDesc, Control, ModelBuilder, SimulationError, rollout, type Model, type State } from '../../sim/physics/index.ts';
import { BATCH_FIELDS, GpuNonFiniteError, gpuRollout, trackController, type BatchTensors } from '../../sim/gpu/index.ts';
import { RolloutNonFiniteError, TerrainShapeError } from './errors.ts';
import { MATERIAL, type TerrainSpec } from './generate.ts';
import { ROBOT, TRACKS, robotPoints, trackTargets } from './robot.ts';

/** Step, substeps and the contact constants the maps do not set (damping, viscous friction slope). */
export const ENGINE = { dt: 0.02, substeps: 2, kd: 200, kf: 250 } as const;

/** Engine steps of a sample, steps between recorded poses, steps per command, and commands. */
function engineSchedule(spec: TerrainSpec): { steps: number; every: number; perCmd: number; nCmd: number } {
  return {
    steps: Math.round(spec.duration / ENGINE.dt),
    every: Math.round(spec.recordDt / ENGINE.dt),
    perCmd: spec.commandDt / ENGINE.dt,
    nCmd: Math.round(spec.duration / spec.commandDt),
  };
}

/** One terrain's maps ([ny * nx] row-major, the dataset grid). */
export interface TerrainMaps {
  heights: ArrayLike<number>;
  friction: ArrayLike<number>;
  stiffness: ArrayLike<number>;
}

/** One robot of a batch: its terrain tile, initial pose [x y z qx qy qz qw], velocity [vx vy vz wx wy wz] and commands [nCmd * 2]. */
export interface RobotRun {
  tile: number;
  pose0: ArrayLike<number>;
  velocity0: ArrayLike<number>;
  commands: ArrayLike<number>;
  /** Label for error messages (the sample id). */
  label?: string;
}

/** A batched world: the Model, the tile layout and the robots. */
export interface BatchWorld {
  model: Model;
  spec: TerrainSpec;
  robots: RobotRun[];
  /** Tiles per row of the large heightmap, and the number of tiles. */
  cols: number;
  tiles: number;
}

/** World offset of tile t. */
export function tileOffset(spec: TerrainSpec, cols: number, t: number): [number, number] {
  const g = spec.grid;
  return [(t % cols) * g.nx * g.cellSize, Math.floor(t / cols) * g.ny * g.cellSize];
}

/** Lays per-tile maps ([ny * nx] each) out as one [rows * ny][cols * nx] map; missing tiles get `fill`. */
export function tileMap(spec: TerrainSpec, maps: readonly ArrayLike<number>[], cols: number, fill: number): number[][] {
  const { nx, ny } = spec.grid;
  const rows = Math.ceil(maps.length / cols);
  const out: number[][] = [];
  for (let J = 0; J < rows * ny; J++) {
    const row = new Array<number>(cols * nx).fill(fill);
    const tr = Math.floor(J / ny);
    const j = J % ny;
    for (let tc = 0; tc < cols; tc++) {
      const m = maps[tr * cols + tc];
      if (m) for (let i = 0; i < nx; i++) row[tc * nx + i] = m[j * nx + i]!;
    }
    out.push(row);
  }
  return out;
}

/**
 * Builds the batched world: the terrains as tiles of one heightmap (friction and stiffness as
 * the terrain's mu and ke maps, ENGINE.kd and ENGINE.kf), one robot per world at its pose.
 */
export function buildBatch(spec: TerrainSpec, terrains: readonly TerrainMaps[], robots: readonly RobotRun[]): BatchWorld {
  const N = spec.grid.nx * spec.grid.ny;
  terrains.forEach((t, k) => {
    for (const name of ['heights', 'friction', 'stiffness'] as const)
      if (t[name].length !== N)
        throw new TerrainShapeError(`terrain ${k}: ${name} has ${t[name].length} values, the grid ${spec.grid.ny} x ${spec.grid.nx} needs ${N}`);
  });
  if (terrains.length === 0) throw new TerrainShapeError('buildBatch: no terrain');
  const cols = Math.ceil(Math.sqrt(terrains.length));
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({
    origin: spec.grid.origin,
    cellSize: spec.grid.cellSize,
    heights: tileMap(
      spec,
      terrains.map((t) => t.heights),
      cols,
      0,
    ),
    mu: tileMap(
      spec,
      terrains.map((t) => t.friction),
      cols,
      MATERIAL.defaultMu,
    ),
    ke: tileMap(
      spec,
      terrains.map((t) => t.stiffness),
      cols,
      MATERIAL.defaultKe,
    ),
    kd: ENGINE.kd,
    kf: ENGINE.kf,
  });
  const pts = robotPoints();
  robots.forEach((r, k) => {
    if (!(r.tile >= 0 && r.tile < terrains.length)) throw new TerrainShapeError(`robot ${k}: tile ${r.tile} is out of range [0, ${terrains.length})`);
    const [ox, oy] = tileOffset(spec, cols, r.tile);
    const p = r.pose0;
    const v = r.velocity0;
    const w = new ModelBuilder().setGround(false);
    const body = w.addBody(
      BodyDesc.points(pts, ROBOT.radius)
        .setMass(ROBOT.mass)
        .setTranslation(p[0]! + ox, p[1]! + oy, p[2]!)
        .setRotation(p[3]!, p[4]!, p[5]!, p[6]!)
        .setLinvel(v[0]!, v[1]!, v[2]!)
        .setAngvel(v[3]!, v[4]!, v[5]!),
    );
    w.addTrack(body, [...TRACKS.right], [1, 0, 0]);
    w.addTrack(body, [...TRACKS.left], [1, 0, 0]);
    b.addBuilder(w);
  });
  return { model: b.finalize(), spec, robots: [...robots], cols, tiles: terrains.length };
}

/** Result of a batched rollout. */
export interface EngineRollout {
  /** Centre-of-mass positions [B, 3] at t = 0, recordDt, ..., duration, on the tape (tile offsets removed). */
  positions: Tensor[];
  /** The states at the same times. */
  states: State[];
  /** Wall time of the rollout (ms). */
  ms: number;
}

/** Options of {@link rolloutBatch}. */
export interface RolloutBatchOptions {
  /** Replace the Model's terrain maps (e.g. tensors that require grad, or a network's output), each the tiled [rows * ny, cols * nx] shape. */
  maps?: { terrainHeights?: Tensor; terrainMu?: Tensor; terrainKe?: Tensor };
  /** Record on the tape (default: only when a map or the model requires grad). */
  grad?: boolean;
}

/**
 * Rolls every robot of the batch out for the dataset's duration: each step, the controller
 * turns the commanded (v, omega) and the measured track speeds into track forces
 * (fMax tanh(kp e / fMax); sim/gpu's `trackController`, the equations of the GPU controller
 * kernels, with robot.ts's gains), then the engine steps (ENGINE.dt, ENGINE.substeps). Non-finite
 * states raise RolloutNonFiniteError naming terrain, robot and step.
 */
export function rolloutBatch(w: BatchWorld, opts: RolloutBatchOptions = {}): EngineRollout {
  const spec = w.spec;
  const B = w.robots.length;
  const { steps, every, perCmd, nCmd } = engineSchedule(spec);
  const model = opts.maps ? w.model.with(opts.maps as Record<string, Tensor>) : w.model;
  const targets: Tensor[] = [];
  for (let k = 0; k < nCmd; k++) {
    const t = new Float64Array(2 * B);
    w.robots.forEach((r, i) => {
      if (r.commands.length !== 2 * nCmd) throw new TerrainShapeError(`robot ${i}: ${r.commands.length / 2} commands, the dataset timing needs ${nCmd}`);
      const [a, c] = trackTargets(r.commands[2 * k]!, r.commands[2 * k + 1]!);
      t[2 * i] = a;
      t[2 * i + 1] = c;
    });
    targets.push(new Tensor(t, [2 * B]));
  }
  const offsets = new Float64Array(3 * B);
  w.robots.forEach((r, i) => offsets.set([...tileOffset(spec, w.cols, r.tile), 0], 3 * i));
  const off = new Tensor(offsets, [B, 3]);
  const ctl = trackController(w.model);
  const run = (): EngineRollout => {
    const t0 = performance.now();
    let last = model.state();
    const s0 = last;
    const positions: Tensor[] = [sub(s0.bodyPos, off)];
    const states: State[] = [s0];
    // the controller of sim/gpu (trackControlForces): the equations the GPU controller kernels run
    const control = (t: number): Control => new Control({ trackF: ctl(last, targets[Math.min(Math.floor(t / perCmd), nCmd - 1)]!, ROBOT.kp, ROBOT.fMax) });
    try {
      rollout(model, s0, {
        steps,
        dt: ENGINE.dt,
        substeps: ENGINE.substeps,
        control,
        onStep: (t, s) => {
          last = s;
          if (t % every === 0) {
            positions.push(sub(s.bodyPos, off));
            states.push(s);
          }
        },
      });
    } catch (e) {
      if (e instanceof SimulationError) {
        const robot = e.quantity.startsWith('body') ? e.index : -1;
        const label = robot >= 0 ? (w.robots[robot]?.label ?? `tile ${w.robots[robot]?.tile}`) : '?';
        throw new RolloutNonFiniteError('engine', label, robot, e.step + 1, `${e.quantity} (${e.phase})`);
      }
      throw e;
    }
    return { positions, states, ms: performance.now() - t0 };
  };
  const grad = opts.grad ?? Object.values(opts.maps ?? {}).some((t) => t?.requiresGrad);
  return grad ? run() : noGrad(run);
}

/** Result of {@link rolloutBatchGpu}: the positions on the tape, as in EngineRollout (no intermediate CPU states). */
export type GpuEngineRollout = Omit<EngineRollout, 'states'>;

/** Options of {@link rolloutBatchGpu}. */
export interface RolloutBatchGpuOptions extends RolloutBatchOptions {
  /** The controller's gains (numbers, or scalar tensors that get gradients; default ROBOT.kp, ROBOT.fMax). */
  gains?: { kp?: Tensor | number; fMax?: Tensor | number };
  /** Most robots per GPU rollout (default: all that fit the adapter's limits). */
  chunk?: number;
}

/** One robot's world on the batch's tiled terrain: the Model each GPU world copies (worlds differ in their initial state). */
export function robotWorld(w: BatchWorld): Model {
  const T = w.model.terrain;
  if (!T) throw new TerrainShapeError('robotWorld: the batch has no terrain');
  const rows = (t: Tensor): number[][] => Array.from({ length: T.ny }, (_, j) => Array.from(t.data.subarray(j * T.nx, (j + 1) * T.nx)));
  const b = new ModelBuilder().setGround(false);
  b.setTerrain({
    origin: T.origin,
    cellSize: T.cellSize,
    heights: rows(w.model.params.terrainHeights),
    mu: rows(w.model.params.terrainMu),
    ke: rows(w.model.params.terrainKe),
    kd: ENGINE.kd,
    kf: ENGINE.kf,
  });
  const body = b.addBody(BodyDesc.points(robotPoints(), ROBOT.radius).setMass(ROBOT.mass));
  b.addTrack(body, [...TRACKS.right], [1, 0, 0]);
  b.addTrack(body, [...TRACKS.left], [1, 0, 0]);
  return b.finalize();
}

/**
 * {@link rolloutBatch} on the GPU (sim/gpu, float32): every robot is one world of
 * {@link robotWorld}, the track-speed controller runs in WGSL each step from the commands'
 * target track speeds, and the whole rollout is one op of the float64 tape, so a loss on the
 * positions differentiates to the maps (and tensor gains) through the GPU's adjoint kernels.
 * Synchronous (the GPU serves it from a worker thread); throws GpuUnavailableError without an
 * adapter and RolloutNonFiniteError naming terrain, robot and step for a non-finite state.
 */
export function rolloutBatchGpu(w: BatchWorld, opts: RolloutBatchGpuOptions = {}): GpuEngineRollout {
  const t0 = performance.now();
  const spec = w.spec;
  const B = w.robots.length;
  const { steps, every, perCmd, nCmd } = engineSchedule(spec);
  const one = robotWorld(w);
  const model = opts.maps ? one.with(opts.maps as Record<string, Tensor>) : one;
  const tg = new Float64Array(steps * B * 2);
  w.robots.forEach((r, i) => {
    if (r.commands.length !== 2 * nCmd) throw new TerrainShapeError(`robot ${i}: ${r.commands.length / 2} commands, the dataset timing needs ${nCmd}`);
    for (let t = 0; t < steps; t++) {
      const k = Math.min(Math.floor(t / perCmd), nCmd - 1);
      const [a, c] = trackTargets(r.commands[2 * k]!, r.commands[2 * k + 1]!);
      tg[(t * B + i) * 2] = a;
      tg[(t * B + i) * 2 + 1] = c;
    }
  });
  const s0 = w.model.state();
  const init = Object.fromEntries(BATCH_FIELDS.map((f) => [f, s0[f]])) as unknown as BatchTensors;
  const offsets = new Float64Array(3 * B);
  w.robots.forEach((r, i) => offsets.set([...tileOffset(spec, w.cols, r.tile), 0], 3 * i));
  const off = new Tensor(offsets, [B, 3]);
  const record = Array.from({ length: Math.floor(steps / every) }, (_, k) => (k + 1) * every);
  const run = (): GpuEngineRollout => {
    try {
      const out = gpuRollout(model, init, {
        batch: B,
        steps,
        dt: ENGINE.dt,
        substeps: ENGINE.substeps,
        record,
        trackF: new Tensor(tg, [steps, B, 2]),
        controller: { kp: opts.gains?.kp ?? ROBOT.kp, fMax: opts.gains?.fMax ?? ROBOT.fMax },
        chunk: opts.chunk,
      });
      return { positions: [sub(s0.bodyPos, off), ...out.map((s) => sub(reshape(s.bodyPos, [B, 3]), off))], ms: performance.now() - t0 };
    } catch (e) {
      if (e instanceof GpuNonFiniteError && e.world >= 0) {
        const r = w.robots[e.world];
        throw new RolloutNonFiniteError(
          'engine (gpu)',
          r?.label ?? `tile ${r?.tile}`,
          e.world,
          e.step + 1,
          `body ${e.phase === 'forward' ? 'state' : 'gradient'} (${e.phase})`,
        );
      }
      throw e;
    }
  };
  const grad = opts.grad ?? [...Object.values(opts.maps ?? {}), opts.gains?.kp, opts.gains?.fMax].some((t) => t instanceof Tensor && t.requiresGrad);
  return grad ? run() : noGrad(run);
}

/** Positions [T + 1][3] of robot i from a rollout, as a flat Float64Array. */
export function robotPath(r: Pick<EngineRollout, 'positions'>, i: number): Float64Array {
  const out = new Float64Array(3 * r.positions.length);
  r.positions.forEach((p, k) => out.set(p.data.subarray(3 * i, 3 * i + 3), 3 * k));
  return out;
}

/** Builds a tiled map tensor from per-tile maps (for `maps` of rolloutBatch). */
export function tiledTensor(w: BatchWorld, maps: readonly ArrayLike<number>[], fill: number): Tensor {
  return tensor(tileMap(w.spec, maps, w.cols, fill));
}

/** MonoForce's time weight of the trajectory loss: 1 / (1 + 0.9 t). */
export function timeWeight(t: number, gamma = 0.9): number {
  return 1 / (1 + gamma * t);
}

/**
 * Time-weighted trajectory loss on the tape: mean over robots and recorded times of
 * w(t) |p(t) - p_true(t)|^2 with w(t) = 1 / (1 + 0.9 t); `truth[i]` is robot i's path
 * [T + 1][3] flat.
 */
export function trajectoryLoss(r: Pick<EngineRollout, 'positions'>, truth: readonly ArrayLike<number>[], recordDt: number, gamma = 0.9): Tensor {
  const B = truth.length;
  const T1 = r.positions.length;
  let loss: Tensor | null = null;
  r.positions.forEach((p, k) => {
    const tgt = new Float64Array(3 * B);
    truth.forEach((path, i) => {
      if (path.length !== 3 * T1) throw new TerrainShapeError(`trajectoryLoss: truth path ${i} has ${path.length / 3} positions, the rollout ${T1}`);
      tgt[3 * i] = path[3 * k]!;
      tgt[3 * i + 1] = path[3 * k + 1]!;
      tgt[3 * i + 2] = path[3 * k + 2]!;
    });
    const d = sub(p, new Tensor(tgt, [B, 3]));
    const term = mul(timeWeight(k * recordDt, gamma) / (B * T1), sum(mul(d, d)));
    loss = loss ? add(loss, term) : term;
  });
  return loss!;
}
