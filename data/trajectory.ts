// The trajectory type of the data layer (data/, bottom layer): optional float64 timestamps (seconds,
// plus exact integer nanoseconds when the source had them), SE(3) poses as 3x4 row-major [R|t]
// blocks, optional linear/angular velocities. Immutable: every operation returns a new Trajectory.

import { NonFiniteValueError, ParseError, QuaternionNormError, TimestampOrderError } from './errors.ts';
import { composePoses, quatToRotation, rotationToQuat, type Pose12 } from './se3.ts';

/** Fields to build a {@link Trajectory}. `poses` holds 12 numbers per pose (3x4 row-major [R|t]). */
export interface TrajectoryInit {
  poses: Float64Array;
  /** Timestamps in seconds (non-decreasing), or null for pose lists without time (KITTI). */
  timestamps?: Float64Array | null;
  /** Exact timestamps in integer nanoseconds, when the source stores them (EuRoC, MCAP). */
  stampsNs?: BigInt64Array | null;
  /** Linear velocities, 3 per pose. */
  velocities?: Float64Array | null;
  /** Angular velocities, 3 per pose. */
  angularVelocities?: Float64Array | null;
  name?: string;
  /** Frame the poses are expressed in (e.g. `odom`). */
  frameId?: string;
  /** Frame the poses place (e.g. `base_link`). */
  childFrameId?: string;
  /** File the trajectory was read from (used in error messages). */
  source?: string;
}

/** A sequence of timestamped SE(3) poses. */
export class Trajectory {
  readonly poses: Float64Array;
  readonly timestamps: Float64Array | null;
  readonly stampsNs: BigInt64Array | null;
  readonly velocities: Float64Array | null;
  readonly angularVelocities: Float64Array | null;
  readonly name: string;
  readonly frameId: string;
  readonly childFrameId: string;
  readonly source: string;

  /**
   * Validates sizes, finiteness and time order (equal timestamps are allowed, decreasing ones are a
   * {@link TimestampOrderError} naming the pose index).
   */
  constructor(init: TrajectoryInit) {
    const n = init.poses.length / 12;
    const file = init.source;
    if (!Number.isInteger(n)) throw new ParseError(`poses array length ${init.poses.length} is not a multiple of 12`, { file });
    this.poses = init.poses;
    this.timestamps = init.timestamps ?? null;
    this.stampsNs = init.stampsNs ?? null;
    this.velocities = init.velocities ?? null;
    this.angularVelocities = init.angularVelocities ?? null;
    this.name = init.name ?? '';
    this.frameId = init.frameId ?? '';
    this.childFrameId = init.childFrameId ?? '';
    this.source = init.source ?? '';
    for (let i = 0; i < init.poses.length; i++) {
      if (!Number.isFinite(init.poses[i]!)) throw new NonFiniteValueError(`pose value ${init.poses[i]} is not finite`, { file, index: Math.floor(i / 12) });
    }
    const ts = this.timestamps;
    if (ts) {
      if (ts.length !== n) throw new ParseError(`${ts.length} timestamps for ${n} poses`, { file });
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(ts[i]!)) throw new NonFiniteValueError(`timestamp ${ts[i]} is not finite`, { file, index: i });
        if (i > 0 && ts[i]! < ts[i - 1]!) throw new TimestampOrderError(`timestamp ${ts[i]} is before the previous one ${ts[i - 1]}`, { file, index: i });
      }
    }
    if (this.stampsNs && this.stampsNs.length !== n) throw new ParseError(`${this.stampsNs.length} ns timestamps for ${n} poses`, { file });
    for (const [label, v] of [
      ['velocities', this.velocities],
      ['angular velocities', this.angularVelocities],
    ] as const) {
      if (!v) continue;
      if (v.length !== 3 * n) throw new ParseError(`${v.length / 3} ${label} for ${n} poses`, { file });
      for (let i = 0; i < v.length; i++)
        if (!Number.isFinite(v[i]!)) throw new NonFiniteValueError(`${label} value is not finite`, { file, index: Math.floor(i / 3) });
    }
  }

  /**
   * Builds a trajectory from positions (3 per pose) and quaternions [x, y, z, w] (4 per pose). Each
   * quaternion is normalised (as evo does); a zero-norm one is a {@link QuaternionNormError}.
   */
  static fromPositionsQuaternions(positions: ArrayLike<number>, quaternions: ArrayLike<number>, init: Omit<TrajectoryInit, 'poses'> = {}): Trajectory {
    const n = positions.length / 3;
    if (quaternions.length !== 4 * n) throw new ParseError(`${quaternions.length / 4} quaternions for ${n} positions`, { file: init.source });
    const poses = new Float64Array(12 * n);
    for (let i = 0; i < n; i++) {
      const qx = quaternions[4 * i]!,
        qy = quaternions[4 * i + 1]!,
        qz = quaternions[4 * i + 2]!,
        qw = quaternions[4 * i + 3]!;
      checkQuaternion(qx, qy, qz, qw, { file: init.source, index: i });
      quatToRotation(qx, qy, qz, qw, poses, 12 * i, 4);
      poses[12 * i + 3] = positions[3 * i]!;
      poses[12 * i + 7] = positions[3 * i + 1]!;
      poses[12 * i + 11] = positions[3 * i + 2]!;
    }
    return new Trajectory({ ...init, poses });
  }

  /** Number of poses. */
  get length(): number {
    return this.poses.length / 12;
  }

  /** Pose i as a fresh 12-number [R|t] block. */
  pose(i: number): Pose12 {
    return this.poses.slice(12 * i, 12 * i + 12);
  }

  /** Position of pose i. */
  position(i: number): [number, number, number] {
    const o = 12 * i;
    return [this.poses[o + 3]!, this.poses[o + 7]!, this.poses[o + 11]!];
  }

  /** Orientation of pose i as a unit quaternion [x, y, z, w] with w >= 0. */
  quaternion(i: number): [number, number, number, number] {
    return rotationToQuat(this.poses, 12 * i, 4);
  }

  /** All positions, 3 per pose. */
  positions(): Float64Array {
    const n = this.length;
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      out[3 * i] = this.poses[12 * i + 3]!;
      out[3 * i + 1] = this.poses[12 * i + 7]!;
      out[3 * i + 2] = this.poses[12 * i + 11]!;
    }
    return out;
  }

  /** Length of the path through all positions (sum of consecutive distances), metres. */
  pathLength(): number {
    let L = 0;
    for (let i = 1; i < this.length; i++) {
      const a = 12 * (i - 1),
        b = 12 * i;
      L += Math.hypot(this.poses[b + 3]! - this.poses[a + 3]!, this.poses[b + 7]! - this.poses[a + 7]!, this.poses[b + 11]! - this.poses[a + 11]!);
    }
    return L;
  }

  /** Copy with the fields in `patch` replaced. */
  with(patch: Partial<TrajectoryInit>): Trajectory {
    return new Trajectory({ ...this.init(), ...patch });
  }

  /** The fields of this trajectory as a {@link TrajectoryInit}. */
  init(): TrajectoryInit {
    return {
      poses: this.poses,
      timestamps: this.timestamps,
      stampsNs: this.stampsNs,
      velocities: this.velocities,
      angularVelocities: this.angularVelocities,
      name: this.name,
      frameId: this.frameId,
      childFrameId: this.childFrameId,
      source: this.source,
    };
  }

  /** The poses at the given indices (in that order), with their timestamps and velocities (evo's reduce_to_ids). */
  select(ids: ArrayLike<number>): Trajectory {
    const m = ids.length;
    const pick = (src: Float64Array | null, w: number): Float64Array | null => {
      if (!src) return null;
      const out = new Float64Array(w * m);
      for (let k = 0; k < m; k++) out.set(src.subarray(w * ids[k]!, w * ids[k]! + w), w * k);
      return out;
    };
    let ns: BigInt64Array | null = null;
    if (this.stampsNs) {
      ns = new BigInt64Array(m);
      for (let k = 0; k < m; k++) ns[k] = this.stampsNs[ids[k]!]!;
    }
    return new Trajectory({
      ...this.init(),
      poses: pick(this.poses, 12)!,
      timestamps: pick(this.timestamps, 1),
      stampsNs: ns,
      velocities: pick(this.velocities, 3),
      angularVelocities: pick(this.angularVelocities, 3),
    });
  }

  /** Every pose left-multiplied by T (evo's `transform`, right_mul=False). Velocities are dropped (their frame changes). */
  transformed(T: ArrayLike<number>): Trajectory {
    const n = this.length;
    const out = new Float64Array(12 * n);
    for (let i = 0; i < n; i++) composePoses(T, 0, this.poses, 12 * i, out, 12 * i);
    return this.with({ poses: out, velocities: null, angularVelocities: null });
  }

  /** Positions multiplied by s (evo's `scale`). */
  scaled(s: number): Trajectory {
    const out = this.poses.slice();
    for (let i = 0; i < this.length; i++) {
      out[12 * i + 3]! *= s;
      out[12 * i + 7]! *= s;
      out[12 * i + 11]! *= s;
    }
    return this.with({ poses: out, velocities: this.velocities ? this.velocities.map((v) => v * s) : null });
  }
}

/** Throws {@link QuaternionNormError} for a quaternion whose squared norm is below 4 eps (evo treats such a quaternion as identity silently). */
export function checkQuaternion(x: number, y: number, z: number, w: number, loc: { file?: string; line?: number; index?: number }): void {
  const n2 = x * x + y * y + z * z + w * w;
  if (!(n2 >= 4 * Number.EPSILON)) throw new QuaternionNormError(`quaternion (${x}, ${y}, ${z}, ${w}) has zero norm`, loc);
}
