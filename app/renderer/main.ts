// The renderer's entry (app/renderer, browser code only; bundled by esbuild into dist/renderer):
// builds the layout (files, metrics and runs panels, the 3D view, plots, timeline), loads what the
// backend has open, and wires the transport (Electron preload or web server), keyboard shortcuts,
// drag and drop / upload, and the test hook `window.__impulseTest` (see test-hook.ts).

import './app.css';
import { createTransport, CallError } from './transport.ts';
import { Scene3D } from './scene3d.ts';
import { Timeline } from './timeline.ts';
import { Plot } from './plots.ts';
import { ErrorPanel, h, setOptions } from './ui.ts';
import { PALETTE, css } from './colors.ts';
import { f32, f64, toBase64, type Packed } from './packed.ts';
import {
  lastAtOrBefore,
  positionAt,
  predLayer,
  trajLayer,
  type PredLayer,
  type PredictionsResponse,
  type TerrainGrid,
  type TrajLayer,
  type TrajectoryResponse,
} from './model.ts';
import { installTestHook } from './test-hook.ts';

/** What `openFile` / `listOpen` describe. */
interface FileInfo {
  id: string;
  path: string;
  name: string;
  kind: 'trajectory' | 'predictions' | 'mcap' | 'run';
  [k: string]: unknown;
}

const transport = createTransport();

function layout(): Record<string, HTMLElement> {
  document.getElementById('boot')?.remove();
  const q = <T extends HTMLElement>(el: T, name: string, reg: Record<string, HTMLElement>): T => ((reg[name] = el), el);
  const r: Record<string, HTMLElement> = {};
  const header = h(
    'header',
    {},
    h('span', { class: 'brand' }, 'Impulse'),
    q(
      h('input', {
        type: 'text',
        class: 'path',
        placeholder: 'path to a trajectory, log (.mcap), prediction file or run folder',
        'data-testid': 'open-path',
        spellcheck: 'false',
      }),
      'path',
      r,
    ),
    q(h('button', { 'data-testid': 'open-button', title: 'open the path (Enter)' }, 'Open'), 'openBtn', r),
    h(
      'label',
      { class: 'upload', title: 'open files from this computer' },
      'Files\u2026',
      q(h('input', { type: 'file', multiple: true, 'data-testid': 'upload' }), 'upload', r),
    ),
    q(h('select', { class: 'recent', 'data-testid': 'recent', title: 'recently opened' }, h('option', { value: '' }, 'Recent\u2026')), 'recent', r),
    q(h('button', { 'data-testid': 'camera', title: 'orbit / follow camera (F)' }, 'Camera: orbit'), 'cameraBtn', r),
    q(h('select', { class: 'terrain-layer', 'data-testid': 'terrain-layer', title: 'terrain colour map', hidden: true }), 'terrainSel', r),
    h('span', { class: 'platform' }, transport.platform === 'electron' ? 'desktop' : 'web'),
  );
  const left = h(
    'aside',
    { class: 'left' },
    h('h2', {}, 'Layers'),
    q(h('div', { class: 'layers', 'data-testid': 'layers' }), 'layers', r),
    h('h2', {}, 'Metrics'),
    q(h('div', { class: 'metrics', 'data-testid': 'metrics-panel' }), 'metrics', r),
    h('h2', {}, 'Runs'),
    q(h('div', { class: 'runs', 'data-testid': 'runs-panel' }), 'runs', r),
  );
  const center = h(
    'section',
    { class: 'center' },
    q(h('canvas', { id: 'view', 'data-testid': 'view', 'touch-action': 'none' }), 'canvas', r),
    q(h('div', { class: 'errors', 'data-testid': 'errors' }), 'errors', r),
    q(h('div', { class: 'drop-hint' }, 'Drop files to open them'), 'dropHint', r),
  );
  const right = h('aside', { class: 'right' }, h('h2', {}, 'Plots'), q(h('div', { class: 'plots' }), 'plots', r));
  const footer = q(h('footer', { class: 'timeline', 'data-testid': 'timeline' }), 'timeline', r);
  document.body.append(header, h('main', {}, left, center, right), footer);
  return r;
}

const el = layout();
const errors = new ErrorPanel(el.errors!);
window.addEventListener('error', (e) => errors.show('Error', e.message || String(e.error)));
window.addEventListener('unhandledrejection', (e) => errors.show('Error', (e.reason as Error)?.message ?? String(e.reason)));

let scene: Scene3D;
try {
  scene = new Scene3D(el.canvas as HTMLCanvasElement);
} catch (e) {
  errors.show('3D view unavailable', `WebGL could not start: ${(e as Error).message}`);
  throw e;
}
const timeline = new Timeline(el.timeline!);
const seek = (x: number): void => timeline.seek(x);
const plots = {
  error: new Plot(el.plots!, 'error-time', 'Position error vs time', 'time (s)', 'error (m)', seek),
  horizon: new Plot(el.plots!, 'error-horizon', 'Error vs horizon', 'horizon (s)', 'mean error (m)'),
  loss: new Plot(el.plots!, 'loss', 'Training loss', 'epoch', 'loss'),
};

const files = new Map<string, FileInfo>();
const trajs: TrajLayer[] = [];
const preds: PredLayer[] = [];
let pending = 0;
let lastMetrics: Record<string, unknown> | null = null;
let lastPredMetrics: Record<string, unknown> | null = null;
let autoMetricsDone = false;
let terrainGrids: TerrainGrid[] = [];

async function busy<T>(what: string, f: () => Promise<T>): Promise<T | undefined> {
  pending++;
  document.body.classList.add('busy');
  try {
    return await f();
  } catch (e) {
    const err = e instanceof CallError ? e : new CallError('error', (e as Error).message);
    errors.show(what, err.message);
    return undefined;
  } finally {
    if (--pending === 0) document.body.classList.remove('busy');
  }
}

function renderLayers(): void {
  const rows: HTMLElement[] = [];
  for (const f of files.values()) {
    const mine = trajs.filter((t) => t.fileId === f.id);
    const close = h('button', { class: 'dismiss', title: `close ${f.name}` }, '\u00d7');
    close.addEventListener('click', () => void closeFile(f.id));
    rows.push(
      h(
        'div',
        { class: 'file', 'data-testid': 'file', title: f.path },
        h('span', { class: 'kind' }, f.kind),
        h('span', { class: 'fname' }, f.name),
        close,
        ...mine.map((t) => {
          const sw = h('span', { class: 'swatch' });
          sw.style.background = css(t.color);
          return h('div', { class: 'layer' }, sw, `${t.source && t.source !== f.path ? t.source : 'trajectory'} (${t.times.length} poses)`);
        }),
        ...preds
          .filter((p) => p.fileId === f.id)
          .map((p) =>
            h('div', { class: 'layer' }, h('span', { class: 'swatch grad' }), `${p.t0.length} prediction sets x ${p.labels.length} (${p.labels.join(', ')})`),
          ),
      ),
    );
  }
  el.layers!.replaceChildren(
    ...(rows.length ? rows : [h('div', { class: 'hint' }, 'Open a trajectory, log, prediction file or run folder (path box, Files\u2026, or drop).')]),
  );
  refreshMetricsChoices();
}

function nextColor(): [number, number, number] {
  return PALETTE[trajs.length % PALETTE.length]!;
}

function medianStep(t: Float64Array): number {
  if (t.length < 2) return 0.1;
  const d: number[] = [];
  for (let i = 1; i < Math.min(t.length, 200); i++) d.push(t[i]! - t[i - 1]!);
  d.sort((a, b) => a - b);
  return d[d.length >> 1]! || 0.1;
}

async function addTrajectory(f: FileInfo, source?: string): Promise<void> {
  const r = await transport.call<TrajectoryResponse>('trajectory', { ref: source ? { id: f.id, source } : { id: f.id } });
  const key = `${f.id}|${source ?? ''}`;
  const l = trajLayer(key, f.id, source, r, nextColor());
  trajs.push(l);
  scene.setTrajectory(l);
  timeline.extend(l.times[0]!, l.times[l.times.length - 1]!, medianStep(l.times));
  updateCursor(timeline.time);
}

async function addPredictions(f: FileInfo, source?: string): Promise<void> {
  const r = await transport.call<PredictionsResponse & { groundTruth: { times: Packed; positions: Packed } | null }>(
    'predictions',
    source ? { id: f.id, source } : { id: f.id },
  );
  const l = predLayer(`${f.id}|pred|${source ?? ''}`, f.id, f.name, r);
  preds.push(l);
  scene.setPredictions(l);
  const S = l.t0.length;
  if (S > 0) {
    let hmax = 0;
    for (let s = 0; s < S; s++) hmax = Math.max(hmax, l.times[l.offsets[s + 1]! - 1]!);
    timeline.extend(l.t0[0]!, l.t0[S - 1]! + hmax, medianStep(l.t0));
    plots.error.set(
      Array.from(l.t0),
      l.preds.map((p, k) => ({
        label: `FDE ${p.label}`,
        stroke: css(PALETTE[(k + 2) % PALETTE.length]!),
        values: Array.from(p.fde, (v) => (Number.isFinite(v) ? v : null)),
      })),
    );
  }
  if (r.groundTruth && !trajs.some((t) => t.fileId === f.id)) {
    const g = r.groundTruth;
    const pos = f32(g.positions);
    const times = f64(g.times);
    const gl: TrajLayer = {
      key: `${f.id}|gt`,
      fileId: f.id,
      source: 'ground truth',
      name: 'ground truth',
      origin: r.origin,
      pos,
      quat: new Float32Array(0),
      times,
      timeSource: 'stamps',
      color: PALETTE[0]!,
      errors: null,
      bbox: r.bbox,
    };
    trajs.push(gl);
    scene.setTrajectory(gl);
  }
  refreshPredChoices();
  if (l.labels[0]) await computePredMetrics(f.id, l.labels[0], source);
  updateCursor(timeline.time);
}

async function loadFile(f: FileInfo): Promise<void> {
  if (files.has(f.id)) return;
  files.set(f.id, f);
  renderLayers();
  await busy(`Cannot show ${f.name}`, async () => {
    if (f.kind === 'trajectory') await addTrajectory(f);
    else if (f.kind === 'predictions') await addPredictions(f);
    else if (f.kind === 'mcap') {
      const s = await transport.call<{
        startTime: number | null;
        endTime: number | null;
        poseTopics: string[];
        predictionTopics: string[];
        density: { counts: Packed } | null;
      }>('summarize', { id: f.id, bins: 400 });
      if (s.density && s.startTime !== null && s.endTime !== null) timeline.setDensity(s.startTime, s.endTime, f64(s.density.counts));
      if (s.poseTopics.length === 0 && s.predictionTopics.length === 0)
        errors.show(
          `${f.name}`,
          'the log has no pose topics (Odometry, PoseStamped, PoseWithCovarianceStamped, foxglove.PoseInFrame) or prediction sets to draw; its timeline is shown',
        );
      for (const t of s.poseTopics.slice(0, 6)) await busy(`Cannot read ${t} of ${f.name}`, () => addTrajectory(f, t));
      for (const t of s.predictionTopics.slice(0, 2)) await busy(`Cannot read ${t} of ${f.name}`, () => addPredictions(f, t));
    } else if (f.kind === 'run') {
      const s = await transport.call<{ hasPredictions: boolean; hasHistory: boolean; hasTerrain: boolean; trajectories: string[] }>('summarize', { id: f.id });
      for (const t of s.trajectories) await busy(`Cannot read ${t}`, () => addTrajectory(f, t));
      if (s.hasPredictions) await busy(`Cannot read the predictions of ${f.name}`, () => addPredictions(f));
      if (s.hasHistory)
        await busy(`Cannot read the history of ${f.name}`, async () => {
          const hist = await transport.call<{ epochs: { model?: string; epoch: number; trainLoss?: number | null }[] }>('history', { id: f.id });
          for (const e of hist.epochs)
            if (typeof e.trainLoss === 'number') plots.loss.append(e.epoch, e.model ?? 'train', e.trainLoss, css(PALETTE[1 + ((e.model?.length ?? 0) % 5)]!));
        });
      if (s.hasTerrain)
        await busy(`Cannot read the terrain of ${f.name}`, async () => {
          const r = await transport.call<{ grids: (Omit<TerrainGrid, 'layers'> & { layers: { name: string; values: Packed; min: number; max: number }[] })[] }>(
            'terrain',
            { id: f.id },
          );
          terrainGrids = r.grids.map((g) => ({ ...g, layers: g.layers.map((l) => ({ ...l, values: f32(l.values) })) }));
          showTerrain();
        });
    }
  });
  renderLayers();
  maybeAutoMetrics();
}

function showTerrain(layer?: string): void {
  const sel = el.terrainSel as HTMLSelectElement;
  const g = terrainGrids[0];
  if (!g) {
    sel.hidden = true;
    scene.setTerrain(null);
    return;
  }
  const names = terrainGrids.flatMap((gr) => gr.layers.map((l) => `${gr.name}/${l.name}`));
  setOptions(
    sel,
    names.map((n) => ({ value: n, label: `terrain: ${n}` })),
  );
  sel.hidden = false;
  const pick = layer ?? sel.value ?? names[0]!;
  const [gname, lname] = pick.split('/') as [string, string];
  const grid = terrainGrids.find((x) => x.name === gname) ?? g;
  const heightGrid = grid.layers.some((l) => l.name === 'height') ? grid : (terrainGrids.find((x) => x.layers.some((l) => l.name === 'height')) ?? grid);
  const merged: TerrainGrid =
    heightGrid === grid
      ? grid
      : { ...grid, layers: [...grid.layers, ...heightGrid.layers.filter((l) => l.name === 'height' && l.values.length === grid.columns * grid.rows)] };
  scene.setTerrain(merged, lname);
  sel.value = pick;
}
(el.terrainSel as HTMLSelectElement).addEventListener('change', () => showTerrain((el.terrainSel as HTMLSelectElement).value));

async function closeFile(id: string): Promise<void> {
  await busy('Cannot close', () => transport.call('closeFile', { id }));
  files.delete(id);
  scene.removeLayers(`${id}|`);
  for (let i = trajs.length - 1; i >= 0; i--) if (trajs[i]!.fileId === id) trajs.splice(i, 1);
  for (let i = preds.length - 1; i >= 0; i--) if (preds[i]!.fileId === id) preds.splice(i, 1);
  scene.highlightSet('', -1);
  renderLayers();
  updateCursor(timeline.time);
}

async function openPath(path: string): Promise<void> {
  const f = await busy(`Cannot open ${path}`, () => transport.call<FileInfo>('openFile', { path }));
  if (f) await loadFile(f);
  void refreshRecent();
}

async function openLocalFile(file: File): Promise<void> {
  const p = transport.pathForFile(file);
  if (p) return openPath(p);
  const f = await busy(`Cannot open ${file.name}`, async () => {
    const data = toBase64(await file.arrayBuffer());
    return transport.call<FileInfo>('uploadFile', { name: file.name, data });
  });
  if (f) await loadFile({ ...f, name: file.name });
}

async function refreshRecent(): Promise<void> {
  const r = await transport.call<{ recent: string[] }>('listRecent').catch(() => ({ recent: [] as string[] }));
  setOptions(el.recent as HTMLSelectElement, [
    { value: '', label: 'Recent\u2026' },
    ...r.recent.map((p) => ({ value: p, label: p.split(/[\\/]/).pop() ?? p })),
  ]);
  (el.recent as HTMLSelectElement).value = '';
}

// ---------- cursor: marker, prediction highlight, plot cursors ----------
function updateCursor(t: number): void {
  const primary = trajs.find((l) => l.times.length > 1) ?? trajs[0];
  if (primary) {
    const p = positionAt(primary, t);
    const ahead = positionAt(primary, t + Math.max(timeline.step, 1e-3) * 3);
    const last = positionAt(primary, t - Math.max(timeline.step, 1e-3) * 3);
    const dir = Math.hypot(ahead[0] - p[0], ahead[1] - p[1], ahead[2] - p[2]) > 1e-9 ? ahead : [2 * p[0] - last[0], 2 * p[1] - last[1], 2 * p[2] - last[2]];
    scene.setMarker(p, dir);
  } else scene.setMarker(null);
  for (const l of preds) {
    const S = l.t0.length;
    const s = S > 0 && t >= l.t0[0]! ? lastAtOrBefore(l.t0, t) : -1;
    scene.highlightSet(l.key, s);
  }
  plots.error.setCursor(t);
}
timeline.onChange(updateCursor);

// ---------- metrics panel ----------
const m = {
  ref: h('select', { 'data-testid': 'metrics-ref' }),
  est: h('select', { 'data-testid': 'metrics-est' }),
  metric: h('select', { 'data-testid': 'metrics-kind' }, h('option', { value: 'ape' }, 'APE'), h('option', { value: 'rpe' }, 'RPE')),
  align: h(
    'select',
    { 'data-testid': 'metrics-align' },
    ...['se3', 'sim3', 'scale', 'none'].map((a) => h('option', { value: a }, a === 'none' ? 'no alignment' : `align ${a}`)),
  ),
  delta: h('input', { type: 'number', value: '1', min: '0', step: 'any', title: 'RPE delta', 'data-testid': 'metrics-delta' }),
  deltaUnit: h('select', { title: 'RPE delta unit' }, ...['f', 'm', 'deg', 'rad'].map((u) => h('option', { value: u }, u))),
  go: h('button', { 'data-testid': 'metrics-compute' }, 'Compute'),
  out: h('div', { class: 'result', 'data-testid': 'metrics-result' }),
  pfile: h('select', { 'data-testid': 'pred-file' }),
  plabel: h('select', { 'data-testid': 'pred-label' }),
  miss: h('input', { type: 'number', value: '2', min: '0', step: 'any', title: 'miss threshold (m)' }),
  pgo: h('button', { 'data-testid': 'pred-compute' }, 'ADE / FDE'),
  pout: h('div', { class: 'result', 'data-testid': 'pred-result' }),
};
el.metrics!.append(
  h('div', { class: 'row' }, h('label', {}, 'reference ', m.ref)),
  h('div', { class: 'row' }, h('label', {}, 'estimate ', m.est)),
  h('div', { class: 'row' }, m.metric, m.align, h('label', { title: 'RPE pair distance' }, ' \u0394 ', m.delta, m.deltaUnit)),
  h('div', { class: 'row' }, m.go),
  m.out,
  h('div', { class: 'row' }, h('label', {}, 'predictions ', m.pfile)),
  h('div', { class: 'row' }, h('label', {}, 'label ', m.plabel), h('label', {}, ' miss > ', m.miss, ' m')),
  h('div', { class: 'row' }, m.pgo),
  m.pout,
);
m.align.value = 'se3';

function refreshMetricsChoices(): void {
  const opts = trajs.map((t) => ({ value: t.key, label: `${t.name}${t.source && !t.source.includes('/') ? '' : ''}` }));
  setOptions(m.ref, opts);
  setOptions(m.est, opts);
  if (trajs.length > 1 && m.est.value === m.ref.value) m.est.value = trajs[1]!.key;
}
function refreshPredChoices(): void {
  setOptions(
    m.pfile,
    preds.map((p) => ({ value: p.key, label: p.name })),
  );
  const p = preds.find((x) => x.key === m.pfile.value) ?? preds[0];
  setOptions(
    m.plabel,
    (p?.labels ?? []).map((l) => ({ value: l, label: l })),
  );
}
m.pfile.addEventListener('change', refreshPredChoices);

function fmt(x: unknown, d = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : String(x);
}

async function computeMetrics(): Promise<void> {
  const ref = trajs.find((t) => t.key === m.ref.value);
  const est = trajs.find((t) => t.key === m.est.value);
  if (!ref || !est) {
    errors.show('Metrics', 'pick a reference and an estimate trajectory first');
    return;
  }
  const rr = (t: TrajLayer): Record<string, string> => (t.source && t.key.split('|')[1] ? { id: t.fileId, source: t.source } : { id: t.fileId });
  const res = await busy('Metrics failed', () =>
    transport.call<{
      metric: string;
      title: string;
      unit: string;
      stats: Record<string, number>;
      setup: Record<string, unknown>;
      errors: Packed;
      times: Packed;
    }>('metrics', {
      ref: rr(ref),
      est: rr(est),
      metric: m.metric.value,
      align: m.align.value,
      ...(m.metric.value === 'rpe' ? { delta: Number(m.delta.value) || 1, deltaUnit: m.deltaUnit.value } : {}),
    }),
  );
  if (!res) return;
  lastMetrics = { metric: res.metric, align: m.align.value, ref: ref.name, est: est.name, unit: res.unit, ...res.stats, matches: res.setup.matches };
  const s = res.stats;
  m.out.replaceChildren(
    h('div', { class: 'headline', 'data-testid': 'metrics-headline' }, `${res.metric.toUpperCase()} ${fmt(s.rmse)} ${res.unit} (rmse, ${m.align.value})`),
    h(
      'table',
      {},
      ...['rmse', 'mean', 'median', 'std', 'min', 'max'].map((k) => h('tr', {}, h('td', {}, k), h('td', { 'data-stat': k }, `${fmt(s[k])} ${res.unit}`))),
      h('tr', {}, h('td', {}, 'pairs'), h('td', {}, String(res.setup.matches))),
    ),
  );
  const errs = f64(res.errors);
  const times = f64(res.times);
  plots.error.set(Array.from(times), [{ label: `${res.metric.toUpperCase()} ${est.name}`, stroke: css(est.color), values: Array.from(errs) }]);
  if (res.metric === 'ape' && errs.length === est.times.length) {
    est.errors = Float32Array.from(errs);
    scene.setTrajectory(est);
  }
}
m.go.addEventListener('click', () => void computeMetrics());

function maybeAutoMetrics(): void {
  if (autoMetricsDone || trajs.length < 2 || pending > 0) return;
  autoMetricsDone = true;
  void computeMetrics();
}

async function computePredMetrics(fileId?: string, label?: string, source?: string): Promise<void> {
  const p = fileId ? preds.find((x) => x.fileId === fileId) : preds.find((x) => x.key === m.pfile.value);
  const lab = label ?? m.plabel.value;
  if (!p || !lab) return;
  const src = source ?? (p.key.split('|')[2] || undefined);
  const r = await busy('Prediction metrics failed', () =>
    transport.call<{
      horizons: { horizon: number; samples: number; minAde: number; minFde: number; meanAde: number; meanFde: number; missRate: number }[];
      errorVsHorizon: { horizon: Packed; meanError: Packed };
      missThreshold: number;
    }>('predictionMetrics', { id: p.fileId, label: lab, missThreshold: Number(m.miss.value) || 2, ...(src ? { source: src } : {}) }),
  );
  if (!r) return;
  lastPredMetrics = { label: lab, ...r.horizons[r.horizons.length - 1]!, missThreshold: r.missThreshold };
  m.pout.replaceChildren(
    h(
      'table',
      {},
      h('tr', {}, ...['horizon', 'ADE', 'FDE', 'miss', 'n'].map((x) => h('th', {}, x))),
      ...r.horizons.map((row) =>
        h(
          'tr',
          {},
          h('td', {}, `${fmt(row.horizon, 2)} s`),
          h('td', { 'data-stat': 'ade' }, `${fmt(row.minAde)} m`),
          h('td', { 'data-stat': 'fde' }, `${fmt(row.minFde)} m`),
          h('td', { 'data-stat': 'miss' }, `${fmt(100 * row.missRate, 1)}%`),
          h('td', {}, String(row.samples)),
        ),
      ),
    ),
  );
  plots.horizon.set(Array.from(f64(r.errorVsHorizon.horizon)), [{ label: lab, stroke: css(PALETTE[2]!), values: Array.from(f64(r.errorVsHorizon.meanError)) }]);
}
m.pgo.addEventListener('click', () => void computePredMetrics());

// ---------- runs panel ----------
interface RunView {
  row: HTMLElement;
  bar: HTMLProgressElement;
  line: HTMLElement;
  cancel: HTMLButtonElement;
  state: string;
}
const runViews = new Map<string, RunView>();
const runForm = {
  kind: h('select', { 'data-testid': 'run-kind' }),
  choice: h('select', { 'data-testid': 'run-choice' }),
  n: h('input', { type: 'number', min: '1', step: '1', placeholder: 'steps / epochs', 'data-testid': 'run-n' }),
  go: h('button', { 'data-testid': 'run-start' }, 'Start'),
  list: h('div', { class: 'run-list' }),
};
const RUN_CHOICES: Record<string, { field: string; values: string[]; nField: string }> = {
  sim: { field: 'scene', values: ['box-slide', 'bounce', 'tracked-robot'], nField: 'steps' },
  mpc: { field: 'experiment', values: ['drone', 'terrain-robot', 'imitate-pendulum', 'imitate-cartpole'], nField: 'epochs' },
  train: { field: 'task', values: ['ego-kitti', 'ego', 'ego-terrain'], nField: 'epochs' },
};
el.runs!.append(h('div', { class: 'row' }, runForm.kind, runForm.choice), h('div', { class: 'row' }, runForm.n, runForm.go), runForm.list);
function refreshRunChoice(): void {
  const c = RUN_CHOICES[runForm.kind.value];
  setOptions(
    runForm.choice,
    (c?.values ?? []).map((v) => ({ value: v, label: v })),
  );
  runForm.n.placeholder = c?.nField ?? '';
}
runForm.kind.addEventListener('change', refreshRunChoice);
void transport
  .call<{ kinds: { kind: string; title: string }[] }>('runKinds')
  .then((r) => {
    setOptions(
      runForm.kind,
      r.kinds.map((k) => ({ value: k.kind, label: k.title })),
    );
    refreshRunChoice();
  })
  .catch((e: Error) => errors.show('Runs unavailable', e.message));
runForm.go.addEventListener('click', () => {
  const kind = runForm.kind.value;
  const c = RUN_CHOICES[kind];
  const args: Record<string, unknown> = {};
  if (c) args[c.field] = runForm.choice.value;
  if (c && runForm.n.value) args[c.nField] = Number(runForm.n.value);
  void busy('Cannot start the run', async () => {
    const info = await transport.call<{ runId: string; title: string }>('startRun', { kind, args });
    ensureRunView(info.runId, `${info.title}: ${Object.values(args).join(' ')}`);
  });
});
function ensureRunView(runId: string, title: string): RunView {
  let v = runViews.get(runId);
  if (v) return v;
  const bar = h('progress', { max: '1', 'data-testid': 'run-progress' });
  bar.removeAttribute('value');
  const line = h('div', { class: 'run-line' });
  const cancel = h('button', { 'data-testid': 'run-cancel' }, 'Cancel');
  const row = h(
    'div',
    { class: 'run', 'data-testid': 'run', 'data-run-id': runId, 'data-state': 'running' },
    h('div', { class: 'run-title' }, title),
    bar,
    cancel,
    line,
  );
  cancel.addEventListener('click', () => void busy('Cannot cancel', () => transport.call('cancelRun', { runId })));
  runForm.list.prepend(row);
  v = { row, bar, line, cancel, state: 'running' };
  runViews.set(runId, v);
  return v;
}
transport.onEvent((raw) => {
  const e = raw as { type: string; runId: string; [k: string]: unknown };
  if (!e || typeof e.type !== 'string') return;
  if (e.type === 'shell-open') {
    // the Electron shell's File > Open, Open Recent and a second launch send paths to open
    for (const path of Array.isArray(e.paths) ? e.paths : []) if (typeof path === 'string') void openPath(path);
    return;
  }
  if (!e.type.startsWith('run-') || typeof e.runId !== 'string') return;
  const v = ensureRunView(e.runId, String(e.title ?? e.runId));
  const setState = (s: string): void => {
    v.state = s;
    v.row.dataset.state = s;
    v.cancel.disabled = s !== 'running';
  };
  switch (e.type) {
    case 'run-progress':
      v.bar.max = Number(e.total) || 1;
      v.bar.value = Number(e.value) || 0;
      break;
    case 'run-loss':
      plots.loss.append(Number(e.epoch), `${String(e.series)} (${e.runId.split('-').slice(0, 2).join('-')})`, Number(e.loss), css(PALETTE[1]!));
      v.line.textContent = `epoch ${e.epoch}: loss ${fmt(e.loss, 5)}`;
      break;
    case 'run-log':
      v.line.textContent = String(e.line).slice(0, 300);
      break;
    case 'run-done':
      setState('done');
      v.bar.max = 1;
      v.bar.value = 1;
      v.line.textContent = `done: ${String(e.dir)}`;
      for (const f of (e.opened as FileInfo[]) ?? []) void loadFile(f);
      break;
    case 'run-error':
      setState(e.cancelled ? 'cancelled' : 'failed');
      v.line.textContent = String(e.message).split('\n')[0]!;
      if (!e.cancelled) errors.show('Run failed', String(e.message));
      break;
  }
});

// ---------- opening: path box, upload, recent, drag and drop ----------
const pathBox = el.path as HTMLInputElement;
el.openBtn!.addEventListener('click', () => {
  const p = pathBox.value.trim();
  if (p) void openPath(p);
});
pathBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && pathBox.value.trim()) void openPath(pathBox.value.trim());
});
el.upload!.addEventListener('change', () => {
  const input = el.upload as HTMLInputElement;
  for (const f of Array.from(input.files ?? [])) void openLocalFile(f);
  input.value = '';
});
el.recent!.addEventListener('change', () => {
  const v = (el.recent as HTMLSelectElement).value;
  if (v) void openPath(v);
});
window.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
window.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  for (const f of Array.from(e.dataTransfer?.files ?? [])) void openLocalFile(f);
});

// ---------- camera and keyboard ----------
function setFollow(on: boolean): void {
  scene.setFollow(on);
  el.cameraBtn!.textContent = `Camera: ${on ? 'follow' : 'orbit'}`;
}
el.cameraBtn!.addEventListener('click', () => setFollow(!scene.following));
window.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
  const step = timeline.step * (e.shiftKey ? 10 : 1);
  switch (e.key) {
    case ' ':
      timeline.toggle();
      break;
    case 'ArrowRight':
      timeline.seek(timeline.time + step);
      break;
    case 'ArrowLeft':
      timeline.seek(timeline.time - step);
      break;
    case 'Home':
      timeline.seek(timeline.start);
      break;
    case 'End':
      timeline.seek(timeline.end);
      break;
    case ']':
      timeline.faster(1);
      break;
    case '[':
      timeline.faster(-1);
      break;
    case 'l':
    case 'L':
      timeline.toggleLoop();
      break;
    case 'f':
    case 'F':
      setFollow(!scene.following);
      break;
    case 'r':
    case 'R':
      scene.frameAll();
      break;
    case 'o':
    case 'O':
      pathBox.focus();
      break;
    default:
      return;
  }
  e.preventDefault();
});

installTestHook({
  scene,
  timeline,
  plots: Object.values(plots),
  errors,
  files: () => [...files.values()].map((f) => ({ id: f.id, name: f.name, kind: f.kind })),
  trajectories: () => trajs.map((t) => ({ key: t.key, name: t.name, points: t.times.length })),
  metrics: () => lastMetrics,
  predMetrics: () => lastPredMetrics,
  pending: () => pending,
  openPath,
  runs: () => [...runViews.entries()].map(([id, v]) => ({ runId: id, state: v.state })),
});

// what the backend already has open (files given to `impulse app FILES...`, or opened by the shell)
void (async () => {
  await refreshRecent();
  const r = await busy('Cannot list the open files', () => transport.call<{ files: FileInfo[] }>('listOpen'));
  for (const f of r?.files ?? []) await loadFile(f);
  renderLayers();
  document.body.dataset.ready = 'true';
})();
