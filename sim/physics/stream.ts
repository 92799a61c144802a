// Streaming trajectory output of a run (sim/physics, layer sim): states are written as they
// are simulated, so a run's memory does not grow with its number of steps. The whole scene
// goes to JSON (the `Trajectory` layout of rollout.ts: particle positions and body poses per
// step); one body's poses go to any format of the data layer (TUM, KITTI, EuRoC CSV, MCAP
// streamed in chunks; the JSON trajectory format is written whole at the end, 64 bytes a step).
// Output goes to a temporary file next to the target, renamed over it on success, removed on
// failure (the target is never left half-written).
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { McapLogWriter, Trajectory, formatEuroc, formatFromExtension, formatKitti, formatTum, tempPathFor, writeTrajectory } from '../../data/index.ts';
import type { State } from './model.ts';

/** Where a run's states go. */
export interface StateSink {
  /** Appends the state after `step` steps (time step * dt). */
  write(step: number, state: State): Promise<void>;
  /** Finishes the file (rename onto the target). */
  close(): Promise<void>;
  /** Drops the partial output (no file left behind). */
  abort(): Promise<void>;
}

/** A file written through a temp file next to it, in buffered appends. */
class AtomicText {
  readonly tmp: string;
  private fd: number;
  private buf: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.tmp = tempPathFor(path);
    this.fd = openSync(this.tmp, 'w');
  }

  append(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }

  flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }

  /** Copies the (flushed) content of another temp file after this one's. */
  appendFile(other: AtomicText): void {
    this.flush();
    other.flush();
    const fd = openSync(other.tmp, 'r');
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let pos = 0;
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, pos);
        if (n <= 0) break;
        writeSync(this.fd, chunk.subarray(0, n));
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  commit(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tmp, this.path);
  }

  discard(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.tmp, { force: true });
  }
}

function rowsJson(d: Float64Array, w: number): string {
  const rows: string[] = [];
  for (let i = 0; i < d.length; i += w) rows.push(`[${Array.from(d.subarray(i, i + w)).join(',')}]`);
  return `[${rows.join(',')}]`;
}

/**
 * The whole scene as JSON, `{ dt, steps, times, particles, bodies }` (rollout.ts's Trajectory):
 * particles are streamed into the target's temp file, bodies into a second temp file appended
 * at the end. `stepsWritten` lists the step of every state that will be written (the steps and
 * times arrays come first in the file).
 */
export function sceneJsonSink(path: string, dt: number, stepsWritten: readonly number[]): StateSink {
  const main = new AtomicText(path);
  let bodies: AtomicText | null = null;
  try {
    bodies = new AtomicText(path + '.bodies');
  } catch (e) {
    main.discard();
    throw e;
  }
  const b = bodies;
  main.append(`{"dt":${dt},"steps":[${stepsWritten.join(',')}],"times":[${stepsWritten.map((k) => k * dt).join(',')}],"particles":[`);
  let n = 0;
  return {
    write: async (_step, s) => {
      const sep = n++ === 0 ? '' : ',';
      main.append(sep + rowsJson(s.particleQ.data, 3));
      b.append(`${sep}{"pos":${rowsJson(s.bodyPos.data, 3)},"rot":${rowsJson(s.bodyRot.data, 4)}}`);
    },
    close: async () => {
      main.append('],"bodies":[');
      main.appendFile(b);
      main.append(']}');
      b.discard();
      main.commit();
    },
    abort: async () => {
      b.discard();
      main.discard();
    },
  };
}

/** One body's poses in the data layer's format of `path`'s extension (TUM, KITTI, EuRoC CSV, JSON, MCAP). */
export async function bodyPoseSink(path: string, dt: number, body: number, name: string): Promise<StateSink> {
  const format = formatFromExtension(path);
  const frameId = 'world';
  const child = `body${body}`;
  const pose = (s: State): { p: Float64Array; q: Float64Array } => ({
    p: s.bodyPos.data.subarray(3 * body, 3 * body + 3),
    q: s.bodyRot.data.subarray(4 * body, 4 * body + 4),
  });
  if (format === 'mcap') {
    const w = await McapLogWriter.create(path);
    return {
      write: async (step, s) => {
        const { p, q } = pose(s);
        await w.addPoseInFrame('/trajectory', BigInt(Math.round(step * dt * 1e9)), frameId, { position: p, orientation: q });
      },
      close: () => w.close(),
      abort: () => w.abort(),
    };
  }
  if (format === 'tum' || format === 'kitti' || format === 'euroc') {
    const fmt = format === 'tum' ? formatTum : format === 'kitti' ? formatKitti : formatEuroc;
    const out = new AtomicText(path);
    let pos: number[] = [];
    let rot: number[] = [];
    let stamps: number[] = [];
    let first = true;
    const flush = (): void => {
      if (!stamps.length) return;
      const t = Trajectory.fromPositionsQuaternions(pos, rot, { timestamps: Float64Array.from(stamps), name, frameId, childFrameId: child });
      let text = fmt(t);
      // TUM and EuRoC start with a header line: keep it only once
      if (!first && format !== 'kitti') text = text.slice(text.indexOf('\n') + 1);
      out.append(text);
      first = false;
      pos = [];
      rot = [];
      stamps = [];
    };
    return {
      write: async (step, s) => {
        const { p, q } = pose(s);
        pos.push(...p);
        rot.push(...q);
        stamps.push(step * dt);
        if (stamps.length >= 4096) flush();
      },
      close: async () => {
        flush();
        out.commit();
      },
      abort: async () => out.discard(),
    };
  }
  // JSON trajectory (and other whole-file formats): kept as plain numbers, written at the end
  const pos: number[] = [];
  const rot: number[] = [];
  const stamps: number[] = [];
  return {
    write: async (step, s) => {
      const { p, q } = pose(s);
      pos.push(...p);
      rot.push(...q);
      stamps.push(step * dt);
    },
    close: () =>
      writeTrajectory(path, Trajectory.fromPositionsQuaternions(pos, rot, { timestamps: Float64Array.from(stamps), name, frameId, childFrameId: child }), {
        format,
      }),
    abort: async () => undefined,
  };
}
