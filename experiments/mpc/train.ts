// The small float64 MLP of the MPC imitation experiments (experiments/mpc), written with the
// core's ops: the neural-network policy baseline. Its optimiser is models' Adam.
import { Rng, Tensor, add, matmul, tanh } from '../../sim/core/index.ts';

/** A fully connected tanh network: sizes [in, hidden..., out]; Xavier-initialised from a seeded Rng. */
export class Mlp {
  readonly params: Tensor[] = [];
  constructor(
    readonly sizes: readonly number[],
    rng: Rng,
  ) {
    for (let i = 0; i + 1 < sizes.length; i++) {
      const a = sizes[i]!;
      const b = sizes[i + 1]!;
      const s = Math.sqrt(2 / (a + b));
      this.params.push(
        new Tensor(
          Float64Array.from(rng.normals(a * b), (v) => v * s),
          [a, b],
        ).requireGrad(),
      );
      this.params.push(new Tensor(new Float64Array(b), [b]).requireGrad());
    }
  }

  /** x [N, in] -> [N, out]. */
  forward(x: Tensor): Tensor {
    let h = x;
    const L = this.params.length / 2;
    for (let i = 0; i < L; i++) {
      h = add(matmul(h, this.params[2 * i]!), this.params[2 * i + 1]!);
      if (i + 1 < L) h = tanh(h);
    }
    return h;
  }
}
