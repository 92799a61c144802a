// The timeline of the renderer (app/renderer): a cursor time in seconds over the union of the
// loaded data's time ranges, scrubbing (slider and a density strip that also shows the log's
// message density), play/pause at 0.1x-10x, loop, and step. Every view listens to `onChange`.

const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The cursor and its controls. */
export class Timeline {
  start = 0;
  end = 0;
  time = 0;
  playing = false;
  speed = 1;
  loop = true;
  /** Typical step between samples (s), for arrow-key steps. */
  step = 0.1;
  private listeners = new Set<(t: number) => void>();
  private density: { start: number; end: number; counts: Float64Array } | null = null;
  private last = 0;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly strip: HTMLCanvasElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly speedSel: HTMLSelectElement;
  private readonly loopBox: HTMLInputElement;

  constructor(root: HTMLElement) {
    root.innerHTML = `
      <button class="play" data-testid="play" title="play / pause (space)">&#9654;</button>
      <select class="speed" data-testid="speed" title="speed ([ and ])">${SPEEDS.map((s) => `<option value="${s}"${s === 1 ? ' selected' : ''}>${s}x</option>`).join('')}</select>
      <label title="loop (L)"><input type="checkbox" class="loop" data-testid="loop" checked> loop</label>
      <div class="track"><canvas class="density" data-testid="density"></canvas><input type="range" class="slider" data-testid="slider" min="0" max="1000" step="1" value="0"></div>
      <span class="tlabel" data-testid="time">0.00 s</span>`;
    this.slider = root.querySelector('.slider')!;
    this.label = root.querySelector('.tlabel')!;
    this.strip = root.querySelector('.density')!;
    this.playBtn = root.querySelector('.play')!;
    this.speedSel = root.querySelector('.speed')!;
    this.loopBox = root.querySelector('.loop')!;
    this.slider.addEventListener('input', () => this.seek(this.start + (Number(this.slider.value) / 1000) * (this.end - this.start)));
    this.playBtn.addEventListener('click', () => this.toggle());
    this.speedSel.addEventListener('change', () => (this.speed = Number(this.speedSel.value)));
    this.loopBox.addEventListener('change', () => (this.loop = this.loopBox.checked));
    const scrub = (e: PointerEvent): void => {
      const r = this.strip.getBoundingClientRect();
      this.seek(this.start + Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * (this.end - this.start));
    };
    this.strip.addEventListener('pointerdown', (e) => {
      this.strip.setPointerCapture(e.pointerId);
      scrub(e);
    });
    this.strip.addEventListener('pointermove', (e) => {
      if (e.buttons & 1) scrub(e);
    });
    new ResizeObserver(() => this.drawDensity()).observe(this.strip);
    const tick = (now: number): void => {
      if (this.playing) {
        const dt = Math.min(0.25, (now - this.last) / 1000);
        let t = this.time + dt * this.speed;
        if (t > this.end) {
          if (this.loop) t = this.start + ((t - this.start) % Math.max(1e-9, this.end - this.start));
          else {
            t = this.end;
            this.setPlaying(false);
          }
        }
        this.seek(t);
      }
      this.last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  /** Widens the range to cover [a, b] (keeps the cursor). */
  extend(a: number, b: number, step?: number): void {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return;
    const empty = this.end <= this.start;
    this.start = empty ? a : Math.min(this.start, a);
    this.end = empty ? b : Math.max(this.end, b);
    if (step && step > 0) this.step = empty ? step : Math.min(this.step, step);
    if (empty) this.time = this.start;
    this.seek(this.time);
    this.drawDensity();
  }

  /** Message density along the timeline (a log's counts per bin over [start, end]). */
  setDensity(start: number, end: number, counts: Float64Array): void {
    this.density = { start, end, counts };
    this.extend(start, end);
    this.drawDensity();
  }

  private drawDensity(): void {
    const c = this.strip;
    const w = (c.width = Math.max(1, c.clientWidth));
    const h = (c.height = Math.max(1, c.clientHeight));
    const g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, w, h);
    const d = this.density;
    if (d && this.end > this.start) {
      let max = 0;
      for (const v of d.counts) max = Math.max(max, v);
      g.fillStyle = '#4a7bd0';
      const span = this.end - this.start;
      const bw = ((d.end - d.start) / span) * (w / d.counts.length);
      d.counts.forEach((v, i) => {
        const x = ((d.start - this.start) / span) * w + i * bw;
        const bh = max > 0 ? (v / max) * (h - 2) : 0;
        g.fillRect(x, h - bh, Math.max(1, bw - 0.5), bh);
      });
    }
    if (this.end > this.start) {
      const x = ((this.time - this.start) / (this.end - this.start)) * w;
      g.fillStyle = '#ffd23f';
      g.fillRect(Math.round(x) - 1, 0, 2, h);
    }
  }

  /** Moves the cursor (clamped to the range) and notifies the views. */
  seek(t: number): void {
    const clamped = this.end > this.start ? Math.min(this.end, Math.max(this.start, t)) : this.start;
    this.time = clamped;
    this.slider.value = String(this.end > this.start ? Math.round(((clamped - this.start) / (this.end - this.start)) * 1000) : 0);
    const rel = clamped - this.start;
    this.label.textContent = `${rel.toFixed(2)} s / ${(this.end - this.start).toFixed(2)} s  ${this.speed}x`;
    this.drawDensity();
    for (const l of this.listeners) l(clamped);
  }

  setPlaying(on: boolean): void {
    this.playing = on && this.end > this.start;
    this.playBtn.innerHTML = this.playing ? '&#10074;&#10074;' : '&#9654;';
    if (this.playing && this.time >= this.end) this.seek(this.start);
  }
  toggle(): void {
    this.setPlaying(!this.playing);
  }
  /** Next / previous speed of 0.1x..10x. */
  faster(dir: 1 | -1): void {
    const i = SPEEDS.indexOf(this.speed);
    this.speed = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (i < 0 ? 3 : i) + dir))]!;
    this.speedSel.value = String(this.speed);
    this.seek(this.time);
  }
  setSpeed(x: number): void {
    this.speed = Math.min(10, Math.max(0.1, x));
    this.speedSel.value = String(SPEEDS.includes(this.speed) ? this.speed : 1);
  }
  toggleLoop(): void {
    this.loop = !this.loop;
    this.loopBox.checked = this.loop;
  }
  onChange(cb: (t: number) => void): void {
    this.listeners.add(cb);
  }
  /** Empties the range (all data closed). */
  reset(): void {
    this.start = this.end = this.time = 0;
    this.density = null;
    this.seek(0);
  }
}
