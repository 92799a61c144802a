// The app's API backend (app/api), served by both shells: the Electron main process (IPC) and the
// web server (HTTP + WebSocket). `call` validates every request with the zod schemas of schema.ts,
// dispatches it and returns plain JSON (large arrays packed as base64 typed arrays); failures are
// ApiErrors naming the field, file or run at fault. Runs are child processes (runs.ts) whose
// progress, loss and log lines arrive as events.

import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { evaluateApe, evaluateRpe, predictionMetrics, predictionSamples, writeFileAtomicSync, type Trajectory } from '../../data/index.ts';
import { ApiError, toApiError } from './errors.ts';
import type { ApiEvent } from './events.ts';
import {
  openPath,
  predictionsData,
  predictionsOf,
  readHistory,
  readTerrain,
  summarizeLog,
  summarizeRun,
  trajectoryData,
  trajectoryOf,
  streamLogTrajectory,
  type Opened,
} from './files.ts';
import { pack } from './packed.ts';
import { RunManager, type RunInfo } from './runs.ts';
import { parseRequest, type ApiRequest } from './schema.ts';

export type { ApiEvent } from './events.ts';
export { ApiError } from './errors.ts';

/** The API both shells serve. */
export interface ApiBackend {
  /** Validates and serves one request; rejects with an ApiError. */
  call(request: unknown): Promise<unknown>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** Cancels running runs, closes open logs and removes uploaded files. */
  close(): Promise<void>;
}

/** Options of {@link createApiBackend}. */
export interface ApiBackendOptions {
  /** JSON file keeping the recently opened paths (default: none, kept in memory). */
  recentFile?: string;
  /** When given, only paths under these folders can be opened (uploads and the app's runs always can). */
  allowedRoots?: string[];
  /** Where runs started from the app write their folders (default `<cwd>/runs`). */
  runsDir?: string;
  /** Largest upload in bytes (default 256 MiB). */
  maxUploadBytes?: number;
}

const MAX_RECENT = 20;
/** Poses of a log topic sent for display (more are thinned while streaming; metrics use them all). */
const DISPLAY_MAX_LOG_POSES = 200_000;

/** A short description of an opened file (the `openFile` response). */
function describe(o: Opened): Record<string, unknown> {
  const base = { id: o.id, path: o.path, name: o.name, kind: o.kind };
  switch (o.kind) {
    case 'trajectory':
      return { ...base, format: o.format, poses: o.traj.length, hasTimestamps: o.traj.timestamps !== null };
    case 'predictions':
      return { ...base, sets: o.preds.sets.length, labels: [...new Set(o.preds.sets.flatMap((s) => s.predictions.map((p) => p.label)))] };
    case 'mcap':
      return { ...base, bytes: o.log.size, indexed: o.log.indexed };
    case 'run':
      return { ...base, files: o.files };
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Creates the backend. */
export function createApiBackend(opts: ApiBackendOptions = {}): ApiBackend {
  const listeners = new Set<(e: ApiEvent) => void>();
  const emit = (e: ApiEvent): void => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must not stop the others
      }
    }
  };
  const opened = new Map<string, Opened>();
  let nextId = 0;
  let uploadDir: string | undefined;
  let closed = false;
  const runsDir = resolve(opts.runsDir ?? join(process.cwd(), 'runs'));
  const roots = opts.allowedRoots?.map(safeRealpath);
  let recent: string[] = [];
  if (opts.recentFile) {
    try {
      const r = JSON.parse(readFileSync(opts.recentFile, 'utf8')) as { recent?: unknown };
      if (Array.isArray(r.recent)) recent = r.recent.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT);
    } catch {
      recent = [];
    }
  }

  const allowed = (p: string): boolean => {
    const real = safeRealpath(p);
    const under = (root: string): boolean => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
    if (uploadDir && under(safeRealpath(uploadDir))) return true;
    if (under(safeRealpath(runsDir))) return true;
    return !roots || roots.some(under);
  };

  const remember = (p: string): void => {
    if (uploadDir && p.startsWith(uploadDir)) return;
    recent = [p, ...recent.filter((x) => x !== p)].slice(0, MAX_RECENT);
    if (opts.recentFile) {
      try {
        writeFileAtomicSync(opts.recentFile, JSON.stringify({ recent }, null, 1) + '\n');
      } catch {
        // the recent list is a convenience; failing to save it must not fail the open
      }
    }
  };

  const openAbs = async (path: string, timesFile?: string): Promise<Opened> => {
    const abs = resolve(path);
    if (!allowed(abs)) throw new ApiError('forbidden', `path: '${abs}' is outside the folders this app may open (${(roots ?? []).join(', ')})`);
    if (timesFile && !allowed(resolve(timesFile))) throw new ApiError('forbidden', `timesFile: '${resolve(timesFile)}' is outside the allowed folders`);
    for (const o of opened.values()) if (o.path === abs && !timesFile) return o;
    const o = await openPath(abs, `f${++nextId}`, { timesFile: timesFile ? resolve(timesFile) : undefined });
    opened.set(o.id, o);
    remember(abs);
    return o;
  };

  // a finished run opens as its folder (which lists its trajectory, predictions, history, terrain);
  // runs that wrote nothing there (e.g. imitation experiments, which only report) open nothing
  const runs = new RunManager(runsDir, emit, async (info: RunInfo, outputs: string[]) => {
    const wrote = outputs.length > 0 || readdirSync(info.dir).some((f) => /^(trajectory\.|predictions\.json|history\.json|metrics\.json|terrain$)/.test(f));
    return wrote ? [describe(await openAbs(info.dir))] : [];
  });

  const get = (id: string, field = 'id'): Opened => {
    const o = opened.get(id);
    if (!o) throw new ApiError('not-found', `${field}: no open file with id '${id}' (open it first)`);
    return o;
  };
  const traj = async (ref: { id: string; source?: string }, field: string): Promise<Trajectory> => trajectoryOf(get(ref.id, `${field}.id`), ref.source);

  async function dispatch(r: ApiRequest): Promise<unknown> {
    switch (r.method) {
      case 'openFile':
        return describe(await openAbs(r.path, r.timesFile));
      case 'uploadFile': {
        const bytes = Buffer.from(r.data, 'base64');
        const max = opts.maxUploadBytes ?? 256 << 20;
        if (bytes.length > max)
          throw new ApiError('invalid-request', `data: upload of ${bytes.length} bytes is larger than the ${max}-byte limit; open the file by path instead`);
        uploadDir ??= mkdtempSync(join(tmpdir(), 'impulse-app-uploads-'));
        const name = basename(r.name).replace(/[^\w.\- ]/g, '_') || 'upload';
        const dir = mkdtempSync(join(uploadDir, 'u-'));
        const p = join(dir, name);
        writeFileSync(p, bytes);
        try {
          return { ...describe(await openAbs(p)), uploaded: true, name };
        } catch (e) {
          rmSync(dir, { recursive: true, force: true });
          throw toApiError(e, name);
        }
      }
      case 'closeFile': {
        const o = get(r.id);
        opened.delete(r.id);
        if (o.kind === 'mcap') await o.log.close();
        return { closed: r.id };
      }
      case 'listRecent':
        return { recent };
      case 'listOpen':
        return { files: [...opened.values()].map(describe) };
      case 'summarize': {
        const o = get(r.id);
        if (o.kind === 'mcap') return { ...describe(o), ...(await summarizeLog(o, r.bins ?? 400)) };
        if (o.kind === 'run') return { ...describe(o), ...summarizeRun(o) };
        if (o.kind === 'predictions') return { ...describe(o), name: o.preds.name ?? o.name, hasGroundTruthPath: !!o.preds.ground_truth };
        const t = o.traj;
        const ts = t.timestamps;
        return {
          ...describe(o),
          frameId: t.frameId,
          pathLength: t.pathLength(),
          startTime: ts ? ts[0] : null,
          endTime: ts ? ts[ts.length - 1] : null,
          durationSec: ts ? ts[ts.length - 1]! - ts[0]! : null,
        };
      }
      case 'trajectory': {
        // a log's topics are drawn on the log's clock (log time), like its message density
        const o = get(r.ref.id, 'ref.id');
        if (o.kind === 'mcap') {
          const src = r.ref.source;
          const max = r.maxPoints ?? DISPLAY_MAX_LOG_POSES;
          const t =
            src && !src.startsWith('tf:')
              ? await streamLogTrajectory(o, src, max).catch((e: unknown) => Promise.reject(toApiError(e, o.path)))
              : await trajectoryOf(o, src, 'log');
          return trajectoryData(t, src ?? o.path, max, true);
        }
        return trajectoryData(await trajectoryOf(o, r.ref.source), r.ref.source ?? o.path, r.maxPoints);
      }
      case 'metrics': {
        const ref = await traj(r.ref, 'ref');
        const est = await traj(r.est, 'est');
        const eo = {
          mode: r.align ?? 'none',
          alignOrigin: r.alignOrigin,
          nAlign: r.nAlign,
          maxDiff: r.maxDiff,
          offset: r.offset,
          relation: r.relation,
        };
        try {
          const res =
            (r.metric ?? 'ape') === 'ape' ? evaluateApe(ref, est, eo) : evaluateRpe(ref, est, { ...eo, delta: r.delta ?? 1, deltaUnit: r.deltaUnit ?? 'f' });
          let times = res.timestamps ?? Float64Array.from(res.errors, (_, i) => i / 10);
          // a log's topics are drawn on log time: shift header-stamped error times onto that clock
          const refFile = get(r.ref.id, 'ref.id');
          let clockOffset = 0;
          if (refFile.kind === 'mcap' && res.timestamps && ref.timestamps) {
            const logT = (await trajectoryOf(refFile, r.ref.source, 'log')).timestamps;
            if (logT && logT.length > 0) clockOffset = logT[0]! - ref.timestamps[0]!;
            times = times.map((t) => t + clockOffset);
          }
          return {
            metric: res.metric,
            title: res.title,
            unit: res.unit,
            relation: res.relation,
            align: eo.mode,
            stats: res.stats,
            setup: res.setup,
            errors: pack(res.errors, 'f64'),
            times: pack(times.slice(0, res.errors.length), 'f64'),
            clockOffset,
          };
        } catch (e) {
          throw toApiError(e, `${basename(ref.source || get(r.ref.id).path)} vs ${basename(est.source || get(r.est.id).path)}`);
        }
      }
      case 'predictions':
        return predictionsData(await predictionsOf(get(r.id), r.source), r.maxSets);
      case 'predictionMetrics': {
        const p = await predictionsOf(get(r.id), r.source);
        const samples = predictionSamples(p, r.label);
        if (samples.length === 0) throw new ApiError('not-found', `label: no prediction labelled '${r.label}'`);
        try {
          const rows = predictionMetrics(samples, { horizons: r.horizons, missThreshold: r.missThreshold });
          // error vs horizon: mean displacement per time offset over the sets that reach it
          const sums = new Map<number, { s: number; n: number }>();
          for (const s of samples)
            for (let j = 0; j < s.times.length; j++) {
              const key = Math.round(s.times[j]! * 1e6) / 1e6;
              const p0 = s.predictions[0]!;
              const d = Math.hypot(p0[3 * j]! - s.gt[3 * j]!, p0[3 * j + 1]! - s.gt[3 * j + 1]!, p0[3 * j + 2]! - s.gt[3 * j + 2]!);
              const e = sums.get(key) ?? { s: 0, n: 0 };
              e.s += d;
              e.n++;
              sums.set(key, e);
            }
          const keys = [...sums.keys()].sort((a, b) => a - b);
          return {
            label: r.label,
            missThreshold: r.missThreshold ?? 2,
            horizons: rows,
            errorVsHorizon: {
              horizon: pack(keys, 'f64'),
              meanError: pack(
                keys.map((k) => sums.get(k)!.s / sums.get(k)!.n),
                'f64',
              ),
            },
          };
        } catch (e) {
          throw toApiError(e, get(r.id).path);
        }
      }
      case 'history': {
        const o = get(r.id);
        if (o.kind !== 'run') throw new ApiError('invalid-request', `id: '${o.name}' is not a run folder`);
        return readHistory(o.path);
      }
      case 'terrain': {
        const o = get(r.id);
        if (o.kind !== 'run') throw new ApiError('invalid-request', `id: '${o.name}' is not a run folder`);
        return { grids: readTerrain(o) };
      }
      case 'runKinds':
        return { kinds: runs.kinds() };
      case 'startRun':
        return runs.start(r.kind, r.args);
      case 'cancelRun':
        return runs.cancel(r.runId);
      case 'listRuns':
        return { runs: runs.list() };
    }
  }

  return {
    async call(request: unknown): Promise<unknown> {
      if (closed) throw new ApiError('internal', 'the backend is closed');
      const r = parseRequest(request);
      try {
        return await dispatch(r);
      } catch (e) {
        throw toApiError(e);
      }
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      await runs.closeAll();
      for (const o of opened.values()) if (o.kind === 'mcap') await o.log.close().catch(() => {});
      opened.clear();
      listeners.clear();
      if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
    },
  };
}
