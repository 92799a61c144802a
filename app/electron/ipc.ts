// The main-process side of the renderer <-> main IPC (app/electron): one invoke channel
// `impulse:call` carrying `{ method, params }` and one push channel `impulse:event`. Every call is
// refused unless it comes from our own window's top frame showing our own renderer URL; then its
// envelope is validated with zod and its params checked to be bounded plain JSON before the
// backend (which validates the params per method) sees `{ method, ...params }`. Replies are
// `{ ok: true, value }` or `{ ok: false, error: { code, message } }`, so error codes survive the
// context bridge. Nothing here imports Electron at run time: tests drive it with fake events.

import { z } from 'zod';
import { CALL_CHANNEL, EVENT_CHANNEL } from './bridge.ts';
import { checkJsonPayload, DEFAULT_MAX_PAYLOAD_BYTES, PayloadError } from './payload.ts';
import { RENDERER_HOST, RENDERER_SCHEME } from './protocol.ts';
import { consoleLogger, type ShellBackend, type ShellLogger } from './types.ts';

export { CALL_CHANNEL, EVENT_CHANNEL };

/** A method name: a letter, then letters, digits, `.`, `_` or `-` (at most 64 characters). */
export const METHOD_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/** The IPC envelope: exactly `method` and optional `params` (a plain object; unknown keys refused). */
export const envelopeSchema = z.strictObject({
  method: z.string().regex(METHOD_PATTERN, 'must be a method name (a letter, then letters, digits, ".", "_" or "-", at most 64)'),
  params: z
    .record(z.string(), z.unknown())
    .refine((p) => !Object.hasOwn(p, 'method'), 'must not contain the key "method"')
    .optional(),
});

/** A validated envelope. */
export type CallEnvelope = z.infer<typeof envelopeSchema>;

/** The error half of a reply: a machine-readable code and a message naming the field or file at fault. */
export interface ReplyError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What `impulse:call` resolves to in the preload. */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: ReplyError };

/** The part of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
}

/** The part of Electron's IpcMainInvokeEvent the sender check reads. */
export interface InvokeEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: FrameLike | null;
}

/** The part of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** Options of registerIpc / handleCall. */
export interface IpcOptions {
  /** The webContents id of our main window (undefined while there is none): only it may call. */
  windowContentsId: () => number | undefined;
  /** Where refusals and internal errors are reported (default: stderr). */
  logger?: ShellLogger;
  /** Largest accepted params (JSON bytes; default 16 MiB). */
  maxPayloadBytes?: number;
  /** Called after each successful call (the shell records opened files as recent). */
  onCallSucceeded?: (method: string, params: Record<string, unknown>, value: unknown) => void;
}

/** True when `url` is a page of our renderer (`app://impulse/...`). */
export function isRendererUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${RENDERER_SCHEME}:` && u.host === RENDERER_HOST && u.username === '' && u.password === '';
}

/**
 * Checks who sent an IPC message: it must come from our window's webContents, from its top
 * frame (no subframes), showing our renderer URL. Returns why it is refused, or null if allowed.
 */
export function senderRefusal(event: InvokeEventLike, windowContentsId: number | undefined): string | null {
  if (windowContentsId === undefined) return 'no main window is open';
  if (event.sender.id !== windowContentsId) return `sender webContents ${event.sender.id} is not the main window (${windowContentsId})`;
  const frame = event.senderFrame;
  if (!frame) return 'sender frame is gone (navigated or destroyed)';
  if (frame.parent !== null) return `sender is a subframe (${describeUrl(frame.url)})`;
  if (!isRendererUrl(frame.url)) return `sender frame URL ${describeUrl(frame.url)} is not the app's renderer (${RENDERER_SCHEME}://${RENDERER_HOST}/)`;
  return null;
}

function describeUrl(url: string): string {
  return JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url);
}

/** Turns anything the backend threw into a reply error (keeps an ApiError's code, message and details). */
export function toReplyError(e: unknown): ReplyError {
  if (e && typeof e === 'object') {
    const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof code === 'string' && typeof message === 'string') {
      const out: ReplyError = { code, message };
      if (details && typeof details === 'object' && !Array.isArray(details)) out.details = details as Record<string, unknown>;
      return out;
    }
    if (typeof message === 'string') return { code: 'internal', message };
  }
  return { code: 'internal', message: String(e) };
}

/**
 * Serves one `impulse:call`: sender check, envelope validation (exactly one argument, a strict
 * `{ method, params? }`), payload limits, then `backend.call({ ...params, method })`. Never
 * throws: every failure becomes `{ ok: false, error }`.
 */
export async function handleCall(event: InvokeEventLike, args: readonly unknown[], backend: ShellBackend, opts: IpcOptions): Promise<CallReply> {
  const logger = opts.logger ?? consoleLogger;
  const refusal = senderRefusal(event, opts.windowContentsId());
  if (refusal) {
    logger.warn(`refused ${CALL_CHANNEL} message: ${refusal}`);
    return { ok: false, error: { code: 'forbidden', message: `${CALL_CHANNEL}: sender refused` } };
  }
  if (args.length !== 1) return invalid(`${CALL_CHANNEL}: expected exactly one argument { method, params }, got ${args.length}`);
  const parsed = envelopeSchema.safeParse(args[0]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    const where = issue.path.length ? issue.path.join('.') : 'message';
    return invalid(`${CALL_CHANNEL}: ${where}: ${issue.message}${keys}`);
  }
  const { method } = parsed.data;
  const params = parsed.data.params ?? {};
  try {
    checkJsonPayload(params, opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  } catch (e) {
    if (e instanceof PayloadError) return invalid(`${method}: ${e.message}`);
    throw e;
  }
  try {
    const value = await backend.call({ ...params, method });
    opts.onCallSucceeded?.(method, params, value);
    return { ok: true, value };
  } catch (e) {
    const error = toReplyError(e);
    if (error.code === 'internal') logger.error(`${method} failed: ${error.message}`);
    return { ok: false, error };
  }
}

function invalid(message: string): CallReply {
  return { ok: false, error: { code: 'invalid-request', message } };
}

/** Registers the `impulse:call` handler; returns the function that removes it. */
export function registerIpc(ipcMain: IpcMainLike, backend: ShellBackend, opts: IpcOptions): () => void {
  ipcMain.handle(CALL_CHANNEL, (event, ...args) => handleCall(event, args, backend, opts));
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

/** The part of Electron's WebContents events are pushed to. */
export interface EventSink {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/**
 * Forwards every backend event to the main window (only to it) on `impulse:event`; events
 * arriving while no window is open are dropped. Returns the function that unsubscribes.
 */
export function forwardEvents(backend: ShellBackend, target: () => EventSink | undefined): () => void {
  return backend.onEvent((e) => sendEvent(target(), e));
}

/** Sends one event to the window, if it is still there. */
export function sendEvent(t: EventSink | undefined, e: unknown): void {
  if (t && !t.isDestroyed()) t.send(EVENT_CHANNEL, e);
}
