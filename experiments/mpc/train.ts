// Training helpers of the MPC experiments (mpc/): the Adam optimiser and a small float64 MLP
// written with the core's ops (the neural-network policy baseline of the imitation experiments).
import { Rng, Tensor, add, matmul, tanh } from '../sim/core/index.ts';

/** Adam (Kingma and Ba 2015) over leaf tensors, updating their data in place between steps. */
export class Adam {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;
  constructor(
    readonly params: readonly Tensor[],
    /** Learning rate (may be changed between steps for a schedule). */
    public lr = 1e-2,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    this.m = params.map((p) => new Float64Array(p.size));
    this.v = params.map((p) => new Float64Array(p.size));
  }

  /** One step with the given gradients (null: no update for that parameter). */
  step(grads: readonly (Tensor | null)[]): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      const m = this.m[i]!;
      const v = this.v[i]!;
      for (let j = 0; j < p.size; j++) {
        const gj = g.data[j]!;
        m[j] = this.beta1 * m[j]! + (1 - this.beta1) * gj;
        v[j] = this.beta2 * v[j]! + (1 - this.beta2) * gj * gj;
        p.data[j]! -= (this.lr * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + this.eps);
      }
    });
  }
}

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
