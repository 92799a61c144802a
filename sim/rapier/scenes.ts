// Reference scenes built twice, in Impulse's soft-contact engine and in Rapier
// (@dimforge/rapier3d-compat, constraint-based contact), for cross-checks (sim/rapier,
// layer sim). Each function runs both and returns the quantities the comparison tests pin.
import RAPIER from '@dimforge/rapier3d-compat';
import { noGrad } from '../core/index.ts';
import { BodyDesc, ModelBuilder, autoSubsteps, rollout } from '../physics/index.ts';

let ready: Promise<void> | null = null;

/** Initialises Rapier's WebAssembly module once. */
export function initRapier(): Promise<void> {
  ready ??= RAPIER.init();
  return ready;
}

const G = 9.81;

/** A Rapier world with z-up gravity and a fixed ground slab whose top face is z = 0. */
function rapierWorld(dt: number, mu: number): RAPIER.World {
  const world = new RAPIER.World({ x: 0, y: 0, z: -G });
  world.timestep = dt;
  const ground = world.createRigidBody(RAPIER.RigidBodyDesc.fixed().setTranslation(0, 0, -1));
  world.createCollider(RAPIER.ColliderDesc.cuboid(50, 50, 1).setFriction(mu).setRestitution(0), ground);
  return world;
}

/** Positions of a free-flying body after T seconds: analytic, Impulse, Rapier. */
export async function freeFlight(dt: number, T: number): Promise<{ analytic: number[]; impulse: number[]; rapier: number[] }> {
  await initRapier();
  const x0 = [0, 0, 20];
  const v0 = [2, -1, 5];
  const steps = Math.round(T / dt);
  const b = new ModelBuilder().setGround(false);
  b.addBody(BodyDesc.box(0.1, 0.1, 0.1).setMass(1).setTranslation(x0[0]!, x0[1]!, x0[2]!).setLinvel(v0[0]!, v0[1]!, v0[2]!));
  const m = b.finalize();
  const r = noGrad(() => rollout(m, m.state(), { steps, dt }));
  const world = new RAPIER.World({ x: 0, y: 0, z: -G });
  world.timestep = dt;
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(x0[0]!, x0[1]!, x0[2]!).setLinvel(v0[0]!, v0[1]!, v0[2]!));
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.1, 0.1, 0.1).setMass(1), body);
  for (let i = 0; i < steps; i++) world.step();
  const t = body.translation();
  world.free();
  const tt = steps * dt;
  return {
    analytic: [x0[0]! + v0[0]! * tt, x0[1]! + v0[1]! * tt, x0[2]! + v0[2]! * tt - 0.5 * G * tt * tt],
    impulse: Array.from(r.final.bodyPos.data),
    rapier: [t.x, t.y, t.z],
  };
}

/** Soft-contact parameters of the box scenes (per corner): stiff, critically damped-ish, stable at dt = 1 ms. */
export const BOX_CONTACT = { ke: 1e5, kd: 200, kf: 200 };

/** A 20 cm, 1 kg box left resting on the ground for T seconds: final pose in both engines. */
export async function boxResting(T: number): Promise<{ impulse: { pos: number[]; rot: number[] }; rapier: { pos: number[]; rot: number[] }; sink: number }> {
  await initRapier();
  const dt = 1e-3;
  const steps = Math.round(T / dt);
  const sink = (1 * G) / (4 * BOX_CONTACT.ke);
  const b = new ModelBuilder().setGround({ ...BOX_CONTACT, mu: 0.5 });
  b.addBody(
    BodyDesc.box(0.1, 0.1, 0.1)
      .setMass(1)
      .setTranslation(0.3, -0.2, 0.1 - sink),
  );
  const m = b.finalize();
  const r = noGrad(() => rollout(m, m.state(), { steps, dt }));
  const world = rapierWorld(1 / 120, 0.5);
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0.3, -0.2, 0.1).setCanSleep(false));
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.1, 0.1, 0.1).setMass(1).setFriction(0.5).setRestitution(0), body);
  for (let i = 0; i < Math.round(T * 120); i++) world.step();
  const t = body.translation();
  const q = body.rotation();
  world.free();
  return {
    impulse: { pos: Array.from(r.final.bodyPos.data), rot: Array.from(r.final.bodyRot.data) },
    rapier: { pos: [t.x, t.y, t.z], rot: [q.x, q.y, q.z, q.w] },
    sink,
  };
}

/** A box launched along x at v0 on ground with friction mu: stopping distance in both engines and v0^2 / (2 mu g). */
export async function boxSliding(v0: number, mu: number): Promise<{ impulse: number; rapier: number; analytic: number }> {
  await initRapier();
  const dt = 1e-3;
  const T = (2 * v0) / (mu * G);
  const sink = (1 * G) / (4 * BOX_CONTACT.ke);
  const b = new ModelBuilder().setGround({ ...BOX_CONTACT, mu });
  b.addBody(
    BodyDesc.box(0.1, 0.1, 0.1)
      .setMass(1)
      .setTranslation(0, 0, 0.1 - sink)
      .setLinvel(v0, 0, 0),
  );
  const m = b.finalize();
  const r = noGrad(() => rollout(m, m.state(), { steps: Math.round(T / dt), dt }));
  const world = rapierWorld(1 / 240, mu);
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0, 0, 0.1).setLinvel(v0, 0, 0).setCanSleep(false));
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.1, 0.1, 0.1).setMass(1).setFriction(mu).setRestitution(0), body);
  for (let i = 0; i < Math.round(T * 240); i++) world.step();
  const x = body.translation().x;
  world.free();
  return { impulse: r.final.bodyPos.data[0]!, rapier: x, analytic: (v0 * v0) / (2 * mu * G) };
}

/** A 1 kg sphere of radius r dropped from height h: rest height in both engines. */
export async function sphereDrop(radius: number, h: number, ke: number): Promise<{ impulse: number; rapier: number; sink: number }> {
  await initRapier();
  const dt = 1e-3;
  const T = 3;
  const b = new ModelBuilder().setGround({ ke, kd: 2 * Math.sqrt(ke), kf: 100, mu: 0.5 });
  b.addBody(BodyDesc.sphere(radius).setMass(1).setTranslation(0, 0, h));
  const m = b.finalize();
  const r = noGrad(() => rollout(m, m.state(), { steps: Math.round(T / dt), dt }));
  const world = rapierWorld(1 / 120, 0.5);
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0, 0, h).setCanSleep(false));
  world.createCollider(RAPIER.ColliderDesc.ball(radius).setMass(1).setRestitution(0), body);
  for (let i = 0; i < T * 120; i++) world.step();
  const z = body.translation().z;
  world.free();
  return { impulse: r.final.bodyPos.data[2]!, rapier: z, sink: G / ke };
}

/**
 * The sliding box at the step length dt of both engines (Impulse's substeps chosen from its
 * stability bound by `autoSubsteps`): stopping distances and v^2 / (2 mu g).
 */
export async function boxSlidingAt(v0: number, mu: number, dt: number): Promise<{ impulse: number; rapier: number; analytic: number; substeps: number }> {
  await initRapier();
  const steps = Math.round((2 * v0) / (mu * G) / dt);
  const sink = (1 * G) / (4 * BOX_CONTACT.ke);
  const b = new ModelBuilder().setGround({ ...BOX_CONTACT, mu });
  b.addBody(
    BodyDesc.box(0.1, 0.1, 0.1)
      .setMass(1)
      .setTranslation(0, 0, 0.1 - sink)
      .setLinvel(v0, 0, 0),
  );
  const m = b.finalize();
  const substeps = autoSubsteps(m, dt);
  const r = noGrad(() => rollout(m, m.state(), { steps, dt, substeps }));
  const world = rapierWorld(dt, mu);
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0, 0, 0.1).setLinvel(v0, 0, 0).setCanSleep(false));
  world.createCollider(RAPIER.ColliderDesc.cuboid(0.1, 0.1, 0.1).setMass(1).setFriction(mu).setRestitution(0), body);
  for (let i = 0; i < steps; i++) world.step();
  const x = body.translation().x;
  world.free();
  return { impulse: r.final.bodyPos.data[0]!, rapier: x, analytic: (v0 * v0) / (2 * mu * G), substeps };
}

/**
 * A light ball (mass m, radius r, the ground's default contact ke 1e4, kd 100, kf 100: the
 * issue's 65 g ball diverges at one substep of 1/240 s) dropped from h and left to settle at
 * step length dt in both engines: rest heights, Impulse's static deflection m g / ke, the
 * substeps chosen and the largest height after the first second (no bounce back up).
 */
export async function ballResting(
  mass: number,
  radius: number,
  h: number,
  dt: number,
): Promise<{ impulse: number; rapier: number; sink: number; substeps: number; impulseMaxLate: number }> {
  await initRapier();
  const T = 3;
  const steps = Math.round(T / dt);
  const b = new ModelBuilder().setGround({ mu: 0.5 });
  b.addBody(BodyDesc.sphere(radius).setMass(mass).setTranslation(0, 0, h));
  const m = b.finalize();
  const substeps = autoSubsteps(m, dt);
  let late = -Infinity;
  const r = noGrad(() =>
    rollout(m, m.state(), {
      steps,
      dt,
      substeps,
      onStep: (t, s) => {
        if (t * dt > 1) late = Math.max(late, s.bodyPos.data[2]!);
      },
    }),
  );
  const world = rapierWorld(dt, 0.5);
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0, 0, h).setCanSleep(false));
  world.createCollider(RAPIER.ColliderDesc.ball(radius).setMass(mass).setRestitution(0), body);
  for (let i = 0; i < steps; i++) world.step();
  const z = body.translation().z;
  world.free();
  return { impulse: r.final.bodyPos.data[2]!, rapier: z, sink: (mass * G) / 1e4, substeps, impulseMaxLate: late };
}

/** One body of the body-body scenes: a box (half extents) or a ball (radius), mass, start pose. */
interface SceneBody {
  box?: [number, number, number];
  ball?: number;
  mass: number;
  pos: [number, number, number];
  vel?: [number, number, number];
}

/**
 * Bodies on the ground and on each other, simulated for T seconds at step dt in both engines
 * (Impulse: ground and body-body contact BOX_CONTACT with mu, substeps from `autoSubsteps`):
 * final positions, and the largest height each body reaches after the first second.
 */
export async function bodiesAt(
  bodies: readonly SceneBody[],
  dt: number,
  T: number,
  mu = 0.5,
): Promise<{ impulse: number[][]; rapier: number[][]; substeps: number; impulseLateMax: number[] }> {
  await initRapier();
  const steps = Math.round(T / dt);
  const b = new ModelBuilder().setGround({ ...BOX_CONTACT, mu }).setBodyContact({ ...BOX_CONTACT, mu });
  for (const s of bodies) {
    const d = s.box ? BodyDesc.box(...s.box) : BodyDesc.sphere(s.ball!);
    b.addBody(
      d
        .setMass(s.mass)
        .setTranslation(...s.pos)
        .setLinvel(...(s.vel ?? [0, 0, 0])),
    );
  }
  const m = b.finalize();
  const substeps = autoSubsteps(m, dt);
  const late = bodies.map(() => -Infinity);
  const r = noGrad(() =>
    rollout(m, m.state(), {
      steps,
      dt,
      substeps,
      onStep: (t, s) => {
        if (t * dt > 1) late.forEach((v, i) => (late[i] = Math.max(v, s.bodyPos.data[3 * i + 2]!)));
      },
    }),
  );
  const world = rapierWorld(dt, mu);
  const rb = bodies.map((s) => {
    const body = world.createRigidBody(
      RAPIER.RigidBodyDesc.dynamic()
        .setTranslation(...s.pos)
        .setLinvel(...(s.vel ?? [0, 0, 0]))
        .setCanSleep(false),
    );
    const c = s.box ? RAPIER.ColliderDesc.cuboid(...s.box) : RAPIER.ColliderDesc.ball(s.ball!);
    world.createCollider(c.setMass(s.mass).setFriction(mu).setRestitution(0), body);
    return body;
  });
  for (let i = 0; i < steps; i++) world.step();
  const rapier = rb.map((body) => {
    const t = body.translation();
    return [t.x, t.y, t.z];
  });
  world.free();
  const p = r.final.bodyPos.data;
  return { impulse: bodies.map((_, i) => [p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!]), rapier, substeps, impulseLateMax: late };
}
