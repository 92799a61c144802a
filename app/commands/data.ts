// CLI commands of the data layer (app/, top layer): `impulse eval ape|rpe` (evo-compatible trajectory
// metrics), `impulse replay` (MCAP summary, extraction, message replay) and `impulse convert`
// (between TUM, KITTI, EuRoC, MonoForce CSV, JSON and MCAP). `--json` prints JSON on stdout only.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AlignMode, ApeResult, DeltaUnit, McapLog, PoseRelation, RpeResult, Trajectory } from '../../data/index.ts';
// light modules only at start-up; the data layer itself is imported when a command runs
import { DataError } from '../../data/errors.ts';
import { TRAJECTORY_FORMATS, formatFromExtension, parseFormatName, type TrajectoryFormat } from '../../data/formats/names.ts';
import { STATISTIC_NAMES } from '../../data/metrics/stats.ts';

const dataLayer = () => import('../../data/index.ts');

/** Parser of a numeric option; `min` (inclusive) or `positive` reject out-of-range values when parsing. */
function num(name: string, range: { min?: number; positive?: boolean } = {}): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
    if (range.positive && !(x > 0)) throw new InvalidArgumentError(`${name} must be positive, got '${v}'`);
    if (range.min !== undefined && x < range.min) throw new InvalidArgumentError(`${name} must be >= ${range.min}, got '${v}'`);
    return x;
  };
}

function int(name: string, min?: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isInteger(x)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
    if (min !== undefined && x < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
}

function choice<T extends string>(name: string, allowed: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got '${v}'`);
    return v as T;
  };
}

function formatOpt(v: string): TrajectoryFormat {
  try {
    return parseFormatName(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function tfPair(v: string): { parent: string; child: string } {
  const m = /^([^:]+):([^:]+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`TF pair must be PARENT:CHILD, got '${v}'`);
  return { parent: m[1]!, child: m[2]! };
}

/** JSON.stringify that writes bigints as strings and typed arrays as arrays. */
function toJson(o: unknown): string {
  return JSON.stringify(
    o,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (ArrayBuffer.isView(v) && !(v instanceof DataView))
        return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
      return v;
    },
    2,
  );
}

function fail(e: unknown, json: boolean | undefined): void {
  const err = e as Error;
  const payload = err instanceof DataError ? err.toJSON() : { name: err?.name ?? 'Error', message: String(err?.message ?? e) };
  if (json) process.stdout.write(toJson({ error: payload }) + '\n');
  process.stderr.write(`impulse: ${err instanceof DataError ? `${err.name}: ` : ''}${err?.message ?? String(e)}\n`);
  process.exitCode = 1;
}

function fmtNum(x: number): string {
  if (x === 0) return '0.000000';
  const a = Math.abs(x);
  return a >= 1e-4 && a < 1e9 ? x.toFixed(6) : x.toExponential(6);
}

function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const w = cells[0]!.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells.map((r) => r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ')).join('\n');
}

interface TrajInput {
  format?: TrajectoryFormat;
  topic?: string;
  tf?: { parent: string; child: string };
  times?: string;
}

async function loadTrajectory(path: string, o: TrajInput): Promise<Trajectory> {
  const { readTrajectory } = await dataLayer();
  return readTrajectory(path, { format: o.format, topic: o.topic, tf: o.tf, timesFile: o.times });
}

const ALIGN_TEXT: Record<AlignMode, string> = {
  none: '',
  se3: '(with SE(3) Umeyama alignment)',
  sim3: '(with Sim(3) Umeyama alignment)',
  scale: '(scale corrected)',
};

function printResult(r: ApeResult | RpeResult, ref: string, est: string): void {
  const s = r.setup;
  // the first line says how the estimate was aligned: unaligned and aligned errors differ a lot
  const al = [ALIGN_TEXT[s.align], s.alignOrigin ? '(with origin alignment)' : ''].filter(Boolean).join(' ');
  const lines = [`${r.title} ${al || '(not aligned: --align se3|sim3|scale to align)'}`];
  lines.push('');
  lines.push(`reference  ${ref} (${s.refPoses} poses)`);
  lines.push(`estimate   ${est} (${s.estPoses} poses)`);
  lines.push(
    s.associated
      ? `pairs      ${s.matches} of max. ${s.maxPairs} matched by time (max. diff ${s.maxDiff} s, offset ${s.offset} s)`
      : `pairs      ${s.matches} (paired by index: no timestamps on both)`,
  );
  if (r.metric === 'rpe') lines.push(`compared   ${r.errors.length} relative pose pairs`);
  if (s.align === 'sim3' || s.align === 'scale') lines.push(`scale      ${fmtNum(s.scale)}`);
  lines.push('');
  lines.push(table(STATISTIC_NAMES.map((k) => [k.padStart(6), fmtNum(r.stats[k])])));
  process.stdout.write(lines.join('\n') + '\n');
}

function resultJson(r: ApeResult | RpeResult, ref: string, est: string, withErrors: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {
    metric: r.metric,
    title: r.title,
    relation: r.relation,
    unit: r.unit,
    reference: ref,
    estimate: est,
    setup: r.setup,
    stats: r.stats,
  };
  if (r.metric === 'rpe') Object.assign(o, { delta: r.delta, deltaUnit: r.deltaUnit, allPairs: r.allPairs, pairCount: r.pairs.length });
  if (withErrors) {
    o.errors = r.errors;
    o.timestamps = r.timestamps;
    if (r.metric === 'rpe') o.pairs = r.pairs;
  }
  return o;
}

interface EvalOpts {
  refFormat?: TrajectoryFormat;
  estFormat?: TrajectoryFormat;
  refTopic?: string;
  estTopic?: string;
  refTf?: { parent: string; child: string };
  estTf?: { parent: string; child: string };
  refTimes?: string;
  estTimes?: string;
  align: AlignMode;
  nAlign: number;
  alignOrigin?: boolean;
  tMaxDiff: number;
  tOffset: number;
  relation: PoseRelation;
  json?: boolean;
  errors?: boolean;
  delta?: number;
  deltaUnit?: DeltaUnit;
  deltaTol?: number;
  allPairs?: boolean;
  pairsFromRef?: boolean;
}

function evalOptions(cmd: Command): Command {
  return cmd
    .option('--ref-format <fmt>', `reference format (${TRAJECTORY_FORMATS.join('|')}; default: detected)`, formatOpt)
    .option('--est-format <fmt>', 'estimate format (default: detected)', formatOpt)
    .option('--ref-topic <topic>', 'reference topic (MCAP input)')
    .option('--est-topic <topic>', 'estimate topic (MCAP input)')
    .option('--ref-tf <parent:child>', 'reference TF frame pair (MCAP input)', tfPair)
    .option('--est-tf <parent:child>', 'estimate TF frame pair (MCAP input)', tfPair)
    .option('--ref-times <file>', 'times file for the reference (KITTI)')
    .option('--est-times <file>', 'times file for the estimate (KITTI)')
    .option('--align <mode>', 'Umeyama alignment: se3|sim3|scale|none', choice('--align', ['se3', 'sim3', 'scale', 'none'] as const), 'none')
    .option('--n-align <n>', 'align on the first n poses only (-1: all)', int('--n-align', -1), -1)
    .option('--align-origin', "move the estimate's first pose onto the reference's")
    .option('--t-max-diff <s>', 'largest time difference for association (s)', num('--t-max-diff', { min: 0 }), 0.01)
    .option('--t-offset <s>', 'time offset added to the estimate (s)', num('--t-offset'), 0)
    .option(
      '--relation <rel>',
      'pose relation: trans|rot-deg|rot-rad|rot|full',
      choice('--relation', ['trans', 'rot-deg', 'rot-rad', 'rot', 'full'] as const),
      'trans',
    )
    .option('--errors', 'include the per-pair errors in the JSON output')
    .option('--json', 'print JSON on stdout');
}

async function runEval(metric: 'ape' | 'rpe', refPath: string, estPath: string, o: EvalOpts): Promise<void> {
  try {
    const { evaluateApe, evaluateRpe, trajectoryWarnings } = await dataLayer();
    const ref = await loadTrajectory(refPath, { format: o.refFormat, topic: o.refTopic, tf: o.refTf, times: o.refTimes });
    const est = await loadTrajectory(estPath, { format: o.estFormat, topic: o.estTopic, tf: o.estTf, times: o.estTimes });
    for (const w of [...trajectoryWarnings(ref, refPath), ...trajectoryWarnings(est, estPath)]) process.stderr.write(`impulse: warning: ${w}\n`);
    const common = { mode: o.align, nAlign: o.nAlign, alignOrigin: o.alignOrigin, maxDiff: o.tMaxDiff, offset: o.tOffset, relation: o.relation };
    const r =
      metric === 'ape'
        ? evaluateApe(ref, est, common)
        : evaluateRpe(ref, est, {
            ...common,
            delta: o.delta,
            deltaUnit: o.deltaUnit,
            relDeltaTol: o.deltaTol,
            allPairs: o.allPairs,
            pairsFromReference: o.pairsFromRef,
          });
    if (o.json) process.stdout.write(toJson(resultJson(r, refPath, estPath, !!o.errors)) + '\n');
    else printResult(r, refPath, estPath);
  } catch (e) {
    fail(e, o.json);
  }
}

interface ReplayOpts {
  recover?: boolean;
  summary?: boolean;
  trajectories: boolean;
  allTf?: boolean;
  topic?: string;
  tf?: { parent: string; child: string };
  out?: string;
  format?: TrajectoryFormat;
  stamp: 'header' | 'log';
  from?: number;
  to?: number;
  print?: boolean;
  topics?: string;
  speed?: number;
  limit?: number;
  json?: boolean;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

async function runReplay(path: string, o: ReplayOpts): Promise<void> {
  let log: McapLog | undefined;
  try {
    const { DecoderCache, McapLog, extractTrajectory, nsToSec, secToNs, summarizeTrajectories, writeTrajectory } = await dataLayer();
    log = await McapLog.open(path, { recover: o.recover });
    if (log.recovered) process.stderr.write(`impulse: warning: ${recoveryText(path, log.recovered)}\n`);
    const summary = await log.summary();
    const t0 = summary.startTime ?? 0n;
    const start = o.from !== undefined ? t0 + secToNs(o.from) : undefined;
    const end = o.to !== undefined ? t0 + secToNs(o.to) : undefined;
    if (o.topic || o.tf) {
      const traj = await extractTrajectory(log, { topic: o.topic, tf: o.tf, stamp: o.stamp, start, end });
      if (o.out) await writeTrajectory(o.out, traj, { format: o.format ?? formatFromExtension(o.out, '--format') });
      const info = {
        source: o.topic ?? `tf:${o.tf!.parent}->${o.tf!.child}`,
        poses: traj.length,
        frameId: traj.frameId,
        childFrameId: traj.childFrameId,
        startTime: traj.timestamps?.[0] ?? null,
        endTime: traj.timestamps?.[traj.length - 1] ?? null,
        pathLength: traj.pathLength(),
        start: traj.position(0),
        end: traj.position(traj.length - 1),
        out: o.out ?? null,
        format: o.out ? (o.format ?? formatFromExtension(o.out)) : null,
      };
      if (o.json) process.stdout.write(toJson(info) + '\n');
      else {
        process.stdout.write(
          `${info.source}: ${info.poses} poses in '${info.frameId}'${info.childFrameId ? ` (of '${info.childFrameId}')` : ''}, ` +
            `${fmtNum(info.pathLength)} m path, t ${info.startTime} .. ${info.endTime} s\n` +
            (o.out ? `wrote ${o.out} (${info.format})\n` : ''),
        );
      }
      return;
    }
    if (o.print) {
      const topics = o.topics ? o.topics.split(',').map((s) => s.trim()) : undefined;
      const cursor = log.cursor({ topics, start, end });
      const dec = new DecoderCache(log);
      let k = 0;
      for await (const m of cursor.play({ speed: o.speed ?? Infinity })) {
        if (o.limit !== undefined && k >= o.limit) break;
        k++;
        const t = nsToSec(m.logTime - t0);
        if (o.json)
          process.stdout.write(
            JSON.stringify({ logTime: m.logTime.toString(), t, topic: m.topic, schema: m.schemaName, message: plain(dec.decode(m)) }) + '\n',
          );
        else process.stdout.write(`${t.toFixed(6).padStart(12)}  ${m.topic}  ${m.schemaName}  ${m.data.length} B\n`);
      }
      return;
    }
    let trajectories = o.trajectories ? await summarizeTrajectories(log, { start, end }) : [];
    if (!o.allTf) trajectories = trajectories.filter((s) => !(s.source.startsWith('tf:') && s.count <= 1));
    if (o.json) {
      process.stdout.write(toJson({ ...summary, trajectories }) + '\n');
      return;
    }
    const lines = [
      `file        ${summary.file} (${summary.bytes} bytes, ${summary.indexed ? 'indexed' : 'not indexed'})`,
      `profile     ${summary.profile || '-'}   library: ${summary.library || '-'}`,
      `messages    ${summary.messageCount} in ${summary.chunkCount} chunk(s) ${Object.entries(summary.compression)
        .map(([c, n]) => `${n} ${c || 'uncompressed'}`)
        .join(', ')}`,
      `time        ${summary.startTime === null ? '-' : nsToSec(summary.startTime).toFixed(6)} .. ${summary.endTime === null ? '-' : nsToSec(summary.endTime).toFixed(6)} (${summary.durationSec.toFixed(3)} s)`,
      '',
      table([
        ['topic', 'schema', 'encoding', 'messages'],
        ...summary.channels.map((c) => [c.topic, c.schemaName || '-', `${c.messageEncoding}/${c.schemaEncoding || '-'}`, c.messageCount]),
      ]),
    ];
    if (trajectories.length > 0) {
      lines.push('', 'trajectories (header stamps; static TF links hidden unless --all-tf)');
      const p = (v: number[]): string => v.map((x) => x.toFixed(3)).join(', ');
      lines.push(
        table([
          ['source', 'frame', 'poses', 'duration s', 'length m', 'start', 'end'],
          ...trajectories.map((s) => [
            s.source,
            s.childFrameId ? `${s.frameId}->${s.childFrameId}` : s.frameId,
            s.count,
            s.durationSec.toFixed(3),
            s.pathLength.toFixed(3),
            `(${p(s.start)})`,
            `(${p(s.end)})`,
          ]),
        ]),
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  } catch (e) {
    fail(e, o.json);
  } finally {
    await log?.close();
  }
}

interface ConvertOpts {
  force?: boolean;
  recover?: boolean;
  from?: TrajectoryFormat;
  to?: TrajectoryFormat;
  topic?: string;
  tf?: { parent: string; child: string };
  times?: string;
  rate?: number;
  outTimes?: string;
  outTopic?: string;
  frameId?: string;
  mcapEncoding?: 'cdr' | 'json';
  json?: boolean;
}

/** The warning for a truncated MCAP read with --recover. */
function recoveryText(file: string, r: { truncatedAt: number; lostBytes: number; what: string }): string {
  return `${file} is truncated: recovered every complete record before byte ${r.truncatedAt}; lost ${r.lostBytes} bytes (${r.what}) and the summary section`;
}

/** True when `a` and `b` name the same file (same path, or the same existing file through links). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

async function runConvert(input: string, output: string, o: ConvertOpts): Promise<void> {
  try {
    // the format module alone (MCAP and zod load only for files that need them): a text conversion starts fast
    const { convertTrajectoryFile } = await import('../../data/formats/index.ts');
    const { checkOutputPath } = await import('../../data/fsutil.ts');
    for (const [what, p] of [
      ['output', output],
      ['--out-times file', o.outTimes],
    ] as const) {
      if (p === undefined) continue;
      if (sameFile(p, input) && !o.force)
        throw new DataError(`the ${what} is the input file; converting would overwrite it (choose another name, or --force to replace it)`, { file: p });
      checkOutputPath(p);
    }
    const to = o.to ?? formatFromExtension(output, '--to');
    const r = await convertTrajectoryFile(input, output, {
      from: o.from,
      to,
      topic: o.topic,
      tf: o.tf,
      timesFile: o.times,
      rate: o.rate,
      outTimesFile: o.outTimes,
      outTopic: o.outTopic,
      frameId: o.frameId,
      mcapEncoding: o.mcapEncoding,
      inMemory: sameFile(output, input) || (o.outTimes !== undefined && sameFile(o.outTimes, input)), // --force onto the input: read it whole first
      recover: o.recover,
    });
    const warnings: string[] = [];
    if (r.recovered) warnings.push(recoveryText(input, r.recovered));
    if (r.duplicates.count > 0)
      warnings.push(
        `${input}: ${r.duplicates.count} repeated timestamp(s) with a different pose (${r.duplicates.first.map((x) => `pose ${x.index} at t = ${x.timestamp}`).join(', ')}${r.duplicates.count > 3 ? ', ...' : ''}); time association will pick one of them`,
      );
    if (to === 'kitti' && r.timestamps && !o.outTimes)
      warnings.push(
        `KITTI poses carry no timestamps: the ${r.poses} timestamps of ${input} are not in ${output}; --out-times FILE writes them to a times file`,
      );
    for (const w of warnings) process.stderr.write(`impulse: warning: ${w}\n`);
    const info = {
      input,
      output,
      from: r.from,
      format: to,
      poses: r.poses,
      timestamps: r.timestamps,
      streamed: r.streamed,
      recovered: r.recovered,
      timesFile: o.outTimes ?? null,
      warnings,
    };
    if (o.json) process.stdout.write(toJson(info) + '\n');
    else
      process.stdout.write(
        `converted ${input} -> ${output} (${to}, ${r.poses} poses${r.timestamps ? '' : ', no timestamps'}), read as ${r.from}${r.streamed ? ', streamed' : ''}\n`,
      );
  } catch (e) {
    fail(e, o.json);
  }
}

/** Registers `eval ape`, `eval rpe`, `replay` and `convert` on the Impulse program. */
export function register(program: Command): void {
  const evalCmd = program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('evaluate trajectories (evo-compatible metrics)');
  evalOptions(
    evalCmd
      .command('ape')
      .description('absolute pose error of EST against REF (as evo_ape)')
      .argument('<ref>', 'reference trajectory file')
      .argument('<est>', 'estimated trajectory file'),
  ).action((ref: string, est: string, o: EvalOpts) => runEval('ape', ref, est, o));
  evalOptions(
    evalCmd
      .command('rpe')
      .description('relative pose error of EST against REF (as evo_rpe)')
      .argument('<ref>', 'reference trajectory file')
      .argument('<est>', 'estimated trajectory file')
      .option('--delta <n>', 'pair distance, in --delta-unit', num('--delta', { positive: true }), 1)
      .option('--delta-unit <u>', 'f (frames) | m (metres of path) | deg | rad', choice('--delta-unit', ['f', 'm', 'deg', 'rad'] as const), 'f')
      .option('--delta-tol <r>', 'relative delta tolerance in all-pairs mode', num('--delta-tol', { min: 0 }), 0.1)
      .option('--all-pairs', 'use all pairs instead of consecutive ones')
      .option('--pairs-from-ref', 'choose the pairs on the reference (default: the estimate, as evo)'),
  ).action((ref: string, est: string, o: EvalOpts) => runEval('rpe', ref, est, o));

  program
    .command('replay')
    .description('summarise, extract from, or replay an MCAP log (streaming)')
    .argument('<log>', 'MCAP file')
    .option('--summary', 'topics, schemas, counts, time range and trajectories (the default action)')
    .option('--no-trajectories', 'summary from the index only (no decoding pass)')
    .option('--recover', 'a truncated log (recording cut off): read every complete record and say what was lost')
    .option('--all-tf', 'list static TF links among the trajectories too')
    .option('--topic <topic>', 'extract the poses of a topic (Odometry, PoseStamped, PoseWithCovarianceStamped, foxglove.PoseInFrame)')
    .option('--tf <parent:child>', 'extract the pose of CHILD in PARENT from /tf and /tf_static', tfPair)
    .option('--out <file>', 'write the extracted trajectory (format from the extension or --format)')
    .option('--format <fmt>', `output format (${TRAJECTORY_FORMATS.join('|')})`, formatOpt)
    .option('--stamp <which>', 'time stamps of extracted poses: header|log', choice('--stamp', ['header', 'log'] as const), 'header')
    .option('--from <s>', 'start, seconds after the first message', num('--from', { min: 0 }))
    .option('--to <s>', 'end, seconds after the first message', num('--to', { min: 0 }))
    .option('--print', 'print messages in log-time order (decoded with --json)')
    .option('--topics <list>', 'comma-separated topics for --print')
    .option('--speed <x>', 'with --print: pace messages at x times log time (default: as fast as possible)', num('--speed', { positive: true }))
    .option('--limit <n>', 'with --print: stop after n messages', int('--limit', 0))
    .option('--json', 'print JSON on stdout')
    .action((log: string, o: ReplayOpts) => runReplay(log, o));

  program
    .command('convert')
    .description('convert a trajectory between TUM, KITTI, EuRoC, MonoForce CSV, JSON and MCAP')
    .argument('<in>', 'input file')
    .argument('<out>', 'output file (written atomically)')
    .option('--from <fmt>', 'input format (default: detected)', formatOpt)
    .option('--to <fmt>', 'output format (default: from the extension)', formatOpt)
    .option('--topic <topic>', 'MCAP input: topic to read')
    .option('--tf <parent:child>', 'MCAP input: TF frame pair to read', tfPair)
    .option('--times <file>', 'KITTI input: times file')
    .option('--rate <hz>', 'give the poses timestamps i / rate (for inputs without time)', num('--rate', { positive: true }))
    .option('--out-times <file>', 'KITTI output: also write a times file')
    .option('--out-topic <topic>', 'MCAP output: topic (default /trajectory)')
    .option('--frame-id <id>', 'MCAP output: frame id (default: the trajectory frame, else world)')
    .addOption(
      new Option('--mcap-encoding <enc>', 'MCAP output: cdr (ROS 2 geometry_msgs/msg/PoseStamped) or json (foxglove.PoseInFrame)')
        .choices(['cdr', 'json'])
        .default('cdr'),
    )
    .option('--force', 'allow the output (or --out-times) to be the input file, replacing it')
    .option('--recover', 'MCAP input cut off (a recording interrupted): read every complete record and say what was lost')
    .option('--json', 'print JSON on stdout')
    .action((input: string, output: string, o: ConvertOpts) => runConvert(input, output, o));
}
