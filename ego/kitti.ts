// The bundled KITTI 00 ground truth as an ego-motion track (ego/): camera-frame ground plane x/z,
// heading from the camera z axis, the real timestamps of the times file.
import { fileURLToPath } from 'node:url';
import { loadTrack, type PlanarTrack } from './windows.ts';

/** Paths of the bundled KITTI 00 ground truth and its times file. */
export const KITTI_00 = {
  poses: fileURLToPath(new URL('../examples/data/KITTI_00_gt.txt', import.meta.url)),
  times: fileURLToPath(new URL('../examples/data/KITTI_00_gt_times.txt', import.meta.url)),
} as const;

/** Loads KITTI 00 (or another KITTI pose file + times file) on the x/z ground plane. */
export function loadKitti(poses: string = KITTI_00.poses, times: string = KITTI_00.times): Promise<PlanarTrack> {
  return loadTrack(poses, { timesFile: times, plane: 'xz' });
}
