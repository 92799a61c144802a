// Batched rollouts of the GPU physics kernels (sim/gpu, layer sim): B worlds, each a copy of
// one Model with its own initial state and track drive forces, advanced T steps of S substeps
// with every dispatch of the rollout encoded on the GPU (no read-back between steps), the
// states the loss needs recorded, and read back once. The backward pass is checkpointed: the
// forward keeps the state every K steps; the backward recomputes each segment from its
// checkpoint on the GPU and runs the adjoint kernels through it in reverse.
import type { GpuModelData } from './adapter.ts';
import { GpuDeviceLostError, GpuLimitError, type Gpu } from './device.ts';
import {
  ADD_SHADER,
  BODY_FLOATS,
  BODY_SLOTS,
  CONTROLLER_SLOTS,
  PARTICLE_FLOATS,
  PARTICLE_SLOTS,
  WORKGROUP,
  bodyShaders,
  controllerShaders,
  particleShaders,
} from './wgsl.ts';

/** The state of B worlds, world-major (world w's particle i at row w * np + i), float64 on the host. */
export interface BatchState {
  /** [B * np * 3] */
  particleQ: Float64Array;
  particleQd: Float64Array;
  /** [B * nb * 3] */
  bodyPos: Float64Array;
  /** [B * nb * 4], [x, y, z, w] */
  bodyRot: Float64Array;
  bodyVel: Float64Array;
  bodyAngVel: Float64Array;
}
/** BatchState's fields, in the CPU engine's STATE_FIELDS order. */
export const BATCH_FIELDS = ['particleQ', 'particleQd', 'bodyPos', 'bodyRot', 'bodyVel', 'bodyAngVel'] as const;

/** Options of a GPU rollout. */
export interface GpuRolloutOptions {
  /** Number of worlds. */
  batch: number;
  /** Steps of dt. */
  steps: number;
  dt: number;
  /** Substeps per step (default 1). */
  substeps?: number;
  /** Steps (1..steps) whose states are read back (default: the last). */
  record?: readonly number[];
  /** Steps between checkpoints of the backward pass (default ceil(sqrt(steps))). */
  checkpointEvery?: number;
  /**
   * Closes the loop with the track-speed controller: each step, every track's drive force is
   * fMax tanh(kp (target - measured) / fMax) from the state at the step's start (measured: the
   * forward speed of the track's centre), and the rollout's track input is the per-step target
   * track speeds instead of forces. The gains are parameters with gradients (`GpuGradients.gains`);
   * `setGains` changes them between runs.
   */
  controller?: TrackController;
}

/** Gains of the track-speed controller: proportional gain kp (N per m/s) and saturation fMax (N). */
export interface TrackController {
  kp: number;
  fMax: number;
}

/** A non-finite value in a GPU rollout: first step and the world where it appeared. */
export class GpuNonFiniteError extends Error {
  constructor(
    message: string,
    readonly step: number,
    /** World index (-1 when the batch is too large to encode it). */
    readonly world: number,
    readonly kind: 'particle' | 'body',
    readonly phase: 'forward' | 'backward',
  ) {
    super(message);
    this.name = 'GpuNonFiniteError';
  }
}

/**
 * Gradients of a rollout: initial state, the track input [steps * B * nt] (forces, or with a
 * controller its target track speeds), the Model parameters (summed over worlds) and, with a
 * controller, its gains.
 */
export interface GpuGradients {
  state: BatchState;
  trackF: Float64Array;
  /** d loss / d (kp, fMax), with a controller. */
  gains?: { kp: number; fMax: number };
  /** Keyed by MODEL_PARAMS names; the ones the GPU kernels do not touch are absent. */
  params: Record<string, Float64Array>;
}

interface Slot {
  p: GPUBuffer;
  b: GPUBuffer;
}

// WebGPU's flag values (the spec's constants; the globals exist only once `webgpu` is loaded)
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const STAGE_COMPUTE = 0x4;
const MAP_READ_MODE = 0x1;
const S = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
const UNIFORM_STRIDE = 256;
const NAN_NONE = 0xffffffff;

/**
 * One compiled rollout configuration (model, batch, steps, substeps) on a GPU device: `forward`
 * and `backward` may be called any number of times (backward needs the forward's initial state
 * and controls, kept on the GPU).
 */
export class GpuRollout {
  readonly B: number;
  readonly T: number;
  readonly substeps: number;
  readonly K: number;
  readonly record: number[];
  private readonly N: number;
  private readonly dev: GPUDevice;
  private readonly pFloats: number;
  private readonly bFloats: number;
  private buffers: GPUBuffer[] = [];
  private model!: GPUBuffer;
  private uniforms!: GPUBuffer;
  private ckpt: Slot[] = [];
  private seg: Slot[] = [];
  private rec: Slot[] = [];
  private adj: Slot[] = [];
  private adjRec: Slot[] = [];
  private tf!: GPUBuffer;
  private gtf!: GPUBuffer;
  private gtp!: GPUBuffer;
  private gtb!: GPUBuffer;
  private gm!: GPUBuffer;
  private gs!: GPUBuffer;
  private nan!: GPUBuffer;
  private tgt!: GPUBuffer;
  private gtgt!: GPUBuffer;
  private cg!: GPUBuffer;
  private gg!: GPUBuffer;
  private readonly ctrl: TrackController | null;
  private pipes!: Record<'pf' | 'pa' | 'bf' | 'ba' | 'cf' | 'ca' | 'add', GPUComputePipeline>;
  private layouts!: Record<'pf' | 'pa' | 'bf' | 'ba' | 'cf' | 'ca' | 'add', GPUBindGroupLayout>;
  private haveForward = false;

  constructor(
    private readonly gpu: Gpu,
    readonly data: GpuModelData,
    opts: GpuRolloutOptions,
  ) {
    const { batch, steps, dt } = opts;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`gpu rollout: batch = ${batch} must be an integer >= 1`);
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`gpu rollout: steps = ${steps} must be an integer >= 1`);
    if (!(dt > 0) || !Number.isFinite(dt)) throw new RangeError(`gpu rollout: dt = ${dt} must be a finite number > 0`);
    this.substeps = opts.substeps ?? 1;
    if (!Number.isInteger(this.substeps) || this.substeps < 1) throw new RangeError(`gpu rollout: substeps = ${this.substeps} must be an integer >= 1`);
    this.B = batch;
    this.T = steps;
    this.N = steps * this.substeps;
    const every = opts.checkpointEvery ?? Math.ceil(Math.sqrt(steps));
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`gpu rollout: checkpointEvery = ${every} must be an integer >= 1`);
    this.K = Math.min(every, steps) * this.substeps;
    this.record = [...new Set(opts.record ?? [steps])].sort((a, b) => a - b);
    for (const r of this.record)
      if (!Number.isInteger(r) || r < 1 || r > steps) throw new RangeError(`gpu rollout: record step ${r} must be an integer in 1..${steps}`);
    this.ctrl = opts.controller ? { ...opts.controller } : null;
    if (this.ctrl) checkGains(this.ctrl);
    this.dev = gpu.device;
    this.pFloats = PARTICLE_FLOATS * batch * data.np;
    this.bFloats = BODY_FLOATS * batch * data.nb;
    this.checkLimits();
    this.build(dt / this.substeps);
  }

  /** Largest batch whose buffers fit the device's limits (0 when one world does not fit). */
  static maxBatch(gpu: Gpu, data: GpuModelData, steps = 1): number {
    const L = gpu.device.limits;
    const perWorld =
      4 *
      Math.max(
        PARTICLE_FLOATS * data.np,
        BODY_FLOATS * data.nb,
        PARTICLE_SLOTS(data.npl) * data.np,
        BODY_SLOTS(data.npl) * data.nb + 4 * data.nc,
        3 * data.ns,
        steps * data.nt,
      );
    const bytes = Math.min(L.maxStorageBufferBindingSize, L.maxBufferSize);
    const threads = L.maxComputeWorkgroupsPerDimension * WORKGROUP;
    return Math.max(0, Math.min(Math.floor(bytes / Math.max(perWorld, 1)), Math.floor(threads / Math.max(data.np, data.nb, 1))));
  }

  private checkLimits(): void {
    const L = this.dev.limits;
    const d = this.data;
    const big =
      4 *
      Math.max(
        this.pFloats,
        this.bFloats,
        3 * this.B * d.ns,
        PARTICLE_SLOTS(d.npl) * this.B * d.np,
        this.B * (BODY_SLOTS(d.npl) * d.nb + 4 * d.nc),
        this.T * this.B * d.nt,
      );
    const lim = Math.min(L.maxStorageBufferBindingSize, L.maxBufferSize);
    const name = L.maxStorageBufferBindingSize <= L.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
    if (big > lim)
      throw new GpuLimitError(
        `gpu rollout: a buffer of ${big} bytes exceeds the adapter's ${name} = ${lim} (batch ${this.B}; at most ${GpuRollout.maxBatch(this.gpu, d, this.T)} worlds fit: split the batch)`,
        name,
        lim,
        big,
      );
    const groups = Math.ceil((this.B * Math.max(d.np, d.nb)) / WORKGROUP);
    if (groups > L.maxComputeWorkgroupsPerDimension)
      throw new GpuLimitError(
        `gpu rollout: ${groups} workgroups exceed the adapter's maxComputeWorkgroupsPerDimension = ${L.maxComputeWorkgroupsPerDimension} (split the batch)`,
        'maxComputeWorkgroupsPerDimension',
        L.maxComputeWorkgroupsPerDimension,
        groups,
      );
    if (L.maxStorageBuffersPerShaderStage < 9)
      throw new GpuLimitError(
        `gpu rollout: the kernels bind 9 storage buffers; the adapter allows ${L.maxStorageBuffersPerShaderStage}`,
        'maxStorageBuffersPerShaderStage',
        L.maxStorageBuffersPerShaderStage,
        9,
      );
  }

  private buf(floats: number, usage = S): GPUBuffer {
    const b = this.dev.createBuffer({ size: Math.max(16, 4 * floats), usage });
    this.buffers.push(b);
    return b;
  }

  private slot(): Slot {
    return { p: this.buf(this.pFloats), b: this.buf(this.bFloats) };
  }

  private build(h: number): void {
    const d = this.data;
    const dev = this.dev;
    this.model = this.buf(d.layout.size);
    dev.queue.writeBuffer(this.model, 0, d.packed);
    this.uniforms = this.buf((this.N * UNIFORM_STRIDE) / 4, USAGE.UNIFORM | USAGE.COPY_DST);
    const u = new Uint32Array((this.N * UNIFORM_STRIDE) / 4);
    for (let k = 0; k < this.N; k++) {
      u[(k * UNIFORM_STRIDE) / 4] = k;
      u[(k * UNIFORM_STRIDE) / 4 + 1] = Math.floor(k / this.substeps);
    }
    dev.queue.writeBuffer(this.uniforms, 0, u);
    const nSeg = Math.ceil(this.N / this.K);
    for (let j = 0; j <= nSeg; j++) this.ckpt.push(this.slot());
    for (let i = 0; i <= this.K; i++) this.seg.push(this.slot());
    for (const _ of this.record) {
      this.rec.push(this.slot());
      this.adjRec.push(this.slot());
    }
    this.adj = [this.slot(), this.slot()];
    this.tf = this.buf(this.T * this.B * d.nt);
    this.gtf = this.buf(this.T * this.B * d.nt);
    this.gtp = this.buf(PARTICLE_SLOTS(d.npl) * this.B * d.np);
    this.gtb = this.buf(this.B * (BODY_SLOTS(d.npl) * d.nb + 4 * d.nc));
    this.gm = this.buf(4 * d.nx * d.ny);
    this.gs = this.buf(3 * this.B * d.ns);
    this.nan = this.buf(4);
    const nTr = this.ctrl ? this.T * this.B * d.nt : 0;
    this.tgt = this.buf(nTr);
    this.gtgt = this.buf(nTr);
    this.cg = this.buf(4);
    this.gg = this.buf(this.ctrl ? CONTROLLER_SLOTS * this.B * d.nb : 0);
    if (this.ctrl) this.setGains(this.ctrl);
    const E = (kinds: ('u' | 'r' | 'w')[]): GPUBindGroupLayout =>
      dev.createBindGroupLayout({
        entries: kinds.map((k, i) => ({
          binding: i,
          visibility: STAGE_COMPUTE,
          buffer: k === 'u' ? { type: 'uniform', hasDynamicOffset: true, minBindingSize: 16 } : { type: k === 'r' ? 'read-only-storage' : 'storage' },
        })),
      });
    this.layouts = {
      pf: E(['u', 'r', 'r', 'w', 'w']),
      pa: E(['u', 'r', 'r', 'r', 'w', 'w', 'w', 'w', 'w']),
      bf: E(['u', 'r', 'r', 'w', 'r', 'w']),
      ba: E(['u', 'r', 'r', 'r', 'w', 'r', 'w', 'w', 'w', 'w']),
      cf: E(['u', 'r', 'r', 'r', 'r', 'w', 'w']),
      ca: E(['u', 'r', 'r', 'r', 'r', 'r', 'w', 'w', 'w']),
      add: E(['r', 'w']),
    };
    const ps = particleShaders(d, this.B, this.substeps, h);
    const bs = bodyShaders(d, this.B, this.substeps, h);
    const mk = (code: string, l: GPUBindGroupLayout, label: string): GPUComputePipeline =>
      dev.createComputePipeline({
        label,
        layout: dev.createPipelineLayout({ bindGroupLayouts: [l] }),
        compute: { module: dev.createShaderModule({ code, label }), entryPoint: 'main' },
      });
    // kernels of an empty kind (no particles, or no bodies) are never dispatched: not compiled
    const add = mk(ADD_SHADER, this.layouts.add, 'add');
    this.pipes = {
      pf: d.np > 0 ? mk(ps.forward, this.layouts.pf, 'particles.forward') : add,
      pa: d.np > 0 ? mk(ps.adjoint, this.layouts.pa, 'particles.adjoint') : add,
      bf: d.nb > 0 ? mk(bs.forward, this.layouts.bf, 'bodies.forward') : add,
      ba: d.nb > 0 ? mk(bs.adjoint, this.layouts.ba, 'bodies.adjoint') : add,
      cf: add,
      ca: add,
      add,
    };
    if (this.ctrl && d.nb > 0 && d.nt > 0) {
      const cs = controllerShaders(d, this.B);
      this.pipes.cf = mk(cs.forward, this.layouts.cf, 'controller.forward');
      this.pipes.ca = mk(cs.adjoint, this.layouts.ca, 'controller.adjoint');
    }
  }

  private group(layout: GPUBindGroupLayout, bufs: GPUBuffer[]): GPUBindGroup {
    return this.dev.createBindGroup({
      layout,
      entries: bufs.map((b, i) => ({ binding: i, resource: i === 0 && b === this.uniforms ? { buffer: b, size: 16 } : { buffer: b } })),
    });
  }

  private groupsCache = new Map<string, GPUBindGroup>();
  private cached(key: string, make: () => GPUBindGroup): GPUBindGroup {
    let g = this.groupsCache.get(key);
    if (!g) this.groupsCache.set(key, (g = make()));
    return g;
  }

  /** Encodes substep k forward from `a` into `b`. */
  private encodeForward(pass: GPUComputePassEncoder, k: number, a: Slot, b: Slot, key: string): void {
    const d = this.data;
    const off = [k * UNIFORM_STRIDE];
    if (d.np > 0) {
      pass.setPipeline(this.pipes.pf);
      pass.setBindGroup(
        0,
        this.cached(`pf${key}`, () => this.group(this.layouts.pf, [this.uniforms, this.model, a.p, b.p, this.nan])),
        off,
      );
      pass.dispatchWorkgroups(Math.ceil((this.B * d.np) / WORKGROUP));
    }
    if (this.controlled && k % this.substeps === 0) {
      pass.setPipeline(this.pipes.cf);
      pass.setBindGroup(
        0,
        this.cached(`cf${key}`, () => this.group(this.layouts.cf, [this.uniforms, this.model, a.b, this.tgt, this.cg, this.tf, this.nan])),
        off,
      );
      pass.dispatchWorkgroups(Math.ceil((this.B * d.nb) / WORKGROUP));
    }
    if (d.nb > 0) {
      pass.setPipeline(this.pipes.bf);
      pass.setBindGroup(
        0,
        this.cached(`bf${key}`, () => this.group(this.layouts.bf, [this.uniforms, this.model, a.b, b.b, this.tf, this.nan])),
        off,
      );
      pass.dispatchWorkgroups(Math.ceil((this.B * d.nb) / WORKGROUP));
    }
  }

  /** Encodes the forward of substeps [k0, k1) starting from seg[0]; records and checkpoints as it goes. */
  private encodeSegment(enc: GPUCommandEncoder, j: number, record: boolean): number {
    const k0 = j * this.K;
    const k1 = Math.min(this.N, k0 + this.K);
    copySlot(enc, this.ckpt[j]!, this.seg[0]!, this.pFloats, this.bFloats);
    for (let k = k0; k < k1; k++) {
      const i = k - k0;
      const pass = enc.beginComputePass();
      this.encodeForward(pass, k, this.seg[i]!, this.seg[i + 1]!, `${i}`);
      pass.end();
      if (record && (k + 1) % this.substeps === 0) {
        const r = this.record.indexOf((k + 1) / this.substeps);
        if (r >= 0) copySlot(enc, this.seg[i + 1]!, this.rec[r]!, this.pFloats, this.bFloats);
      }
    }
    return k1 - k0;
  }

  private async submit(enc: GPUCommandEncoder): Promise<void> {
    if (this.gpu.isLost()) await this.gpu.lost;
    this.dev.pushErrorScope('out-of-memory');
    this.dev.pushErrorScope('validation');
    this.dev.queue.submit([enc.finish()]);
    const v = await this.dev.popErrorScope();
    const oom = await this.dev.popErrorScope();
    if (oom) throw new GpuDeviceLostError(`GPU out of memory: ${oom.message}`, 'out-of-memory');
    if (v) throw new Error(`gpu rollout: WebGPU validation error: ${v.message}`);
  }

  private async read(bufs: { buf: GPUBuffer; floats: number; u32?: boolean }[]): Promise<(Float32Array | Uint32Array)[]> {
    const enc = this.dev.createCommandEncoder();
    const staging = bufs.map(({ buf, floats }) => {
      const s = this.dev.createBuffer({ size: Math.max(16, 4 * floats), usage: USAGE.MAP_READ | USAGE.COPY_DST });
      enc.copyBufferToBuffer(buf, 0, s, 0, Math.max(16, 4 * floats));
      return s;
    });
    await this.submit(enc);
    const lost = this.gpu.lost;
    await Promise.race([Promise.all(staging.map((s) => s.mapAsync(MAP_READ_MODE))), lost]);
    return staging.map((s, i) => {
      const src = s.getMappedRange();
      const out = bufs[i]!.u32 ? new Uint32Array(src.slice(0, 4 * bufs[i]!.floats)) : new Float32Array(src.slice(0, 4 * bufs[i]!.floats));
      s.unmap();
      s.destroy();
      return out;
    });
  }

  private upload(slot: Slot, st: BatchState, what: string): void {
    const d = this.data;
    const P = new Float32Array(this.pFloats);
    const Bf = new Float32Array(this.bFloats);
    const n3 = 3 * this.B * d.np;
    const m = this.B * d.nb;
    const want: [keyof BatchState, number][] = [
      ['particleQ', n3],
      ['particleQd', n3],
      ['bodyPos', 3 * m],
      ['bodyRot', 4 * m],
      ['bodyVel', 3 * m],
      ['bodyAngVel', 3 * m],
    ];
    for (const [k, n] of want)
      if (st[k].length !== n) throw new RangeError(`gpu rollout: ${what}.${k} has ${st[k].length} values; expected ${n} (batch ${this.B})`);
    P.set(st.particleQ, 0);
    P.set(st.particleQd, n3);
    Bf.set(st.bodyPos, 0);
    Bf.set(st.bodyRot, 3 * m);
    Bf.set(st.bodyVel, 7 * m);
    Bf.set(st.bodyAngVel, 10 * m);
    if (this.pFloats) this.dev.queue.writeBuffer(slot.p, 0, P);
    if (this.bFloats) this.dev.queue.writeBuffer(slot.b, 0, Bf);
  }

  private unpack(P: Float32Array, Bf: Float32Array): BatchState {
    const d = this.data;
    const n3 = 3 * this.B * d.np;
    const m = this.B * d.nb;
    return {
      particleQ: Float64Array.from(P.subarray(0, n3)),
      particleQd: Float64Array.from(P.subarray(n3, 2 * n3)),
      bodyPos: Float64Array.from(Bf.subarray(0, 3 * m)),
      bodyRot: Float64Array.from(Bf.subarray(3 * m, 7 * m)),
      bodyVel: Float64Array.from(Bf.subarray(7 * m, 10 * m)),
      bodyAngVel: Float64Array.from(Bf.subarray(10 * m, 13 * m)),
    };
  }

  private nanError(flags: Uint32Array, phase: 'forward' | 'backward'): GpuNonFiniteError | null {
    const o = phase === 'forward' ? 0 : 2;
    let best: { k: number; w: number; kind: 'particle' | 'body' } | null = null;
    for (const [i, kind] of [
      [0, 'particle'],
      [1, 'body'],
    ] as const) {
      const v = flags[o + i]!;
      if (v === NAN_NONE) continue;
      const k = Math.floor(v / this.B);
      if (!best || k < best.k) best = { k, w: v % this.B, kind };
    }
    if (!best) return null;
    const step = Math.floor(best.k / this.substeps);
    const what = phase === 'forward' ? 'state' : 'gradient';
    return new GpuNonFiniteError(
      `gpu rollout: non-finite ${best.kind} ${what} at step ${step} (substep ${best.k % this.substeps}, ${phase}), world ${best.w}`,
      step,
      best.w,
      best.kind,
      phase,
    );
  }

  /**
   * Runs the rollout from `init` with track drive forces `trackF` ([steps * B * nt], step-major;
   * omitted: zero; with a controller, the target track speeds) and returns the recorded states (in `record` order). Throws
   * GpuNonFiniteError naming the first step and world with a non-finite state.
   */
  async forward(init: BatchState, trackF?: ArrayLike<number>): Promise<BatchState[]> {
    const d = this.data;
    this.upload(this.ckpt[0]!, init, 'initial state');
    const nTf = this.T * this.B * d.nt;
    if (trackF && trackF.length !== nTf) throw new RangeError(`gpu rollout: trackF has ${trackF.length} values; expected steps * batch * tracks = ${nTf}`);
    if (nTf > 0) this.dev.queue.writeBuffer(this.controlled ? this.tgt : this.tf, 0, trackF ? Float32Array.from(trackF) : new Float32Array(nTf));
    this.dev.queue.writeBuffer(this.nan, 0, new Uint32Array([NAN_NONE, NAN_NONE, NAN_NONE, NAN_NONE]));
    const nSeg = Math.ceil(this.N / this.K);
    for (let j = 0; j < nSeg; j++) {
      const enc = this.dev.createCommandEncoder();
      const len = this.encodeSegment(enc, j, true);
      copySlot(enc, this.seg[len]!, this.ckpt[j + 1]!, this.pFloats, this.bFloats);
      await this.submit(enc);
    }
    const reads = await this.read([
      { buf: this.nan, floats: 4, u32: true },
      ...this.rec.flatMap((r) => [
        { buf: r.p, floats: this.pFloats },
        { buf: r.b, floats: this.bFloats },
      ]),
    ]);
    const err = this.nanError(reads[0] as Uint32Array, 'forward');
    if (err) throw err;
    this.haveForward = true;
    return this.record.map((_, r) => this.unpack(reads[1 + 2 * r] as Float32Array, reads[2 + 2 * r] as Float32Array));
  }

  /**
   * Gradients of a loss whose gradient with respect to the recorded states is `adjRecorded`
   * (one BatchState per recorded step; null: zero), through the last `forward`.
   */
  async backward(adjRecorded: readonly (BatchState | null)[]): Promise<GpuGradients> {
    if (!this.haveForward) throw new Error('gpu rollout: backward before forward');
    if (adjRecorded.length !== this.record.length)
      throw new RangeError(`gpu rollout: ${adjRecorded.length} gradients for ${this.record.length} recorded steps`);
    const d = this.data;
    const dev = this.dev;
    const enc0 = dev.createCommandEncoder();
    for (const b of [this.gtf, this.gtp, this.gtb, this.gm, this.gs, this.gtgt, this.gg, this.adj[0]!.p, this.adj[0]!.b]) enc0.clearBuffer(b);
    await this.submit(enc0);
    adjRecorded.forEach((a, r) => {
      if (a) this.upload(this.adjRec[r]!, a, `gradient of recorded step ${this.record[r]}`);
    });
    dev.queue.writeBuffer(this.nan, 8, new Uint32Array([NAN_NONE, NAN_NONE]));
    let cur = 0;
    const nSeg = Math.ceil(this.N / this.K);
    for (let j = nSeg - 1; j >= 0; j--) {
      const enc = dev.createCommandEncoder();
      const len = this.encodeSegment(enc, j, false);
      for (let i = len - 1; i >= 0; i--) {
        const k = j * this.K + i;
        const pass = enc.beginComputePass();
        if ((k + 1) % this.substeps === 0) {
          const r = this.record.indexOf((k + 1) / this.substeps);
          if (r >= 0 && adjRecorded[r]) {
            for (const part of ['p', 'b'] as const) {
              const n = part === 'p' ? this.pFloats : this.bFloats;
              if (n === 0) continue;
              pass.setPipeline(this.pipes.add);
              pass.setBindGroup(
                0,
                this.cached(`add${part}${r}${cur}`, () => this.group(this.layouts.add, [this.adjRec[r]![part], this.adj[cur]![part]])),
              );
              pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
            }
          }
        }
        const a = this.adj[cur]!;
        const b = this.adj[1 - cur]!;
        const off = [k * UNIFORM_STRIDE];
        const s = this.seg[i]!;
        if (d.np > 0) {
          pass.setPipeline(this.pipes.pa);
          pass.setBindGroup(
            0,
            this.cached(`pa${i}.${cur}`, () => this.group(this.layouts.pa, [this.uniforms, this.model, s.p, a.p, b.p, this.gtp, this.gm, this.nan, this.gs])),
            off,
          );
          pass.dispatchWorkgroups(Math.ceil((this.B * d.np) / WORKGROUP));
        }
        if (d.nb > 0) {
          pass.setPipeline(this.pipes.ba);
          pass.setBindGroup(
            0,
            this.cached(`ba${i}.${cur}`, () =>
              this.group(this.layouts.ba, [this.uniforms, this.model, s.b, a.b, b.b, this.tf, this.gtb, this.gm, this.gtf, this.nan]),
            ),
            off,
          );
          pass.dispatchWorkgroups(Math.ceil((this.B * d.nb) / WORKGROUP));
        }
        if (this.controlled && k % this.substeps === 0) {
          // the step's track forces' adjoint is complete (all its substeps are behind): the controller's adjoint
          pass.setPipeline(this.pipes.ca);
          pass.setBindGroup(
            0,
            this.cached(`ca${i}.${cur}`, () =>
              this.group(this.layouts.ca, [this.uniforms, this.model, s.b, this.tgt, this.cg, this.gtf, b.b, this.gtgt, this.gg]),
            ),
            off,
          );
          pass.dispatchWorkgroups(Math.ceil((this.B * d.nb) / WORKGROUP));
        }
        pass.end();
        cur = 1 - cur;
      }
      await this.submit(enc);
    }
    const PK = PARTICLE_SLOTS(d.npl);
    const BK = d.nb * BODY_SLOTS(d.npl) + 4 * d.nc;
    const nIn = this.T * this.B * d.nt;
    const [flags, P, Bf, gtf, gtp, gtb, gm, gs, gg] = await this.read([
      { buf: this.nan, floats: 4, u32: true },
      { buf: this.adj[cur]!.p, floats: this.pFloats },
      { buf: this.adj[cur]!.b, floats: this.bFloats },
      { buf: this.controlled ? this.gtgt : this.gtf, floats: nIn },
      { buf: this.gtp, floats: PK * this.B * d.np },
      { buf: this.gtb, floats: this.B * BK },
      { buf: this.gm, floats: 4 * d.nx * d.ny, u32: true },
      { buf: this.gs, floats: 3 * this.B * d.ns },
      { buf: this.gg, floats: this.controlled ? CONTROLLER_SLOTS * this.B * d.nb : 0 },
    ]);
    const err = this.nanError(flags as Uint32Array, 'backward');
    if (err) throw err;
    return {
      state: this.unpack(P as Float32Array, Bf as Float32Array),
      trackF: Float64Array.from(gtf!),
      params: this.reduceParams(gtp as Float32Array, gtb as Float32Array, new Float32Array((gm as Uint32Array).buffer), gs as Float32Array),
      ...(this.ctrl ? { gains: this.reduceGains(gg as Float32Array) } : {}),
    };
  }

  /** Whether the controller kernels run (a controller, and bodies with tracks). */
  private get controlled(): boolean {
    return this.ctrl !== null && this.data.nb > 0 && this.data.nt > 0;
  }

  /** Sums the controller's per-thread gain gradients (float64). */
  private reduceGains(gg: Float32Array): { kp: number; fMax: number } {
    let kp = 0;
    let fMax = 0;
    for (let t = 0; t < gg.length; t += CONTROLLER_SLOTS) {
      kp += gg[t]!;
      fMax += gg[t + 1]!;
    }
    return { kp, fMax };
  }

  /** Sets the controller's gains (the rollout must have been built with `controller`). */
  setGains(g: TrackController): void {
    if (!this.ctrl) throw new Error('gpu rollout: setGains on a rollout built without a controller');
    checkGains(g);
    this.ctrl.kp = g.kp;
    this.ctrl.fMax = g.fMax;
    this.dev.queue.writeBuffer(this.cg, 0, new Float32Array([g.kp, g.fMax, 0, 0]));
  }

  /** Sums the per-thread gradient slots over threads and worlds (float64). */
  private reduceParams(gtp: Float32Array, gtb: Float32Array, gm: Float32Array, gs: Float32Array): Record<string, Float64Array> {
    const d = this.data;
    const npl = d.npl;
    const z = (n: number): Float64Array => new Float64Array(n);
    const g = {
      particleDrag: z(1),
      groundKe: z(1),
      groundKd: z(1),
      groundKf: z(1),
      groundMu: z(1),
      terrainKf: z(1),
      gravity: z(3),
      particleMass: z(d.np),
      particleRadius: z(d.np),
      planeOffset: z(npl),
      bodyMass: z(d.nb),
      bodyInertia: z(9 * d.nb),
      contactPoint: z(3 * d.nc),
      contactRadius: z(d.nc),
      terrainHeights: z(d.nx * d.ny),
      terrainKe: z(d.nx * d.ny),
      terrainKd: z(d.nx * d.ny),
      terrainMu: z(d.nx * d.ny),
      springKe: z(d.ns),
      springKd: z(d.ns),
      springRest: z(d.ns),
    };
    for (let w = 0; w < this.B; w++) {
      for (let k = 0; k < d.ns; k++) {
        const o = 3 * (w * d.ns + k);
        g.springKe[k]! += gs[o]!;
        g.springKd[k]! += gs[o + 1]!;
        g.springRest[k]! += gs[o + 2]!;
      }
    }
    const PK = PARTICLE_SLOTS(npl);
    for (let t = 0; t < this.B * d.np; t++) {
      const o = t * PK;
      const i = t % d.np;
      g.particleDrag[0]! += gtp[o]!;
      g.groundKe[0]! += gtp[o + 1]!;
      g.groundKd[0]! += gtp[o + 2]!;
      g.groundKf[0]! += gtp[o + 3]!;
      g.groundMu[0]! += gtp[o + 4]!;
      g.terrainKf[0]! += gtp[o + 5]!;
      for (let c = 0; c < 3; c++) g.gravity[c]! += gtp[o + 6 + c]!;
      g.particleMass[i]! += gtp[o + 9]!;
      g.particleRadius[i]! += gtp[o + 10]!;
      for (let p = 0; p < npl; p++) g.planeOffset[p]! += gtp[o + 11 + p]!;
    }
    const BS = BODY_SLOTS(npl);
    const BK = d.nb * BS + 4 * d.nc;
    for (let w = 0; w < this.B; w++) {
      for (let b = 0; b < d.nb; b++) {
        const o = w * BK + b * BS;
        g.groundKe[0]! += gtb[o]!;
        g.groundKd[0]! += gtb[o + 1]!;
        g.groundKf[0]! += gtb[o + 2]!;
        g.groundMu[0]! += gtb[o + 3]!;
        g.terrainKf[0]! += gtb[o + 4]!;
        for (let c = 0; c < 3; c++) g.gravity[c]! += gtb[o + 5 + c]!;
        g.bodyMass[b]! += gtb[o + 8]!;
        for (let c = 0; c < 9; c++) g.bodyInertia[9 * b + c]! += gtb[o + 9 + c]!;
        for (let p = 0; p < npl; p++) g.planeOffset[p]! += gtb[o + 18 + p]!;
      }
      for (let k = 0; k < d.nc; k++) {
        const o = w * BK + d.nb * BS + 4 * k;
        for (let c = 0; c < 3; c++) g.contactPoint[3 * k + c]! += gtb[o + c]!;
        g.contactRadius[k]! += gtb[o + 3]!;
      }
    }
    const nm = d.nx * d.ny;
    for (let i = 0; i < nm; i++) {
      g.terrainHeights[i] = gm[i]!;
      g.terrainKe[i] = gm[nm + i]!;
      g.terrainKd[i] = gm[2 * nm + i]!;
      g.terrainMu[i] = gm[3 * nm + i]!;
    }
    if (!d.hasTerrain) g.terrainKf[0] = 0;
    return g;
  }

  /** Replaces the model parameters (a packing of the same model with other values). */
  setParams(packed: Float32Array<ArrayBuffer>): void {
    if (packed.length !== this.data.layout.size) throw new RangeError(`gpu rollout: ${packed.length} packed parameters; expected ${this.data.layout.size}`);
    this.dev.queue.writeBuffer(this.model, 0, packed);
  }

  /** Frees the GPU buffers. */
  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
    this.groupsCache.clear();
  }
}

function checkGains(g: TrackController): void {
  if (!(Number.isFinite(g.kp) && g.kp >= 0)) throw new RangeError(`gpu rollout: controller kp = ${g.kp} must be a finite number >= 0`);
  if (!(Number.isFinite(g.fMax) && g.fMax > 0)) throw new RangeError(`gpu rollout: controller fMax = ${g.fMax} must be a finite number > 0`);
}

function copySlot(enc: GPUCommandEncoder, a: Slot, b: Slot, pFloats: number, bFloats: number): void {
  if (pFloats > 0) enc.copyBufferToBuffer(a.p, 0, b.p, 0, 4 * pFloats);
  if (bFloats > 0) enc.copyBufferToBuffer(a.b, 0, b.b, 0, 4 * bFloats);
}
