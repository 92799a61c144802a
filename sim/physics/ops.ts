// Single kernels as tape ops (sim/physics, layer sim): the force kernels' ops are built from the
// kernel list (kernels/list.ts); each wraps one forward kernel and its
// hand-written adjoint in a customOp, so a kernel can be gradchecked on its own or composed
// into a custom integrator. Inputs are the state arrays it reads plus every Model tensor;
// outputs are fresh force (or state) tensors. First order only.
import { Tensor, customOp, zeros, type GradAccumulator } from '../core/index.ts';
import { modelData, paramGradsWith, type ModelData, type ParamGrads } from './data.ts';
import { adjQuatToMat, rotationMatrices } from './math.ts';
import { type Model } from './model.ts';
import { adjSampleMap, sampleMap, terrainScratch } from './terrain.ts';
import * as P from './kernels/particles.ts';
import * as B from './kernels/bodies.ts';
import * as BB from './kernels/bodybody.ts';
import { BODY_FORCE_KERNELS, PARTICLE_FORCE_KERNELS, type BodyKernelInputs } from './kernels/list.ts';

const NO_TRACKS = new Float64Array(0);

type F64 = Float64Array;

/**
 * The parameter gradients of a single-kernel op's backward (its inputs from `first` on are
 * the Model's parameters, MODEL_PARAMS order): `G` for the adjoint kernel to add into (the
 * reverse pass's own accumulator where it offers one, a fresh buffer for another parameter
 * that requires grad, the never-read sink for the rest) and `grads` to return after it (null
 * where added in place or not wanted).
 */
function paramGrads(model: Model, params: readonly Tensor[], first: number, acc: GradAccumulator | null): { G: ParamGrads; grads: (Tensor | null)[] } {
  const need: number[] = [];
  for (let i = 0; i < params.length; i++) if (params[i]!.requiresGrad) need.push(i);
  const into = need.map((i) => acc?.into(first + i) ?? null);
  const bufs = need.map((i, j) => into[j] ?? new Float64Array(params[i]!.size));
  const grads: (Tensor | null)[] = params.map(() => null);
  need.forEach((i, j) => {
    if (!into[j]) grads[i] = new Tensor(bufs[j]!, params[i]!.shape);
  });
  return { G: paramGradsWith(model, need, bufs), grads };
}

/** The tape op of a particle force kernel of the list: `physics.<name>`. */
export function particleForceOp(kernel: string): (model: Model, q: Tensor, qd: Tensor) => Tensor {
  const k = PARTICLE_FORCE_KERNELS.find((x) => x.name === kernel);
  if (!k) throw new Error(`ops: no particle force kernel '${kernel}' in the kernel list`);
  const name = `physics.${k.name}`;
  const fwd = k.forward;
  const adj = k.adjoint;
  return (model, q, qd) => {
    const params = model.tensors();
    const n = model.particleCount;
    return customOp(
      name,
      [q, qd, ...params],
      (xs) => {
        const f = new Float64Array(3 * n);
        fwd(modelData(model, xs.slice(2)), xs[0]!.data, xs[1]!.data, f);
        return [new Tensor(f, [n, 3])];
      },
      (gs, xs, _outs, acc) => {
        const { G, grads } = paramGrads(model, params, 2, acc);
        const aq = new Float64Array(3 * n);
        const aqd = new Float64Array(3 * n);
        adj(modelData(model, xs.slice(2)), xs[0]!.data, xs[1]!.data, gs[0]?.data ?? new Float64Array(3 * n), aq, aqd, G);
        return [new Tensor(aq, [n, 3]), new Tensor(aqd, [n, 3]), ...grads];
      },
    )[0]!;
  };
}

/** Spring forces on the particles [Np, 3] (kernel eval_springs). */
export const evalSprings = particleForceOp('eval_springs');

/** Linear drag forces [Np, 3] (kernel eval_particle_drag). */
export const evalParticleDrag = particleForceOp('eval_particle_drag');

/** Ground/wall contact forces on the particles [Np, 3] (kernel eval_particle_ground_contacts). */
export const evalParticleGroundContacts = particleForceOp('eval_particle_ground_contacts');

/** Heightmap contact forces on the particles [Np, 3] (kernel eval_particle_terrain_contacts). */
export const evalParticleTerrainContacts = particleForceOp('eval_particle_terrain_contacts');

/** One semi-implicit Euler update of the particles: [q1, qd1] (kernel integrate_particles). */
export function integrateParticles(model: Model, q: Tensor, qd: Tensor, f: Tensor, dt: number): [Tensor, Tensor] {
  const params = model.tensors();
  const n = model.particleCount;
  const [q1, qd1] = customOp(
    'physics.integrate_particles',
    [q, qd, f, ...params],
    (xs) => {
      const q1 = new Float64Array(3 * n);
      const qd1 = new Float64Array(3 * n);
      P.integrate_particles(modelData(model, xs.slice(3)), xs[0]!.data, xs[1]!.data, xs[2]!.data, dt, q1, qd1);
      return [new Tensor(q1, [n, 3]), new Tensor(qd1, [n, 3])];
    },
    (gs, xs, _outs, acc) => {
      const { G, grads } = paramGrads(model, params, 3, acc);
      const aq = new Float64Array(3 * n);
      const aqd = new Float64Array(3 * n);
      const af = new Float64Array(3 * n);
      const z = new Float64Array(3 * n);
      P.adj_integrate_particles(modelData(model, xs.slice(3)), xs[2]!.data, dt, gs[0]?.data ?? z, gs[1]?.data ?? z, aq, aqd, af, G);
      return [new Tensor(aq, [n, 3]), new Tensor(aqd, [n, 3]), new Tensor(af, [n, 3]), ...grads];
    },
  );
  return [q1!, qd1!];
}

/**
 * The tape op of a body force kernel of the list: `physics.<name>`, inputs the body state
 * (no track forces; the broad phase's pairs from `bodyPairs` at the op's positions).
 */
export function bodyForceOp(kernel: string): (model: Model, pos: Tensor, rot: Tensor, vel: Tensor, angVel: Tensor) => [Tensor, Tensor] {
  const k = BODY_FORCE_KERNELS.find((x) => x.name === kernel);
  if (!k) throw new Error(`ops: no body force kernel '${kernel}' in the kernel list`);
  const name = `physics.${k.name}`;
  const inputsAt = (M: ModelData, pos: F64): BodyKernelInputs => ({ pairs: BB.bodyPairs(M, pos), trackF: null, adjTrackF: NO_TRACKS });
  const fwd = (M: ModelData, pos: F64, R: F64, vel: F64, w: F64, f: F64, t: F64): void => k.forward(M, pos, R, vel, w, inputsAt(M, pos), f, t);
  const adj = (M: ModelData, pos: F64, R: F64, vel: F64, w: F64, adjF: F64, adjT: F64, adjPos: F64, adjR: F64, adjVel: F64, adjW: F64, G: ParamGrads): void =>
    k.adjoint(M, pos, R, vel, w, inputsAt(M, pos), adjF, adjT, adjPos, adjR, adjVel, adjW, G);
  return (model, pos, rot, vel, angVel) => {
    const params = model.tensors();
    const nb = model.bodyCount;
    const [f, t] = customOp(
      name,
      [pos, rot, vel, angVel, ...params],
      (xs) => {
        const f = new Float64Array(3 * nb);
        const t = new Float64Array(3 * nb);
        fwd(modelData(model, xs.slice(4)), xs[0]!.data, rotationMatrices(xs[1]!.data, nb), xs[2]!.data, xs[3]!.data, f, t);
        return [new Tensor(f, [nb, 3]), new Tensor(t, [nb, 3])];
      },
      (gs, xs, _outs, acc) => {
        const { G, grads } = paramGrads(model, params, 4, acc);
        const z = new Float64Array(3 * nb);
        const ap = new Float64Array(3 * nb);
        const aR = new Float64Array(9 * nb);
        const ar = new Float64Array(4 * nb);
        const av = new Float64Array(3 * nb);
        const aw = new Float64Array(3 * nb);
        const rotD = xs[1]!.data;
        adj(
          modelData(model, xs.slice(4)),
          xs[0]!.data,
          rotationMatrices(rotD, nb),
          xs[2]!.data,
          xs[3]!.data,
          gs[0]?.data ?? z,
          gs[1]?.data ?? z,
          ap,
          aR,
          av,
          aw,
          G,
        );
        for (let b = 0; b < nb; b++) adjQuatToMat(rotD, b, aR, ar);
        return [new Tensor(ap, [nb, 3]), new Tensor(ar, [nb, 4]), new Tensor(av, [nb, 3]), new Tensor(aw, [nb, 3]), ...grads];
      },
    );
    return [f!, t!];
  };
}

/** Plane-contact force and torque on the bodies, [Nb, 3] each (kernel eval_body_ground_contacts). */
export const evalBodyGroundContacts = bodyForceOp('eval_body_ground_contacts');

/** Body-body contact force and torque on the bodies (kernel eval_body_body_contacts; pairs from the broad phase `bodyPairs`). */
export const evalBodyBodyContacts = bodyForceOp('eval_body_body_contacts');

/** Heightmap-contact force and torque on the bodies (kernel eval_body_terrain_contacts). */
export const evalBodyTerrainContacts = bodyForceOp('eval_body_terrain_contacts');

/** Track drive force and torque on the bodies (kernel eval_track_drive). */
export function evalTrackDrive(model: Model, pos: Tensor, rot: Tensor, trackF: Tensor): [Tensor, Tensor] {
  const params = model.tensors();
  const nb = model.bodyCount;
  const [f, t] = customOp(
    'physics.eval_track_drive',
    [pos, rot, trackF, ...params],
    (xs) => {
      const f = new Float64Array(3 * nb);
      const t = new Float64Array(3 * nb);
      B.eval_track_drive(modelData(model, xs.slice(3)), xs[0]!.data, rotationMatrices(xs[1]!.data, nb), xs[2]!.data, f, t);
      return [new Tensor(f, [nb, 3]), new Tensor(t, [nb, 3])];
    },
    (gs, xs, _outs, acc) => {
      const { G, grads } = paramGrads(model, params, 3, acc);
      const z = new Float64Array(3 * nb);
      const aR = new Float64Array(9 * nb);
      const ar = new Float64Array(4 * nb);
      const atf = new Float64Array(model.trackCount);
      const rotD = xs[1]!.data;
      B.adj_eval_track_drive(
        modelData(model, xs.slice(3)),
        xs[0]!.data,
        rotationMatrices(rotD, nb),
        xs[2]!.data,
        gs[0]?.data ?? z,
        gs[1]?.data ?? z,
        aR,
        atf,
        G,
      );
      for (let b = 0; b < nb; b++) adjQuatToMat(rotD, b, aR, ar);
      return [zeros([nb, 3]), new Tensor(ar, [nb, 4]), new Tensor(atf, [model.trackCount]), ...grads];
    },
  );
  return [f!, t!];
}

/** One semi-implicit Euler update of the bodies: [pos1, rot1, vel1, angVel1] (kernel integrate_bodies). */
export function integrateBodies(model: Model, pos: Tensor, rot: Tensor, vel: Tensor, angVel: Tensor, f: Tensor, t: Tensor, dt: number): Tensor[] {
  const params = model.tensors();
  const nb = model.bodyCount;
  return customOp(
    'physics.integrate_bodies',
    [pos, rot, vel, angVel, f, t, ...params],
    (xs) => {
      const out = [new Float64Array(3 * nb), new Float64Array(4 * nb), new Float64Array(3 * nb), new Float64Array(3 * nb)] as const;
      const rotD = xs[1]!.data;
      B.integrate_bodies(
        modelData(model, xs.slice(6)),
        xs[0]!.data,
        rotD,
        rotationMatrices(rotD, nb),
        xs[2]!.data,
        xs[3]!.data,
        xs[4]!.data,
        xs[5]!.data,
        dt,
        ...out,
      );
      return [new Tensor(out[0], [nb, 3]), new Tensor(out[1], [nb, 4]), new Tensor(out[2], [nb, 3]), new Tensor(out[3], [nb, 3])];
    },
    (gs, xs, _outs, acc) => {
      const { G, grads } = paramGrads(model, params, 6, acc);
      const z3 = new Float64Array(3 * nb);
      const z4 = new Float64Array(4 * nb);
      const a = [
        new Float64Array(3 * nb),
        new Float64Array(4 * nb),
        new Float64Array(3 * nb),
        new Float64Array(3 * nb),
        new Float64Array(3 * nb),
        new Float64Array(3 * nb),
      ] as const;
      const aR = new Float64Array(9 * nb);
      const rotD = xs[1]!.data;
      const R = rotationMatrices(rotD, nb);
      B.adj_integrate_bodies(
        modelData(model, xs.slice(6)),
        rotD,
        R,
        xs[3]!.data,
        xs[4]!.data,
        xs[5]!.data,
        dt,
        gs[0]?.data ?? z3,
        gs[1]?.data ?? z4,
        gs[2]?.data ?? z3,
        gs[3]?.data ?? z3,
        a[0],
        a[1],
        aR,
        a[2],
        a[3],
        a[4],
        a[5],
        G,
      );
      for (let b = 0; b < nb; b++) adjQuatToMat(rotD, b, aR, a[1]);
      const shapes = [
        [nb, 3],
        [nb, 4],
        [nb, 3],
        [nb, 3],
        [nb, 3],
        [nb, 3],
      ];
      return [...a.map((d, i) => new Tensor(d, shapes[i]!)), ...grads];
    },
  );
}

/**
 * Terrain height at query points xy [N, 2] -> [N], bilinear (or cubic B-spline, per the model's
 * contactSmoothing.terrain) in model.terrainHeights; the
 * gradient reaches both the points and the height map (for learning maps from data).
 */
export function terrainHeight(model: Model, xy: Tensor, heights: Tensor = model.terrainHeights): Tensor {
  const g = model.terrain;
  if (!g) throw new Error('terrainHeight: the model has no terrain');
  const n = xy.size / 2;
  const view = (h: F64): ModelData['terrain'] & object => ({
    nx: g.nx,
    ny: g.ny,
    ox: g.origin[0],
    oy: g.origin[1],
    cs: g.cellSize,
    heights: h,
    ke: h,
    kd: h,
    mu: h,
    kf: 0,
    spline: model.contactSmoothing.terrain === 'spline',
    cutoff: 0,
    scratch: terrainScratch(),
  });
  return customOp(
    'physics.terrain_height',
    [xy, heights],
    (xs) => {
      const T = view(xs[1]!.data);
      const p = xs[0]!.data;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        sampleMap(T, T.scratch, T.heights, p[2 * i]!, p[2 * i + 1]!);
        out[i] = T.scratch.sample[0]!;
      }
      return [new Tensor(out, [n])];
    },
    (gs, xs) => {
      const T = view(xs[1]!.data);
      const p = xs[0]!.data;
      const g0 = gs[0]!.data;
      const axy = new Float64Array(2 * n);
      const ah = new Float64Array(T.heights.length);
      for (let i = 0; i < n; i++) {
        adjSampleMap(T, T.scratch, T.heights, ah, p[2 * i]!, p[2 * i + 1]!, g0[i]!, 0, 0);
        axy[2 * i] = T.scratch.adjXY[0]!;
        axy[2 * i + 1] = T.scratch.adjXY[1]!;
      }
      return [new Tensor(axy, xy.shape), new Tensor(ah, heights.shape)];
    },
  )[0]!;
}
