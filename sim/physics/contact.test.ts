// Tests of the contact model (sim/physics/contact.ts): Warp's exact model by default, and the
// optional smoothing for planning: it stays below the exact friction, tends to the exact model
// as its widths shrink, and is C1 where the exact model has kinks; the option is validated
// and reaches the kernels from ModelBuilder and scene files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contactForce, contactScratch } from './contact.ts';

const SCRATCH = contactScratch();
const CF = SCRATCH.force;
import { ModelBuilder } from './builder.ts';
import { parseScene, buildScene } from './scene.ts';
import { sampleMap, splineSample, terrainScratch } from './terrain.ts';
import type { TerrainData } from './data.ts';

/** Force along x (friction) and z (normal) of a contact with normal +z, penetration c, velocity (vx, 0, vz). */
function force(c: number, vx: number, vz: number, sd: number, sp: number): [number, number] {
  contactForce(
    0,
    0,
    1,
    c,
    vx,
    0,
    vz,
    1e4,
    100,
    200,
    0.5,
    { frictionEps: 1e-3, smoothDamping: sd, smoothFriction: sp, smoothPenetration: 0, contactCutoff: 0 },
    SCRATCH,
  );
  return [CF[0]!, CF[2]!];
}

test('smoothing off is the exact model: fn = ke c + kd min(vn, 0), ft = min(kf |vt|, mu |fn|)', () => {
  const [fx, fz] = force(-0.01, 0.3, -0.2, 0, 0);
  const fn = 1e4 * -0.01 + 100 * -0.2;
  const vs = Math.sqrt(0.3 * 0.3 + 1e-6);
  const ft = Math.min(200 * vs, 0.5 * Math.abs(fn));
  assert.ok(Math.abs(fz - -fn) < 1e-12);
  assert.ok(Math.abs(fx - (-0.3 * ft) / vs) < 1e-12);
});

test('smooth friction stays at or below the exact one and tends to it as the power grows', () => {
  for (const vx of [0.01, 0.2, 0.3, 0.31, 1]) {
    const exact = Math.abs(force(-0.01, vx, 0, 0, 0)[0]);
    let prevGap = Infinity;
    for (const p of [2, 4, 8, 16, 64]) {
      const smooth = Math.abs(force(-0.01, vx, 0, 0, p)[0]);
      assert.ok(smooth <= exact + 1e-12, `vx ${vx}, p ${p}: ${smooth} > exact ${exact}`);
      assert.ok(exact - smooth <= prevGap + 1e-12, `vx ${vx}: the gap does not shrink at p ${p}`);
      prevGap = exact - smooth;
    }
    assert.ok(prevGap <= 0.02 * exact, `vx ${vx}: p = 64 still ${prevGap} below ${exact}`);
  }
});

test('smooth damping tends to kd min(vn, 0) as its width shrinks, and has no kink at vn = 0', () => {
  for (const vz of [-0.5, -0.01, 0.01, 0.5]) {
    const exact = force(-0.01, 0, vz, 0, 0)[1];
    const smooth = force(-0.01, 0, vz, 1e-6, 0)[1];
    assert.ok(Math.abs(exact - smooth) < 1e-3, `vz ${vz}: ${smooth} vs ${exact}`);
  }
  // one-sided slopes of fz at vz = 0: exact 100 vs 0 (a kink); smooth (width 0.05): equal
  const h = 1e-6;
  const slope = (sd: number, s: number): number => (force(-0.01, 0, s * h, sd, 0)[1] - force(-0.01, 0, 0, sd, 0)[1]) / (s * h);
  assert.ok(Math.abs(slope(0, -1) - slope(0, 1)) > 50, 'the exact model has a kink');
  assert.ok(Math.abs(slope(0.05, -1) - slope(0.05, 1)) < 0.01, 'the smooth model has none');
});

test('contactSmoothing reaches the model from ModelBuilder and scene files, and is validated', () => {
  const m = new ModelBuilder({ contactSmoothing: { damping: 0.05, friction: 4 } }).finalize();
  assert.deepEqual(m.contactSmoothing, { damping: 0.05, friction: 4 });
  assert.deepEqual(new ModelBuilder().finalize().contactSmoothing, { damping: 0, friction: 0 });
  assert.throws(() => new ModelBuilder({ contactSmoothing: { friction: -1 } }), /contactSmoothing\.friction/);
  const built = buildScene(parseScene({ contactSmoothing: { friction: 4 }, particles: [{ pos: [0, 0, 1], mass: 1 }] }, 'inline'), 'inline');
  assert.deepEqual(built.model.contactSmoothing, { damping: 0, friction: 4 });
  assert.throws(() => parseScene({ contactSmoothing: { frction: 4 } }, 'inline'), /contactSmoothing/);
});

test('C1 contact model: force and its derivative continuous across c = 0 (exact: a kink); spline terrain has a C1 normal across cell edges', () => {
  const cm = (w: number): Parameters<typeof contactForce>[11] => ({
    frictionEps: 1e-3,
    smoothDamping: 0.05,
    smoothFriction: 4,
    smoothPenetration: w,
    contactCutoff: 30 * w,
  });
  const fz = (c: number, w: number): number => {
    contactForce(0, 0, 1, c, 0.3, 0, -0.2, 1e4, 100, 200, 0.5, cm(w), SCRATCH);
    return CF[2]!;
  };
  const d = 1e-7;
  const slope = (c: number, w: number): number => (fz(c + d, w) - fz(c - d, w)) / (2 * d);
  // exact: the normal force jumps in slope at c = 0 (ke on one side, 0 on the other)
  assert.ok(Math.abs(slope(-2 * d, 0) - slope(2 * d, 0)) > 1e3);
  // C1 (width 2 mm): value and slope continuous at 0 and at every point nearby
  for (const c of [-1e-3, 0, 1e-3]) {
    assert.ok(Math.abs(fz(c - 1e-9, 0.002) - fz(c + 1e-9, 0.002)) < 1e-4);
    assert.ok(Math.abs(slope(c - 1e-6, 0.002) - slope(c + 1e-6, 0.002)) < 0.02 * Math.abs(slope(c, 0.002)) + 1);
  }
  // deep inside, the softplus is the exact penetration
  assert.ok(Math.abs(fz(-0.05, 0.002) - fz(-0.05, 0)) < 1e-6 * Math.abs(fz(-0.05, 0)));
  // spline terrain: a plane is reproduced (inside the grid); the slope hx is continuous across a cell edge with continuous derivative
  const rows = 6;
  const cols = 7;
  const plane = Array.from({ length: rows }, (_, j) => Array.from({ length: cols }, (_, i) => 0.1 * i - 0.05 * j + 0.2));
  const bumpy = Array.from({ length: rows }, (_, j) => Array.from({ length: cols }, (_, i) => Math.sin(1.3 * i) * Math.cos(0.7 * j)));
  const T = (h: number[][]): TerrainData => ({
    nx: cols,
    ny: rows,
    ox: 0,
    oy: 0,
    cs: 0.5,
    heights: Float64Array.from(h.flat()),
    ke: new Float64Array(0),
    kd: new Float64Array(0),
    mu: new Float64Array(0),
    kf: 0,
    spline: true,
    cutoff: 0,
    scratch: terrainScratch(),
  });
  const BL = new Float64Array(3);
  splineSample(T(plane), T(plane).heights, 1.37, 1.12, BL);
  assert.ok(Math.abs(BL[0]! - (0.2 + 0.1 * (1.37 / 0.5) - 0.05 * (1.12 / 0.5))) < 1e-12 && Math.abs(BL[1]! - 0.2) < 1e-12 && Math.abs(BL[2]! + 0.1) < 1e-12);
  const tb = T(bumpy);
  const hx = (x: number): number => {
    splineSample(tb, tb.heights, x, 1.1, BL);
    return BL[1]!;
  };
  const edge = 1.5; // a cell edge (x = 3 cells of 0.5 m)
  assert.ok(Math.abs(hx(edge - 1e-9) - hx(edge + 1e-9)) < 1e-7, 'hx continuous');
  const hxx = (x: number): number => (hx(x + 1e-6) - hx(x - 1e-6)) / 2e-6;
  assert.ok(Math.abs(hxx(edge - 2e-6) - hxx(edge + 2e-6)) < 1e-3, `hxx continuous: ${hxx(edge - 2e-6)} vs ${hxx(edge + 2e-6)}`);
  // the bilinear normal jumps there
  const tl = { ...tb, spline: false };
  const hxl = (x: number): number => {
    sampleMap(tl, tl.scratch, tl.heights, x, 1.1);
    return tl.scratch.sample[1]!;
  };
  assert.ok(Math.abs(hxl(edge - 1e-9) - hxl(edge + 1e-9)) > 0.05, 'bilinear slope jumps at the edge');
});
