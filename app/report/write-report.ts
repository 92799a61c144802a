// Builds a run's report (app/report): reads the run folder (run-files.ts), makes the tables and the
// Vega-Lite plots, renders them to SVG (inlined in report/index.html) and PNG (report/<plot>.png),
// and writes every file atomically. A run without history, predictions or metrics still gets a
// report of what it has, with a note saying what is missing.

import { mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomicSync } from '../../data/index.ts';
import { fmtSig } from './format.ts';
import { renderHtml, type ReportSection } from './html.ts';
import { errorByStep } from './prediction-metrics.ts';
import { dataEfficiencySpec } from './plots/data-efficiency.ts';
import { horizonSpec } from './plots/horizon.ts';
import { lossSpec } from './plots/loss.ts';
import { choosePlane, pathsSpec, selectSets } from './plots/paths.ts';
import { specToSvg, svgToPng } from './render.ts';
import { RunFileError } from './errors.ts';
import { loadRun, type RunData } from './run-files.ts';
import {
  bestModelSummary,
  dataEfficiencyPoints,
  dataEfficiencyTable,
  horizonPointsFromMetrics,
  keyValueTable,
  metricsTable,
  modelNames,
  predictionMetricsTable,
  seedsTable,
  selectionTable,
} from './tables.ts';

/** The plots a report can hold (each `report/<name>.png`). */
export const REPORT_PLOTS = ['paths', 'error-vs-horizon', 'loss', 'data-efficiency'] as const;
export type ReportPlotName = (typeof REPORT_PLOTS)[number];

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** Output folder (default `<run>/report`). */
  out?: string;
  /** Write the PNG copies (default true); without them, older copies in the folder are removed. */
  png?: boolean;
  /** PNG scale relative to the SVG size (default 2). */
  pngScale?: number;
  /** Miss threshold (m) named in the tables (default 2, as metrics.json). */
  missThreshold?: number;
}

/** What {@link writeReport} wrote. */
export interface ReportResult {
  /** The report folder. */
  dir: string;
  /** Absolute path of index.html. */
  html: string;
  /** `file://` URL of index.html. */
  url: string;
  /** The plots made, with the path of each PNG copy (absent with `png: false`). */
  plots: { name: ReportPlotName; png?: string }[];
  /** Run files that were not there. */
  missing: string[];
  /** The task of the run (from config.json or metrics.json). */
  task?: string;
}

/** Model names in a stable colour order: metrics.json's order, then the others seen. */
function modelOrder(run: RunData): string[] {
  const names = [
    ...(run.metrics ? modelNames(run.metrics.models) : []),
    ...(run.predictions ? run.predictions.sets.flatMap((s) => s.predictions.map((q) => q.label)) : []),
    ...(run.history ? run.history.epochs.map((e) => e.model) : []),
    ...(run.metrics?.dataEfficiency ? modelNames(run.metrics.dataEfficiency) : []),
  ];
  return [...new Set(names)];
}

const MISSING_TEXT: Record<string, string> = {
  'config.json': 'config.json is missing: no config summary.',
  'metrics.json': 'metrics.json is missing: the metrics table is computed from predictions.json where possible.',
  'history.json': 'history.json is missing: no loss curves (a run of baselines only, or killed before its first epoch).',
  'predictions.json': 'predictions.json is missing: no paths plot; error vs horizon from metrics.json only.',
};

/** Writes a report file atomically; errors name the file, never the temporary one. */
function writeOut(path: string, content: string | Uint8Array): void {
  try {
    writeFileAtomicSync(path, content);
  } catch (e) {
    throw new RunFileError(`cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
}

/**
 * Builds `report/index.html` (and `report/<plot>.png`) for the run folder `runDir`. Throws a
 * RunFileError (naming the file and field) for a missing folder or a malformed file.
 */
export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const run = loadRun(runDir);
  const out = resolve(opts.out ?? join(runDir, 'report'));
  const miss = opts.missThreshold ?? 2;
  const models = modelOrder(run);
  const notes = run.missing.map((f) => MISSING_TEXT[f]!);
  const preds = run.predictions && run.predictions.sets.length > 0 ? run.predictions : undefined;
  if (run.predictions && !preds) notes.push('predictions.json holds no prediction sets: no paths plot.');

  const specs: { name: ReportPlotName; spec: TopLevelSpec; section: string }[] = [];
  if (preds) {
    const selected = selectSets(
      preds,
      models.filter((m) => preds.sets.some((s) => s.predictions.some((q) => q.label === m))),
    );
    specs.push({ name: 'paths', section: 'paths', spec: pathsSpec(preds, { models, plane: choosePlane(preds, run.config?.input?.plane), selected }) });
    specs.push({
      name: 'error-vs-horizon',
      section: 'horizon',
      spec: horizonSpec(errorByStep(preds), models, `mean over ${preds.sets.length} test prediction times (predictions.json)`),
    });
  } else if (run.metrics && run.metrics.models.length) {
    specs.push({
      name: 'error-vs-horizon',
      section: 'horizon',
      spec: horizonSpec(horizonPointsFromMetrics(run.metrics.models), models, 'FDE at the horizons of metrics.json (no predictions.json)'),
    });
  }
  if (run.history && run.history.epochs.length) specs.push({ name: 'loss', section: 'loss', spec: lossSpec(run.history.epochs, models) });
  else if (run.history) notes.push('history.json has no epochs: no loss curves.');
  const de = run.metrics?.dataEfficiency;
  if (de?.length) specs.push({ name: 'data-efficiency', section: 'efficiency', spec: dataEfficiencySpec(dataEfficiencyPoints(de), models, 'FDE@1.5 s') });

  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new RunFileError(`cannot create the report folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: out });
  }
  const plots: ReportResult['plots'] = [];
  const svgs = new Map<string, { name: string; svg: string; png?: string }>();
  for (const s of specs) {
    const svg = await specToSvg(s.spec);
    let png: string | undefined;
    if (opts.png !== false) {
      png = join(out, `${s.name}.png`);
      writeOut(png, svgToPng(svg, opts.pngScale ?? 2));
    }
    plots.push({ name: s.name, png });
    svgs.set(s.section, { name: s.name, svg, png: png ? `${s.name}.png` : undefined });
  }
  // PNGs of plots this run no longer has (an older report of the same folder) would mislead
  for (const name of REPORT_PLOTS) if (!plots.some((p) => p.name === name && p.png)) rmSync(join(out, `${name}.png`), { force: true });

  const sections: ReportSection[] = [];
  if (run.metrics) {
    const split = run.metrics.split;
    sections.push({
      id: 'metrics',
      heading: 'Metrics on the test split',
      text: [
        'ADE: mean displacement error over the horizon; FDE: displacement at the given time after the prediction; all in metres.',
        bestModelSummary(run.metrics),
      ]
        .filter(Boolean)
        .join(' '),
      tables: [
        metricsTable(run.metrics, miss),
        ...(run.metrics.seeds?.length ? [seedsTable(run.metrics.seeds)] : []),
        ...(run.metrics.selection && Object.keys(run.metrics.selection).length ? [selectionTable(run.metrics.selection)] : []),
        ...(split && Object.keys(split).length ? [keyValueTable(split, ['split', 'value'])] : []),
      ],
    });
    const ood = run.metrics.ood;
    if (ood?.models.length) {
      const t = metricsTable({ ...run.metrics, models: ood.models }, miss);
      sections.push({
        id: 'ood',
        heading: 'Metrics on the out-of-distribution set',
        text: `The same models on ${ood.samples} samples unlike the training data (terrain runs: obstacle kinds never seen in training).`,
        tables: [{ ...t, note: [t.note, 'Not used for training or for choosing the epoch.'].filter(Boolean).join(' ') }],
      });
    }
  } else if (preds) sections.push({ id: 'metrics', heading: 'Metrics on the test split', tables: [predictionMetricsTable(preds, miss)] });
  if (svgs.has('paths'))
    sections.push({
      id: 'paths',
      heading: 'Predicted vs ground-truth paths',
      text: 'Each panel starts at the prediction time; black: ground truth over the horizon; colours: the models. Both axes at the same scale.',
      plots: [svgs.get('paths')!],
    });
  if (svgs.has('horizon')) sections.push({ id: 'horizon', heading: 'Error vs horizon', plots: [svgs.get('horizon')!] });
  if (svgs.has('loss')) sections.push({ id: 'loss', heading: 'Loss curves', plots: [svgs.get('loss')!] });
  if (de?.length)
    sections.push({
      id: 'efficiency',
      heading: 'Data efficiency',
      tables: [dataEfficiencyTable(de)],
      plots: svgs.has('efficiency') ? [svgs.get('efficiency')!] : [],
    });
  if (run.config) sections.push({ id: 'config', heading: 'Configuration', tables: [keyValueTable(run.config, ['setting', 'value'])] });

  const task = run.config?.task ?? run.metrics?.task;
  const sub = [
    task ? `task ${task}` : undefined,
    run.config?.seed !== undefined ? `seed ${run.config.seed}` : undefined,
    run.config?.impulseVersion ? `Impulse ${run.config.impulseVersion}` : undefined,
    preds ? `${preds.sets.length} prediction sets` : undefined,
    run.history?.epochs.length ? `${new Set(run.history.epochs.map((e) => e.epoch)).size} epochs` : undefined,
    run.history?.epochs.some((e) => e.seconds !== undefined)
      ? `training time ${fmtSig(
          run.history.epochs.reduce((a, e) => a + (e.seconds ?? 0), 0),
          3,
        )} s`
      : undefined,
  ].filter(Boolean);
  const html = renderHtml({
    title: `Impulse run report: ${basename(resolve(runDir))}`,
    subtitle: sub.join(' · '),
    notes,
    sections,
  });
  const htmlPath = join(out, 'index.html');
  writeOut(htmlPath, html);
  return { dir: out, html: htmlPath, url: pathToFileURL(htmlPath).href, plots, missing: run.missing, task };
}
