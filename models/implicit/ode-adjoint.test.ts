// Tests of the ODE layer's gradients (models/implicit/ode-adjoint.ts, ode.ts): the seed's Lorenz
// example three ways, the adjoint's tolerance-level accuracy vs backprop's exactness,
// checkpoints (stable re-integration, bounded memory, bitwise-equal gradients), time gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, add, backward, gradcheck, gradgradcheck, mul, neg, pow, reshape, slice, stack, sum, tensor } from '../../sim/core/index.ts';
import { OdeError, odeint, odeintSensitivities, type OdeFunc, type OdeOptions } from './ode.ts';
import { lorenz } from './checks-ode.ts';

const SEED = [10, 28, 8 / 3]; // sigma, rho, beta
const Y0 = [1, 1, 1];
const TS = [0, 0.25, 0.5]; // a short horizon: the chaotic flow stretches errors by ~e^(0.9 t)
const W = [0, 0, 0, 0.3, -0.2, 0.5, 1, 2, -1]; // loss = <W, y(ts)>

function lorenzGrads(opts: OdeOptions): { gp: number[]; gy0: number[] } {
  const p = tensor(SEED).requireGrad();
  const y0 = tensor(Y0).requireGrad();
  const { y } = odeint(lorenz, y0, TS, [p], opts);
  backward(sum(mul(y, tensor(W, [3, 3]))));
  return { gp: Array.from(p.grad!.data), gy0: Array.from(y0.grad!.data) };
}

function lorenzLoss(p: number[], y0: number[], opts: OdeOptions): number {
  const { y } = odeint(lorenz, tensor(y0), TS, [tensor(p)], opts);
  return y.data.reduce((s, v, i) => s + v * W[i]!, 0);
}

function centralDiff(fn: (x: number[]) => number, x: number[], eps = 1e-6): number[] {
  return x.map((_, j) => {
    const a = x.slice();
    const b = x.slice();
    a[j]! += eps;
    b[j]! -= eps;
    return (fn(a) - fn(b)) / (2 * eps);
  });
}

function relErr(a: readonly number[], b: readonly number[]): number {
  let num = 0;
  let den = 0;
  a.forEach((v, i) => {
    num = Math.max(num, Math.abs(v - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  });
  return num / den;
}

test('Lorenz (sigma, rho, beta = 10, 28, 8/3): adjoint, forward sensitivities, backprop and central differences agree', () => {
  const tight = { rtol: 1e-10, atol: 1e-10 };
  const adj = lorenzGrads(tight);
  const bp = lorenzGrads({ ...tight, adjoint: false });
  const sens = odeintSensitivities(lorenz, tensor(Y0), TS, [tensor(SEED)], { ...tight, wrtY0: true });
  const gpSens = [0, 1, 2].map((j) => W.reduce((s, w, i) => s + w * sens.dydp[0]!.data[i * 3 + j]!, 0));
  const gy0Sens = [0, 1, 2].map((j) => W.reduce((s, w, i) => s + w * sens.dydy0!.data[i * 3 + j]!, 0));
  const ref = { rtol: 1e-11, atol: 1e-11 };
  const fdP = centralDiff((p) => lorenzLoss(p, Y0, ref), SEED);
  const fdY0 = centralDiff((y0) => lorenzLoss(SEED, y0, ref), Y0);
  for (const [name, g, fd] of [
    ['adjoint dL/dp', adj.gp, fdP],
    ['backprop dL/dp', bp.gp, fdP],
    ['sensitivities dL/dp', gpSens, fdP],
    ['adjoint dL/dy0', adj.gy0, fdY0],
    ['backprop dL/dy0', bp.gy0, fdY0],
    ['sensitivities dL/dy0', gy0Sens, fdY0],
  ] as const) {
    assert.ok(relErr(g, fd) < 1e-6, `${name}: ${g} vs central differences ${fd} (rel ${relErr(g, fd)})`);
  }
  assert.ok(relErr(adj.gp, gpSens) < 1e-7, 'adjoint vs sensitivities');
  // the gradient is not trivially small: rho's effect on the loss is O(1)
  assert.ok(Math.abs(adj.gp[1]!) > 0.1);
});

test('the adjoint matches the true gradient only up to the solver tolerance; backprop is the exact derivative of the discrete solve', () => {
  const exact = lorenzGrads({ rtol: 1e-12, atol: 1e-12 }).gp;
  const loose = { rtol: 1e-4, atol: 1e-4 };
  const adjLoose = lorenzGrads(loose).gp;
  const errLoose = relErr(adjLoose, exact);
  const errTight = relErr(lorenzGrads({ rtol: 1e-9, atol: 1e-9 }).gp, exact);
  assert.ok(errLoose > 1e-6 && errLoose < 1e-1, `adjoint at 1e-4: rel err ${errLoose}`);
  assert.ok(errTight < errLoose / 100, `adjoint at 1e-9: ${errTight} vs at 1e-4: ${errLoose}`);
  // central differences of the loose discrete solve = backprop through it (to FD accuracy)
  const fdLoose = centralDiff((p) => lorenzLoss(p, Y0, loose), SEED);
  const bpLoose = lorenzGrads({ ...loose, adjoint: false }).gp;
  assert.ok(relErr(bpLoose, fdLoose) < 1e-7, `backprop vs discrete FD: ${relErr(bpLoose, fdLoose)}`);
  assert.ok(relErr(adjLoose, fdLoose) > 1e-6, 'the adjoint is not the discrete derivative');
});

// z1' = -lam z1 (fast, stable forward = unstable backward), z2' = -mu z2 + c z1
const stiffish: OdeFunc = (_t, z, [th]) => {
  const [z1, z2] = [0, 1].map((i) => reshape(slice(z, [i], [1]), [])) as [Tensor, Tensor];
  const [lam, mu, c] = [0, 1, 2].map((i) => reshape(slice(th!, [i], [1]), [])) as [Tensor, Tensor, Tensor];
  return stack([neg(mul(lam, z1)), add(neg(mul(mu, z2)), mul(c, z1))], 0);
};

test('checkpoints keep the adjoint exact where integrating z backward blows up (stable forward, unstable backward)', () => {
  const T = 2;
  const [lam, mu, c] = [20, 0.5, 3];
  // L = z2(T) in closed form, z(0) = (1, 1)
  const L = (l: number, m: number, k: number): number => Math.exp(-m * T) + (k * (Math.exp(-m * T) - Math.exp(-l * T))) / (l - m);
  const exact = centralDiff(([l, m, k]) => L(l!, m!, k!), [lam, mu, c], 1e-5);
  const th = tensor([lam, mu, c]).requireGrad();
  const opts = { rtol: 1e-8, atol: 1e-8 };
  const { y } = odeint(stiffish, tensor([1, 1]), [0, T], [th], opts);
  backward(reshape(slice(y, [1, 1], [1, 1]), []));
  assert.ok(relErr(Array.from(th.grad!.data), exact) < 1e-6, `adjoint ${th.grad!.data} vs exact ${exact}`);
  // the textbook alternative integrates [z, a, dL/dtheta] backward from z(T): z1 grows like e^(lam t)
  const aug: OdeFunc = (_t, s) => {
    const [z1, z2, a1, a2] = [0, 1, 2, 3].map((i) => reshape(slice(s, [i], [1]), [])) as Tensor[];
    return stack(
      [mul(-lam, z1!), add(mul(-mu, z2!), mul(c, z1!)), add(mul(lam, a1!), mul(-c, a2!)), mul(mu, a2!), mul(a1!, z1!), mul(a2!, z2!), neg(mul(a2!, z1!))],
      0,
    );
  };
  const s0 = tensor([y.data[2]!, y.data[3]!, 0, 1, 0, 0, 0]);
  const naive = odeint(aug, s0, [T, 0], [], opts).y.data;
  assert.ok(Math.abs(naive[7]! - 1) > 1e3, `naive backward reconstruction of z1(0) = ${naive[7]} (true 1)`);
  assert.ok(relErr(Array.from(naive.subarray(11, 14)), exact) > 1, 'the naive gradient is garbage');
});

test('gradients are bitwise identical for any checkpoint spacing (re-integration replays the forward steps)', () => {
  const run = (checkpoints: number): { g: number[]; stats: ReturnType<typeof odeint>['stats'] } => {
    const p = tensor(SEED).requireGrad();
    const r = odeint(lorenz, tensor(Y0), TS, [p], { rtol: 1e-8, atol: 1e-8, checkpoints });
    backward(sum(mul(r.y, tensor(W, [3, 3]))));
    return { g: Array.from(p.grad!.data), stats: r.stats };
  };
  const all = run(100000);
  for (const k of [1, 3, 7]) {
    const r = run(k);
    assert.deepEqual(r.g, all.g, `checkpoints = ${k}`);
    assert.equal(r.stats.backward!.checkpoints, Math.ceil(r.stats.acceptedSteps / k));
  }
  // one segment holding every step: the backward reuses the forward's own stages
  assert.equal(all.stats.backward!.nfeRecompute, 0);
});

test('adjoint memory stays at the checkpoints plus two segments, whatever the number of steps', () => {
  const osc: OdeFunc = (_t, s, [w2]) => {
    const [x, v] = [0, 1].map((i) => reshape(slice(s, [i], [1]), [])) as [Tensor, Tensor];
    return stack([v, neg(mul(reshape(w2!, []), x))], 0);
  };
  const w2 = tensor([1]).requireGrad();
  const every = 32;
  const r = odeint(osc, tensor([1, 0]), [0, 60], [w2], { rtol: 1e-9, atol: 1e-9, checkpoints: every });
  backward(sum(r.y));
  const b = r.stats.backward!;
  const N = r.stats.acceptedSteps;
  assert.ok(N > 400, `steps ${N}`);
  assert.equal(b.forwardSteps, N);
  assert.equal(b.checkpoints, Math.ceil(N / every));
  const segmentStates = every * 8 + 2; // y and 7 stages per step
  assert.ok(b.peakStoredStates <= 2 * b.checkpoints + 2 * segmentStates, `peak ${b.peakStoredStates}`);
  assert.ok(b.peakStoredStates < N, `peak ${b.peakStoredStates} states for ${N} steps (storing all would be ${8 * N})`);
  // each earlier segment is re-integrated once: 6 evaluations per step
  assert.equal(b.segmentsRecomputed, b.checkpoints - 1);
  assert.ok(b.nfeRecompute <= 6 * (N - 1));
  // d/dw2 of x(60) + v(60) for x = cos(w t), v = -w sin(w t) at w = 1
  const t = 60;
  const dx = (-Math.sin(t) * t) / 2; // d cos(w t)/d(w^2) = -t sin(w t) / (2 w)
  const dv = (-Math.sin(t) - t * Math.cos(t)) / 2; // d(-w sin(w t))/d(w^2) = (-sin - w t cos) / (2 w)
  assert.ok(Math.abs(w2.grad!.data[0]! - (dx + dv)) < 1e-5 * Math.abs(dx + dv), `${w2.grad!.data[0]} vs ${dx + dv}`);
});

test('backward counts: nfeBackward is the sum of the adjoint, re-integration and time-gradient evaluations', () => {
  const p = tensor(SEED).requireGrad();
  const ts = tensor(TS).requireGrad();
  const r = odeint(lorenz, tensor(Y0), ts, [p], { rtol: 1e-7, atol: 1e-7, checkpoints: 4 });
  assert.equal(r.stats.nfeBackward, 0);
  assert.equal(r.stats.backward!.nfeAdjoint, 0);
  backward(sum(r.y));
  const b = r.stats.backward!;
  assert.ok(b.nfeAdjoint > 0 && b.nfeRecompute > 0);
  assert.equal(b.nfeTimes, TS.length - 1);
  assert.equal(r.stats.nfeBackward, b.nfeAdjoint + b.nfeRecompute + b.nfeTimes);
  // every backward step attempt costs 6 VJP evaluations (FSAL), plus 2 per output interval (first stage + step heuristic on the first)
  assert.ok(b.nfeAdjoint >= 6 * (b.acceptedSteps + b.rejectedSteps));
});

test('time gradients: dL/dt_i = <dL/dy_i, f(t_i, y_i)> and dL/dt0 by the adjoint, for exponential decay', () => {
  const k = 0.8;
  const ts = tensor([0.2, 0.9, 1.7]).requireGrad();
  const y0 = tensor([1.5]);
  const decay: OdeFunc = (_t, y, [kk]) => neg(mul(kk!, y));
  const { y } = odeint(decay, y0, ts, [tensor([k])], { rtol: 1e-11, atol: 1e-12 });
  backward(sum(y));
  // y_i = y0 exp(-k (t_i - t0))
  const e1 = 1.5 * Math.exp(-k * 0.7);
  const e2 = 1.5 * Math.exp(-k * 1.5);
  const exact = [k * (e1 + e2), -k * e1, -k * e2];
  assert.ok(relErr(Array.from(ts.grad!.data), exact) < 1e-8, `${ts.grad!.data} vs ${exact}`);
});

test('adjoint and sensitivities give dL/dts for a time-dependent field, matching backprop', () => {
  const f: OdeFunc = (t, y, [a, w]) => add(neg(mul(a!, y)), mul(w!, mul(t, t)));
  const grads = (mode: 'adjoint' | 'backprop' | 'sens'): number[] => {
    const ts = tensor([0.1, 0.6, 1.2]).requireGrad();
    const a = tensor([0.5, 1.5]).requireGrad();
    const w = tensor([2]).requireGrad();
    const opts = { rtol: 1e-11, atol: 1e-11 };
    const y =
      mode === 'sens'
        ? odeintSensitivities(f, tensor([1, -1]), ts, [a, w], opts).y
        : odeint(f, tensor([1, -1]), ts, [a, w], { ...opts, adjoint: mode === 'adjoint' }).y;
    backward(sum(mul(y, tensor([1, 2, 3, 4, 5, 6], [3, 2]))));
    return [...ts.grad!.data, ...a.grad!.data, ...w.grad!.data];
  };
  const bp = grads('backprop');
  assert.ok(relErr(grads('adjoint'), bp) < 1e-8);
  assert.ok(relErr(grads('sens'), bp) < 1e-8);
});

test('a tensor captured by f instead of passed in params is refused by the adjoint (its gradient would be lost)', () => {
  const k = tensor([0.5]).requireGrad();
  const y0 = tensor([1]).requireGrad();
  const { y } = odeint((_t, y) => neg(mul(k, y)), y0, [0, 1]);
  assert.throws(() => backward(sum(y)), /requires grad but is not in params/);
});

test('NaN in the adjoint backward is reported with the time where the VJP broke', () => {
  // f = k sqrt(y) at y = 0: the forward stays at 0, the VJP d sqrt(y)/dy is infinite
  const k = tensor([1]).requireGrad();
  const { y } = odeint((_t, y, [k]) => mul(k!, pow(y, 0.5)), tensor([0]), [0, 1], [k]);
  assert.throws(
    () => backward(sum(y)),
    (e: unknown) =>
      e instanceof OdeError && e.kind === 'non-finite' && /adjoint backward: the vector-Jacobian product of f returned/.test(e.message) && e.t > 0 && e.t <= 1,
  );
});

test('the adjoint is first order (createGraph refused); backprop through the solver differentiates twice', () => {
  const f: OdeFunc = (_t, y, [k]) => neg(mul(k!, mul(y, y)));
  const k = tensor([0.7]).requireGrad();
  const { y } = odeint(f, tensor([1]), [0, 1], [k]);
  assert.throws(() => backward(sum(y), { createGraph: true }), /first order/);
  const r = gradgradcheck((y0, k) => odeint(f, y0!, [0, 0.5, 1], [k!], { rtol: 1e-6, atol: 1e-6, adjoint: false }).y, [tensor([1, 0.5]), tensor([0.7])]);
  assert.ok(r.passed, `gradgradcheck ${r.maxRelErr}`);
});

test('rk4 and euler adjoints converge to the true gradient at the method order; their backprop is exact', () => {
  const ref = lorenzGrads({ rtol: 1e-12, atol: 1e-12 }).gp;
  const e = (method: 'rk4' | 'euler', step: number): number => relErr(lorenzGrads({ method, step }).gp, ref);
  const r4 = Math.log2(e('rk4', 0.01) / e('rk4', 0.005));
  const r1 = Math.log2(e('euler', 0.002) / e('euler', 0.001));
  assert.ok(r4 > 3.5 && r4 < 4.8, `rk4 adjoint order ${r4}`);
  assert.ok(r1 > 0.8 && r1 < 1.2, `euler adjoint order ${r1}`);
  const g = gradcheck((p) => odeint(lorenz, tensor(Y0), TS, [p!], { method: 'euler', step: 0.013, adjoint: false }).y, [tensor(SEED)]);
  assert.ok(g.passed, `euler backprop ${g.maxRelErr}`);
});
