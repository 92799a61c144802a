// CLI start-up benchmark (`npm run bench -- cli [--runs N]`): wall time of `impulse --help` and
// of a light command (`impulse convert` of a small bundled TUM file into a temporary folder,
// which loads the data layer), each the median of N fresh processes run in turn with an empty
// `node -e 0` (same load for all three), and `--help` from the TypeScript sources through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argNum, round } from './_util.ts';

/** What this benchmark measures (one line, listed by `npm run bench`). */
export const description = 'start-up of `impulse --help` and of a light command (median of N processes, ms), vs an empty node process';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'impulse.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeRuns(args: string[], runs: number, env: NodeJS.ProcessEnv = process.env): { medianMs: number; minMs: number; maxMs: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`bench cli: 'node ${args.join(' ')}' exited with ${r.status}: ${r.stderr.slice(-400)}`);
  }
  return { medianMs: round(median(ms), 1), minMs: round(Math.min(...ms), 1), maxMs: round(Math.max(...ms), 1) };
}

/**
 * Runs the commands in turn, round after round (A B C A B C ...), so that each sees the same
 * machine load; returns each one's timings.
 */
function timeInterleaved(
  cmds: { args: string[]; env?: NodeJS.ProcessEnv }[],
  runs: number,
): { medianMs: number; minMs: number; maxMs: number; all: number[] }[] {
  const ms: number[][] = cmds.map(() => []);
  for (let i = 0; i < runs; i++) {
    cmds.forEach((c, k) => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, c.args, { cwd: ROOT, env: c.env ?? process.env, encoding: 'utf8' });
      ms[k]!.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`bench cli: 'node ${c.args.join(' ')}' exited with ${r.status}: ${r.stderr.slice(-400)}`);
    });
  }
  return ms.map((m) => ({ medianMs: round(median(m), 1), minMs: round(Math.min(...m), 1), maxMs: round(Math.max(...m), 1), all: m }));
}

/** The benchmark entry. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const runs = argNum(args, 'runs', 15, { bench: 'cli' });
  const compiled = existsSync(join(ROOT, 'dist', 'app', 'cli.js'));
  const dir = mkdtempSync(join(tmpdir(), 'impulse-bench-cli-'));
  let empty, help, light;
  try {
    const input = join(ROOT, 'examples', 'data', 'freiburg1_xyz-groundtruth.txt');
    [empty, help, light] = timeInterleaved(
      [{ args: ['-e', '0'] }, { args: [BIN, '--help'] }, { args: [BIN, 'convert', input, join(dir, 'out.kitti'), '--force'] }],
      runs,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // per round, the command's time minus the empty node's of the same round
  const over = (x: { all: number[] }): number => round(median(x.all.map((v, i) => v - empty!.all[i]!)), 1);
  const strip = ({ all: _all, ...rest }: { all: number[]; medianMs: number; minMs: number; maxMs: number }) => rest;
  const out: Record<string, unknown> = {
    runs,
    entry: compiled ? 'bin/impulse.js (dist/ when built and newer than the sources, else tsx)' : 'bin/impulse.js (no dist/: tsx sources)',
    method:
      'fresh processes, interleaved round by round (empty node, --help, convert) so that each sees the same load; overMs = median over rounds of (command - empty node)',
    emptyNode: strip(empty!),
    help: { ...strip(help!), overEmptyNodeMs: over(help!) },
    lightCommand: { command: 'impulse convert freiburg1_xyz-groundtruth.txt out.kitti --force', ...strip(light!), overEmptyNodeMs: over(light!) },
    target: { helpMedianMs: 300 },
  };
  out.fromSources = timeRuns([BIN, '--help'], Math.min(runs, 5), { ...process.env, IMPULSE_FROM_SOURCE: '1' });
  return out;
}
