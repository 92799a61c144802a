// A TF buffer (data/, bottom layer): the transform between any two frames at any time from a tree of
// timestamped parent->child transforms (ROS /tf) and static ones (/tf_static). Translation is
// interpolated linearly and rotation by slerp between the samples bracketing the query time.

import { TfLookupError } from './errors.ts';
import { composePoses, invertPose, poseFromPositionQuat, quatSlerp, type Pose12 } from './se3.ts';

/** One transform T_parent_child: maps points in the child frame into the parent frame. */
export interface TransformStamped {
  parent: string;
  child: string;
  /** Time in seconds (ignored for static transforms). */
  time: number;
  translation: ArrayLike<number>;
  /** Unit quaternion [x, y, z, w]. */
  rotation: ArrayLike<number>;
}

interface Edge {
  parent: string;
  isStatic: boolean;
  times: number[];
  /** 7 numbers a sample: tx ty tz qx qy qz qw. */
  data: number[];
}

/** Options of {@link TfBuffer.lookup}. */
export interface TfLookupOptions {
  /** Accept query times up to this many seconds outside an edge's data range (the end sample is used). Default 0. */
  tolerance?: number;
}

/** A buffer of transforms answering "where is frame A in frame B at time t". */
export class TfBuffer {
  private edges = new Map<string, Edge>();

  /** Adds a transform; `isStatic` transforms hold at all times. A frame with two different parents is an error. */
  add(tf: TransformStamped, isStatic = false): void {
    if (tf.parent === tf.child) throw new TfLookupError(`transform from '${tf.child}' to itself`);
    let e = this.edges.get(tf.child);
    if (e && e.parent !== tf.parent) throw new TfLookupError(`frame '${tf.child}' has two parents: '${e.parent}' and '${tf.parent}'`);
    const q = tf.rotation;
    const n = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!);
    if (!(n > 1e-9)) throw new TfLookupError(`transform '${tf.parent}' -> '${tf.child}' at t=${tf.time} has a zero-norm rotation`);
    const sample = [tf.translation[0]!, tf.translation[1]!, tf.translation[2]!, q[0]! / n, q[1]! / n, q[2]! / n, q[3]! / n];
    if (!e) {
      e = { parent: tf.parent, isStatic, times: [], data: [] };
      this.edges.set(tf.child, e);
    }
    if (isStatic) {
      e.isStatic = true;
      e.times = [0];
      e.data = sample;
      return;
    }
    const t = tf.time;
    const times = e.times;
    if (times.length === 0 || t >= times[times.length - 1]!) {
      if (times.length > 0 && t === times[times.length - 1]) {
        e.data.splice(e.data.length - 7, 7, ...sample);
        return;
      }
      times.push(t);
      e.data.push(...sample);
      return;
    }
    let lo = 0,
      hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    if (times[lo] === t) {
      e.data.splice(7 * lo, 7, ...sample);
      return;
    }
    times.splice(lo, 0, t);
    e.data.splice(7 * lo, 0, ...sample);
  }

  /** All frames known to the buffer. */
  frames(): string[] {
    const s = new Set<string>();
    for (const [child, e] of this.edges) {
      s.add(child);
      s.add(e.parent);
    }
    return [...s].sort();
  }

  /** Parent of a frame, or undefined for a root. */
  parentOf(frame: string): string | undefined {
    return this.edges.get(frame)?.parent;
  }

  /** Time range [first, last] of a non-static edge (child frame), or undefined. */
  timeRange(child: string): [number, number] | undefined {
    const e = this.edges.get(child);
    if (!e || e.isStatic || e.times.length === 0) return undefined;
    return [e.times[0]!, e.times[e.times.length - 1]!];
  }

  /** Sample times of a non-static edge (child frame). */
  sampleTimes(child: string): number[] {
    const e = this.edges.get(child);
    return e && !e.isStatic ? e.times.slice() : [];
  }

  private chain(frame: string): string[] {
    const out = [frame];
    const seen = new Set(out);
    for (let f = this.edges.get(frame)?.parent; f !== undefined; f = this.edges.get(f)?.parent) {
      if (seen.has(f)) throw new TfLookupError(`the TF tree has a cycle through frame '${f}'`);
      out.push(f);
      seen.add(f);
    }
    return out;
  }

  private edgeAt(child: string, time: number | undefined, opts: TfLookupOptions): Pose12 {
    const e = this.edges.get(child)!;
    const d = e.data;
    if (e.isStatic) return poseFromPositionQuat(d.slice(0, 3), d.slice(3, 7));
    const ts = e.times;
    const tol = opts.tolerance ?? 0;
    const last = ts.length - 1;
    if (time === undefined) return poseFromPositionQuat(d.slice(7 * last, 7 * last + 3), d.slice(7 * last + 3, 7 * last + 7));
    if (time < ts[0]! - tol || time > ts[last]! + tol) {
      const dir = time < ts[0]! ? 'past' : 'future';
      throw new TfLookupError(`extrapolation into the ${dir}: '${e.parent}' -> '${child}' has data from t=${ts[0]} to t=${ts[last]}, asked t=${time}`);
    }
    if (time <= ts[0]!) return poseFromPositionQuat(d.slice(0, 3), d.slice(3, 7));
    if (time >= ts[last]!) return poseFromPositionQuat(d.slice(7 * last, 7 * last + 3), d.slice(7 * last + 3, 7 * last + 7));
    let lo = 0,
      hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= time) lo = mid;
      else hi = mid;
    }
    const u = (time - ts[lo]!) / (ts[hi]! - ts[lo]!);
    const a = 7 * lo,
      b = 7 * hi;
    const p = [0, 1, 2].map((k) => d[a + k]! + u * (d[b + k]! - d[a + k]!));
    const q = quatSlerp(d.slice(a + 3, a + 7), d.slice(b + 3, b + 7), u);
    return poseFromPositionQuat(p, q);
  }

  /**
   * T_target_source at `time` (seconds; undefined = latest sample of every edge): the pose of the
   * source frame in the target frame (as tf2's lookupTransform(target, source, time)). Throws
   * {@link TfLookupError} naming the unknown frame, the missing link, or the extrapolation.
   */
  lookup(target: string, source: string, time?: number, opts: TfLookupOptions = {}): Pose12 {
    const known = new Set(this.frames());
    for (const f of [target, source]) {
      if (!known.has(f)) throw new TfLookupError(`unknown frame '${f}' (known frames: ${[...known].join(', ') || 'none'})`);
    }
    const cs = this.chain(source);
    const ct = this.chain(target);
    const common = cs.find((f) => ct.includes(f));
    if (common === undefined) {
      const rs = cs[cs.length - 1]!,
        rt = ct[ct.length - 1]!;
      throw new TfLookupError(
        `frames '${target}' and '${source}' are not connected: '${source}' chains up to '${rs}' (${cs.join(' -> ')}), '${target}' chains up to '${rt}' (${ct.join(' -> ')}); missing link between '${rt}' and '${rs}'`,
      );
    }
    const up = (chain: string[]): Pose12 => {
      // T_common_frame = T_common_.. * ... * T_parent_frame
      let T = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
      for (let k = chain.indexOf(common) - 1; k >= 0; k--) {
        const E = this.edgeAt(chain[k]!, time, opts);
        const out = new Float64Array(12);
        composePoses(T, 0, E, 0, out, 0);
        T = out;
      }
      return T;
    };
    const Ts = up(cs);
    const Tt = up(ct);
    const inv = new Float64Array(12);
    invertPose(Tt, 0, inv, 0);
    const out = new Float64Array(12);
    composePoses(inv, 0, Ts, 0, out, 0);
    return out;
  }
}
