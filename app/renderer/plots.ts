// Plots of the renderer (app/renderer), drawn with uPlot: position error vs time (APE of the
// chosen pair and the predictions' final error at each prediction time), error vs horizon, and
// training loss (a run folder's history, or live from a running run). Time plots draw the timeline
// cursor and seek the timeline when clicked.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One plot in the plots panel. */
export class Plot {
  readonly el: HTMLElement;
  private u: uPlot | null = null;
  private cursorX: number | null = null;
  private data: uPlot.AlignedData = [[]];
  private series: { label: string; stroke: string }[] = [];

  constructor(
    parent: HTMLElement,
    readonly id: string,
    readonly title: string,
    private readonly xLabel: string,
    private readonly yLabel: string,
    private readonly onSeek?: (x: number) => void,
  ) {
    this.el = document.createElement('div');
    this.el.className = 'plot';
    this.el.dataset.testid = `plot-${id}`;
    this.el.innerHTML = `<div class="plot-title">${title}</div><div class="plot-empty">no data yet</div>`;
    parent.appendChild(this.el);
    new ResizeObserver(() => this.u?.setSize(this.size())).observe(this.el);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.el.clientWidth - 8), height: 150 };
  }

  /** Replaces the data: x values and one y array per series. */
  set(x: ArrayLike<number>, ys: { label: string; stroke: string; values: ArrayLike<number | null> }[]): void {
    this.data = [Array.from(x), ...ys.map((y) => Array.from(y.values))] as uPlot.AlignedData;
    const same = ys.length === this.series.length && ys.every((y, i) => y.label === this.series[i]!.label);
    this.series = ys.map(({ label, stroke }) => ({ label, stroke }));
    if (this.u && same) {
      this.u.setData(this.data);
      return;
    }
    this.u?.destroy();
    this.el.querySelector('.plot-empty')?.remove();
    const cursorOf = (): number | null => this.cursorX;
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [
        { label: this.xLabel, stroke: '#aab', grid: { stroke: '#2a2d34' }, ticks: { stroke: '#2a2d34' } },
        { label: this.yLabel, stroke: '#aab', grid: { stroke: '#2a2d34' }, ticks: { stroke: '#2a2d34' } },
      ],
      series: [{ label: this.xLabel }, ...this.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, points: { show: false } }))],
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [
          (u: uPlot) => {
            const cx = cursorOf();
            if (cx === null) return;
            const px = u.valToPos(cx, 'x', true);
            if (!Number.isFinite(px) || px < u.bbox.left || px > u.bbox.left + u.bbox.width) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#ffd23f';
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(px, u.bbox.top);
            ctx.lineTo(px, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    this.u = new uPlot(opts, this.data, this.el);
    if (this.onSeek) {
      this.u.over.addEventListener('click', (e: MouseEvent) => {
        if (!this.u) return;
        const x = this.u.posToVal(e.offsetX, 'x');
        if (Number.isFinite(x)) this.onSeek!(x);
      });
      this.u.over.style.cursor = 'crosshair';
    }
  }

  /** Draws the timeline cursor at x (time plots). */
  setCursor(x: number | null): void {
    if (x === this.cursorX) return;
    this.cursorX = x;
    this.u?.redraw(false, false);
  }

  /** Appends a point to series `label` (live loss). */
  append(x: number, label: string, y: number, stroke: string): void {
    const xs = (this.data[0] as number[]).slice();
    const ys = this.series.map((_, i) => (this.data[i + 1] as (number | null)[]).slice());
    let si = this.series.findIndex((s) => s.label === label);
    if (si < 0) {
      this.series.push({ label, stroke });
      ys.push(xs.map(() => null));
      si = this.series.length - 1;
    }
    let xi = xs.indexOf(x);
    if (xi < 0) {
      xs.push(x);
      ys.forEach((a) => a.push(null));
      xi = xs.length - 1;
    }
    ys[si]![xi] = y;
    const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
    this.set(
      order.map((i) => xs[i]!),
      this.series.map((s, k) => ({ ...s, values: order.map((i) => ys[k]![i]!) })),
    );
  }

  /** Whether the plot has drawn data. */
  get rendered(): boolean {
    return this.u !== null && (this.data[0] as number[]).length > 0;
  }

  /** The plotting area in page coordinates (test hook: where to click). */
  area(): { left: number; top: number; width: number; height: number } | null {
    if (!this.u) return null;
    const r = this.u.over.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  }

  /** The x value at a page x coordinate. */
  xAt(clientX: number): number | null {
    if (!this.u) return null;
    return this.u.posToVal(clientX - this.u.over.getBoundingClientRect().left, 'x');
  }
}
