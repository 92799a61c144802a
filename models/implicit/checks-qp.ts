// Gradient checks of the QP layer (models/implicit) for `impulse gradcheck`: random strictly
// complementary problems (qp-random.ts), gradients of (x, lambda, nu) with respect to every
// one of Q, p, G, h, A, b against central differences at the default bar (rtol 1e-6).
import { Rng, Tensor, concat, matmul, matrixTranspose, reshape, registerGradcheck } from '../../sim/core/index.ts';
import { qp } from './qp.ts';
import { randomKktQP, type KnownQPSpec } from './qp-random.ts';

/** x, lambda and nu of the QP flattened into one vector: the function every check differentiates. */
function qpOutputs(Q: Tensor, p: Tensor, G: Tensor, h: Tensor, A: Tensor, b: Tensor): Tensor {
  const { x, lambda, nu } = qp({ Q, p, G, h, A, b });
  return concat([reshape(x, [-1]), reshape(lambda, [-1]), reshape(nu, [-1])], 0);
}

function named(t: Tensor, name: string): Tensor {
  t.name = name;
  return t;
}

function register(name: string, seed: number, spec: KnownQPSpec): void {
  registerGradcheck(name, () => {
    const P = randomKktQP(new Rng(seed), spec);
    return {
      fn: qpOutputs,
      inputs: [named(P.Q, 'Q'), named(P.p, 'p'), named(P.G, 'G'), named(P.h, 'h'), named(P.A, 'A'), named(P.b, 'b')],
    };
  });
}

// one problem, inequalities and equalities
register('implicit.qp.single', 11, { n: 5, m: 7, pe: 2, active: 2 });
// a batch where every input has its own values
register('implicit.qp.batched', 12, { n: 4, m: 6, pe: 1, active: 2, batch: 3 });
// shared Q, G, A (gradients summed over the batch), batched p, h, b: the OptNet setting
register('implicit.qp.shared_matrices', 13, { n: 4, m: 6, pe: 1, active: 2, batch: 3, shared: ['Q', 'G', 'A'] });
// shared h and b, batched Q, p, G, A
register('implicit.qp.shared_vectors', 14, { n: 4, m: 5, pe: 1, active: 1, batch: 3, shared: ['h', 'b'] });
// positive semidefinite, singular Q = Lq Lq' (rank 2 of 5) where the active constraints pin x
// down; differentiated through its factor Lq, since perturbing a singular Q entrywise makes it indefinite
registerGradcheck('implicit.qp.psd_q', () => {
  const P = randomKktQP(new Rng(15), { n: 5, m: 8, pe: 1, active: 3, rankQ: 2 });
  return {
    fn: (Lq: Tensor, p: Tensor, G: Tensor, h: Tensor, A: Tensor, b: Tensor) => qpOutputs(matmul(Lq, matrixTranspose(Lq)), p, G, h, A, b),
    inputs: [named(P.Lq, 'Lq'), named(P.p, 'p'), named(P.G, 'G'), named(P.h, 'h'), named(P.A, 'A'), named(P.b, 'b')],
  };
});
// inequalities only, n = 12: the reduced KKT system formed, factored and solved in the wasm kernels when they are active
register('implicit.qp.wasm_inequalities', 16, { n: 12, m: 14, pe: 0, active: 4 });
