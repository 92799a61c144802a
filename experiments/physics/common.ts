// Shared pieces of the physics experiments (experiments/physics, outside the layers): the
// result shape, the optimisation loop (models' Adam on float64 leaves), the gradient check of an
// example's loss against central differences, and the fit-then-report loop every example runs.
import { Tensor, gradcheck, valueAndGrad, type GradcheckReport } from '../../sim/core/index.ts';
import { Adam } from '../../models/optim/index.ts';

/** What every example prints. */
export interface ExampleResult {
  example: string;
  initialLoss: number;
  finalLoss: number;
  iterations: number;
  /** finalLoss / initialLoss. */
  ratio: number;
  converged: boolean;
  /** The example's gradient at its initial guess against central differences. */
  gradcheck: { maxRelErr: number; maxAbsErr: number; eps: number; passed: boolean };
  wallMs: number;
  /** Example-specific results (recovered parameters, targets...). */
  details: Record<string, unknown>;
}

/** Options shared by the examples (tests run reduced versions). */
export interface ExampleOptions {
  /** Optimisation iterations (each example has its own default). */
  iterations?: number;
  /** Skip the gradient check (default false). */
  skipGradcheck?: boolean;
  /** Called after every iteration with the loss. */
  onIteration?: (i: number, loss: number) => void;
}

/**
 * Runs `iterations` optimizer steps on `loss(...params)`, keeping the best parameters seen
 * (restored at the end). Returns the initial and best loss.
 */
export function optimize(
  loss: (...xs: Tensor[]) => Tensor,
  params: Tensor[],
  iterations: number,
  update: (grads: Tensor[], i: number) => void,
  onIteration?: (i: number, loss: number) => void,
): { initialLoss: number; finalLoss: number; history: number[] } {
  const vg = valueAndGrad(loss);
  let best = Infinity;
  let bestData = params.map((p) => p.data.slice());
  const history: number[] = [];
  let initialLoss = NaN;
  for (let i = 0; i <= iterations; i++) {
    const [l, gs] = vg(...params);
    const v = l.item();
    if (i === 0) initialLoss = v;
    history.push(v);
    onIteration?.(i, v);
    if (v < best) {
      best = v;
      bestData = params.map((p) => p.data.slice());
    }
    if (i === iterations) break;
    update(gs, i);
  }
  params.forEach((p, k) => p.data.set(bestData[k]!));
  return { initialLoss, finalLoss: best, history };
}

/**
 * Gradient check of an example loss (central differences at step eps) at the project's bar,
 * 1e-6 relative. An example's loss runs through hundreds of stiff contact steps, so the
 * step matters: too small and the differences' roundoff (~1e-9 absolute) shows, too large
 * and their truncation error does; each example picks the step where both are small.
 */
export function checkExampleGradient(loss: (...xs: Tensor[]) => Tensor, inputs: Tensor[], eps: number): ExampleResult['gradcheck'] {
  const r: GradcheckReport = gradcheck(loss, inputs, { eps, rtol: 1e-6 });
  return { maxRelErr: r.maxRelErr, maxAbsErr: r.maxAbsErr, eps, passed: r.passed };
}

/** What `fitWithAdam` returns: the optimisation's losses and the gradient check. */
export interface ExampleFit {
  initialLoss: number;
  finalLoss: number;
  /** Optimizer steps taken. */
  iterations: number;
  /** The loss at every iteration (the initial guess first). */
  history: number[];
  gradcheck: ExampleResult['gradcheck'];
}

/**
 * The loop every example runs: `iterations` Adam steps (one learning rate per leaf) on
 * `loss(...params)`, leaving the best parameters seen in `params`, then the gradient check
 * of `loss` at `checkInputs()` (step `checkEps`; skipped, and reported as not passed, with
 * `skipGradcheck`). `opts.iterations` overrides `defaultIterations`.
 */
export function fitWithAdam(
  loss: (...xs: Tensor[]) => Tensor,
  params: Tensor[],
  lr: number[],
  defaultIterations: number,
  checkInputs: () => Tensor[],
  opts: ExampleOptions,
  checkEps = 1e-6,
): ExampleFit {
  const iterations = opts.iterations ?? defaultIterations;
  const adam = new Adam(params, lr, 0.9, 0.999, 1e-12);
  const { initialLoss, finalLoss, history } = optimize(loss, params, iterations, (g) => adam.step(g), opts.onIteration);
  const gradcheck = opts.skipGradcheck ? { maxRelErr: NaN, maxAbsErr: NaN, eps: 0, passed: false } : checkExampleGradient(loss, checkInputs(), checkEps);
  return { initialLoss, finalLoss, iterations, history, gradcheck };
}

/**
 * An example's result from its fit: converged means below 1% of the initial loss; wallMs
 * counts from `t0` (performance.now() at the example's start); `details` get the loss
 * history (every 10th iteration) appended as `lossHistory`.
 */
export function exampleResult(example: string, fit: ExampleFit, t0: number, details: Record<string, unknown>): ExampleResult {
  const { initialLoss, finalLoss, iterations, history, gradcheck } = fit;
  return {
    example,
    initialLoss,
    finalLoss,
    iterations,
    ratio: finalLoss / initialLoss,
    converged: finalLoss < 0.01 * initialLoss,
    gradcheck,
    wallMs: Math.round(performance.now() - t0),
    details: { ...details, lossHistory: history.filter((_, i) => i % 10 === 0) },
  };
}
