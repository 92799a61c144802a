// Distributed generation on BullMQ with a real Redis server (ego/terrain/jobs.ts): the test
// starts its own redis-server on a free loopback port (append-only file, so a restart keeps
// the queue), runs two `impulse worker` child processes, SIGKILLs one while it holds a job,
// restarts Redis mid-run, and checks that every job completes exactly once (its samples
// written once, identical to a single-process generation) and no result is lost, then runs
// an evaluation sweep through the queue and compares it with the in-process one. Skipped,
// with the reason, where redis-server or BullMQ's Redis client (ioredis) is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SPEC, QueueUnavailableError, openTerrainDataset } from './index.ts';
import { evaluateBaselinesOnQueue, generateDatasetOnQueue } from './jobs.ts';
import { evaluateBaselines } from './baseline.ts';
import { generateSampleBytes } from './dataset.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const redisServer = spawnSync('redis-server', ['--version']).status === 0 ? 'redis-server' : null;
let ioredis: string | null = null;
try {
  createRequire(import.meta.url).resolve('ioredis');
  ioredis = 'ok';
} catch {
  ioredis = null;
}
const skip = !redisServer ? 'redis-server is not installed' : !ioredis ? "BullMQ's Redis client 'ioredis' is not installed" : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Whether a Redis server answers PING on 127.0.0.1:port (raw RESP over TCP). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const done = (v: boolean): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const p = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
    {
      stdio: 'ignore',
    },
  );
  const until = Date.now() + 10000;
  while (Date.now() < until) {
    if (await pong(port)) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  p.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start`);
}

function stopped(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}

interface WorkerProc {
  proc: ChildProcess;
  lines: string[];
  waitFor(re: RegExp): Promise<string>;
}

function startWorkerProc(url: string): WorkerProc {
  const proc = spawn(process.execPath, [join(root, 'bin/impulse.js'), 'worker', '--queue', url, '--lock-ms', '1500'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters])
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  return {
    proc,
    lines,
    waitFor: (re) => {
      const hit = lines.find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

test('a Redis server that is down is a named error', { skip }, async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  await assert.rejects(
    generateDatasetOnQueue({ url, n: 2, seed: 1, out: join(tmpdir(), 'impulse-never-written'), connectTimeoutMs: 1500 }),
    (e: Error) => e instanceof QueueUnavailableError && e.message.startsWith(`job queue ${url}: Redis is not reachable within 1.5 s`),
  );
});

test('two workers, one SIGKILLed mid-job, Redis restarted mid-run: every job completes exactly once, no result lost', { skip, timeout: 180000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'impulse-queue-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let redis = await startRedis(port, dir);
  const workers: WorkerProc[] = [];
  try {
    workers.push(startWorkerProc(url), startWorkerProc(url));
    await Promise.all(workers.map((w) => w.waitFor(/listening on/)));
    const out = join(dir, 'ds');
    const log: string[] = [];
    let restarted = false;
    const n = 8;
    const run = generateDatasetOnQueue({ url, n, seed: 4, out, jobSize: 2, connectTimeoutMs: 5000, log: (l) => log.push(l) });
    // kill the first worker as soon as it holds a job
    const started = await workers[0]!.waitFor(/job (\S+) started/);
    workers[0]!.proc.kill('SIGKILL');
    const killedJob = /job (\S+) started/.exec(started)![1]!;
    // once the first result is in, take Redis away for a moment and bring it back
    const untilDone = Date.now() + 60000;
    while (!log.some((l) => / done by /.test(l)) && Date.now() < untilDone) await new Promise((r) => setTimeout(r, 50));
    redis.kill('SIGTERM');
    await stopped(redis);
    await new Promise((r) => setTimeout(r, 1000));
    redis = await startRedis(port, dir);
    restarted = true;
    const res = await run;
    assert.ok(restarted);

    // every job once, in order, covering every sample once
    assert.deepEqual(
      res.jobs.map((j) => [j.from, j.to]),
      [
        [0, 2],
        [2, 4],
        [4, 6],
        [6, 8],
      ],
    );
    assert.equal(new Set(res.jobs.map((j) => j.id)).size, 4);
    // the killed worker's job was run again by the other worker
    const k = res.jobs.find((j) => j.id === killedJob);
    assert.ok(k, `killed job ${killedJob} is among the results`);
    assert.ok(k.attemptsStarted >= 2, `killed job started ${k.attemptsStarted} time(s)`);
    assert.ok(!k.worker.endsWith(`:${workers[0]!.proc.pid}`), `killed job finished by ${k.worker}`);
    assert.ok(log.some((l) => /connection lost/.test(l)) && log.some((l) => /connection is back/.test(l)), log.join('\n'));
    // each sample file once, identical to the same samples generated in this process
    const files = readdirSync(join(out, 'samples')).filter((f) => f.endsWith('.bin'));
    assert.equal(files.length, n);
    const ds = openTerrainDataset(out);
    assert.equal(ds.size, n);
    for (const i of [0, 3, 7]) {
      const local = await generateSampleBytes(DEFAULT_SPEC, 4, i, false);
      assert.equal(ds.manifest.samples[i]!.sha256, local.record.sha256, `sample ${i}`);
      ds.load(i);
    }
    assert.equal(readdirSync(out).filter((f) => f.endsWith('.tmp')).length + readdirSync(join(out, 'samples')).filter((f) => f.endsWith('.tmp')).length, 0);

    // an evaluation sweep through the same queue gives exactly the in-process metrics
    const sweep = await evaluateBaselinesOnQueue({ url, dir: out, baselines: ['physics-default', 'unicycle'], jobSize: 3 });
    assert.equal(sweep.jobs.length, 6);
    const local = evaluateBaselines(ds, { baselines: ['physics-default', 'unicycle'] });
    // (to roundoff: a job's batch lays its terrains out as other tiles, at other offsets)
    sweep.results.forEach((r, i) =>
      r.metrics.forEach((m, k) => {
        const l = local.results[i]!.metrics[k]!;
        assert.equal(m.horizon, l.horizon);
        assert.ok(Math.abs(m.minAde - l.minAde) < 1e-9 && Math.abs(m.minFde - l.minFde) < 1e-9, `${r.name} at ${m.horizon} s: ${m.minAde} vs ${l.minAde}`);
      }),
    );
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    await Promise.all(workers.map((w) => stopped(w.proc)));
    redis.kill('SIGKILL');
    await stopped(redis);
    rmSync(dir, { recursive: true, force: true });
  }
});
