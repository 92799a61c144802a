// Gradient checks of the physics engine (sim/physics, layer sim), registered for
// `impulse gradcheck`: every kernel's hand-written adjoint (the force kernels' checks
// generated from their kernel-list entries, kernels/list.ts), the fused step and multi-step
// rollouts (plain and checkpointed), against central differences at the default bar
// (1e-6 relative, float64; step eps 1e-6 for kernels, 1e-5 for the fused step and rollouts,
// whose roundoff through stiff contacts dominates at 1e-6; stiff parameters enter in scaled
// units). Scenes sit in the smooth regime: every contact stays on the same side of its
// switches (c = 0, vn = 0, kf |vt| = mu |fn|) under the finite-difference step.
import { Rng, Tensor, add, mul, registerGradcheck as registerCoreGradcheck, sum, tensor, type GradcheckOptions } from '../core/index.ts';
import { BodyDesc, ModelBuilder } from './builder.ts';
import { simulate } from './integrator.ts';
import { C1_CONTACT, Control, Model, State } from './model.ts';
import { BODY_FORCE_KERNELS, PARTICLE_FORCE_KERNELS, type KernelCheck } from './kernels/list.ts';
import type { ModelParamName } from './params.ts';
import { bodyForceOp, evalTrackDrive, integrateBodies, integrateParticles, particleForceOp, terrainHeight } from './ops.ts';
import { rollout } from './rollout.ts';

function named(t: Tensor, name: string): Tensor {
  t.name = name;
  return t;
}

/** A leaf holding t / scale: checks a stiff parameter in units where it is O(1) (the map back is an exact core mul). */
function scaled(t: Tensor, scale: number, name: string): Tensor {
  return named(mul(t.clone(), 1 / scale), name);
}

function jitter(rng: Rng, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => rng.range(lo, hi));
}

/** A small random heightmap (5 x 4 points, cell 0.5 m) with varied material maps. */
export function checkTerrain(b: ModelBuilder, rng: Rng, kf = 80): void {
  const grid = (lo: number, hi: number): number[][] => Array.from({ length: 4 }, () => jitter(rng, 5, lo, hi));
  b.setTerrain({ origin: [-1, -0.75], cellSize: 0.5, heights: grid(-0.1, 0.1), ke: grid(2e3, 4e3), kd: grid(20, 40), mu: grid(0.3, 0.8), kf });
}

/** Particles with springs, all penetrating the ground (and a wall) and moving, for the particle kernels. */
export function particleCheckModel(seed = 1, terrain = false): Model {
  const rng = new Rng(seed);
  const b = new ModelBuilder({ particleDrag: 0.3 }).setGround({ ke: 3e3, kd: 30, kf: 300, mu: 0.6 });
  if (terrain) {
    b.setGround(false);
    checkTerrain(b, rng, 3000);
  } else {
    b.addWall([-1, 0, 0], -1.5);
  }
  for (let i = 0; i < 6; i++) {
    // inside the terrain cells (not on cell lines), below the surface
    const x = -0.8 + 0.35 * i + rng.range(0.02, 0.08);
    const y = rng.range(-0.6, 0.6);
    const z = terrain ? -0.3 : rng.range(-0.05, -0.01);
    // odd particles slide fast (Coulomb regime), even ones slowly (viscous regime); particle 2 moves up (no damping)
    const vt = i % 2 ? 1 : 0.05;
    const vel = [rng.range(-vt, vt), rng.range(-vt, vt), i === 2 ? rng.range(0.2, 1) : rng.range(-1, -0.2)];
    // particle 5 also presses into the wall x = 1.5 (it touches two planes)
    b.addParticle([i === 5 && !terrain ? 1.54 : x, y, z], vel, rng.range(0.5, 2), rng.range(0.02, 0.06));
  }
  for (let s = 0; s < 6; s++) b.addSpring(s, (s + 1 + (s % 3)) % 6, rng.range(50, 150), rng.range(0.5, 2), rng.range(0.2, 0.5));
  return b.finalize();
}

/** Contact model variants of the checks: as built, the planning smoothing, the C1 model (wider activation, 2 cm, so the softplus is exercised). */
type Variant = 'exact' | 'smooth' | 'c1';
const SUFFIX: Record<Variant, string> = { exact: '', smooth: '_smooth', c1: '_c1' };

/** The model with the variant's contact smoothing. */
function withSmoothing(m: Model, v: Variant | boolean): Model {
  const mode: Variant = v === true ? 'smooth' : v === false ? 'exact' : v;
  if (mode === 'exact') return m;
  const s = new Model(m);
  s.contactSmoothing = mode === 'smooth' ? { damping: 0.05, friction: 4 } : { ...C1_CONTACT, penetration: 0.02 };
  return s;
}

/** Bodies (box, sphere, capsule, point set with tracks) penetrating the ground or terrain, rotating. */
export function bodyCheckModel(seed = 2, terrain = false): Model {
  const rng = new Rng(seed);
  const b = new ModelBuilder().setGround({ ke: 2e3, kd: 20, kf: 60, mu: 0.5 });
  if (terrain) {
    b.setGround(false);
    checkTerrain(b, rng, 400);
  }
  const q = (): [number, number, number, number] => {
    const v = [rng.range(-0.2, 0.2), rng.range(-0.2, 0.2), rng.range(-0.2, 0.2), 1];
    const n = Math.hypot(...v);
    return v.map((x) => x / n) as [number, number, number, number];
  };
  const base = terrain ? -0.35 : 0;
  const place = (d: BodyDesc, x: number, y: number, z: number): number =>
    b.addBody(
      d
        .setTranslation(x, y, base + z)
        .setRotation(...q())
        .setLinvel(rng.range(-1, 1), rng.range(-1, 1), rng.range(-0.5, 0.5))
        .setAngvel(rng.range(-2, 2), rng.range(-2, 2), rng.range(-2, 2)),
    );
  place(BodyDesc.box(0.2, 0.15, 0.1).setMass(2), -0.6, -0.3, 0.02);
  place(BodyDesc.sphere(0.15).setMass(1), 0.1, 0.3, 0.1);
  place(BodyDesc.capsule(0.1, 0.08).setMass(1.5).setRotation(0.7, 0, 0, 0.7), 0.6, -0.2, 0.05);
  const robot = place(
    BodyDesc.points(
      [
        [-0.2, -0.1, -0.05],
        [0.2, -0.1, -0.05],
        [-0.2, 0.1, -0.05],
        [0.2, 0.1, -0.05],
        [0, 0, 0.1],
      ],
      0.01,
    ).setMass(3),
    0.2,
    -0.4,
    0.04,
  );
  b.addTrack(robot, [0, 1], [1, 0, 0]);
  b.addTrack(robot, [2, 3], [1, 0, 0]);
  return b.finalize();
}

/**
 * Bodies pressing into each other in five separate clusters, no ground: box on box (corners
 * inside a box), a sphere at a box's edge (outside branch), two spheres, a point set against
 * a capsule's side, a capsule's cap against a box; random velocities (both damping and both
 * friction branches).
 */
export function bodyBodyCheckModel(seed = 11): Model {
  const rng = new Rng(seed);
  const b = new ModelBuilder().setGround(false).setBodyContact({ ke: 2e3, kd: 20, kf: 60, mu: 0.5 });
  const q = (): [number, number, number, number] => {
    const v = [rng.range(-0.08, 0.08), rng.range(-0.08, 0.08), rng.range(-0.08, 0.08), 1];
    const n = Math.hypot(...v);
    return v.map((x) => x / n) as [number, number, number, number];
  };
  const add = (d: BodyDesc, x: number, y: number, z: number, rot = q()): number =>
    b.addBody(
      d
        .setTranslation(x, y, z)
        .setRotation(...rot)
        .setLinvel(rng.range(-0.8, 0.8), rng.range(-0.8, 0.8), rng.range(-0.5, 0.5))
        .setAngvel(rng.range(-1.5, 1.5), rng.range(-1.5, 1.5), rng.range(-1.5, 1.5)),
    );
  add(BodyDesc.box(0.25, 0.2, 0.1).setMass(3), 0, 0, 0);
  add(BodyDesc.box(0.1, 0.12, 0.1).setMass(1), 0.03, -0.02, 0.185);
  add(BodyDesc.box(0.2, 0.2, 0.2).setMass(2), 3, 0, 0);
  add(BodyDesc.sphere(0.15).setMass(1), 3.3, 0.25, 0.02);
  add(BodyDesc.sphere(0.1).setMass(0.7), 6, 0, 0);
  add(BodyDesc.sphere(0.12).setMass(1.2), 6.15, 0.05, 0.03);
  add(BodyDesc.capsule(0.15, 0.08).setMass(1.5), 9, 0, 0);
  add(
    BodyDesc.points(
      [
        [0, 0, 0],
        [0.2, 0.05, 0],
        [0.1, -0.1, 0.05],
      ],
      0.03,
    ).setMass(1),
    9.095,
    0.01,
    0.02,
  );
  add(BodyDesc.box(0.2, 0.2, 0.1).setMass(2), 12, 0, 0);
  add(BodyDesc.capsule(0.1, 0.06).setMass(1), 12.05, 0.02, 0.25);
  return b.finalize();
}

/** Body state tensors of a model's initial state. */
function bodyState(m: Model): Tensor[] {
  const s = m.state();
  return [named(s.bodyPos, 'bodyPos'), named(s.bodyRot, 'bodyRot'), named(s.bodyVel, 'bodyVel'), named(s.bodyAngVel, 'bodyAngVel')];
}

/** A particle cloth plus a body on terrain, in steady contact, for the fused step and rollouts. */
export function stepCheckModel(seed = 3): Model {
  const rng = new Rng(seed);
  const b = new ModelBuilder({ particleDrag: 0.1 }).setGround({ ke: 2e3, kd: 10, kf: 40, mu: 0.5, height: -0.5 });
  checkTerrain(b, rng);
  b.addClothGrid({ origin: [-0.62, -0.52, -0.25], nx: 3, ny: 2, cellSize: 0.3, mass: 0.2, radius: 0.02, ke: 200, kd: 1, vel: [0.3, 0.1, -0.8] });
  const box = b.addBody(
    BodyDesc.points(
      [
        [-0.15, -0.1, 0],
        [0.15, -0.1, 0],
        [-0.15, 0.1, 0],
        [0.15, 0.1, 0],
      ],
      0.005,
    )
      .setMass(2)
      .setTranslation(0.45, 0.1, -0.3)
      .setLinvel(0.5, 0.2, -0.3)
      .setAngvel(0.2, -0.1, 0.3),
  );
  b.addTrack(box, [0, 2], [1, 0, 0]);
  b.addTrack(box, [1, 3], [1, 0, 0]);
  return b.finalize();
}

/** The test world of a kernel check (kernel list `check.world`) for particle or body kernels. */
function checkWorld(world: KernelCheck['world'], on: 'particles' | 'bodies'): Model {
  if (world === 'bodyBody') return bodyBodyCheckModel();
  if (on === 'particles') return world === 'terrain' ? particleCheckModel(4, true) : particleCheckModel();
  return world === 'terrain' ? bodyCheckModel(6, true) : bodyCheckModel();
}

/**
 * Registers the gradient checks of force kernel `name` from its kernel-list entry: its tape op
 * (ops.ts) with respect to the state it reads (particles: q, qd; bodies: pos, rot, vel, w,
 * the output f + 3 t) and each listed parameter (a scaled one as value / scale), once for the
 * exact model and once per listed variant (`<name>_smooth`, `<name>_c1`).
 */
function registerKernelChecks(register: (name: string, make: CheckCase) => void, name: string, check: KernelCheck, on: 'particles' | 'bodies'): void {
  const keys = Object.keys(check.params) as ModelParamName[];
  const scale = (k: ModelParamName): number => check.params[k]!;
  const withParams = (m: Model, ps: Tensor[]): Model => {
    const replace: Partial<Record<ModelParamName, Tensor>> = {};
    keys.forEach((k, i) => (replace[k] = scale(k) === 1 ? ps[i]! : mul(ps[i]!, scale(k))));
    return m.with(replace);
  };
  const paramInputs = (m: Model): Tensor[] =>
    keys.map((k) => (scale(k) === 1 ? named(m.params[k].clone(), k) : scaled(m.params[k], scale(k), `${k}/${scale(k)}`)));
  for (const v of ['exact', ...check.variants] as const) {
    register(`physics.${name}${SUFFIX[v]}`, () => {
      const m = withSmoothing(checkWorld(check.world, on), v);
      if (on === 'particles') {
        const op = particleForceOp(name);
        const s = m.state();
        return { fn: (q, qd, ...ps) => op(withParams(m, ps), q!, qd!), inputs: [named(s.particleQ, 'q'), named(s.particleQd, 'qd'), ...paramInputs(m)] };
      }
      const op = bodyForceOp(name);
      return {
        fn: (pos, rot, vel, w, ...ps) => {
          const [f, t] = op(withParams(m, ps), pos!, rot!, vel!, w!);
          return add(f, mul(t, 3));
        },
        inputs: [...bodyState(m), ...paramInputs(m)],
      };
    });
  }
}

/** What a registered check builds: the function, its inputs and options. */
export type CheckCase = () => { fn: (...xs: Tensor[]) => Tensor; inputs: Tensor[]; opts?: GradcheckOptions };

/** The physics checks by name (also registered with registerGradcheck). */
export const physicsChecks = new Map<string, CheckCase>();

let registered = false;

/** Registers the physics gradchecks (idempotent). */
export function registerPhysicsGradchecks(): void {
  if (registered) return;
  registered = true;
  const registerGradcheck = (name: string, make: CheckCase): void => {
    physicsChecks.set(name, make);
    registerCoreGradcheck(name, make);
  };

  // the force kernels' checks, generated from their entries in the kernel list
  for (const k of PARTICLE_FORCE_KERNELS) registerKernelChecks(registerGradcheck, k.name, k.check, 'particles');
  for (const k of BODY_FORCE_KERNELS) if (k.check) registerKernelChecks(registerGradcheck, k.name, k.check, 'bodies');

  registerGradcheck('physics.integrate_particles', () => {
    const m = particleCheckModel();
    const s = m.state();
    const rng = new Rng(5);
    return {
      fn: (q, qd, f, mass, g) => {
        const [q1, qd1] = integrateParticles(m.with({ particleMass: mass!, gravity: g! }), q!, qd!, f!, 0.01);
        return add(mul(q1, 2), qd1);
      },
      inputs: [
        named(s.particleQ, 'q'),
        named(s.particleQd, 'qd'),
        named(tensor(rng.normals(3 * m.particleCount), [m.particleCount, 3]), 'f'),
        named(m.particleMass.clone(), 'mass'),
        named(m.gravity.clone(), 'gravity'),
      ],
    };
  });

  registerGradcheck('physics.eval_track_drive', () => {
    const m = bodyCheckModel();
    const [pos, rot] = bodyState(m);
    return {
      fn: (pos, rot, tf, p) => {
        const [f, t] = evalTrackDrive(m.with({ contactPoint: p! }), pos!, rot!, tf!);
        return add(f!, mul(t!, 3));
      },
      inputs: [pos!, rot!, named(tensor([30, -20]), 'trackF'), named(m.contactPoint.clone(), 'contactPoint')],
    };
  });

  registerGradcheck('physics.integrate_bodies', () => {
    const m = bodyCheckModel();
    const rng = new Rng(7);
    const nb = m.bodyCount;
    return {
      fn: (pos, rot, vel, w, f, t, mass, I, g) => {
        const [p1, r1, v1, w1] = integrateBodies(m.with({ bodyMass: mass!, bodyInertia: I!, gravity: g! }), pos!, rot!, vel!, w!, f!, t!, 0.02);
        return add(add(sum(mul(p1!, 2)), sum(mul(r1!, tensor([1, -2, 3, 0.5])))), add(sum(mul(v1!, 0.7)), sum(mul(w1!, tensor([1, 0.3, -0.6])))));
      },
      inputs: [
        ...bodyState(m),
        named(tensor(rng.normals(3 * nb), [nb, 3]), 'f'),
        named(tensor(rng.normals(3 * nb), [nb, 3]), 't'),
        named(m.bodyMass.clone(), 'mass'),
        named(m.bodyInertia.clone(), 'inertia'),
        named(m.gravity.clone(), 'gravity'),
      ],
    };
  });

  for (const v of ['exact', 'c1'] as const)
    registerGradcheck(`physics.terrain_height${v === 'c1' ? '_spline' : ''}`, () => {
      const b = new ModelBuilder({ contactSmoothing: v === 'c1' ? C1_CONTACT : undefined });
      checkTerrain(b, new Rng(8));
      const m = b.finalize();
      const xy = tensor([-0.8, -0.6, 0.13, 0.31, 0.77, 0.62, -0.3, 0.9, 2.5, 0.2], [5, 2]);
      return { fn: (xy, h) => terrainHeight(m, xy!, h!), inputs: [named(xy, 'xy'), named(m.terrainHeights.clone(), 'heights')] };
    });

  registerGradcheck('physics.simulate', () => {
    const m = stepCheckModel();
    const s = m.state();
    const rng = new Rng(9);
    const names = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'];
    return {
      fn: (q, qd, pos, rot, vel, w, pf, bf, bt, tf, mass, ke, heights, muMap, kf, bodyMass, inertia) => {
        const model = m.with({
          particleMass: mass!,
          springKe: mul(ke!, 1e3),
          terrainHeights: heights!,
          terrainMu: muMap!,
          terrainKf: mul(kf!, 100),
          bodyMass: bodyMass!,
          bodyInertia: inertia!,
        });
        const ctl = new Control({ particleF: mul(pf!, 10), bodyF: mul(bf!, 10), bodyT: mul(bt!, 10), trackF: mul(tf!, 100) });
        const s1 = simulate(
          model,
          new State({ particleQ: q!, particleQd: qd!, bodyPos: pos!, bodyRot: rot!, bodyVel: vel!, bodyAngVel: w! }),
          null,
          0.01,
          ctl,
          { substeps: 3 },
        );
        return add(
          add(sum(mul(s1.particleQ, 2)), sum(s1.particleQd)),
          add(add(sum(mul(s1.bodyPos, 3)), sum(mul(s1.bodyRot, tensor([1, -1, 2, 0.5])))), add(sum(s1.bodyVel), sum(mul(s1.bodyAngVel, 0.4)))),
        );
      },
      inputs: [
        ...s.tensors().map((t, i) => named(t, names[i]!)),
        scaled(tensor(rng.normals(3 * m.particleCount), [m.particleCount, 3]), 10, 'particleF/10'),
        scaled(tensor(rng.normals(3 * m.bodyCount), [m.bodyCount, 3]), 10, 'bodyF/10'),
        scaled(tensor(rng.normals(3 * m.bodyCount), [m.bodyCount, 3]), 10, 'bodyT/10'),
        scaled(tensor([5, 3]), 100, 'trackF/100'),
        named(m.particleMass.clone(), 'particleMass'),
        scaled(m.springKe, 1e3, 'springKe/1e3'),
        named(m.terrainHeights.clone(), 'heights'),
        named(m.terrainMu.clone(), 'muMap'),
        scaled(m.terrainKf, 100, 'terrainKf/100'),
        named(m.bodyMass.clone(), 'bodyMass'),
        named(m.bodyInertia.clone(), 'bodyInertia'),
      ],
      opts: { eps: 1e-5 },
    };
  });

  registerGradcheck('physics.simulate_body_contact', () => {
    // the body-body clusters on the ground, three substeps of the fused step
    const m0 = bodyBodyCheckModel(12);
    const m = new Model({ ...m0, planeCount: 1, planeNormal: Float64Array.from([0, 0, 1]), params: { ...m0.params, planeOffset: tensor([-0.12]) } });
    const s = m.state();
    const names = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'];
    return {
      fn: (pos, rot, vel, w, ke, mu, mass) => {
        const model = m.with({ bodyKe: mul(ke!, 1e3), bodyMu: mu!, bodyMass: mass! });
        const s1 = simulate(model, new State({ ...s, bodyPos: pos!, bodyRot: rot!, bodyVel: vel!, bodyAngVel: w! }), null, 0.01, null, { substeps: 3 });
        return add(add(sum(mul(s1.bodyPos, 3)), sum(mul(s1.bodyRot, tensor([1, -1, 2, 0.5])))), add(sum(s1.bodyVel), sum(mul(s1.bodyAngVel, 0.4))));
      },
      inputs: [
        ...s
          .tensors()
          .slice(2)
          .map((t, i) => named(t, names[i + 2]!)),
        scaled(m.bodyKe, 1e3, 'bodyKe/1e3'),
        named(m.bodyMu.clone(), 'bodyMu'),
        named(m.bodyMass.clone(), 'bodyMass'),
      ],
      opts: { eps: 1e-5 },
    };
  });

  const rolloutCheck =
    (checkpointEvery?: number, variant: Variant = 'exact'): CheckCase =>
    () => {
      const m = withSmoothing(stepCheckModel(), variant);
      const s = m.state();
      return {
        fn: (qd, vel, w, ke, muMap, g, tf) => {
          const model = m.with({ springKe: mul(ke!, 1e3), terrainMu: muMap!, gravity: g! });
          const st = new State({ ...s, particleQd: qd!, bodyVel: vel!, bodyAngVel: w! });
          const { final } = rollout(model, st, { steps: 8, dt: 0.005, substeps: 2, control: new Control({ trackF: mul(tf!, 100) }), checkpointEvery });
          return add(
            add(sum(mul(final.particleQ, 2)), sum(final.particleQd)),
            add(sum(mul(final.bodyPos, 3)), sum(mul(final.bodyRot, tensor([1, -1, 2, 0.5])))),
          );
        },
        inputs: [
          named(s.particleQd, 'particleQd0'),
          named(s.bodyVel, 'bodyVel0'),
          named(s.bodyAngVel, 'bodyAngVel0'),
          scaled(m.springKe, 1e3, 'springKe/1e3'),
          named(m.terrainMu.clone(), 'muMap'),
          named(m.gravity.clone(), 'gravity'),
          scaled(tensor([4, 2]), 100, 'trackF/100'),
        ],
        opts: { eps: 1e-5 },
      };
    };
  registerGradcheck('physics.rollout', rolloutCheck());
  registerGradcheck('physics.rollout_checkpointed', rolloutCheck(3));
  registerGradcheck('physics.rollout_c1', rolloutCheck(undefined, 'c1'));
}

registerPhysicsGradchecks();
