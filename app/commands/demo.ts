// `impulse demo` (what `npm start` runs): a tour of what Impulse can do today, on bundled
// defaults. It grows with every layer that lands.
import type { Command } from 'commander';
import { Rng, type Tensor, backward, gradcheck, hvp, matmul, mul, randn, sin, sub, sum, tanh, tensor, valueAndGrad } from '../../sim/core/index.ts';
import { lstsq } from '../../sim/linalg/index.ts';

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
  return out;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('tour of what Impulse does today, on bundled default data')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (opts: { json?: boolean }) => {
      const summary = await runDemo(opts.json ? () => {} : (s) => console.log(s));
      if (opts.json) console.log(JSON.stringify(summary, null, 1));
    });
}
