// The tour behind `impulse demo` (what `npm start` runs; the command is in demo-command.ts,
// which imports this module only when the demo runs): what Impulse can do today, on bundled
// defaults. It grows with every layer that lands.
import {
  Rng,
  type NestedArray,
  type Tensor,
  backward,
  concat,
  eye,
  gradcheck,
  gradients,
  hvp,
  matmul,
  mul,
  randn,
  sin,
  slice,
  split,
  sub,
  sum,
  tanh,
  tensor,
  valueAndGrad,
} from '../../sim/core/index.ts';
import { lstsq } from '../../sim/linalg/index.ts';
import { argmin, odeint, qp } from '../../models/implicit/index.ts';
import { evaluateApe, readTrajectory, summarizeTrajectories } from '../../data/index.ts';
import { join, sep } from 'node:path';
import { packageRoot } from '../../data/package-root.ts';
import { runExample } from '../../experiments/physics/index.ts';
import { PENDULUM, mpc, pendulum, pendulumCost, pendulumState, quadCost } from '../../mpc/index.ts';

/** Runs the demo steps; returns a JSON-able summary. */
export async function runDemo(log: (s: string) => void): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  log('Impulse demo: float64 reverse-mode core');
  const rng = new Rng(7);
  // A two-layer network's loss and its gradient, checked against central differences.
  const W1 = randn([8, 4], rng);
  const W2 = randn([1, 8], rng);
  const x = randn([4, 16], rng);
  const loss = (a: ReturnType<typeof randn>, b: ReturnType<typeof randn>) => sum(mul(matmul(b, tanh(matmul(a, x))), 0.1));
  const [L, grads] = valueAndGrad(loss)(W1, W2);
  const check = gradcheck(loss, [W1, W2]);
  log(
    `  MLP loss ${L.item().toFixed(6)}, |dL/dW1|_max ${Math.max(...grads[0]!.data.map(Math.abs)).toFixed(6)}; gradcheck max rel. error ${check.maxRelErr.toExponential(2)} (${check.passed ? 'passed' : 'FAILED'})`,
  );
  out.mlp = { loss: L.item(), gradcheckMaxRelErr: check.maxRelErr, passed: check.passed };
  // Second order: Hessian-vector product of f(x) = sum(sin(x) * x).
  const h = hvp((z) => sum(mul(sin(z), z)), tensor([0.1, 0.5, 1.0]), tensor([1, 1, 1]));
  log(`  Hessian-vector product of sum(sin(x)*x) at [0.1, 0.5, 1]: [${[...h.data].map((v) => v.toFixed(6)).join(', ')}]`);
  out.hvp = [...h.data];
  // Gradient descent on a least-squares problem through the tape, against the exact
  // QR least-squares solution from sim/linalg.
  const A = randn([6, 3], rng);
  const b = randn([6], rng);
  const lossOf = (w: Tensor): Tensor => {
    const r = sub(matmul(A, w), b);
    return sum(mul(r, r));
  };
  const optimum = lossOf(lstsq(A, b)).item();
  let w = tensor([0, 0, 0]).requireGrad();
  const first = lossOf(w).item();
  let steps = 0;
  for (; steps < 2000; steps++) {
    const l = lossOf(w);
    if (l.item() - optimum < 1e-10) break;
    backward(l);
    w = tensor(w.data.map((v, i) => v - 0.02 * w.grad!.data[i]!)).requireGrad();
  }
  const last = lossOf(w).item();
  log(`  least squares by gradient descent: loss ${first.toFixed(6)} -> ${last.toFixed(6)} in ${steps} steps (QR optimum ${optimum.toFixed(6)})`);
  out.leastSquares = { initialLoss: first, finalLoss: last, optimalLoss: optimum, steps };
  out.physics = physics(log);
  out.implicit = implicitLayers(log);
  out.mpc = mpcLayer(log);
  out.data = await dataLayer(log);
  return out;
}

/** Rounds nested numbers to 6 decimals for display. */
function roundNested(x: NestedArray): NestedArray {
  return typeof x === 'number' ? Math.round(x * 1e6) / 1e6 + 0 : x.map(roundNested);
}

/** The physics engine: Warp's bounce example optimised through the simulator. */
function physics(log: (s: string) => void): Record<string, unknown> {
  log('Physics: gradient descent through the simulator (Warp-style kernels, hand-written adjoints)');
  const r = runExample('bounce');
  log(
    `  bounce: initial velocity of a particle so it hits a wall and the ground and lands on a target: loss ${r.initialLoss.toExponential(3)} -> ${r.finalLoss.toExponential(3)} in ${r.iterations} iterations; gradient vs central differences ${r.gradcheck.maxRelErr.toExponential(2)}`,
  );
  log('  more: npx impulse example cloth-throw | box-toss | terrain-id');
  return { bounce: { initialLoss: r.initialLoss, finalLoss: r.finalLoss, iterations: r.iterations, gradcheckMaxRelErr: r.gradcheck.maxRelErr } };
}

/** Implicit layers on the seed documents' worked examples. */
function implicitLayers(log: (s: string) => void): Record<string, unknown> {
  log('Implicit layers (gradients by the implicit function theorem)');
  // argmin_x sin(x w) at w = 2 from x0 = 0: x* = -pi/4, dx*/dw = pi/8 (seed 002)
  const w = tensor([2]).requireGrad();
  const { x } = argmin((xv, [wv]) => sum(sin(mul(xv, wv!))), [w], tensor([-0.5]));
  const [dxdw] = gradients(x, [w]);
  log(`  argmin sin(x w) at w = 2: x* = ${x.data[0]!.toFixed(4)} (-pi/4), dx*/dw = ${dxdw!.data[0]!.toFixed(4)} (pi/8 = 0.3927)`);
  // QP: min 1/2 |x|^2 - p'x s.t. x <= 1: a batch of 3, active where p > 1
  const p = tensor([
    [0.5, 2.0],
    [3.0, -1.0],
    [0.2, 0.3],
  ]).requireGrad();
  const res = qp({ Q: eye(2), p: mul(p, -1), G: eye(2), h: tensor([1, 1]) });
  const [gp] = gradients(sum(res.x), [p]);
  log(`  QP batch of 3: x* = ${JSON.stringify(res.x.toArray())}, d sum(x*)/dp = ${JSON.stringify(roundNested(gp!.toArray()))} (0 on active bounds)`);
  // ODE: Lorenz (10, 28, 8/3) from (1, 1, 1) to t = 0.5, adjoint gradient of |y(0.5)|^2 w.r.t. the parameters
  const theta = tensor([10, 28, 8 / 3]).requireGrad();
  const lorenz = (_t: Tensor, y: Tensor, [th]: readonly Tensor[]): Tensor => {
    const [y0, y1, y2] = split(y, 3, 0);
    const [s, r, b] = split(th!, 3, 0);
    return concat([mul(s!, sub(y1!, y0!)), sub(mul(y0!, sub(r!, y2!)), y1!), sub(mul(y0!, y1!), mul(b!, y2!))], 0);
  };
  const sol = odeint(lorenz, tensor([1, 1, 1]), [0, 0.5], [theta], { rtol: 1e-9, atol: 1e-9 });
  const yT = slice(sol.y, [1, 0], [1, 3]);
  const [gth] = gradients(sum(mul(yT, yT)), [theta]);
  log(
    `  Lorenz y(0.5) = [${[...yT.data].map((v) => v.toFixed(4)).join(', ')}], d|y|^2/d(sigma, rho, beta) = [${[...gth!.data].map((v) => v.toFixed(3)).join(', ')}] (adjoint, ${sol.stats.nfeForward} + ${sol.stats.nfeBackward} evaluations)`,
  );
  return {
    argmin: { x: x.data[0], dxdw: dxdw!.data[0] },
    qp: { x: res.x.toArray(), dSumXdp: gp!.toArray() },
    lorenz: { yT: [...yT.data], grad: [...gth!.data] },
  };
}

/** The MPC layer on the standard pendulum: a batch of swing-ups and the implicit backward. */
function mpcLayer(log: (s: string) => void): Record<string, unknown> {
  log('Differentiable MPC (box-constrained iLQR, implicit backward of Amos et al.)');
  const rng = new Rng(0);
  const B = 16;
  const th = Array.from({ length: B }, () => rng.range(-Math.PI / 2, Math.PI / 2));
  const thdot = Array.from({ length: B }, () => rng.range(-1, 1));
  const theta = tensor([...PENDULUM.params]).requireGrad(); // (g, m, l)
  const { C, c } = pendulumCost();
  const t0 = performance.now();
  const r = mpc({
    dynamics: pendulum(theta),
    cost: quadCost(C, c),
    x_init: pendulumState(th, thdot),
    T: 20,
    u_lower: PENDULUM.u_lower,
    u_upper: PENDULUM.u_upper,
  });
  const [g] = gradients(sum(mul(r.u, r.u)), [theta]);
  const ms = performance.now() - t0;
  const converged = r.converged.filter(Boolean).length;
  const meanObjective = r.objective.data.reduce((a, b) => a + b, 0) / B;
  const meanIterations = r.iterations.reduce((a, b) => a + b, 0) / B;
  log(
    `  pendulum, batch ${B}, T = 20, |u| <= 2: ${converged}/${B} converged in ${meanIterations.toFixed(1)} iterations on average, mean objective ${meanObjective.toFixed(3)}; d sum(u^2)/d(g, m, l) = [${[...g!.data].map((v) => v.toFixed(3)).join(', ')}] (${ms.toFixed(0)} ms with the backward)`,
  );
  log('  more: npx impulse mpc imitate-pendulum | imitate-cartpole | drone | terrain-robot');
  return { pendulum: { batch: B, converged, meanIterations, meanObjective, dSumU2dTheta: [...g!.data] } };
}

/** The data layer on the bundled KITTI and ROS 2 samples. */
async function dataLayer(log: (s: string) => void): Promise<Record<string, unknown>> {
  log('Data: bundled KITTI 00 and a ROS 2 (MCAP) log');
  const dir = join(packageRoot(), 'examples', 'data') + sep;
  const gt = await readTrajectory(dir + 'KITTI_00_gt.txt', { timesFile: dir + 'KITTI_00_gt_times.txt' });
  const orb = await readTrajectory(dir + 'KITTI_00_ORB.txt');
  const ape = evaluateApe(gt, orb, { mode: 'se3' });
  log(`  APE of ORB-SLAM2 on KITTI 00 (${ape.setup.matches} poses, SE(3) alignment): rmse ${ape.stats.rmse.toFixed(3)} m, max ${ape.stats.max.toFixed(3)} m`);
  const trajs = await summarizeTrajectories(dir + 'nav2_turtlebot.mcap');
  const odom = trajs.find((t) => t.source === '/odom');
  if (odom) log(`  nav2_turtlebot.mcap /odom: ${odom.count} poses over ${odom.durationSec.toFixed(1)} s, ${odom.pathLength.toFixed(2)} m driven`);
  return { kittiOrbApe: ape.stats, odom };
}
