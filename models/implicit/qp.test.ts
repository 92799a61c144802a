// Tests of the batched QP layer (models/implicit/qp.ts): known solutions and active sets,
// gradients against hand-computed values and central differences, batched vs single solves,
// infeasible / unbounded detection, redundant and degenerate constraints, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinalgError, Rng, ShapeError, Tensor, backward, eye, gradients, registeredGradchecks, sum, tensor, zeros } from '../../sim/core/index.ts';
import { QPError, qp, type QPProblem } from './qp.ts';
import { randomKktQP } from './qp-random.ts';
import { luFactor, luSolve } from '../../sim/linalg/dense.ts';
import './checks-qp.ts';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]} (tol ${tol})`);
}

// -1 <= x <= 1 as G x <= h
function box(n: number): { G: Tensor; h: Tensor } {
  const G = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    G[i * n + i] = 1;
    G[(n + i) * n + i] = -1;
  }
  return { G: new Tensor(G, [2 * n, n]), h: tensor(new Array(2 * n).fill(1)) };
}

test('box QP: min 1/2|x|^2 - (2, 0.5)x on [-1, 1]^2 gives x = (1, 0.5), lambda = (1, 0, 0, 0), exact to rounding', () => {
  const { G, h } = box(2);
  const r = qp({ Q: eye(2), p: tensor([-2, -0.5]), G, h });
  close(r.x.data, [1, 0.5], 1e-14, 'x');
  close(r.lambda.data, [1, 0, 0, 0], 1e-14, 'lambda');
  assert.equal(r.info[0]!.status, 'solved');
  assert.equal(r.info[0]!.active, 1);
  assert.equal(r.info[0]!.degenerate, false);
  assert.deepEqual(r.x.shape, [2]);
});

test('box QP gradients: the active bound pins x1 (dx1/dp = 0, dx1/dh1 = 1), the free x2 = -p2 (dx2/dp2 = -1)', () => {
  const { G, h } = box(2);
  const p = tensor([-2, -0.5]).requireGrad();
  h.requireGrad();
  const r = qp({ Q: eye(2), p, G, h });
  const [gp1, gh1] = gradients([r.x], [p, h], [tensor([1, 0])]);
  close(gp1!.data, [0, 0], 1e-14, 'dx1/dp');
  close(gh1!.data, [1, 0, 0, 0], 1e-14, 'dx1/dh');
  const r2 = qp({ Q: eye(2), p, G, h });
  const [gp2, gh2] = gradients([r2.x], [p, h], [tensor([0, 1])]);
  close(gp2!.data, [0, -1], 1e-14, 'dx2/dp');
  close(gh2!.data, [0, 0, 0, 0], 1e-14, 'dx2/dh');
  // the multiplier of the active bound: lambda1 = -p1 - x1 = 1, d lambda1 / dp1 = -1, d lambda1 / dh1 = -1
  const r3 = qp({ Q: eye(2), p, G, h });
  const [gp3, gh3] = gradients([r3.lambda], [p, h], [tensor([1, 0, 0, 0])]);
  close(gp3!.data, [-1, 0], 1e-14, 'dlambda1/dp');
  close(gh3!.data, [-1, 0, 0, 0], 1e-14, 'dlambda1/dh');
});

test('seed 002 KKT example, linearised: argmin w x s.t. -2x <= 2, 2x <= 2 at w = 2 gives x* = -1, lambda* = (1, 0), d(x*, lambda1*)/dw = (0, 0.5)', () => {
  // the slides' argmin x w s.t. x^2 - 1 <= 0 has constraint gradient 2x = -2 at x* = -1; an LP
  // with the same active constraint gradient has the same KKT numbers
  const w = tensor([2]).requireGrad();
  const r = qp({ Q: zeros([1, 1]), p: w, G: tensor([[-2], [2]]), h: tensor([2, 2]) });
  close(r.x.data, [-1], 1e-13, 'x*');
  close(r.lambda.data, [1, 0], 1e-13, 'lambda*');
  const [dx] = gradients([r.x], [w], [tensor([1])]);
  close(dx!.data, [0], 1e-13, 'dx*/dw');
  const r2 = qp({ Q: zeros([1, 1]), p: w, G: tensor([[-2], [2]]), h: tensor([2, 2]) });
  const [dl] = gradients([r2.lambda], [w], [tensor([1, 0])]);
  close(dl!.data, [0.5], 1e-13, 'dlambda*/dw');
});

test('equality-constrained QP: min 1/2|x|^2 s.t. x1 + x2 = 2 gives x = (1, 1), nu = -1, dx/db = (0.5, 0.5), solved without iterating', () => {
  const b = tensor([2]).requireGrad();
  const r = qp({ Q: eye(2), p: zeros([2]), A: tensor([[1, 1]]), b });
  close(r.x.data, [1, 1], 1e-14, 'x');
  close(r.nu.data, [-1], 1e-14, 'nu');
  assert.equal(r.info[0]!.iterations, 0);
  assert.deepEqual(r.lambda.shape, [0]);
  backward(sum(r.x));
  close(b.grad!.data, [1], 1e-14, 'd(x1 + x2)/db');
});

test('unconstrained QP: x = -Q^-1 p', () => {
  const r = qp({
    Q: tensor([
      [2, 1],
      [1, 3],
    ]),
    p: tensor([1, -1]),
  });
  // Q^-1 = [3 -1; -1 2] / 5
  close(r.x.data, [-(3 * 1 + -1 * -1) / 5, -(-1 * 1 + 2 * -1) / 5], 1e-14, 'x');
});

test("only (Q + Q')/2 matters: an asymmetric Q gives the solution of its symmetric part", () => {
  const { G, h } = box(2);
  const a = qp({
    Q: tensor([
      [2, 1.5],
      [-0.5, 3],
    ]),
    p: tensor([1, -4]),
    G,
    h,
  });
  const s = qp({
    Q: tensor([
      [2, 0.5],
      [0.5, 3],
    ]),
    p: tensor([1, -4]),
    G,
    h,
  });
  close(a.x.data, s.x.data, 1e-14, 'x');
});

test('random problems with a known KKT point are solved to 1e-10 or better, with the known active set', () => {
  for (let seed = 0; seed < 10; seed++) {
    const P = randomKktQP(new Rng(100 + seed), { n: 8, m: 12, pe: 2, active: 4 });
    const r = qp(P);
    const info = r.info[0]!;
    assert.equal(info.status, 'solved', `seed ${seed}`);
    assert.equal(info.active, 4, `seed ${seed}`);
    close(r.x.data, P.x.data, 1e-10, `x (seed ${seed})`);
    close(r.lambda.data, P.lambda.data, 1e-10, `lambda (seed ${seed})`);
    close(r.nu.data, P.nu.data, 1e-10, `nu (seed ${seed})`);
    assert.ok(info.primalResidual <= 1e-10 && info.dualResidual <= 1e-10 && info.gap <= 1e-10, JSON.stringify(info));
  }
});

test('without polish the interior point alone meets the 1e-10 tolerance', () => {
  const P = randomKktQP(new Rng(7), { n: 10, m: 15, pe: 3, active: 5 });
  const r = qp(P, { polish: false });
  assert.equal(r.info[0]!.status, 'solved');
  assert.equal(r.info[0]!.polished, false);
  close(r.x.data, P.x.data, 1e-8, 'x');
  assert.ok(r.info[0]!.dualResidual <= 1e-9 && r.info[0]!.primalResidual <= 1e-9, JSON.stringify(r.info[0]));
});

test("gradients equal OptNet's closed form from the full differential KKT system (seed 001 eq. 17: [Q G'D(lambda) A'; G D(Gx - h) 0; A 0 0])", () => {
  const [n, m, pe] = [6, 9, 2];
  const P = randomKktQP(new Rng(31), { n, m, pe, active: 3 });
  const leaves = [P.Q, P.p, P.G, P.h, P.A, P.b].map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
  const [Q, p, G, h, A, b] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const r = qp({ Q, p, G, h, A, b });
  const gx = new Rng(32).normals(n);
  const ours = gradients([r.x], leaves, [new Tensor(gx, [n])]);
  // OptNet: solve K' d = (-dl/dx, 0, 0) with the full (n + m + pe) matrix, then with
  // dl~ = D(lambda) d_lambda: dp = d_x, dQ = (d_x x' + x d_x') / 2, dG = dl~ x' + lambda d_x', dh = -dl~,
  // dA = d_nu x' + nu d_x', db = -d_nu (as qpth's backward computes them; the paper's printed dG puts
  // D(lambda) on both terms, which central differences contradict)
  const x = r.x.data;
  const lam = r.lambda.data;
  const nu = r.nu.data;
  const N = n + m + pe;
  const K = new Float64Array(N * N);
  const gxh = new Float64Array(m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) gxh[i]! += G.data[i * n + j]! * x[j]!;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * N + j] = 0.5 * (Q.data[i * n + j]! + Q.data[j * n + i]!);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      K[j * N + n + i] = G.data[i * n + j]! * lam[i]!;
      K[(n + i) * N + j] = G.data[i * n + j]!;
    }
    K[(n + i) * N + n + i] = gxh[i]! - h.data[i]!;
  }
  for (let k = 0; k < pe; k++) {
    for (let j = 0; j < n; j++) {
      K[j * N + n + m + k] = A.data[k * n + j]!;
      K[(n + m + k) * N + j] = A.data[k * n + j]!;
    }
  }
  const piv = new Int32Array(N);
  assert.notEqual(luFactor(K, 0, N, piv), 0);
  const d = new Float64Array(N);
  for (let j = 0; j < n; j++) d[j] = -gx[j]!;
  luSolve(K, 0, N, piv, d, 0, 1);
  const dx = d.subarray(0, n);
  const dl = d.subarray(n, n + m);
  const dn = d.subarray(n + m, N);
  const dQ: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dQ.push(0.5 * (dx[i]! * x[j]! + x[i]! * dx[j]!));
  const dG: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) dG.push(lam[i]! * dl[i]! * x[j]! + lam[i]! * dx[j]!);
  const dA: number[] = [];
  for (let k = 0; k < pe; k++) for (let j = 0; j < n; j++) dA.push(dn[k]! * x[j]! + nu[k]! * dx[j]!);
  const tol = 1e-9;
  close(ours[0]!.data, dQ, tol, 'dQ');
  close(ours[1]!.data, dx, tol, 'dp');
  close(ours[2]!.data, dG, tol, 'dG');
  close(
    ours[3]!.data,
    Array.from(dl, (v, i) => -lam[i]! * v),
    tol,
    'dh',
  );
  close(ours[4]!.data, dA, tol, 'dA');
  close(
    ours[5]!.data,
    Array.from(dn, (v) => -v),
    tol,
    'db',
  );
});

test('registered gradchecks implicit.qp.* pass at rtol 1e-6 (all of Q, p, G, h, A, b; shared and batched inputs)', () => {
  const checks = registeredGradchecks().filter((c) => c.name.startsWith('implicit.qp.'));
  assert.ok(checks.length >= 5);
  for (const c of checks) {
    const rep = c.run();
    assert.ok(rep.passed, `${c.name}: ${JSON.stringify(rep.inputs)}`);
  }
});

test('batched solve agrees with one solve per item; shared inputs receive the sum of the per-item gradients', () => {
  const B = 4;
  const P = randomKktQP(new Rng(21), { n: 5, m: 7, pe: 1, active: 2, batch: B, shared: ['Q', 'G', 'A'] });
  const leaves = [P.Q, P.p, P.G, P.h, P.A, P.b].map((t) => new Tensor(t.data.slice(), t.shape).requireGrad());
  const [Q, p, G, h, A, b] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const rng = new Rng(5);
  const wx = new Tensor(rng.normals(B * 5), [B, 5]);
  const wl = new Tensor(rng.normals(B * 7), [B, 7]);
  const r = qp({ Q, p, G, h, A, b });
  assert.deepEqual(r.x.shape, [B, 5]);
  const gb = gradients([r.x, r.lambda], leaves, [wx, wl]);
  const sumQ = new Float64Array(25);
  const sumG = new Float64Array(35);
  for (let k = 0; k < B; k++) {
    const pk = new Tensor(p.data.slice(k * 5, k * 5 + 5), [5]).requireGrad();
    const hk = new Tensor(h.data.slice(k * 7, k * 7 + 7), [7]).requireGrad();
    const bk = new Tensor(b.data.slice(k, k + 1), [1]).requireGrad();
    const Qk = new Tensor(Q.data.slice(), [5, 5]).requireGrad();
    const Gk = new Tensor(G.data.slice(), [7, 5]).requireGrad();
    const rk = qp({ Q: Qk, p: pk, G: Gk, h: hk, A, b: bk });
    close(rk.x.data, r.x.data.subarray(k * 5, k * 5 + 5), 1e-13, `x item ${k}`);
    close(rk.lambda.data, r.lambda.data.subarray(k * 7, k * 7 + 7), 1e-13, `lambda item ${k}`);
    const [gQ, gp, gG, gh] = gradients(
      [rk.x, rk.lambda],
      [Qk, pk, Gk, hk],
      [new Tensor(wx.data.slice(k * 5, k * 5 + 5), [5]), new Tensor(wl.data.slice(k * 7, k * 7 + 7), [7])],
    );
    close(gp!.data, gb[1]!.data.subarray(k * 5, k * 5 + 5), 1e-12, `dp item ${k}`);
    close(gh!.data, gb[3]!.data.subarray(k * 7, k * 7 + 7), 1e-12, `dh item ${k}`);
    gQ!.data.forEach((v, i) => (sumQ[i]! += v));
    gG!.data.forEach((v, i) => (sumG[i]! += v));
  }
  close(gb[0]!.data, sumQ, 1e-12, 'dQ (shared) = sum over items');
  close(gb[2]!.data, sumG, 1e-12, 'dG (shared) = sum over items');
});

test('primal infeasible (x <= -1 and x >= 1) is reported, never a silent x; raise names the item', () => {
  const P: QPProblem = { Q: eye(1), p: zeros([1]), G: tensor([[1], [-1]]), h: tensor([-1, -1]) };
  const r = qp(P, { onFailure: 'status' });
  assert.equal(r.info[0]!.status, 'primal_infeasible');
  assert.ok(Number.isNaN(r.x.data[0]!));
  assert.throws(
    () => qp(P),
    (e: unknown) => e instanceof QPError && e.batchIndex === 0 && e.status === 'primal_infeasible' && /item 0: primal_infeasible/.test(e.message),
  );
});

test('a mixed batch reports per item: solved, primal infeasible, unbounded (dual infeasible); the solved item is exact', () => {
  // x in R^2, Q = diag(1, 0); item 0: bounded; item 1: x1 <= -1, -x1 <= -1; item 2: min -x2 with x2 free above
  const Q = tensor([
    [1, 0],
    [0, 0],
  ]);
  const p = tensor([
    [1, 1],
    [0, 0],
    [0, -1],
  ]);
  const G = tensor([
    [
      [1, 0],
      [0, -1],
    ],
    [
      [1, 0],
      [-1, 0],
    ],
    [
      [1, 0],
      [0, -1],
    ],
  ]);
  const h = tensor([
    [5, 2],
    [-1, -1],
    [5, 2],
  ]);
  const r = qp({ Q, p, G, h }, { onFailure: 'status' });
  assert.deepEqual(
    r.info.map((i) => i.status),
    ['solved', 'primal_infeasible', 'dual_infeasible'],
  );
  // item 0: x1 = -1, x2 at its bound -2 (p2 = 1 > 0 pushes it down), lambda2 = 1
  close(r.x.data.subarray(0, 2), [-1, -2], 1e-13, 'x item 0');
  close(r.lambda.data.subarray(0, 2), [0, 1], 1e-13, 'lambda item 0');
  assert.ok(Number.isNaN(r.x.data[2]!) && Number.isNaN(r.x.data[4]!));
  assert.throws(() => qp({ Q, p, G, h }), /2 of 3 QP\(s\) not solved: item 1: primal_infeasible; item 2: dual_infeasible/);
});

test('unbounded problems: an LP ray and an unconstrained QP with p outside range(Q) are dual infeasible', () => {
  const lp = qp({ Q: zeros([2, 2]), p: tensor([-1, 0]), G: tensor([[0, 1]]), h: tensor([1]) }, { onFailure: 'status' });
  assert.equal(lp.info[0]!.status, 'dual_infeasible');
  const unc = qp(
    {
      Q: tensor([
        [1, 0],
        [0, 0],
      ]),
      p: tensor([0, 1]),
    },
    { onFailure: 'status' },
  );
  assert.equal(unc.info[0]!.status, 'dual_infeasible');
});

test('inconsistent equalities (x1 + x2 = 1 and x1 + x2 = 2) are primal infeasible', () => {
  const r = qp(
    {
      Q: eye(2),
      p: zeros([2]),
      A: tensor([
        [1, 1],
        [1, 1],
      ]),
      b: tensor([1, 2]),
      G: tensor([[1, 0]]),
      h: tensor([5]),
    },
    { onFailure: 'status' },
  );
  assert.equal(r.info[0]!.status, 'primal_infeasible');
});

test('redundant equality rows (A row 2 = 2 x row 1) solve without NaN; gradients along consistent changes of b match central differences', () => {
  const A = tensor([
    [1, 1, 1],
    [2, 2, 2],
  ]);
  const G = tensor([[0, 0, 1]]);
  const h = tensor([0.5]);
  const b = tensor([3, 6]).requireGrad();
  const r = qp({ Q: eye(3), p: zeros([3]), A, b, G, h });
  assert.equal(r.info[0]!.status, 'solved');
  close(r.x.data, [1.25, 1.25, 0.5], 1e-12, 'x');
  for (const v of [...r.lambda.data, ...r.nu.data]) assert.ok(Number.isFinite(v));
  // nu is not unique; nu1 + 2 nu2 is: stationarity x1 + nu1 + 2 nu2 = 0
  close([r.nu.data[0]! + 2 * r.nu.data[1]!], [-1.25], 1e-12, 'nu1 + 2 nu2');
  const [gb] = gradients([r.x], [b], [tensor([1, 0, 0])]);
  for (const v of gb!.data) assert.ok(Number.isFinite(v));
  // directional derivative along db = (1, 2) t (keeps the rows consistent) vs central differences
  const eps = 1e-6;
  const xAt = (t: number): number => qp({ Q: eye(3), p: zeros([3]), A, b: tensor([3 + t, 6 + 2 * t]), G, h }).x.data[0]!;
  const fd = (xAt(eps) - xAt(-eps)) / (2 * eps);
  close([gb!.data[0]! + 2 * gb!.data[1]!], [fd], 1e-8, 'dx1/db . (1, 2)');
  close([fd], [0.5], 1e-8, 'dx1/dt');
});

test('an LP with redundant equality rows and a variable in no inequality (singular H and Schur complement) is solved', () => {
  // min x1 s.t. x1 + x2 = 1, 2 x1 + 2 x2 = 2, x1 >= 0 (x2 free)  ->  x = (0, 1), lambda = 1
  const r = qp({
    Q: zeros([2, 2]),
    p: tensor([1, 0]),
    A: tensor([
      [1, 1],
      [2, 2],
    ]),
    b: tensor([1, 2]),
    G: tensor([[-1, 0]]),
    h: zeros([1]),
  });
  assert.equal(r.info[0]!.status, 'solved');
  close(r.x.data, [0, 1], 1e-10, 'x');
  close(r.lambda.data, [1], 1e-10, 'lambda');
  close([r.nu.data[0]! + 2 * r.nu.data[1]!], [0], 1e-10, 'nu1 + 2 nu2');
});

test('duplicated active inequality (degenerate active set): x exact, multipliers split but summing right, finite gradients, flagged degenerate', () => {
  const G = tensor([
    [1, 0],
    [1, 0],
    [0, 1],
  ]);
  const h = tensor([1, 1, 5]).requireGrad();
  const p = tensor([-3, 0]).requireGrad();
  const r = qp({ Q: eye(2), p, G, h });
  const info = r.info[0]!;
  assert.equal(info.status, 'solved');
  assert.equal(info.degenerate, true);
  close(r.x.data, [1, 0], 1e-12, 'x');
  close([r.lambda.data[0]! + r.lambda.data[1]!], [2], 1e-10, 'lambda1 + lambda2');
  backward(sum(r.x));
  for (const v of [...p.grad!.data, ...h.grad!.data]) assert.ok(Number.isFinite(v), 'finite gradient');
  close(p.grad!.data, [0, -1], 1e-8, 'd(x1 + x2)/dp');
  close([h.grad!.data[0]! + h.grad!.data[1]!], [1], 1e-8, 'd(x1 + x2)/dh1 + d/dh2');
});

test('weakly active constraint (lambda = 0 at the bound): solved, no NaN, flagged degenerate', () => {
  // min 1/2 (x - 1)^2 s.t. x <= 1: x* = 1 with lambda* = 0
  const p = tensor([-1]).requireGrad();
  const r = qp({ Q: eye(1), p, G: tensor([[1]]), h: tensor([1]) });
  assert.equal(r.info[0]!.status, 'solved');
  assert.equal(r.info[0]!.degenerate, true);
  close(r.x.data, [1], 1e-9, 'x');
  close(r.lambda.data, [0], 1e-9, 'lambda');
  backward(sum(r.x));
  assert.ok(Number.isFinite(p.grad!.data[0]!));
  // one-sided derivative: 0 (constraint held) or -1 (free); either side is acceptable, nothing else
  assert.ok(Math.abs(p.grad!.data[0]!) < 1e-6 || Math.abs(p.grad!.data[0]! + 1) < 1e-6, `${p.grad!.data[0]}`);
});

test('an LP with a unique vertex solution is solved exactly', () => {
  // min -x1 - 2 x2 s.t. x1 + x2 <= 1, x >= 0 -> (0, 1), lambda = (2, 1, 0)
  const r = qp({
    Q: zeros([2, 2]),
    p: tensor([-1, -2]),
    G: tensor([
      [1, 1],
      [-1, 0],
      [0, -1],
    ]),
    h: tensor([1, 0, 0]),
  });
  close(r.x.data, [0, 1], 1e-12, 'x');
  close(r.lambda.data, [2, 1, 0], 1e-12, 'lambda');
});

test('iteration limit: status max_iterations with onFailure status, QPError otherwise (a polish that meets the tolerance counts as solved)', () => {
  const P = randomKktQP(new Rng(3), { n: 10, m: 20, pe: 0, active: 5 });
  const pr = { Q: P.Q, p: P.p, G: P.G, h: P.h };
  const r = qp(pr, { maxIter: 1, polish: false, onFailure: 'status' });
  assert.equal(r.info[0]!.status, 'max_iterations');
  assert.equal(r.info[0]!.iterations, 1);
  assert.ok(r.info[0]!.dualResidual > 1e-10 || r.info[0]!.primalResidual > 1e-10 || r.info[0]!.gap > 1e-10);
  assert.throws(() => qp(pr, { maxIter: 1, polish: false }), QPError);
  const rp = qp(pr, { maxIter: 1, onFailure: 'status' });
  if (rp.info[0]!.status === 'solved') close(rp.x.data, P.x.data, 1e-10, 'x from a polish after one iteration');
  else assert.equal(rp.info[0]!.status, 'max_iterations');
});

test('items that are not solved get zero gradients; solved items in the same batch get theirs', () => {
  const p = tensor([
    [-2, 0],
    [0, 0],
  ]).requireGrad();
  const G = tensor([
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [-1, 0],
    ],
  ]);
  const h = tensor([
    [1, 1],
    [-1, -1],
  ]);
  const r = qp({ Q: eye(2), p, G, h }, { onFailure: 'status' });
  const [gp] = gradients(
    [r.x],
    [p],
    [
      tensor([
        [0, 1],
        [0, 0],
      ]),
    ],
  );
  close(gp!.data, [0, -1, 0, 0], 1e-14, 'dp');
});

test('second-order use (createGraph) through the layer throws instead of returning a wrong gradient', () => {
  const p = tensor([-2, -0.5]).requireGrad();
  const r = qp({ Q: eye(2), p, G: eye(2), h: tensor([1, 1]) });
  assert.throws(() => gradients([sum(r.x)], [p], undefined, { createGraph: true }), /second-order gradients .* not supported/);
});

test('bad input: non-square Q, inconsistent shapes and batch sizes, unpaired G/h, NaN, non-PSD Q are named', () => {
  assert.throws(
    () => qp({ Q: zeros([2, 3]), p: zeros([2]) }),
    (e: unknown) => e instanceof ShapeError && /Q must be square, got \[2, 3\]/.test(e.message),
  );
  assert.throws(() => qp({ Q: eye(2), p: zeros([3]) }), /p has shape \[3\] but Q has \[2, 2\]/);
  assert.throws(() => qp({ Q: eye(2), p: zeros([2]), G: zeros([3, 2]), h: zeros([4]) }), /h has shape \[4\] but G has \[3, 2\]/);
  assert.throws(() => qp({ Q: eye(2), p: zeros([2]), G: zeros([3, 2]) }), /G and h come together/);
  assert.throws(() => qp({ Q: eye(2, 3), p: zeros([4, 2]) }), /inconsistent batch sizes: Q \[3, 2, 2\] has B = 3 but p \[4, 2\] has B = 4/);
  const h = tensor([
    [1, 1],
    [1, NaN],
  ]);
  assert.throws(() => qp({ Q: eye(2), p: zeros([2]), G: eye(2), h }), /h \[2, 2\] holds NaN at batch item 1, flat index 1/);
  const Qb = eye(2, 3);
  Qb.data[2 * 4 + 3] = -1; // item 2: diag(1, -1)
  assert.throws(
    () => qp({ Q: Qb, p: zeros([3, 2]) }),
    (e: unknown) => e instanceof LinalgError && e.batchIndex === 2 && /Q of batch item 2 is not positive semidefinite/.test(e.message),
  );
});
