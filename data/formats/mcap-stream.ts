// Streaming conversion of an MCAP pose topic to text (data/formats): the topic's messages are
// read chunk by chunk through the log's indexed reader (in log-time order), in batches of poses
// that are formatted with the in-memory writers (TUM, KITTI + times file, EuRoC) and appended to
// the output, so memory stays flat in the file size and the text is the in-memory path's byte for
// byte. The in-memory path sorts poses by header stamp; a stream can only keep that order when
// the stamps never go backwards in log-time order (as in logs written by recorders and by
// Impulse), so on the first stamp that does, this returns null and the caller converts in memory.

import type { FileHandle } from 'node:fs/promises';
import { withAtomicFile } from '../fsutil.ts';
import { Trajectory } from '../trajectory.ts';
import { duplicateStamps, type DuplicateStamp } from '../warnings.ts';
import { formatEuroc } from './euroc.ts';
import { formatKitti, formatTimes } from './kitti.ts';
import type { TrajectoryFormat } from './names.ts';
import { formatTum } from './tum.ts';

/** Options of {@link convertMcapStreaming}. */
export interface McapStreamOptions {
  /** Output format: `tum`, `kitti` or `euroc`. */
  to: TrajectoryFormat;
  /** The pose topic (the caller picks the only one when none was given). */
  topic: string;
  /** KITTI output: also write the timestamps here. */
  timesFile?: string;
  /** Poses per formatted batch (default 4096). */
  batch?: number;
}

/** What {@link convertMcapStreaming} did. */
export interface McapStreamResult {
  poses: number;
  duplicates: { count: number; first: DuplicateStamp[] };
}

/** Thrown inside the write to drop the output and leave the file to the in-memory path. */
class Fallback extends Error {}

async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const b = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
}

/**
 * Converts the poses of `opts.topic` in the MCAP file `input` to `output` (TUM, KITTI, EuRoC) a
 * batch at a time. Returns null, leaving nothing written, when a header stamp goes backwards
 * (then the whole topic must be sorted), the topic is not in the file or a quaternion is bad: the
 * caller then converts in memory, which sorts, or names the error as it always did.
 */
export async function convertMcapStreaming(input: string, output: string, opts: McapStreamOptions): Promise<McapStreamResult | null> {
  const { McapLog } = await import('../mcap/reader.ts');
  const { PoseExtractor, POSE_SCHEMAS } = await import('../mcap/extract.ts');
  const { nsToSec } = await import('../mcap/reader.ts');
  const { FormatError } = await import('../errors.ts');
  const log = await McapLog.open(input);
  const cap = opts.batch ?? 4096;
  try {
    const ch = [...log.channels.values()].find((c) => c.topic === opts.topic);
    if (!ch) return null; // the in-memory path names the topics
    const px = new PoseExtractor(log);
    const run = async (fh: FileHandle, th: FileHandle | null): Promise<McapStreamResult> => {
      const pos = new Float64Array(3 * cap);
      const quats = new Float64Array(4 * cap);
      const ts = new Float64Array(cap);
      const ns = new BigInt64Array(cap);
      let vel: Float64Array | null = null;
      let avel: Float64Array | null = null;
      let n = 0; // poses in the batch
      let total = 0;
      let prevNs = -1n;
      let prevPose: Float64Array | null = null; // the last pose of the previous batch (duplicates across batches)
      let prevT = NaN;
      let frameId = '';
      let childFrameId = '';
      const dup: DuplicateStamp[] = [];
      let dupCount = 0;
      const flush = async (): Promise<void> => {
        if (n === 0) return;
        let traj: Trajectory;
        try {
          traj = Trajectory.fromPositionsQuaternions(pos.subarray(0, 3 * n), quats.subarray(0, 4 * n), {
            timestamps: ts.slice(0, n),
            stampsNs: ns.slice(0, n),
            velocities: vel ? vel.slice(0, 3 * n) : null,
            angularVelocities: avel ? avel.slice(0, 3 * n) : null,
            name: opts.topic,
            frameId,
            childFrameId,
            source: input,
          });
        } catch {
          throw new Fallback(); // a bad quaternion: the in-memory path names it by its index in the whole topic
        }
        // repeated stamps with another pose, as duplicateStamps finds them over the whole trajectory
        if (prevPose && traj.timestamps![0] === prevT) {
          let differ = false;
          for (let k = 0; k < 12 && !differ; k++) differ = Math.abs(traj.poses[k]! - prevPose[k]!) > 1e-12;
          if (differ) {
            dupCount++;
            if (dup.length < 3) dup.push({ index: total, timestamp: prevT });
          }
        }
        for (const d of duplicateStamps(traj)) {
          dupCount++;
          if (dup.length < 3) dup.push({ index: total + d.index, timestamp: d.timestamp });
        }
        prevPose = traj.poses.slice(12 * (n - 1), 12 * n);
        prevT = traj.timestamps![n - 1]!;
        let text = opts.to === 'tum' ? formatTum(traj) : opts.to === 'euroc' ? formatEuroc(traj) : formatKitti(traj);
        if (total > 0 && opts.to !== 'kitti') text = text.slice(text.indexOf('\n') + 1); // the header once
        await writeAll(fh, text);
        if (th) await writeAll(th, formatTimes(traj.timestamps!));
        total += n;
        n = 0;
      };
      for await (const batch of log.batches({ topics: [opts.topic] })) {
        for (const m of batch) {
          const p = px.pose(m);
          if (!p)
            throw new FormatError(`topic '${opts.topic}' has schema '${m.schemaName}', which carries no pose (supported: ${POSE_SCHEMAS.join(', ')})`, {
              file: input,
            });
          if (p.stampNs < prevNs) throw new Fallback(); // sorting needs the whole topic
          prevNs = p.stampNs;
          if (total === 0 && n === 0) {
            frameId = p.frameId;
            childFrameId = p.childFrameId;
            if (p.velocity !== undefined) {
              vel = new Float64Array(3 * cap);
              avel = new Float64Array(3 * cap);
            }
          }
          pos.set(p.position, 3 * n);
          quats.set(p.orientation, 4 * n);
          ns[n] = p.stampNs;
          ts[n] = nsToSec(p.stampNs);
          if (vel && p.velocity) vel.set(p.velocity, 3 * n);
          if (avel && p.angularVelocity) avel.set(p.angularVelocity, 3 * n);
          n++;
          if (n === cap) await flush();
        }
      }
      if (total === 0 && n === 0) throw new FormatError(`topic '${opts.topic}' has no messages in the selected time range`, { file: input });
      await flush();
      return { poses: total, duplicates: { count: dupCount, first: dup } };
    };
    try {
      return await withAtomicFile(output, async (fh) => {
        if (!opts.timesFile) return run(fh, null);
        return withAtomicFile(opts.timesFile, async (th) => run(fh, th));
      });
    } catch (e) {
      if (e instanceof Fallback) return null;
      throw e;
    }
  } finally {
    await log.close();
  }
}
