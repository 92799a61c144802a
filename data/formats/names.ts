// Names of the trajectory formats (data layer): the list, a user-given name checked, and the
// format implied by a file's extension. No parser is loaded here (the CLI reads these while it
// parses its options).
import { extname } from 'node:path';
import { FormatError } from '../errors.ts';

/** Trajectory formats Impulse reads and writes. */
export const TRAJECTORY_FORMATS = ['tum', 'kitti', 'euroc', 'monoforce', 'json', 'mcap'] as const;
/** One of {@link TRAJECTORY_FORMATS}. */
export type TrajectoryFormat = (typeof TRAJECTORY_FORMATS)[number];

/** File extensions and the format each implies on output. */
export const EXTENSION_FORMATS: Readonly<Record<string, TrajectoryFormat>> = {
  '.tum': 'tum',
  '.txt': 'tum',
  '.kitti': 'kitti',
  '.csv': 'euroc',
  '.json': 'json',
  '.mcap': 'mcap',
};

/** Checks a user-given format name. */
export function parseFormatName(name: string): TrajectoryFormat {
  const f = name.toLowerCase();
  if ((TRAJECTORY_FORMATS as readonly string[]).includes(f)) return f as TrajectoryFormat;
  throw new FormatError(`unknown format '${name}' (known: ${TRAJECTORY_FORMATS.join(', ')})`);
}

/**
 * The format implied by an output file name. `option` names how the caller lets the user give
 * the format instead (e.g. `--to`), for the error on an unknown extension.
 */
export function formatFromExtension(path: string, option?: string): TrajectoryFormat {
  const ext = extname(path).toLowerCase();
  const f = EXTENSION_FORMATS[ext];
  if (!f) {
    const known = Object.entries(EXTENSION_FORMATS)
      .map(([e, n]) => `${e} (${n})`)
      .join(', ');
    throw new FormatError(
      `cannot tell the output format from the extension '${ext || '(none)'}': use one of ${known}${option ? `, or give the format with ${option}` : ''}`,
      { file: path },
    );
  }
  return f;
}
