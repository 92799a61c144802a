// The Adam optimiser (Kingma and Ba 2015) over float64 leaf tensors of the core's tape: the
// one optimiser every float64 experiment and example uses (models layer).
import type { Tensor } from '../../sim/core/index.ts';

/**
 * Adam over leaf tensors, updating their data in place (they stay leaves).
 *
 * @example
 * const x = tensor([3, -2]).requireGrad();
 * const opt = new Adam([x], 0.1);
 * for (let i = 0; i < 200; i++) opt.step(gradients(sum(square(x)), [x]));
 */
export class Adam {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;
  /**
   * @param params the leaves to optimise
   * @param lr learning rate: one for all leaves, or one per leaf (may be changed between steps for a schedule)
   * @param beta1 decay of the first-moment average
   * @param beta2 decay of the second-moment average
   * @param eps added to the root of the second moment
   */
  constructor(
    readonly params: readonly Tensor[],
    public lr: number | readonly number[] = 1e-2,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    if (Array.isArray(lr) && lr.length !== params.length)
      throw new Error(`Adam: lr has ${lr.length} entries for ${params.length} parameters (give one learning rate, or one per parameter)`);
    for (const [name, x] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const)
      if (!(x >= 0 && x < 1)) throw new Error(`Adam: ${name} must be in [0, 1), got ${x}`);
    if (!(eps > 0)) throw new Error(`Adam: eps must be positive, got ${eps}`);
    this.m = params.map((p) => new Float64Array(p.size));
    this.v = params.map((p) => new Float64Array(p.size));
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** One step with the given gradients, one per parameter (null: no update for that parameter). */
  step(grads: readonly (Tensor | null | undefined)[]): void {
    if (grads.length !== this.params.length) throw new Error(`Adam.step: ${grads.length} gradients for ${this.params.length} parameters`);
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      if (g.size !== p.size) throw new Error(`Adam.step: gradient ${i} has ${g.size} entries, parameter ${i} has ${p.size}`);
      const lr = typeof this.lr === 'number' ? this.lr : this.lr[i]!;
      const m = this.m[i]!;
      const v = this.v[i]!;
      for (let j = 0; j < p.size; j++) {
        const gj = g.data[j]!;
        m[j] = this.beta1 * m[j]! + (1 - this.beta1) * gj;
        v[j] = this.beta2 * v[j]! + (1 - this.beta2) * gj * gj;
        p.data[j] = p.data[j]! - (lr * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + this.eps);
      }
    });
  }
}
