// Terrain dataset generation as jobs on BullMQ (Redis) (ego/terrain). The coordinator
// (`impulse dataset terrain --queue redis://HOST:PORT`) splits the samples into jobs with
// deterministic ids, so adding a job twice is a no-op; workers (`impulse worker --queue URL`,
// on any machine that reaches Redis) generate the samples and return their bytes as the job's
// result; the coordinator writes each job's samples atomically, keyed by job id, once, then
// the manifest. A worker killed mid-job stops renewing its lock: BullMQ's stalled-job check
// moves the job back to the queue and another worker runs it (its samples are a pure function
// of the job's data, so a retry writes the same bytes). A Redis server that is down at start
// is a QueueUnavailableError; one that goes away mid-run is waited for (`redisWaitMs`), and
// the queue resumes when it returns. Evaluation sweeps (the baselines on a dataset folder that
// the workers see at the same path) travel the same way: one job per baseline and range of
// samples, predicted paths as results, metrics computed by the coordinator.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { QueueUnavailableError, TerrainDataError } from './errors.ts';
import { DEFAULT_SPEC, type TerrainSpec } from './generate.ts';
import { openTerrainDataset, writeManifest, writeSampleFile, type SampleRecord, type TerrainManifest } from './format.ts';
import { BASELINES, baselinePaths, pathMetrics, type BaselineName, type BaselineResult } from './baseline.ts';
import { checkGenerateArgs, generateSampleBytes, type GenerateResult } from './dataset.ts';
import { writeFileAtomicSync } from '../../data/index.ts';

/** The BullMQ queue of terrain jobs. */
export const TERRAIN_QUEUE = 'impulse-terrain';

/** Data of one job: a contiguous range of sample indices of one dataset. */
export interface TerrainJobData {
  spec: TerrainSpec;
  seed: number;
  ood: boolean;
  from: number;
  to: number;
}

/** Result of one job: the samples' records and bytes (base64), and who made them. */
export interface TerrainJobResult {
  records: SampleRecord[];
  data: string[];
  worker: string;
}

/** Host and port of a `redis://HOST:PORT` URL (loopback or any host; no other scheme). */
export function parseRedisUrl(url: string): { host: string; port: number; db: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUnavailableError(url, `not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new QueueUnavailableError(url, `scheme '${u.protocol}' is not supported; expected redis://HOST:PORT`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new QueueUnavailableError(url, `database '${u.pathname.slice(1)}' is not an integer >= 0`);
  return { host: u.hostname || '127.0.0.1', port, db };
}

/** The subset of an ioredis client used here. */
interface RedisLike {
  status: string;
  /** Set before a deliberate quit, so the close is not reported as a loss. */
  closing?: boolean;
  on(ev: string, fn: (...a: unknown[]) => void): unknown;
  connect(): Promise<void>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

type RedisCtor = new (opts: Record<string, unknown>) => RedisLike;

function loadIORedis(url: string): RedisCtor {
  try {
    const req = createRequire(import.meta.url);
    const mod = req('ioredis') as { default?: RedisCtor } & RedisCtor;
    return mod.default ?? mod;
  } catch (e) {
    throw new QueueUnavailableError(url, `the 'ioredis' package (BullMQ's Redis client) cannot be loaded: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Options of {@link connectRedis}. */
export interface ConnectOptions {
  /** Give up connecting after this long (ms, default 5000). */
  timeoutMs?: number;
  /** Called with a line when the connection is lost or comes back. */
  log?: (line: string) => void;
}

/**
 * Connects an ioredis client (as BullMQ wants it: maxRetriesPerRequest null) and waits until
 * it is ready; throws QueueUnavailableError naming the URL and the socket error if Redis
 * does not answer within the timeout. Later losses are logged and retried by the client.
 */
export async function connectRedis(url: string, opts: ConnectOptions = {}): Promise<RedisLike & { lastError: string | null; downSince: number | null }> {
  const { host, port, db } = parseRedisUrl(url);
  const Redis = loadIORedis(url);
  const client = new Redis({
    host,
    port,
    db,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (n: number) => Math.min(100 * n, 1000),
  }) as RedisLike & {
    lastError: string | null;
    downSince: number | null;
  };
  client.lastError = null;
  client.downSince = null;
  client.on('error', (e) => {
    client.lastError = (e as Error).message;
  });
  let wasReady = false;
  client.on('close', () => {
    // a failed first connection is reported by the timeout below, not as a loss
    if (wasReady && client.downSince === null && !client.closing) {
      client.downSince = Date.now();
      opts.log?.(`redis ${url}: connection lost${client.lastError ? ` (${client.lastError})` : ''}; waiting for it to return`);
    }
  });
  client.on('ready', () => {
    wasReady = true;
    if (client.downSince !== null) opts.log?.(`redis ${url}: connection is back after ${((Date.now() - client.downSince) / 1000).toFixed(1)} s`);
    client.downSince = null;
  });
  const timeout = opts.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  try {
    await Promise.race([
      (async () => {
        await client.connect().catch(() => undefined);
        while (client.status !== 'ready' && !gaveUp) await new Promise((r) => setTimeout(r, 50));
        if (!gaveUp) await client.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new QueueUnavailableError(url, `Redis is not reachable within ${timeout / 1000} s${client.lastError ? ` (${client.lastError})` : ''}`)),
          timeout,
        );
      }),
    ]);
  } catch (e) {
    gaveUp = true;
    client.closing = true;
    client.disconnect();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  client.downSince = null;
  return client;
}

/** A short digest of the dataset settings, part of every job id (different settings never share a job). */
export function specDigest(spec: TerrainSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 10);
}

/** The deterministic job id of samples [from, to) of a dataset. */
export function terrainJobId(spec: TerrainSpec, seed: number, ood: boolean, from: number, to: number): string {
  return `terrain-${ood ? 'ood' : 'train'}-s${seed}-${specDigest(spec)}-${from}-${to}`;
}

/** Options of {@link generateDatasetOnQueue}. */
export interface QueueGenerateOptions {
  url: string;
  n: number;
  seed: number;
  out: string;
  ood?: boolean;
  spec?: TerrainSpec;
  /** Samples per job (default 4). */
  jobSize?: number;
  /** Attempts per job before it counts as failed (default 3). */
  attempts?: number;
  /** How long a lost Redis connection is waited for before giving up (ms, default 120000). */
  redisWaitMs?: number;
  /** Poll interval for finished jobs (ms, default 200). */
  pollMs?: number;
  /** Give up if Redis does not answer at the start within this long (ms, default 5000). */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What the coordinator saw of each job. */
export interface JobReport {
  id: string;
  from: number;
  to: number;
  /** Times a worker started it (2 or more: it was retried, e.g. after a worker died). */
  attemptsStarted: number;
  worker: string;
  /** Whether its samples were already in the output folder from an earlier run. */
  resumed: boolean;
}

/** A sample already written by an earlier run, if its record and bytes match. */
function existingRecord(out: string, id: string): SampleRecord | null {
  const rp = join(out, 'samples', `${id}.json`);
  const bp = join(out, 'samples', `${id}.bin`);
  if (!existsSync(rp) || !existsSync(bp)) return null;
  try {
    const r = JSON.parse(readFileSync(rp, 'utf8')) as SampleRecord;
    const sha = createHash('sha256').update(readFileSync(bp)).digest('hex');
    return sha === r.sha256 ? r : null;
  } catch {
    return null;
  }
}

/**
 * Generates a dataset through the queue: adds one job per `jobSize` samples (ids from
 * terrainJobId; samples already present in `out` from an interrupted run are not queued
 * again), waits for the workers, writes each job's samples once (bytes and record, atomically)
 * and finally the manifest. Throws QueueUnavailableError if Redis is down at the start or
 * stays away longer than `redisWaitMs`, and TerrainDataError naming the job if a job fails
 * all its attempts.
 */
export async function generateDatasetOnQueue(opts: QueueGenerateOptions): Promise<GenerateResult & { jobs: JobReport[] }> {
  checkGenerateArgs(opts.n, opts.seed);
  const spec = opts.spec ?? DEFAULT_SPEC;
  const ood = !!opts.ood;
  const jobSize = opts.jobSize ?? 4;
  if (!Number.isInteger(jobSize) || jobSize < 1) throw new RangeError(`--job-size ${jobSize}: expected an integer >= 1`);
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const client = await connectRedis(opts.url, { log, timeoutMs: opts.connectTimeoutMs });
  const queue = new Queue<TerrainJobData, TerrainJobResult>(TERRAIN_QUEUE, { connection: client as never });
  queue.on('error', () => {}); // connection errors are reported by the client's own handlers
  const records = new Map<number, SampleRecord>();
  const reports: JobReport[] = [];
  const pending = new Map<string, { from: number; to: number }>();
  try {
    const prefix = ood ? 'ood' : 'train';
    for (let from = 0; from < opts.n; from += jobSize) {
      const to = Math.min(from + jobSize, opts.n);
      const id = terrainJobId(spec, opts.seed, ood, from, to);
      const have: SampleRecord[] = [];
      for (let i = from; i < to; i++) {
        const r = existingRecord(opts.out, `${prefix}-${String(i).padStart(6, '0')}`);
        if (r) have.push(r);
      }
      if (have.length === to - from) {
        have.forEach((r) => records.set(r.index, r));
        reports.push({ id, from, to, attemptsStarted: 0, worker: '', resumed: true });
        continue;
      }
      pending.set(id, { from, to });
    }
    await queue.addBulk(
      [...pending].map(([id, r]) => ({
        name: 'terrain-samples',
        data: { spec, seed: opts.seed, ood, from: r.from, to: r.to },
        opts: { jobId: id, attempts: opts.attempts ?? 3, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    log(
      `queued ${pending.size} job(s) of up to ${jobSize} samples on ${opts.url} (queue '${TERRAIN_QUEUE}'); waiting for workers (impulse worker --queue ${opts.url})`,
    );
    const waitMs = opts.redisWaitMs ?? 120000;
    while (pending.size > 0) {
      if (client.downSince !== null && Date.now() - client.downSince > waitMs)
        throw new QueueUnavailableError(
          opts.url,
          `Redis went away and did not return within ${waitMs / 1000} s${client.lastError ? ` (${client.lastError})` : ''}; run again to resume`,
        );
      if (client.status !== 'ready') {
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
        continue;
      }
      for (const [id, range] of [...pending]) {
        const job = (await queue.getJob(id)) as Job<TerrainJobData, TerrainJobResult> | undefined;
        if (!job) throw new TerrainDataError(`job ${id} disappeared from the queue (was the queue emptied?); run again to re-queue it`);
        if (job.finishedOn && job.failedReason && job.attemptsMade >= (job.opts.attempts ?? 1))
          throw new TerrainDataError(`job ${id} (samples ${range.from}..${range.to - 1}) failed ${job.attemptsMade} time(s): ${job.failedReason}`);
        const res = job.returnvalue;
        if (!job.finishedOn || !res || !Array.isArray(res.records)) continue;
        if (res.records.length !== range.to - range.from || res.data.length !== res.records.length)
          throw new TerrainDataError(`job ${id}: result holds ${res.records.length} sample(s), expected ${range.to - range.from}`);
        res.records.forEach((r, k) => {
          const bytes = Buffer.from(res.data[k]!, 'base64');
          const sha = createHash('sha256').update(bytes).digest('hex');
          if (sha !== r.sha256 || bytes.length !== r.bytes) throw new TerrainDataError(`job ${id}: sample ${r.id} arrived corrupt (SHA-256 or size mismatch)`);
          writeSampleFile(opts.out, r, bytes);
          writeFileAtomicSync(join(opts.out, 'samples', `${r.id}.json`), JSON.stringify(r) + '\n');
          records.set(r.index, r);
        });
        reports.push({ id, from: range.from, to: range.to, attemptsStarted: job.attemptsStarted, worker: res.worker, resumed: false });
        pending.delete(id);
        log(`job ${id} done by ${res.worker}${job.attemptsStarted > 1 ? ` (started ${job.attemptsStarted} times)` : ''}; ${records.size}/${opts.n} samples`);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    }
    const ordered = [...records.values()].sort((a, b) => a.index - b.index);
    const manifest: TerrainManifest = writeManifest(opts.out, spec, ood ? 'ood' : 'train', opts.seed, ordered);
    // the results are on disk: remove the finished jobs (re-adding an id later re-runs it)
    for (const r of reports) if (!r.resumed) await (await queue.getJob(r.id))?.remove();
    const seconds = (performance.now() - t0) / 1000;
    return { manifest, out: opts.out, samples: opts.n, seconds, samplesPerSecond: opts.n / seconds, jobs: reports.sort((a, b) => a.from - b.from) };
  } finally {
    client.closing = true;
    await queue.close().catch(() => undefined);
    await client.quit().catch(() => client.disconnect());
  }
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  url: string;
  /** Jobs processed at once by this process (default 1). */
  concurrency?: number;
  /** BullMQ lock duration (ms, default 30000): a job whose worker stops renewing it for this long is retried. */
  lockMs?: number;
  /** Give up if Redis does not answer at the start within this long (ms, default 5000). */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A running worker: `close()` finishes the current job and disconnects. */
export interface TerrainWorker {
  close(): Promise<void>;
  /** Number of jobs this worker completed. */
  completed(): number;
}

/** Starts a worker that generates terrain samples for jobs on the queue. */
export async function startWorker(opts: WorkerOptions): Promise<TerrainWorker> {
  const log = opts.log ?? (() => {});
  const client = await connectRedis(opts.url, { log, timeoutMs: opts.connectTimeoutMs });
  const me = `${hostname()}:${process.pid}`;
  const lock = opts.lockMs ?? 30000;
  let done = 0;
  const worker = new Worker<TerrainJobData, TerrainJobResult>(
    TERRAIN_QUEUE,
    async (job) => {
      if (job.name === 'terrain-baselines') {
        const d = job.data as unknown as BaselineJobData;
        log(`job ${job.id} started (${d.baseline} on samples ${d.from}..${d.to - 1}, attempt ${job.attemptsStarted})`);
        return { paths: runBaselineJob(d), worker: me } as unknown as TerrainJobResult;
      }
      const { spec, seed, ood, from, to } = job.data;
      log(`job ${job.id} started (samples ${from}..${to - 1}, attempt ${job.attemptsStarted})`);
      const records: SampleRecord[] = [];
      const data: string[] = [];
      for (let i = from; i < to; i++) {
        const { record, bytes } = await generateSampleBytes(spec, seed, i, ood);
        records.push(record);
        data.push(Buffer.from(bytes).toString('base64'));
        await job.updateProgress(Math.round((100 * (i + 1 - from)) / (to - from)));
      }
      return { records, data, worker: me };
    },
    {
      connection: client as never,
      concurrency: opts.concurrency ?? 1,
      lockDuration: lock,
      stalledInterval: Math.max(500, Math.round(lock / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('completed', (job) => {
    done++;
    log(`job ${job.id} completed`);
  });
  worker.on('failed', (job, err) => log(`job ${job?.id ?? '?'} failed: ${err.message}`));
  worker.on('error', () => {}); // connection loss is logged by the client's handlers
  log(`worker ${me} listening on ${opts.url} (queue '${TERRAIN_QUEUE}', concurrency ${opts.concurrency ?? 1})`);
  return {
    completed: () => done,
    close: async () => {
      client.closing = true;
      await worker.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Data of an evaluation job: one baseline on samples [from, to) of a dataset folder the workers can read. */
export interface BaselineJobData {
  dir: string;
  /** SHA-256 of the dataset's manifest.json: a worker that sees another dataset at `dir` refuses the job. */
  manifestSha: string;
  baseline: BaselineName;
  from: number;
  to: number;
}

/** Result of an evaluation job: the predicted paths (flat [T + 1][3] each) and who made them. */
export interface BaselineJobResult {
  paths: number[][];
  worker: string;
}

function manifestSha(dir: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dir, 'manifest.json')))
    .digest('hex');
}

/** Runs one evaluation job (what a worker does with a 'terrain-baselines' job). */
export function runBaselineJob(d: BaselineJobData): number[][] {
  const sha = manifestSha(d.dir);
  if (sha !== d.manifestSha)
    throw new TerrainDataError(
      `the dataset at ${d.dir} is not the one queued (manifest SHA-256 ${sha.slice(0, 12)}..., job wants ${d.manifestSha.slice(0, 12)}...)`,
    );
  const ds = openTerrainDataset(d.dir);
  const items = Array.from({ length: d.to - d.from }, (_, k) => ds.load(d.from + k));
  return baselinePaths(ds.spec, d.baseline, items).map((p) => Array.from(p));
}

/** Options of {@link evaluateBaselinesOnQueue}. */
export interface QueueEvaluateOptions {
  url: string;
  /** Dataset folder, at the same path on every worker (a shared file system). */
  dir: string;
  baselines?: readonly BaselineName[];
  /** Samples per job (default 16). */
  jobSize?: number;
  horizons?: number[];
  connectTimeoutMs?: number;
  redisWaitMs?: number;
  log?: (line: string) => void;
}

/**
 * An evaluation sweep through the queue: one job per (baseline, `jobSize` samples) with a
 * deterministic id (dataset manifest digest, baseline, range); workers return the predicted
 * paths and the coordinator computes ADE / FDE as `evaluateBaselines` does. Errors as in
 * generateDatasetOnQueue.
 */
export async function evaluateBaselinesOnQueue(opts: QueueEvaluateOptions): Promise<{ samples: number; results: BaselineResult[]; jobs: JobReport[] }> {
  const ds = openTerrainDataset(opts.dir);
  const sha = manifestSha(opts.dir);
  const which = opts.baselines ?? BASELINES;
  const jobSize = opts.jobSize ?? 16;
  if (!Number.isInteger(jobSize) || jobSize < 1) throw new RangeError(`--job-size ${jobSize}: expected an integer >= 1`);
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const client = await connectRedis(opts.url, { log, timeoutMs: opts.connectTimeoutMs });
  const queue = new Queue<BaselineJobData, BaselineJobResult>(TERRAIN_QUEUE, { connection: client as never });
  queue.on('error', () => {});
  const pending = new Map<string, BaselineJobData>();
  for (const baseline of which)
    for (let from = 0; from < ds.size; from += jobSize) {
      const to = Math.min(from + jobSize, ds.size);
      pending.set(`baselines-${sha.slice(0, 12)}-${baseline}-${from}-${to}`, { dir: opts.dir, manifestSha: sha, baseline, from, to });
    }
  const paths = new Map<BaselineName, Float64Array[]>(which.map((b) => [b, new Array<Float64Array>(ds.size)]));
  const reports: JobReport[] = [];
  try {
    await queue.addBulk(
      [...pending].map(([id, data]) => ({
        name: 'terrain-baselines',
        data,
        opts: { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    log(`queued ${pending.size} evaluation job(s) on ${opts.url} (queue '${TERRAIN_QUEUE}')`);
    await waitForJobs(queue, client, pending, opts.url, opts.redisWaitMs ?? 120000, (id, job) => {
      const d = pending.get(id)!;
      const res = job.returnvalue as BaselineJobResult;
      if (!res || !Array.isArray(res.paths) || res.paths.length !== d.to - d.from)
        throw new TerrainDataError(`job ${id}: result holds ${res?.paths?.length ?? 0} path(s), expected ${d.to - d.from}`);
      res.paths.forEach((p, k) => (paths.get(d.baseline)![d.from + k] = Float64Array.from(p)));
      reports.push({ id, from: d.from, to: d.to, attemptsStarted: job.attemptsStarted, worker: res.worker, resumed: false });
      log(`job ${id} done by ${res.worker}`);
    });
    for (const r of reports) await (await queue.getJob(r.id))?.remove();
  } finally {
    client.closing = true;
    await queue.close().catch(() => undefined);
    await client.quit().catch(() => client.disconnect());
  }
  const items = Array.from({ length: ds.size }, (_, i) => ds.load(i));
  const ms = performance.now() - t0;
  const results = which.map((name) => ({ name, metrics: pathMetrics(ds.spec, items, paths.get(name)!, opts.horizons), ms, paths: paths.get(name)! }));
  return { samples: ds.size, results, jobs: reports.sort((a, b) => a.id.localeCompare(b.id)) };
}

/** Polls the pending jobs until all have finished, calling `take` once per finished job (then it leaves `pending`). */
async function waitForJobs<D, R>(
  queue: Queue<D, R>,
  client: RedisLike & { downSince: number | null; lastError: string | null },
  pending: Map<string, unknown>,
  url: string,
  waitMs: number,
  take: (id: string, job: Job<D, R>) => void,
): Promise<void> {
  while (pending.size > 0) {
    if (client.downSince !== null && Date.now() - client.downSince > waitMs)
      throw new QueueUnavailableError(
        url,
        `Redis went away and did not return within ${waitMs / 1000} s${client.lastError ? ` (${client.lastError})` : ''}; run again to resume`,
      );
    if (client.status === 'ready')
      for (const id of [...pending.keys()]) {
        const job = (await queue.getJob(id)) as Job<D, R> | undefined;
        if (!job) throw new TerrainDataError(`job ${id} disappeared from the queue (was the queue emptied?); run again to re-queue it`);
        if (job.finishedOn && job.failedReason && job.attemptsMade >= (job.opts.attempts ?? 1))
          throw new TerrainDataError(`job ${id} failed ${job.attemptsMade} time(s): ${job.failedReason}`);
        if (!job.finishedOn || job.returnvalue === null || job.returnvalue === undefined) continue;
        take(id, job);
        pending.delete(id);
      }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 200));
  }
}
