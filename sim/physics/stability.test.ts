// Tests of the stability bounds, automatic substepping and divergence detection
// (sim/physics/stability.ts, divergence.ts, run.ts): a step beyond the bound is refused with a
// named error, every bundled scene runs stable at dt = 1/60 s with the chosen substeps, a
// diverging run stops naming step, body and quantity, and a long run keeps no states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { noGrad } from '../core/index.ts';
import {
  BodyDesc,
  DivergenceMonitor,
  ModelBuilder,
  SimulationError,
  StabilityError,
  autoSubsteps,
  checkStability,
  maxStableStep,
  parseScene,
  rollout,
  runSceneFile,
  simulate,
  stabilityLimits,
} from './index.ts';

const SCENES = ['bounce', 'cloth', 'box-slide', 'tracked-robot'].map((n) => join(import.meta.dirname, '../../examples/physics', `${n}.json`));

test('maxStableStep is the Jury bound of semi-implicit Euler: stable just below it, unstable just above', () => {
  const w2 = 1e4;
  const g = 30;
  const h = maxStableStep(w2, g);
  assert.ok(Math.abs(h * h * w2 + 2 * h * g - 4) < 1e-9);
  // the damped oscillator x'' = -w2 x - g x' under semi-implicit Euler
  const grow = (hh: number): number => {
    let x = 1;
    let v = 0;
    for (let i = 0; i < 4000; i++) {
      v += hh * (-w2 * x - g * v);
      x += hh * v;
    }
    return Math.abs(x) + Math.abs(v) / Math.sqrt(w2);
  };
  assert.ok(grow(0.99 * h) < 1, `decays below the bound (${grow(0.99 * h)})`);
  assert.ok(grow(1.01 * h) > 1e3, `grows above it (${grow(1.01 * h)})`);
  assert.equal(maxStableStep(0, 50), 2 / 50);
  assert.equal(maxStableStep(0, 0), Infinity);
});

test("a 65 g ball with the default contact at one substep of 1/240 s is refused with the bound and the value; 'auto' picks a stable count", () => {
  const b = new ModelBuilder();
  b.addBody(BodyDesc.sphere(0.03).setMass(0.065).setTranslation(0, 0, 0.2));
  const m = b.finalize();
  assert.throws(
    () => checkStability(m, 1 / 240, 1),
    (e: unknown) =>
      e instanceof StabilityError &&
      e.kind === 'body' &&
      e.index === 0 &&
      e.value === 1 / 240 &&
      e.bound < e.value &&
      /exceeds the stability bound .* of body 0 \(ground ke = 10000 N\/m, kd = 100 N s\/m/.test(e.message),
  );
  const S = autoSubsteps(m, 1 / 240);
  assert.ok(S > 1);
  assert.equal(checkStability(m, 1 / 240, S).guaranteed, true);
  const r = noGrad(() => rollout(m, m.state(), { steps: 480, dt: 1 / 240, substeps: 'auto' }));
  assert.ok(Math.abs(r.final.bodyPos.data[2]! - (0.03 - (0.065 * 9.81) / 1e4)) < 1e-6, `rests at r - m g / ke: ${r.final.bodyPos.data[2]}`);
  const lim = stabilityLimits(m)[0]!;
  assert.ok(lim.guaranteedH <= lim.necessaryH);
});

test('every bundled scene runs at dt = 1/60 s with substeps from the bound, finite and without divergence', async () => {
  for (const f of SCENES) {
    const r = await runSceneFile(f, { dt: 1 / 60, steps: 120 });
    assert.ok(r.substepsAuto && r.stability.guaranteed, f);
    for (const p of r.bodyPos) for (const v of p) assert.ok(Number.isFinite(v) && Math.abs(v) < 100, `${f}: ${p}`);
    assert.ok(r.energy.final <= r.energy.initial + r.energy.controlWorkBound + 1e-9, `${f}: energy ${r.energy.initial} -> ${r.energy.final}`);
  }
  // the box of box-slide still stops at v^2 / (2 mu g) at dt = 1/60
  const box = await runSceneFile(SCENES[2]!, { dt: 1 / 60, steps: 60 });
  assert.ok(Math.abs(box.bodyPos[0]![0]! - 4 / (2 * 0.5 * 9.81)) < 0.005, `box stopped at ${box.bodyPos[0]![0]}`);
});

test('runSceneFile refuses --substeps beyond the bound and a dt needing too many substeps (named, before simulating)', async () => {
  await assert.rejects(
    runSceneFile(SCENES[2]!, { dt: 0.01, substeps: 1 }),
    (e: unknown) => e instanceof StabilityError && /Use at least 3 substeps/.test(e.message),
  );
  await assert.rejects(
    runSceneFile(SCENES[2]!, { dt: 10 }),
    (e: unknown) => e instanceof StabilityError && /needs \d+ substeps \(more than 10000\)/.test(e.message),
  );
});

test('a run that diverges stops with the step, the body and the quantity; the partial output is removed', async () => {
  // one substep just inside the one-contact bound, but four corners at once: the box's tilt mode diverges
  const dir = mkdtempSync(join(tmpdir(), 'impulse-div-'));
  const out = join(dir, 'traj.json');
  await assert.rejects(
    runSceneFile(SCENES[2]!, { dt: 0.0034, substeps: 1, steps: 2000, out }),
    (e: unknown) =>
      e instanceof SimulationError &&
      e.quantity === 'energy' &&
      e.step > 0 &&
      /diverged at step \d+: .* body \d carries the most kinetic energy/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), [], 'no output or temporary file left');
  rmSync(dir, { recursive: true });
  // the monitor on its own: non-finite values name the body and quantity
  const b = new ModelBuilder();
  b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setTranslation(0, 0, 0.5));
  const m = b.finalize();
  const mon = new DivergenceMonitor(m, m.state());
  const s1 = noGrad(() => simulate(m, m.state(), null, 1e-3));
  s1.bodyVel.data[1] = NaN;
  assert.throws(
    () => mon.check(1, s1, null, 1e-3),
    (e: unknown) => e instanceof SimulationError && e.quantity === 'body_vel' && e.index === 0 && e.step === 1,
  );
});

test('a long run without --out keeps no states (heap after GC flat in the number of steps)', async () => {
  // a garbage collector to call: measure live memory, not what young-generation GC has not yet freed
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = mkdtempSync(join(tmpdir(), 'impulse-mem-'));
  const scene = join(dir, 'fall.json');
  writeFileSync(scene, JSON.stringify({ dt: 0.01, ground: { ke: 1000, kd: 10 }, particles: [{ pos: [0, 0, 1], mass: 1, radius: 0.05 }] }));
  const live: number[] = [];
  const r = await runSceneFile(scene, {
    steps: 60000,
    onStep: (t) => {
      if (t === 5000 || t === 60000) {
        gc();
        live.push(process.memoryUsage().heapUsed);
      }
    },
  });
  rmSync(dir, { recursive: true });
  assert.equal(r.steps, 60000);
  // 55k retained states would hold > 30 MB (six tensors each)
  const growth = live[1]! - live[0]!;
  assert.ok(growth < 5e6, `live heap grew ${(growth / 1e6).toFixed(1)} MB over 55k steps`);
});

test("scene fields 'NaN' and 1e999 are named with the field and the reason", () => {
  assert.throws(() => parseScene({ ground: { ke: 'NaN' } }, 's.json'), /s\.json: ground\.ke: is the string "NaN", expected a finite number/);
  assert.throws(() => parseScene(JSON.parse('{"ground": {"ke": 1e999}}'), 's.json'), /s\.json: ground\.ke: is Infinity \(out of the float64 range\)/);
  assert.throws(
    () =>
      parseScene(
        {
          terrain: {
            origin: [0, 0],
            cellSize: 1,
            heights: [
              [0, 0],
              [0, 0],
            ],
            mu: [
              [0.5, 'inf'],
              [0.5, 0.5],
            ],
          },
        },
        's.json',
      ),
    /terrain\.mu\[0\]\[1\]: is the string "inf"/,
  );
});

test('an aborted run (SIGINT in sim run) rejects and leaves no output or temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-abort-'));
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error('interrupted by SIGINT')), 300);
  await assert.rejects(runSceneFile(SCENES[1]!, { steps: 1e7, out: join(dir, 'cloth.json'), signal: stop.signal }), /interrupted by SIGINT/);
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true });
});
