// Stability bounds of the explicit (semi-implicit Euler) step (sim/physics, layer sim), the
// automatic substep count chosen from them, and the check that refuses a step the model cannot
// integrate. Semi-implicit Euler on a damped linear oscillator x'' = -w2 x - g x' (w2 = k/m,
// g = c/m) with step h has the update matrix [[1 - h^2 w2, h (1 - h g)], [-h w2, 1 - h g]]; by
// the Jury criterion it is stable iff
//   h g < 2   and   h^2 w2 + 2 h g < 4,
// which contains the two classic bounds kd h / m < 2 and h < 2 sqrt(m / ke). A viscous force
// alone (friction below the Coulomb cone, drag) needs h g < 2. Per particle and body the
// bounds take w2 and g from every stiffness that can act on it:
// - necessary (`necessaryH`): one contact point alone on the body's mass m (a sphere resting
//   on the ground, a box landing on one corner: the contact's mode has w2 >= ke / m), one
//   spring alone (w2 = ke (1/mi + 1/mj)). A step beyond it is unstable in some configuration
//   the scene can reach: `checkStability` refuses it.
// - sufficient (`guaranteedH`): all contact points of a body at once, each with its
//   orientation-free effective inverse mass 1/m + |p|^2 / I_min (p its body-frame offset), all
//   springs of a particle (Gershgorin: 2 sum ke / m) plus its contact, summed (the trace bounds
//   the largest mode). Automatic substepping (`autoSubsteps`) keeps within 0.9 of it and
//   within 0.3 of the necessary bound (accuracy: a contact's oscillation resolved).
import { ModelError, StabilityError } from './errors.ts';
import type { Model } from './model.ts';

/** The stability bound of one particle or body. */
export interface StabilityLimit {
  kind: 'particle' | 'body';
  index: number;
  /** Largest stable substep (s) under the necessary condition (one contact or spring alone). */
  necessaryH: number;
  /** Largest substep (s) under the sufficient condition (every contact and spring at once). */
  guaranteedH: number;
  /** What sets `necessaryH`, e.g. `ground ke = 1e4 N/m on mass 0.065 kg`. */
  reason: string;
}

/** Largest h with h g < 2, h^2 w2 + 2 h g < 4 and h gt < 2 (Infinity when nothing acts). */
export function maxStableStep(w2: number, g: number, gt = 0): number {
  let h = Infinity;
  if (w2 > 0)
    h = (-g + Math.sqrt(g * g + 4 * w2)) / w2; // root of w2 h^2 + 2 g h - 4
  else if (g > 0) h = 2 / g;
  if (gt > 0) h = Math.min(h, 2 / gt);
  return h;
}

interface Contact {
  ke: number;
  kd: number;
  kf: number;
  what: string;
}

function maxOf(d: Float64Array): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) m = Math.max(m, d[i]!);
  return m;
}

/** The stiffest contact surface a particle or body point can touch (ground/walls, terrain, other bodies). */
function surfaces(model: Model): Contact[] {
  const out: Contact[] = [];
  if (model.planeCount > 0) out.push({ ke: model.groundKe.data[0]!, kd: model.groundKd.data[0]!, kf: model.groundKf.data[0]!, what: 'ground' });
  if (model.terrain)
    out.push({ ke: maxOf(model.terrainKe.data), kd: maxOf(model.terrainKd.data), kf: model.terrainKf.data[0]!, what: 'terrain (largest map value)' });
  return out;
}

function fmt(v: number): string {
  return +v.toPrecision(4) + '';
}

/** The stiffest contact (largest necessary w2 + g) among `cs` on inverse mass `im`. */
function worstContact(cs: readonly Contact[], im: number): { h: number; c: Contact | null } {
  let best = { h: Infinity, c: null as Contact | null };
  for (const c of cs) {
    const h = maxStableStep(c.ke * im, c.kd * im, c.kf * im);
    if (h < best.h) best = { h, c };
  }
  return best;
}

/** Body-body contact parameters (when the model has them) as a contact surface. */
function bodyBodySurface(model: Model): Contact | null {
  if (!model.bodyContact || model.bodyCount < 2) return null;
  return { ke: model.bodyKe.data[0]!, kd: model.bodyKd.data[0]!, kf: model.bodyKf.data[0]!, what: 'body-body contact' };
}

/**
 * Stability bounds of every particle and body of `model` (see the file header for the
 * conditions). Uses the model's current parameter values.
 */
export function stabilityLimits(model: Model): StabilityLimit[] {
  const out: StabilityLimit[] = [];
  const cs = surfaces(model);
  const bb = bodyBodySurface(model);
  // particles
  const np = model.particleCount;
  if (np > 0) {
    const m = model.particleMass.data;
    const drag = model.particleDrag.data[0]!;
    const sKe = new Float64Array(np);
    const sKd = new Float64Array(np);
    const necSpring = new Float64Array(np).fill(Infinity);
    const si = model.springIndices;
    const ke = model.springKe.data;
    const kd = model.springKd.data;
    for (let s = 0; s < model.springCount; s++) {
      const i = si[2 * s]!;
      const j = si[2 * s + 1]!;
      sKe[i] = sKe[i]! + ke[s]!;
      sKe[j] = sKe[j]! + ke[s]!;
      sKd[i] = sKd[i]! + kd[s]!;
      sKd[j] = sKd[j]! + kd[s]!;
      const im = 1 / m[i]! + 1 / m[j]!;
      const h = maxStableStep(ke[s]! * im, kd[s]! * im);
      necSpring[i] = Math.min(necSpring[i]!, h);
      necSpring[j] = Math.min(necSpring[j]!, h);
    }
    for (let i = 0; i < np; i++) {
      const im = 1 / m[i]!;
      const wc = worstContact(cs, im);
      const hDrag = drag > 0 ? 2 / (drag * im) : Infinity;
      let necessaryH = Math.min(wc.h, necSpring[i]!, hDrag);
      let reason =
        wc.c && wc.h === necessaryH
          ? `${wc.c.what} ke = ${fmt(wc.c.ke)} N/m, kd = ${fmt(wc.c.kd)} N s/m, kf = ${fmt(wc.c.kf)} N s/m on mass ${fmt(m[i]!)} kg`
          : necSpring[i]! === necessaryH
            ? `a spring of particle ${i} (mass ${fmt(m[i]!)} kg)`
            : `particle drag ${fmt(drag)} on mass ${fmt(m[i]!)} kg`;
      if (!Number.isFinite(necessaryH)) reason = 'nothing stiff acts on it';
      let cKe = 0;
      let cKd = 0;
      let cKf = 0;
      for (const c of cs) {
        cKe = Math.max(cKe, c.ke);
        cKd = Math.max(cKd, c.kd);
        cKf = Math.max(cKf, c.kf);
      }
      const w2 = (2 * sKe[i]! + cKe) * im;
      const g = (2 * sKd[i]! + cKd + drag) * im;
      const guaranteedH = Math.min(maxStableStep(w2, g, 2 * cKf * im), hDrag);
      necessaryH = Math.max(necessaryH, guaranteedH);
      out.push({ kind: 'particle', index: i, necessaryH, guaranteedH, reason });
    }
  }
  // bodies
  const nb = model.bodyCount;
  if (nb > 0) {
    const bm = model.bodyMass.data;
    const I = model.bodyInertia.data;
    const P = model.contactPoint.data;
    const sumIm = new Float64Array(nb);
    for (let k = 0; k < model.contactCount; k++) {
      const b = model.contactBody[k]!;
      const iMin = Math.min(I[9 * b]!, I[9 * b + 4]!, I[9 * b + 8]!);
      const p2 = P[3 * k]! ** 2 + P[3 * k + 1]! ** 2 + P[3 * k + 2]! ** 2;
      sumIm[b] = sumIm[b]! + 1 / bm[b]! + p2 / iMin;
    }
    let maxSum = 0;
    for (let b = 0; b < nb; b++) maxSum = Math.max(maxSum, sumIm[b]!);
    const all = bb ? [...cs, bb] : cs;
    for (let b = 0; b < nb; b++) {
      const im = 1 / bm[b]!;
      // body-body: both bodies' inverse masses (the other at most the largest of any body)
      const nec = worstContact(cs, im);
      const necBB = bb ? maxStableStep(2 * bb.ke * im, 2 * bb.kd * im, 2 * bb.kf * im) : Infinity;
      const necessaryH = Math.min(nec.h, necBB);
      const c = nec.h <= necBB ? nec.c : bb;
      const reason = c
        ? `${c.what} ke = ${fmt(c.ke)} N/m, kd = ${fmt(c.kd)} N s/m, kf = ${fmt(c.kf)} N s/m on mass ${fmt(bm[b]!)} kg`
        : 'nothing stiff acts on it';
      let guaranteedH = Infinity;
      for (const s of all) {
        const sIm = s === bb ? sumIm[b]! + maxSum : sumIm[b]!;
        guaranteedH = Math.min(guaranteedH, maxStableStep(s.ke * sIm, s.kd * sIm, 2 * s.kf * sIm));
      }
      out.push({ kind: 'body', index: b, necessaryH: Math.max(necessaryH, guaranteedH), guaranteedH, reason });
    }
  }
  return out;
}

/** The smallest necessary and guaranteed bounds over the whole model, with the limiting entries. */
export interface ModelStability {
  necessary: StabilityLimit | null;
  guaranteed: StabilityLimit | null;
}

/** The limiting particle/body of `stabilityLimits` (null entries: nothing stiff in the model). */
export function modelStability(model: Model): ModelStability {
  let necessary: StabilityLimit | null = null;
  let guaranteed: StabilityLimit | null = null;
  for (const l of stabilityLimits(model)) {
    if (Number.isFinite(l.necessaryH) && (!necessary || l.necessaryH < necessary.necessaryH)) necessary = l;
    if (Number.isFinite(l.guaranteedH) && (!guaranteed || l.guaranteedH < guaranteed.guaranteedH)) guaranteed = l;
  }
  return { necessary, guaranteed };
}

/** Largest number of substeps per step `autoSubsteps` chooses before it refuses (default). */
export const MAX_AUTO_SUBSTEPS = 10000;

/**
 * The substep count for step dt: the smallest S with dt / S <= safety * guaranteedH (every
 * contact and spring at once, safety 0.9) and dt / S <= accuracy * necessaryH (one contact
 * alone, accuracy 0.3: the contact's oscillation is resolved by about 20 substeps a period,
 * so that contacts switching on and off within a substep do not pump energy into a bounce).
 * Throws a StabilityError when more than `maxSubsteps` would be needed (a model too stiff to
 * integrate explicitly at any sensible cost).
 * @example const S = autoSubsteps(model, 1 / 60); // rollout(model, s0, { dt: 1 / 60, substeps: S, ... })
 */
export function autoSubsteps(model: Model, dt: number, opts: { safety?: number; accuracy?: number; maxSubsteps?: number } = {}): number {
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ModelError(`autoSubsteps: dt = ${dt} must be a finite number > 0`, 'dt');
  const safety = opts.safety ?? 0.9;
  const accuracy = opts.accuracy ?? 0.3;
  const maxSubsteps = opts.maxSubsteps ?? MAX_AUTO_SUBSTEPS;
  const { guaranteed, necessary } = modelStability(model);
  if (!guaranteed || !necessary) return 1;
  const byG = safety * guaranteed.guaranteedH;
  const byN = accuracy * necessary.necessaryH;
  const lim = byG <= byN ? guaranteed : necessary;
  const h = Math.min(byG, byN);
  const S = Math.max(1, Math.ceil(dt / h));
  if (S > maxSubsteps) {
    const who = `${lim.kind} ${lim.index}`;
    throw new StabilityError(
      `stable integration of dt = ${dt} s needs ${S} substeps (more than ${maxSubsteps}): ${who} needs substeps <= ${h.toExponential(3)} s (${lim.reason}). Use a shorter --dt`,
      lim.kind,
      lim.index,
      h,
      dt / maxSubsteps,
    );
  }
  return S;
}

/**
 * Refuses a substep h = dt / substeps beyond the necessary bound of some particle or body
 * (unstable in a configuration the scene can reach): throws a StabilityError naming it, the
 * bound and the value. Returns whether h is also within the sufficient bound (stability
 * guaranteed for every contact configuration).
 */
export function checkStability(model: Model, dt: number, substeps: number): { guaranteed: boolean; bound: number } {
  const h = dt / substeps;
  const { necessary, guaranteed } = modelStability(model);
  if (necessary && !(h < necessary.necessaryH)) {
    const who = `${necessary.kind} ${necessary.index}`;
    const need = Math.ceil(dt / (0.9 * necessary.necessaryH));
    throw new StabilityError(
      `unstable step: substep dt / substeps = ${fmt(dt)} / ${substeps} = ${h.toExponential(3)} s exceeds the stability bound ${necessary.necessaryH.toExponential(3)} s of ${who} (${necessary.reason}; semi-implicit Euler needs h kd / m < 2 and h^2 ke / m + 2 h kd / m < 4). Use at least ${need} substeps, or omit --substeps to have them chosen`,
      necessary.kind,
      necessary.index,
      necessary.necessaryH,
      h,
    );
  }
  return { guaranteed: !guaranteed || h <= guaranteed.guaranteedH, bound: guaranteed ? guaranteed.guaranteedH : Infinity };
}
