// File helpers of the data layer (data/, bottom layer): atomic writes (temp file in the same folder,
// then rename), so a failed or interrupted write never leaves a half-written output behind.

import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temporary path next to `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `content` to `path` atomically (temp file + rename). */
export function writeFileAtomicSync(path: string, content: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Opens a temp file next to `path`, runs `fill(handle)`, then syncs, closes and renames it onto
 * `path`. If `fill` throws, the temp file is removed and `path` is left untouched.
 */
export async function withAtomicFile<T>(path: string, fill: (fh: FileHandle, tmpPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w');
  let r: T;
  try {
    r = await fill(fh, tmp);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return r;
}
