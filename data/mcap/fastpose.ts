// Fast pose readers for ROS 2 CDR messages (data/, bottom layer): read only the stamp, frame ids,
// pose (and twist) of nav_msgs/Odometry, geometry_msgs/PoseStamped, PoseWithCovarianceStamped and
// tf2_msgs/TFMessage straight from the CDR bytes, skipping the generic decoder. Used only when the
// schema text in the file has exactly the standard field layout; otherwise the generic path runs.

import { parse as parseRosMsg } from '@foxglove/rosmsg';
import type { MessageDefinition } from '@foxglove/message-definition';
import { MessageDecodeError } from '../errors.ts';
import { nsToSec } from './reader.ts';
import type { PoseSample, TransformSample } from './extract.ts';

const TIME = 'time'; // rosmsg parses builtin_interfaces/Time as the primitive time (int32 sec, uint32 nanosec)
const HEADER = `std_msgs/Header{stamp:${TIME},frame_id:string}`;
const POINT = 'geometry_msgs/Point{x:float64,y:float64,z:float64}';
const VEC3 = 'geometry_msgs/Vector3{x:float64,y:float64,z:float64}';
const QUAT = 'geometry_msgs/Quaternion{x:float64,y:float64,z:float64,w:float64}';
const POSE = `geometry_msgs/Pose{position:${POINT},orientation:${QUAT}}`;
const POSE_COV = `geometry_msgs/PoseWithCovariance{pose:${POSE},covariance:float64[36]}`;
const TWIST_COV = `geometry_msgs/TwistWithCovariance{twist:geometry_msgs/Twist{linear:${VEC3},angular:${VEC3}},covariance:float64[36]}`;
const TRANSFORM = `geometry_msgs/Transform{translation:${VEC3},rotation:${QUAT}}`;

/** Expected layout signatures of the message types read by the fast path. */
const SIGNATURES: Record<string, string> = {
  'nav_msgs/Odometry': `{header:${HEADER},child_frame_id:string,pose:${POSE_COV},twist:${TWIST_COV}}`,
  'geometry_msgs/PoseStamped': `{header:${HEADER},pose:${POSE}}`,
  'geometry_msgs/PoseWithCovarianceStamped': `{header:${HEADER},pose:${POSE_COV}}`,
  'tf2_msgs/TFMessage': `{transforms:geometry_msgs/TransformStamped{header:${HEADER},child_frame_id:string,transform:${TRANSFORM}}[]}`,
};

/** A canonical text of a message definition and its nested types (to recognise known layouts). */
export function signature(defs: MessageDefinition[], def: MessageDefinition, depth = 0): string {
  if (depth > 8) return '?';
  const fields = def.definitions
    .filter((f) => !f.isConstant)
    .map((f) => {
      let t = f.type;
      if (f.isComplex) {
        const sub = defs.find((d) => d.name === f.type);
        t = sub ? `${f.type.replace('/msg/', '/')}${signature(defs, sub, depth + 1)}` : `${f.type}?`;
      }
      const arr = f.isArray ? `[${f.arrayLength ?? ''}]` : '';
      return `${f.name}:${t}${arr}`;
    });
  return `{${fields.join(',')}}`;
}

/** Whether a ros2msg schema text has exactly the standard layout of `name` (pkg/Type). */
export function hasStandardLayout(name: string, schemaText: string): boolean {
  const want = SIGNATURES[name];
  if (!want) return false;
  try {
    const defs = parseRosMsg(schemaText, { ros2: true });
    return signature(defs, defs[0]!) === want;
  } catch {
    return false;
  }
}

/** A CDR (XCDR1, plain) cursor: alignment is relative to the byte after the 4-byte encapsulation header. */
class Cdr {
  private dv: DataView;
  private le: boolean;
  pos = 4;
  constructor(private readonly b: Uint8Array) {
    if (b.length < 4) throw new RangeError('message shorter than the CDR header');
    const kind = b[1]!;
    if (b[0] !== 0 || (kind !== 0 && kind !== 1)) throw new RangeError(`unsupported CDR encapsulation 0x${b[0]!.toString(16)}${kind.toString(16)}`);
    this.le = kind === 1;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private align(n: number): void {
    const r = (this.pos - 4) % n;
    if (r) this.pos += n - r;
  }
  i32(): number {
    this.align(4);
    const v = this.dv.getInt32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.align(4);
    const v = this.dv.getUint32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.align(8);
    const v = this.dv.getFloat64(this.pos, this.le);
    this.pos += 8;
    return v;
  }
  skipF64(n: number): void {
    this.align(8);
    this.pos += 8 * n;
    if (this.pos > this.b.length) throw new RangeError('message too short');
  }
  str(): string {
    const n = this.u32();
    if (this.pos + n > this.b.length) throw new RangeError('string runs past the message');
    const start = this.pos;
    const end = n > 0 ? start + n - 1 : start; // drop the terminating NUL
    this.pos += n;
    let s = '';
    for (let i = start; i < end; i++) {
      const ch = this.b[i]!;
      if (ch >= 0x80) return new TextDecoder().decode(this.b.subarray(start, end));
      s += String.fromCharCode(ch);
    }
    return s;
  }
  stampNs(): bigint {
    const sec = this.i32();
    const nsec = this.u32();
    return BigInt(sec) * 1000000000n + BigInt(nsec);
  }
}

function vec(c: Cdr): [number, number, number] {
  return [c.f64(), c.f64(), c.f64()];
}
function quat(c: Cdr): [number, number, number, number] {
  return [c.f64(), c.f64(), c.f64(), c.f64()];
}

/** Reads the pose of a CDR message of a standard pose type (`pkg/Type` name), or undefined for other types. */
export function fastPoseReader(name: string): ((data: Uint8Array) => PoseSample) | undefined {
  switch (name) {
    case 'nav_msgs/Odometry':
      return (data) => {
        const c = new Cdr(data);
        const stampNs = c.stampNs();
        const frameId = c.str();
        const childFrameId = c.str();
        const position = vec(c);
        const orientation = quat(c);
        c.skipF64(36);
        const velocity = vec(c);
        const angularVelocity = vec(c);
        c.skipF64(36);
        return { stampNs, frameId, childFrameId, position, orientation, velocity, angularVelocity };
      };
    case 'geometry_msgs/PoseStamped':
    case 'geometry_msgs/PoseWithCovarianceStamped':
      return (data) => {
        const c = new Cdr(data);
        const stampNs = c.stampNs();
        const frameId = c.str();
        const position = vec(c);
        const orientation = quat(c);
        if (name.endsWith('Covariance')) c.skipF64(36);
        return { stampNs, frameId, childFrameId: '', position, orientation };
      };
    default:
      return undefined;
  }
}

/** Reads the transforms of a CDR tf2_msgs/TFMessage. */
export function fastTfReader(data: Uint8Array): TransformSample[] {
  const c = new Cdr(data);
  const n = c.u32();
  if (n > data.length) throw new RangeError(`transform count ${n} exceeds the message size`);
  const out: TransformSample[] = [];
  for (let k = 0; k < n; k++) {
    const stampNs = c.stampNs();
    const parent = c.str();
    const child = c.str();
    const translation = vec(c);
    const rotation = quat(c);
    out.push({ parent, child, stampNs, time: nsToSec(stampNs), translation, rotation });
  }
  return out;
}

/** Wraps a fast reader so failures become {@link MessageDecodeError}s naming file, topic and block offset. */
export function guardFast<T>(fn: (d: Uint8Array) => T, file: string): (d: Uint8Array, topic: string, offset: number) => T {
  return (d, topic, offset) => {
    try {
      return fn(d);
    } catch (e) {
      throw new MessageDecodeError(`cannot decode message on '${topic}': ${(e as Error).message}`, { file, offset });
    }
  };
}
