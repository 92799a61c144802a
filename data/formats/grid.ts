// Impulse Grid JSON files (data/, bottom layer): one foxglove.Grid message as a JSON file, the
// form run folders keep terrain maps in (`terrain/*.json`: height, friction, stiffness and the
// gradient of a loss with respect to them), which the app draws and Foxglove reads. The message
// itself is built by `foxgloveGrid` (mcap/writer.ts), shared with `McapLogWriter.addGrid`.
import { writeFileAtomicSync } from '../fsutil.ts';
import { foxgloveGrid, type GridInput } from '../mcap/writer.ts';

/** Serialises a grid as a foxglove.Grid JSON message (float32 layers, base64 data). */
export function formatGridJson(grid: GridInput, frameId = 'world', file?: string): string {
  return JSON.stringify(foxgloveGrid(grid, frameId, 0n, file)) + '\n';
}

/** Writes a grid as a foxglove.Grid JSON file, atomically (temporary file + rename). */
export function writeGridJson(path: string, grid: GridInput, frameId = 'world'): void {
  writeFileAtomicSync(path, formatGridJson(grid, frameId, path));
}
