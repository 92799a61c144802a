// The bundled KITTI 00 ground truth as an ego-motion track (ego/): camera-frame ground plane x/z,
// heading from the camera z axis, the real timestamps of the times file.
import { packagePath } from '../data/index.ts';
import { loadTrack, type PlanarTrack } from './windows.ts';

/** Paths of the bundled KITTI 00 ground truth and its times file. */
export const KITTI_00 = {
  poses: packagePath('examples', 'data', 'KITTI_00_gt.txt'),
  times: packagePath('examples', 'data', 'KITTI_00_gt_times.txt'),
} as const;

/** Loads KITTI 00 (or another KITTI pose file + times file) on the x/z ground plane. */
export function loadKitti(poses: string = KITTI_00.poses, times: string = KITTI_00.times): Promise<PlanarTrack> {
  return loadTrack(poses, { timesFile: times, plane: 'xz' });
}
