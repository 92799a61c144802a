// The demo scene of the GPU engine's tests and bench (sim/gpu, layer sim): a chain of particles
// joined by springs and a tracked point-set robot on a bumpy heightmap with varying stiffness, damping and
// friction maps over a ground plane, in the regime where both friction branches and both
// damping branches are exercised.
import { tensor } from '../core/index.ts';
import { BodyDesc, ModelBuilder, terrainHeight, type Model } from '../physics/index.ts';
import type { BatchState } from './engine.ts';

/** Heightmap grid of the fixtures: nx x ny points, cell size 0.25 m, origin (-0.5, -0.5). */
function terrainMaps(nx: number, ny: number): { heights: number[][]; ke: number[][]; kd: number[][]; mu: number[][] } {
  const heights: number[][] = [];
  const ke: number[][] = [];
  const kd: number[][] = [];
  const mu: number[][] = [];
  for (let j = 0; j < ny; j++) {
    heights.push([]);
    ke.push([]);
    kd.push([]);
    mu.push([]);
    for (let i = 0; i < nx; i++) {
      heights[j]!.push(0.04 * Math.sin(1.3 * i + 0.4) * Math.cos(0.9 * j) - 0.01);
      ke[j]!.push(3000 + 400 * ((i + 2 * j) % 3));
      kd[j]!.push(60 + 10 * ((2 * i + j) % 4));
      mu[j]!.push(0.4 + 0.05 * ((i * j) % 5));
    }
  }
  return { heights, ke, kd, mu };
}

/** Options of `gpuFixture`. */
export interface FixtureOptions {
  /** Particles per world (default 6). */
  particles?: number;
  /** Whether to add the tracked robot (default true). */
  robot?: boolean;
  /** Terrain grid points per side (default 8). */
  grid?: number;
  /** Springs between consecutive particles (default true; rest length 0.9 x the start distance). */
  springs?: boolean;
}

/** One world: particles resting on or sliding over the terrain and a tracked 8-point robot. */
export function gpuFixture(opts: FixtureOptions = {}): Model {
  const n = opts.grid ?? 8;
  const b = new ModelBuilder().setGround({ height: -0.02, ke: 4000, kd: 50, kf: 120, mu: 0.5 });
  b.setBodyContact(false);
  b.setTerrain({ origin: [-0.5, -0.5], cellSize: 0.25, kf: 150, ...terrainMaps(n, n) });
  const np = opts.particles ?? 6;
  for (let i = 0; i < np; i++) {
    const x = -0.3 + 1.2 * ((i * 0.37) % 1);
    const y = -0.3 + 1.1 * ((i * 0.61) % 1);
    b.addParticle([x, y, 0.09 + 0.01 * (i % 3)], [1.2 - 0.2 * (i % 4), 0.3 * ((i % 3) - 1), 0], 0.5 + 0.1 * (i % 3), 0.03);
  }
  if ((opts.springs ?? true) && np > 1) {
    const q = b.particleQ;
    for (let i = 0; i + 1 < np; i++) {
      const d = Math.hypot(q[3 * i]! - q[3 * i + 3]!, q[3 * i + 1]! - q[3 * i + 4]!, q[3 * i + 2]! - q[3 * i + 5]!);
      b.addSpring(i, i + 1, 40, 0.5, 0.9 * d);
    }
  }
  if (opts.robot ?? true) {
    const pts: number[][] = [];
    for (const sy of [-1, 1]) for (const sx of [-1, -0.33, 0.33, 1]) pts.push([0.2 * sx, 0.12 * sy, -0.05]);
    const body = b.addBody(BodyDesc.points(pts, 0.02).setMass(4).setTranslation(0.4, 0.35, 0.09).setLinvel(0.3, 0.05, 0).setAngvel(0, 0, 0.2));
    b.addTrack(body, [0, 1, 2, 3], [1, 0, 0]);
    b.addTrack(body, [4, 5, 6, 7], [1, 0, 0]);
  }
  const model = b.finalize();
  // particles start touching the terrain (1 mm deep), sliding: no impact in the first steps
  const q = model.initial.particleQ;
  const xy = tensor(Array.from({ length: np }, (_, i) => [q[3 * i]!, q[3 * i + 1]!]));
  const h = terrainHeight(model, xy).data;
  for (let i = 0; i < np; i++) {
    q[3 * i + 2] = h[i]! + 0.03 - 0.001;
    model.initial.particleQd[3 * i + 2] = 0;
  }
  return model;
}

/** B copies of the model's initial state, world w's positions shifted by (0.02 w, -0.015 w) and velocities scaled by 1 + 0.1 w. */
export function batchInitial(model: Model, B: number): BatchState {
  const s = model.initial;
  const rep = (a: Float64Array, f: (v: number, w: number, c: number) => number, width: number): Float64Array => {
    const out = new Float64Array(B * a.length);
    for (let w = 0; w < B; w++) for (let i = 0; i < a.length; i++) out[w * a.length + i] = f(a[i]!, w, i % width);
    return out;
  };
  const shift = (v: number, w: number, c: number): number => v + (c === 0 ? 0.02 * w : c === 1 ? -0.015 * w : 0);
  const scale = (v: number, w: number): number => v * (1 + 0.1 * w);
  return {
    particleQ: rep(s.particleQ, shift, 3),
    particleQd: rep(s.particleQd, scale, 3),
    bodyPos: rep(s.bodyPos, shift, 3),
    bodyRot: rep(s.bodyRot, (v) => v, 4),
    bodyVel: rep(s.bodyVel, scale, 3),
    bodyAngVel: rep(s.bodyAngVel, scale, 3),
  };
}

/** Track forces [steps * B * nt]: a slow left/right variation per step and world. */
export function trackForces(model: Model, B: number, steps: number): Float64Array {
  const nt = model.trackCount;
  const f = new Float64Array(steps * B * nt);
  for (let t = 0; t < steps; t++) for (let w = 0; w < B; w++) for (let k = 0; k < nt; k++) f[(t * B + w) * nt + k] = 6 + 3 * Math.sin(0.3 * t + w + 1.7 * k);
  return f;
}
