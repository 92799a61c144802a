// Errors of the app API (app/api): every failed call is an ApiError with a machine-readable code
// and a message that names the request field, file or run at fault. Both shells (Electron IPC and
// the web server) send `{ code, message }` to the renderer, which shows it in its error panel.

import { DataError } from '../../data/index.ts';

/** Why a call failed. */
export type ApiErrorCode = 'invalid-request' | 'not-found' | 'bad-file' | 'forbidden' | 'run-failed' | 'internal';

/** An API call that failed; `message` says which field, file or run is at fault. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Extra detail (the data layer's error location, a JSON path...). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The plain form sent over IPC / HTTP. */
  toJSON(): { code: ApiErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/**
 * Converts anything thrown while serving a call into an ApiError: data-layer errors become
 * 'bad-file' (their message already names the file and line/offset), missing files 'not-found'.
 */
export function toApiError(e: unknown, file?: string): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof DataError) {
    const msg = file && !e.message.includes(file) ? `${file}: ${e.message}` : e.message;
    return new ApiError('bad-file', msg, e.toJSON());
  }
  const err = e as NodeJS.ErrnoException;
  if (err && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return new ApiError('not-found', `${file ?? err.path ?? 'file'}: no such file or folder`);
  if (err && (err.code === 'EACCES' || err.code === 'EPERM')) return new ApiError('forbidden', `${file ?? err.path ?? 'file'}: permission denied`);
  const message = err instanceof Error ? err.message : String(e);
  return new ApiError(file ? 'bad-file' : 'internal', file ? `${file}: ${message}` : message);
}
