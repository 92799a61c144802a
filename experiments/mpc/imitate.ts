// Imitation-learning experiments of the MPC layer (mpc/), after Amos et al. 2018 section 5:
// an expert MPC with the true parameters produces control sequences from sampled initial
// states; a learner MPC starting from wrong dynamics parameters is trained with Adam through
// the MPC layer (implicit backward) to imitate them; a neural-network policy trained on the
// same data (and on more) is the sample-efficiency baseline.
import { Rng, Tensor, backward, exp, gradients, mean, mul, add, noGrad, reshape, square, sub, tensor } from '../../sim/core/index.ts';
import {
  cartpole,
  cartpoleCost,
  cartpoleState,
  CARTPOLE,
  quadCost,
  type Dynamics,
  mpc,
  pendulum,
  pendulumCost,
  pendulumState,
  PENDULUM,
} from '../../mpc/index.ts';
import { Adam } from '../../models/optim/index.ts';
import { Mlp } from './train.ts';

/** An imitation problem: dynamics family, cost, bounds, true and initial parameters. */
export interface ImitationSpec {
  name: string;
  T: number;
  makeDynamics(theta: Tensor): Dynamics;
  cost: { C: Tensor; c: Tensor };
  u_lower: number;
  u_upper: number;
  paramNames: string[];
  trueParams: number[];
  initParams: number[];
  /** Which parameters the learner adjusts (the others are held at their true values). */
  learn: boolean[];
  /** Samples N initial states [N, nx]. */
  sample(rng: Rng, N: number): Tensor;
  /** Default Adam schedule of the learner for this problem. */
  schedule: { epochs: number; lr: number; lrFinal: number };
}

/** Options of an imitation run. */
export interface ImitationOptions {
  /** Training set size of the MPC learner (default 16). */
  nTrain?: number;
  /** Held-out test set size (default 64). */
  nTest?: number;
  /** Adam epochs (full batch) of the MPC learner and its learning rate on log-parameters (defaults: the spec's schedule). */
  epochs?: number;
  lr?: number;
  /** The learning rate decays exponentially to lr * lrFinal at the last epoch (default: the spec's schedule). */
  lrFinal?: number;
  /** Training set sizes of the neural-network policy (default [nTrain, 4 nTrain, 16 nTrain]). */
  nnSizes?: number[];
  /** Adam steps (full batch) of each network (default 1000), hidden width (default 32). */
  nnEpochs?: number;
  nnHidden?: number;
  seed?: number;
  /** Called after each MPC-learner epoch (for progress output). */
  onEpoch?: (row: EpochRow) => void;
}

/** One epoch of the MPC learner. */
export interface EpochRow {
  epoch: number;
  /** Mean squared control error on the training and test sets. */
  trainLoss: number;
  testLoss: number;
  /** ||theta - theta*||_2 over the learned parameters, and the largest relative error. */
  paramError: number;
  paramRelError: number;
  params: number[];
  /** Learner solves that did not converge this epoch (train + test). */
  nonConverged: number;
}

/** Result of an imitation run. */
export interface ImitationReport {
  problem: string;
  T: number;
  nTrain: number;
  nTest: number;
  paramNames: string[];
  learned: string[];
  trueParams: number[];
  initParams: number[];
  finalParams: number[];
  expertNonConverged: number;
  epochs: EpochRow[];
  nn: { nTrain: number; trainLoss: number; testLoss: number }[];
  summary: {
    mpcTestLoss: number;
    mpcParamRelError: number;
    initialTestLoss: number;
    nnTestLossSameData: number;
    bestNnTestLoss: number;
    bestNnTrainSize: number;
    /** Smallest NN training set whose test loss is within 10x of the MPC learner's (null: none tried). */
    nnSamplesToMatch: number | null;
  };
  timeMs: { expert: number; mpcLearner: number; nn: number };
}

function bounds(spec: ImitationSpec) {
  return { u_lower: spec.u_lower, u_upper: spec.u_upper };
}

function imitationLoss(u: Tensor, uStar: Tensor): Tensor {
  return mean(square(sub(u, uStar)));
}

/** Runs an imitation experiment (see the file header). Deterministic for a seed. */
export function runImitation(spec: ImitationSpec, opts: ImitationOptions = {}): ImitationReport {
  const nTrain = opts.nTrain ?? 16;
  const nTest = opts.nTest ?? 64;
  const epochs = opts.epochs ?? spec.schedule.epochs;
  const lr = opts.lr ?? spec.schedule.lr;
  const lrFinal = opts.lrFinal ?? spec.schedule.lrFinal;
  const nnSizes = opts.nnSizes ?? [nTrain, 4 * nTrain, 16 * nTrain];
  const nnEpochs = opts.nnEpochs ?? 1000;
  const nnHidden = opts.nnHidden ?? 32;
  const rng = new Rng(opts.seed ?? 0);
  const { C, c } = spec.cost;
  const cost = quadCost(C, c);
  const T = spec.T;
  const nMax = Math.max(nTrain, ...nnSizes);

  // expert data
  let t0 = performance.now();
  const xTrainAll = spec.sample(rng, nMax);
  const xTest = spec.sample(rng, nTest);
  // expert and learner solve alike; a few cartpole swing-ups need over 50 iterations
  const solver = { maxIter: 200 };
  const expert = (x: Tensor) => mpc({ dynamics: spec.makeDynamics(tensor(spec.trueParams)), cost, x_init: x, T, ...bounds(spec) }, solver);
  const eTrain = expert(xTrainAll);
  const eTest = expert(xTest);
  const expertNonConverged = [...eTrain.converged, ...eTest.converged].filter((v) => !v).length;
  const uTrainAll = eTrain.u;
  const uTest = eTest.u;
  const nx = xTrainAll.shape[1]!;
  const nu = uTrainAll.shape[2]!;
  const take = (x: Tensor, N: number): Tensor => new Tensor(x.data.slice(0, (N * x.size) / x.shape[0]!), [N, ...x.shape.slice(1)]);
  const xTrain = take(xTrainAll, nTrain);
  const uTrain = take(uTrainAll, nTrain);
  const tExpert = performance.now() - t0;

  // MPC learner: theta = exp(log theta) on the learned entries, true values elsewhere
  t0 = performance.now();
  const P = spec.trueParams.length;
  const logTheta = tensor(spec.initParams.map((v) => Math.log(v))).requireGrad();
  const maskD = Float64Array.from(spec.learn, (l) => (l ? 1 : 0));
  const fixedD = Float64Array.from(spec.trueParams, (v, i) => (spec.learn[i] ? 0 : v));
  const theta = (): Tensor => add(mul(new Tensor(maskD, [P]), exp(logTheta)), new Tensor(fixedD, [P]));
  const opt = new Adam([logTheta], lr);
  const rows: EpochRow[] = [];
  const evaluate = (epoch: number, trainLoss: number, nonConvTrain: number): EpochRow => {
    const th = noGrad(theta);
    const r = noGrad(() => mpc({ dynamics: spec.makeDynamics(th), cost, x_init: xTest, T, ...bounds(spec) }, solver));
    const testLoss = noGrad(() => imitationLoss(r.u, uTest)).item();
    let e2 = 0;
    let rel = 0;
    spec.learn.forEach((l, i) => {
      if (!l) return;
      const d = th.data[i]! - spec.trueParams[i]!;
      e2 += d * d;
      rel = Math.max(rel, Math.abs(d) / Math.abs(spec.trueParams[i]!));
    });
    const row = {
      epoch,
      trainLoss,
      testLoss,
      paramError: Math.sqrt(e2),
      paramRelError: rel,
      params: Array.from(th.data),
      nonConverged: nonConvTrain + r.converged.filter((v) => !v).length,
    };
    opts.onEpoch?.(row);
    return row;
  };
  for (let epoch = 0; epoch <= epochs; epoch++) {
    const th = theta();
    const r = mpc({ dynamics: spec.makeDynamics(th), cost, x_init: xTrain, T, ...bounds(spec) }, solver);
    const loss = imitationLoss(r.u, uTrain);
    const nonConv = r.converged.filter((v) => !v).length;
    rows.push(evaluate(epoch, loss.item(), nonConv));
    if (epoch === epochs) break;
    const [g] = gradients(loss, [logTheta]);
    opt.lr = lr * lrFinal ** (epoch / Math.max(1, epochs - 1));
    opt.step([g!]);
  }
  const tLearner = performance.now() - t0;

  // neural-network policy x_init -> u_{0..T-1}
  t0 = performance.now();
  const nn: ImitationReport['nn'] = [];
  const uScale = Math.max(Math.abs(spec.u_lower), Math.abs(spec.u_upper));
  for (const N of nnSizes) {
    const net = new Mlp([nx, nnHidden, nnHidden, T * nu], new Rng((opts.seed ?? 0) + 1000 + N));
    const xs = take(xTrainAll, N);
    const us = reshape(take(uTrainAll, N), [N, T * nu]);
    const nopt = new Adam(net.params, 3e-3);
    // the network predicts u / uScale (targets of order one; the cartpole's forces reach 100)
    const policy = (x: Tensor): Tensor => mul(net.forward(x), uScale);
    let trainLoss = NaN;
    for (let it = 0; it < nnEpochs; it++) {
      const loss = imitationLoss(policy(xs), us);
      trainLoss = loss.item();
      for (const p of net.params) p.zeroGrad();
      backward(loss);
      nopt.step(net.params.map((p) => p.grad));
    }
    const testLoss = noGrad(() => imitationLoss(policy(xTest), reshape(uTest, [nTest, T * nu]))).item();
    nn.push({ nTrain: N, trainLoss, testLoss });
  }
  const tNN = performance.now() - t0;

  const last = rows[rows.length - 1]!;
  const best = nn.reduce((a, b) => (b.testLoss < a.testLoss ? b : a));
  const match = nn.find((r) => r.testLoss <= 10 * Math.max(last.testLoss, 1e-12));
  return {
    problem: spec.name,
    T,
    nTrain,
    nTest,
    paramNames: spec.paramNames,
    learned: spec.paramNames.filter((_, i) => spec.learn[i]),
    trueParams: spec.trueParams,
    initParams: spec.initParams,
    finalParams: last.params,
    expertNonConverged,
    epochs: rows,
    nn,
    summary: {
      mpcTestLoss: last.testLoss,
      mpcParamRelError: last.paramRelError,
      initialTestLoss: rows[0]!.testLoss,
      nnTestLossSameData: nn.find((r) => r.nTrain === nTrain)?.testLoss ?? NaN,
      bestNnTestLoss: best.testLoss,
      bestNnTrainSize: best.nTrain,
      nnSamplesToMatch: match ? match.nTrain : null,
    },
    timeMs: { expert: tExpert, mpcLearner: tLearner, nn: tNN },
  };
}

/**
 * The pendulum imitation problem: T = 20, th ~ U(-pi/2, pi/2), thdot ~ U(-1, 1); the learner
 * adjusts (g, m) from (7, 1.6) (l is known: the optimal controls depend on g/l and m l^2 only,
 * so (g, m, l) together are not identifiable from controls).
 */
export function pendulumImitation(o: { thRange?: number; initParams?: number[] } = {}): ImitationSpec {
  const thRange = o.thRange ?? Math.PI / 2;
  return {
    name: 'pendulum',
    T: 20,
    makeDynamics: (theta) => pendulum(theta),
    cost: pendulumCost(),
    u_lower: PENDULUM.u_lower,
    u_upper: PENDULUM.u_upper,
    paramNames: ['g', 'm', 'l'],
    trueParams: [...PENDULUM.params],
    initParams: o.initParams ?? [7, 1.6, 1],
    learn: [true, true, false],
    schedule: { epochs: 150, lr: 0.1, lrFinal: 0.1 },
    sample(rng, N) {
      // item by item, so a prefix of a larger sample is the smaller sample
      const th: number[] = [];
      const thdot: number[] = [];
      for (let i = 0; i < N; i++) {
        th.push(rng.range(-thRange, thRange));
        thdot.push(rng.range(-1, 1));
      }
      return pendulumState(th, thdot);
    },
  };
}

/**
 * The cartpole imitation problem: T = 20, initial x, xdot ~ U(-0.5, 0.5), th ~ U(-pi/3, pi/3),
 * thdot ~ U(-2, 2) (`ranges` gives the half-widths); the learner adjusts all of
 * (g, m_cart, m_pole, l) from wrong values (m_pole is the least identifiable: fast pole motion
 * in the data makes it visible in the controls).
 */
export function cartpoleImitation(o: { ranges?: [number, number, number, number] } = {}): ImitationSpec {
  const range = o.ranges ?? [0.5, 0.5, Math.PI / 3, 2];
  return {
    name: 'cartpole',
    T: 20,
    makeDynamics: (theta) => cartpole(theta),
    cost: cartpoleCost(),
    u_lower: CARTPOLE.u_lower,
    u_upper: CARTPOLE.u_upper,
    paramNames: ['g', 'm_cart', 'm_pole', 'l'],
    trueParams: [...CARTPOLE.params],
    initParams: [7.5, 1.5, 0.15, 0.35],
    learn: [true, true, true, true],
    schedule: { epochs: 150, lr: 0.05, lrFinal: 1 },
    sample(rng, N) {
      // item by item, so a prefix of a larger sample is the smaller sample
      const cols: number[][] = [[], [], [], []];
      for (let i = 0; i < N; i++) range.forEach((r, k) => cols[k]!.push(rng.range(-r, r)));
      return cartpoleState(cols[0]!, cols[1]!, cols[2]!, cols[3]!);
    },
  };
}
