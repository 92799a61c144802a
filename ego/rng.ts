// A seeded random generator with a serialisable state (ego/): shuffles training windows and picks
// data-efficiency subsets. Its state is one 32-bit integer saved in every checkpoint, so a resumed
// run draws exactly the batches the uninterrupted run would have drawn (mulberry32).

/** mulberry32 with an exposed state. */
export class ShuffleRng {
  /** The full generator state (uint32). */
  state: number;
  constructor(seed: number) {
    this.state = (seed ^ 0x6d2b79f5) >>> 0;
  }
  /** Restores a generator from a saved `state`. */
  static fromState(state: number): ShuffleRng {
    const r = new ShuffleRng(0);
    r.state = state >>> 0;
    return r;
  }
  /** Uniform float in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }
  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }
}
