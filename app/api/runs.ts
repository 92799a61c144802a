// Runs started from the app (app/api): each run is an `impulse` child process (the CLI in bin/),
// so simulation, MPC and training never run on the renderer's or the server's thread. stdout and
// stderr lines become log events; `[i/n]` progress lines, epoch/loss table rows and the run
// folder's history.json become progress and loss events; cancel kills the process group (SIGTERM,
// then SIGKILL after 2 s). Each run writes into its own folder under `runsDir`, opened when done.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from './errors.ts';
import { parseRunArgs, type RunKind } from './schema.ts';
import type { ApiEvent } from './events.ts';
import { packageRoot } from '../../data/package-root.ts';

const ROOT = packageRoot();
/** The CLI entry point the runs execute. */
export const IMPULSE_BIN = join(ROOT, 'bin', 'impulse.js');

/** What a run kind executes: the CLI arguments, given the validated args and the run's folder. */
interface RunSpec {
  title: string;
  argv(args: Record<string, unknown>, dir: string): string[];
  /** Files of the run folder to open when done (the folder itself is always opened). */
  outputs(args: Record<string, unknown>, dir: string): string[];
}

/** The argv builders of the run kinds of schema.ts RUN_KINDS (one entry per kind). */
const SPECS: Record<RunKind, RunSpec> = {
  sim: {
    title: 'simulation (impulse sim run)',
    argv: (a, dir) => [
      'sim',
      'run',
      join(ROOT, 'examples', 'physics', `${String(a.scene)}.json`),
      '--out',
      join(dir, 'trajectory.json'),
      '--body',
      String(a.body ?? 0),
      ...(a.steps !== undefined ? ['--steps', String(a.steps)] : []),
      ...(a.dt !== undefined ? ['--dt', String(a.dt)] : []),
      '--json',
    ],
    outputs: (_a, dir) => [join(dir, 'trajectory.json')],
  },
  mpc: {
    title: 'MPC experiment (impulse mpc)',
    argv: (a, dir) => [
      'mpc',
      String(a.experiment),
      ...(a.experiment === 'drone' || a.experiment === 'terrain-robot' ? ['--out', join(dir, 'trajectory.json')] : []),
      ...(a.epochs !== undefined ? ['--epochs', String(a.epochs)] : []),
      ...(a.steps !== undefined ? ['--steps', String(a.steps)] : []),
      '--json',
    ],
    outputs: (a, dir) => (a.experiment === 'drone' || a.experiment === 'terrain-robot' ? [join(dir, 'trajectory.json')] : []),
  },
  train: {
    title: 'training (impulse train)',
    argv: (a, dir) => [
      'train',
      String(a.task),
      '--out',
      dir,
      ...(a.epochs !== undefined ? ['--epochs', String(a.epochs)] : []),
      ...(a.seed !== undefined ? ['--seed', String(a.seed)] : []),
    ],
    outputs: () => [],
  },
};

type ParsedEvent = { type: 'run-progress'; value: number; total: number; label: string } | { type: 'run-loss'; series: string; epoch: number; loss: number };

/**
 * Reads progress and loss from a run's output lines: `[i/n] label` progress lines (app/progress.ts)
 * and the rows of an `epoch  train loss ...` table (the epoch and the first loss column).
 */
export class RunLineParser {
  private inLossTable = false;
  constructor(private readonly epochs?: number) {}

  /** The events one line carries. */
  parse(line: string): ParsedEvent[] {
    const out: ParsedEvent[] = [];
    const pr = /\[(\d+)\/(\d+)\]/.exec(line);
    if (pr) out.push({ type: 'run-progress', value: Number(pr[1]), total: Number(pr[2]), label: line.trim() });
    if (/^\s*epoch\b.*loss/i.test(line)) this.inLossTable = true;
    else if (this.inLossTable) {
      const m = /^\s*(\d+)\s+([-+]?\d*\.?\d+(?:e[-+]?\d+)?)(\s|$)/i.exec(line);
      if (m) {
        const epoch = Number(m[1]);
        out.push({ type: 'run-loss', series: 'train', epoch, loss: Number(m[2]) });
        if (this.epochs) out.push({ type: 'run-progress', value: epoch, total: this.epochs, label: `epoch ${epoch}` });
      } else this.inLossTable = false;
    }
    return out;
  }
}

/** A run's state, as `listRuns` reports it. */
export interface RunInfo {
  runId: string;
  kind: RunKind;
  title: string;
  args: Record<string, unknown>;
  dir: string;
  argv: string[];
  /** Process id of the child (its process group on POSIX). */
  pid: number | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  lastLines: string[];
}

interface Live {
  info: RunInfo;
  child: ChildProcess;
  killTimer?: NodeJS.Timeout;
  poll?: NodeJS.Timeout;
  lossSeen: number;
  cancelled: boolean;
  exited: Promise<void>;
}

/** Starts, tracks and cancels runs; emits ApiEvents. */
export class RunManager {
  private runs = new Map<string, Live>();
  private seq = 0;

  constructor(
    private readonly runsDir: string,
    private readonly emit: (e: ApiEvent) => void,
    private readonly onDone: (info: RunInfo, outputs: string[]) => Promise<unknown>,
  ) {}

  /** The run kinds with their titles (for the Runs panel). */
  kinds(): { kind: RunKind; title: string }[] {
    return (Object.keys(SPECS) as RunKind[]).map((kind) => ({ kind, title: SPECS[kind].title }));
  }

  /** Starts a run of `kind` (args validated against RUN_KINDS[kind]). */
  start(kind: RunKind, rawArgs: unknown): RunInfo {
    const args = parseRunArgs(kind, rawArgs) as Record<string, unknown>;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const runId = `run-${++this.seq}-${process.pid}-${Date.now().toString(36)}`;
    const dir = join(this.runsDir, `app-${kind}-${stamp}-${this.seq}`);
    mkdirSync(dir, { recursive: true });
    const spec = SPECS[kind];
    const argv = spec.argv(args, dir);
    const child = spawn(process.execPath, [IMPULSE_BIN, ...argv], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    const info: RunInfo = {
      runId,
      pid: child.pid ?? null,
      kind,
      title: spec.title,
      args,
      dir,
      argv,
      state: 'running',
      startedAt: Date.now(),
      endedAt: null,
      exitCode: null,
      lastLines: [],
    };
    let resolveExit!: () => void;
    const live: Live = { info, child, lossSeen: 0, cancelled: false, exited: new Promise((r) => (resolveExit = r)) };
    this.runs.set(runId, live);
    const parser = new RunLineParser(typeof args.epochs === 'number' ? args.epochs : undefined);
    const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
      if (line.trim() === '') return;
      info.lastLines.push(line);
      if (info.lastLines.length > 20) info.lastLines.shift();
      this.emit({ type: 'run-log', runId, stream, line: line.length > 2000 ? line.slice(0, 2000) + '...' : line });
      for (const e of parser.parse(line)) this.emit({ ...e, runId });
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(stream, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        if (buf.length > 1 << 20) buf = buf.slice(-65536);
      });
      child[stream]!.on('end', () => {
        if (buf) onLine(stream, buf);
        buf = '';
      });
    }
    // training runs write history.json each epoch: its losses feed the live plot
    live.poll = setInterval(() => this.pollHistory(live), 500);
    child.on('error', (e) => {
      info.lastLines.push(`cannot start: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearInterval(live.poll);
      clearTimeout(live.killTimer);
      this.pollHistory(live);
      info.endedAt = Date.now();
      info.exitCode = code;
      if (live.cancelled) {
        info.state = 'cancelled';
        this.emit({ type: 'run-error', runId, message: `cancelled (${signal ?? `exit ${code}`})`, cancelled: true });
        resolveExit();
        return;
      }
      if (code === 0) {
        info.state = 'done';
        const outputs = spec.outputs(args, dir).filter((f) => existsSync(f));
        this.onDone(info, outputs)
          .then((opened) => this.emit({ type: 'run-done', runId, exitCode: 0, dir, opened }))
          .catch((e: unknown) => this.emit({ type: 'run-error', runId, message: `finished, but its output could not be opened: ${(e as Error).message}` }))
          .finally(resolveExit);
        return;
      }
      info.state = 'failed';
      const tail = info.lastLines.slice(-5).join('\n');
      this.emit({ type: 'run-error', runId, message: `${spec.title} exited with ${signal ? `signal ${signal}` : `code ${code}`}${tail ? `:\n${tail}` : ''}` });
      resolveExit();
    });
    this.emit({ type: 'run-started', runId, kind, title: spec.title, dir, argv });
    return { ...info };
  }

  private pollHistory(live: Live): void {
    const f = join(live.info.dir, 'history.json');
    if (!existsSync(f)) return;
    try {
      const h = JSON.parse(readFileSync(f, 'utf8')) as { epochs?: { epoch?: number; trainLoss?: number; model?: string }[] };
      const eps = h.epochs ?? [];
      for (let i = live.lossSeen; i < eps.length; i++) {
        const e = eps[i]!;
        if (typeof e.epoch === 'number' && typeof e.trainLoss === 'number')
          this.emit({ type: 'run-loss', runId: live.info.runId, series: e.model ?? 'train', epoch: e.epoch, loss: e.trainLoss });
      }
      live.lossSeen = eps.length;
    } catch {
      // written atomically, so a parse failure means another writer; try again next tick
    }
  }

  /** Cancels a running run: SIGTERM to its process group, SIGKILL 2 s later if still alive. Resolves when it has exited. */
  async cancel(runId: string): Promise<RunInfo> {
    const live = this.runs.get(runId);
    if (!live) throw new ApiError('not-found', `runId: no run '${runId}'`);
    if (live.info.state !== 'running') return { ...live.info };
    live.cancelled = true;
    const pid = live.child.pid;
    const kill = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          live.child.kill(sig);
        } catch {
          // already gone
        }
      }
    };
    kill('SIGTERM');
    live.killTimer = setTimeout(() => kill('SIGKILL'), 2000);
    await live.exited;
    return { ...live.info };
  }

  /** Every run of this session. */
  list(): RunInfo[] {
    return [...this.runs.values()].map((l) => ({ ...l.info, lastLines: [...l.info.lastLines] }));
  }

  /** Cancels every running run (on shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.runs.values()].filter((l) => l.info.state === 'running').map((l) => this.cancel(l.info.runId)));
  }
}
