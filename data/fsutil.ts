// File helpers of the data layer (data/, bottom layer): atomic writes (temp file in the same folder,
// then rename), so a failed or interrupted write never leaves a half-written output behind. Every
// temp file in use is registered: SIGINT / SIGTERM remove them before the process ends, and
// errors name the user's path, never the temp one. The output is checked first (a folder, a
// missing folder) with errors that say what is wrong.

import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { writeFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError } from './errors.ts';

/** A temporary path next to `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Temp files being written now (temp path -> the user's path). */
const liveTemps = new Map<string, string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of liveTemps.keys()) rmSync(tmp, { force: true });
  liveTemps.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // end as the signal would have: re-raise it now that no handler of ours is installed
  process.kill(process.pid, signal);
}

/** Registers a temp file (removed on SIGINT / SIGTERM until {@link releaseTemp}). */
export function trackTemp(tmp: string, path: string): void {
  if (liveTemps.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  liveTemps.set(tmp, path);
}

/** Unregisters a temp file (renamed into place or removed). */
export function releaseTemp(tmp: string): void {
  liveTemps.delete(tmp);
  if (liveTemps.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** Temp files registered now (for tests). */
export function liveTempFiles(): string[] {
  return [...liveTemps.keys()];
}

/**
 * Checks that `path` can be written as a file: not a folder, and its folder exists. Throws a
 * {@link FormatError} naming the path and what is wrong.
 */
export function checkOutputPath(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new FormatError('is a folder; give a file name to write', { file: path });
  const dir = dirname(path);
  let dst;
  try {
    dst = statSync(dir);
  } catch {
    throw new FormatError(`the output folder '${dir}' does not exist (create it first)`, { file: path });
  }
  if (!dst.isDirectory()) throw new FormatError(`'${dir}' is not a folder`, { file: path });
}

/** The same error with the temp path replaced by the user's path in its message (errno errors get a clear prefix). */
export function userPathError(e: unknown, tmp: string, path: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (!(err instanceof Error)) return new FormatError(`cannot write: ${String(e)}`, { file: path });
  if (err.message.includes(tmp) || err.code) {
    const msg = err.message.split(tmp).join(path);
    const out = new FormatError(`cannot write: ${msg}`, { file: path });
    (out as Error & { cause?: unknown }).cause = e;
    return out;
  }
  return err;
}

/** Writes `content` to `path` atomically (temp file + rename). */
export function writeFileAtomicSync(path: string, content: string | Uint8Array): void {
  checkOutputPath(path);
  const tmp = tempPathFor(path);
  trackTemp(tmp, path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw userPathError(e, tmp, path);
  } finally {
    releaseTemp(tmp);
  }
}

/**
 * Checks `path` as an output, then opens a tracked temporary file next to it for writing (removed
 * on SIGINT / SIGTERM until released). Errors name `path`, never the temporary file.
 */
export async function openTempFor(path: string): Promise<{ fh: FileHandle; tmp: string }> {
  checkOutputPath(path);
  const tmp = tempPathFor(path);
  trackTemp(tmp, path);
  try {
    return { fh: await open(tmp, 'w'), tmp };
  } catch (e) {
    releaseTemp(tmp);
    throw userPathError(e, tmp, path);
  }
}

/**
 * Opens a temp file next to `path`, runs `fill(handle)`, then syncs, closes and renames it onto
 * `path`. If `fill` throws (or SIGINT / SIGTERM arrive), the temp file is removed and `path` is
 * left untouched.
 */
export async function withAtomicFile<T>(path: string, fill: (fh: FileHandle, tmpPath: string) => Promise<T>): Promise<T> {
  const { fh, tmp } = await openTempFor(path);
  let r!: T;
  await finishAtomicFile(fh, tmp, path, async () => {
    r = await fill(fh, tmp);
  });
  return r;
}

/**
 * Finishes a temp file opened by {@link openTempFor}: runs `last()` (the writer's final records),
 * then syncs, closes and renames it onto `path`. On any error the temp file is closed and removed
 * and the error names `path` (a FormatError passes through unchanged); the temp file is released
 * either way.
 */
export async function finishAtomicFile(fh: FileHandle, tmp: string, path: string, last: () => Promise<void>): Promise<void> {
  try {
    await last();
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e instanceof FormatError ? e : userPathError(e, tmp, path);
  } finally {
    releaseTemp(tmp);
  }
}

/** Drops a temp file opened by {@link openTempFor}: closes it (ignoring errors), removes and releases it. */
export async function discardTempFile(fh: FileHandle, tmp: string): Promise<void> {
  await fh.close().catch(() => undefined);
  await rm(tmp, { force: true });
  releaseTemp(tmp);
}
