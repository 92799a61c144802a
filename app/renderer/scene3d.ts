// The 3D view of the renderer (app/renderer): a Babylon.js scene (tree-shaken @babylonjs/core
// imports) with a ground grid and axes, trajectories as vertex-coloured line meshes (one draw call
// each), all prediction sets of a file as ONE line mesh coloured by final error (10k x 150 points
// stay one draw call), the set at the cursor highlighted, a vehicle marker posed at the cursor,
// orbit and follow cameras, and terrain meshes coloured by a chosen map (height, friction,
// stiffness, or a gradient as a diverging heatmap). Data are mapped to Babylon's y-up frame:
// z-up data (ROS) as (x, z, y); y-down camera-frame data (KITTI) as (x, -y, z).

import { Engine } from '@babylonjs/core/Engines/engine.js';
import { Scene } from '@babylonjs/core/scene.js';
import { ArcRotateCamera } from '@babylonjs/core/Cameras/arcRotateCamera.js';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight.js';
import { DirectionalLight } from '@babylonjs/core/Lights/directionalLight.js';
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js';
import { Color3, Color4 } from '@babylonjs/core/Maths/math.color.js';
import { LinesMesh } from '@babylonjs/core/Meshes/linesMesh.js';
import { Mesh } from '@babylonjs/core/Meshes/mesh.js';
import { VertexData } from '@babylonjs/core/Meshes/mesh.vertexData.js';
import { CreateCylinder } from '@babylonjs/core/Meshes/Builders/cylinderBuilder.js';
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import { SceneInstrumentation } from '@babylonjs/core/Instrumentation/sceneInstrumentation.js';
import '@babylonjs/core/Culling/ray.js';
import { divergingColor, errorColor, terrainColor, type Rgb } from './colors.ts';
import type { PredLayer, TerrainGrid, TrajLayer } from './model.ts';

type Up = 'z' | 'y-down';

/** Whether WebGL is rendered in software (SwiftShader, llvmpipe), from the unmasked renderer string. */
function softwareRenderer(): boolean {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return false;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|software/i.test(name);
  } catch {
    return false;
  }
}

/** Scene facts for the test hook and the bench. */
export interface SceneFacts {
  trajectoryCount: number;
  predictedTrajectoryCount: number;
  pointCount: number;
  bbox: { min: number[]; max: number[] } | null;
  drawCalls: number;
  meshes: number;
  marker: number[] | null;
  camera: 'orbit' | 'follow';
  up: Up;
  terrain: { grid: string; layer: string } | null;
  fps: number;
  software: boolean;
  /** Vertices drawn for predictions (after level of detail) and the point stride used. */
  predictionVerticesDrawn: number;
  lodStep: number;
}

/** The Babylon scene and everything drawn in it. */
export class Scene3D {
  readonly engine: Engine;
  /** True when WebGL runs on a software rasteriser (no multisampling then). */
  readonly software: boolean;
  /**
   * Most prediction vertices drawn before level of detail thins each trajectory's points:
   * unlimited on a GPU, 400k on software WebGL; `?lod=N` in the page URL sets it (`lod=0`: off).
   */
  readonly maxDrawVertices: number;
  readonly scene: Scene;
  readonly camera: ArcRotateCamera;
  private inst: SceneInstrumentation;
  private up: Up | null = null;
  private sceneOrigin: [number, number, number] | null = null;
  private trajMeshes = new Map<string, { mesh: LinesMesh; layer: TrajLayer }>();
  private predMeshes = new Map<string, { mesh: LinesMesh; layer: PredLayer; count: number; vertices: number; step: number }>();
  private highlight: LinesMesh | null = null;
  private highlightKey = '';
  private grid: LinesMesh | null = null;
  private axes: LinesMesh | null = null;
  private terrainMesh: Mesh | null = null;
  private terrainInfo: { grid: string; layer: string } | null = null;
  private marker: Mesh;
  private markerData: number[] | null = null;
  private dataBox: { min: number[]; max: number[] } | null = null;
  private follow = false;
  private lastDrawCalls = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    // multisampling is nearly free on a GPU but costs software rasterisers (SwiftShader, llvmpipe) most of a frame
    this.software = softwareRenderer();
    const lod = new URLSearchParams(location.search).get('lod');
    this.maxDrawVertices = lod !== null && Number(lod) >= 0 ? Number(lod) || Infinity : this.software ? 400_000 : Infinity;
    this.engine = new Engine(canvas, !this.software, { preserveDrawingBuffer: true, stencil: false, antialias: !this.software }, true);
    this.scene = new Scene(this.engine);
    this.scene.clearColor = new Color4(0.09, 0.1, 0.12, 1);
    this.camera = new ArcRotateCamera('camera', -Math.PI / 2, Math.PI / 3.2, 50, Vector3.Zero(), this.scene);
    this.camera.attachControl(canvas, true);
    this.camera.wheelDeltaPercentage = 0.02;
    this.camera.minZ = 0.01;
    this.camera.panningSensibility = 50;
    const hemi = new HemisphericLight('sky', new Vector3(0, 1, 0), this.scene);
    hemi.intensity = 0.7;
    hemi.groundColor = new Color3(0.35, 0.35, 0.4);
    const sun = new DirectionalLight('sun', new Vector3(-0.4, -1, -0.3), this.scene);
    sun.intensity = 0.6;
    this.inst = new SceneInstrumentation(this.scene);
    this.inst.captureFrameTime = true;
    this.scene.onAfterRenderObservable.add(() => {
      this.lastDrawCalls = this.inst.drawCallsCounter.current;
    });
    this.marker = this.makeMarker();
    this.rebuildGrid();
    this.engine.runRenderLoop(() => {
      if (this.follow && this.marker.isEnabled()) this.camera.target = Vector3.Lerp(this.camera.target, this.marker.position, 0.25);
      this.scene.render();
    });
    window.addEventListener('resize', () => this.engine.resize());
  }

  private makeMarker(): Mesh {
    const body = CreateCylinder('marker', { height: 1, diameterTop: 0, diameterBottom: 0.6, tessellation: 12 }, this.scene);
    body.rotation.x = Math.PI / 2; // cone tip along +z (forward)
    body.bakeCurrentTransformIntoVertices();
    const mat = new StandardMaterial('markerMat', this.scene);
    mat.diffuseColor = new Color3(1, 0.8, 0.1);
    mat.emissiveColor = new Color3(0.5, 0.35, 0);
    body.material = mat;
    const dot = CreateSphere('markerDot', { diameter: 0.35, segments: 8 }, this.scene);
    dot.parent = body;
    dot.material = mat;
    body.setEnabled(false);
    return body;
  }

  private decideFrame(origin: number[], pos: ArrayLike<number>): void {
    if (this.up) return;
    const min = [Infinity, Infinity, Infinity],
      max = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i + 2 < pos.length; i += 3)
      for (let k = 0; k < 3; k++) {
        const v = pos[i + k]!;
        if (Number.isFinite(v)) {
          min[k] = Math.min(min[k]!, v);
          max[k] = Math.max(max[k]!, v);
        }
      }
    const ext = [0, 1, 2].map((k) => (max[k]! >= min[k]! ? max[k]! - min[k]! : 0));
    // flat in z: z-up (ROS, terrain); flat in y but long in z: camera frame (KITTI: x right, y down, z forward)
    const [ex, ey, ez] = ext as [number, number, number];
    this.up = ez < 0.25 * Math.max(ex, ey) ? 'z' : ey < 0.25 * Math.max(ex, ez) ? 'y-down' : 'z';
    this.sceneOrigin = [origin[0]!, origin[1]!, origin[2]!];
  }

  /** Data coordinates (origin + offset) to scene coordinates. */
  toScene(o: ArrayLike<number>, x: number, y: number, z: number, out: Float32Array | number[], at: number): void {
    const so = this.sceneOrigin ?? [0, 0, 0];
    const dx = o[0]! - so[0] + x,
      dy = o[1]! - so[1] + y,
      dz = o[2]! - so[2] + z;
    if (this.up === 'y-down') {
      out[at] = dx;
      out[at + 1] = -dy;
      out[at + 2] = dz;
    } else {
      out[at] = dx;
      out[at + 1] = dz;
      out[at + 2] = dy;
    }
  }

  private growBox(origin: number[], box: { min: number[]; max: number[] }): void {
    const b = this.dataBox ?? { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
    for (let k = 0; k < 3; k++) {
      if (Number.isFinite(box.min[k]!)) b.min[k] = Math.min(b.min[k]!, box.min[k]!);
      if (Number.isFinite(box.max[k]!)) b.max[k] = Math.max(b.max[k]!, box.max[k]!);
    }
    void origin;
    this.dataBox = b;
  }

  /** The line mesh of a polyline list: positions (scene frame), colours (RGBA per vertex), segment indices. */
  private lineMesh(name: string, positions: Float32Array, colors: Float32Array, indices: Uint32Array): LinesMesh {
    const m = new LinesMesh(name, this.scene, null, null, undefined, true, false);
    const vd = new VertexData();
    vd.positions = positions;
    vd.colors = colors;
    vd.indices = indices;
    vd.applyToMesh(m, false);
    m.isPickable = false;
    m.alwaysSelectAsActiveMesh = true;
    return m;
  }

  /** Adds or replaces a trajectory line (colour per vertex: the layer colour, or its errors' colours). */
  setTrajectory(l: TrajLayer): void {
    this.decideFrame(l.origin, l.pos);
    this.trajMeshes.get(l.key)?.mesh.dispose();
    const n = l.pos.length / 3;
    const P = new Float32Array(3 * n),
      C = new Float32Array(4 * n);
    let emax = 0;
    if (l.errors) for (const e of l.errors) if (Number.isFinite(e)) emax = Math.max(emax, e);
    for (let i = 0; i < n; i++) {
      this.toScene(l.origin, l.pos[3 * i]!, l.pos[3 * i + 1]!, l.pos[3 * i + 2]!, P, 3 * i);
      const c: Rgb = l.errors && emax > 0 && i < l.errors.length ? errorColor(l.errors[i]! / emax) : l.color;
      C.set([c[0], c[1], c[2], 1], 4 * i);
    }
    const I = new Uint32Array(2 * Math.max(0, n - 1));
    for (let i = 0; i + 1 < n; i++) {
      I[2 * i] = i;
      I[2 * i + 1] = i + 1;
    }
    const mesh = this.lineMesh(`traj:${l.key}`, P, C, I);
    this.trajMeshes.set(l.key, { mesh, layer: l });
    this.growBox(l.origin, l.bbox);
    this.rebuildGrid();
  }

  /** Adds or replaces a prediction layer: every set of every label in ONE line mesh, coloured by the set's final error. */
  setPredictions(l: PredLayer, maxErr?: number): void {
    this.decideFrame(l.origin, l.gt);
    this.predMeshes.get(l.key)?.mesh.dispose();
    const S = l.t0.length;
    const total = l.offsets[S]!;
    let emax = maxErr ?? 0;
    if (!maxErr) for (const p of l.preds) for (const e of p.fde) if (Number.isFinite(e)) emax = Math.max(emax, e);
    // level of detail: beyond `maxDrawVertices`, every step-th point of each trajectory (and its last) is drawn
    const step = Math.max(1, Math.ceil((total * l.preds.length) / this.maxDrawVertices));
    const picks = (a: number, b: number): number => (b > a ? Math.ceil((b - a - 1) / step) + 1 : 0);
    let nv = 0,
      segs = 0;
    for (const p of l.preds)
      for (let s = 0; s < S; s++) {
        const k = picks(l.offsets[s]!, l.offsets[s + 1]!);
        nv += k;
        if (Number.isFinite(p.fde[s]!)) segs += Math.max(0, k - 1);
      }
    const P = new Float32Array(3 * nv),
      C = new Float32Array(4 * nv);
    const I = new Uint32Array(2 * segs);
    let v = 0,
      ii = 0,
      count = 0;
    for (const p of l.preds) {
      for (let s = 0; s < S; s++) {
        const a = l.offsets[s]!,
          b = l.offsets[s + 1]!;
        const e = p.fde[s]!;
        const ok = Number.isFinite(e);
        if (ok) count++;
        const c = errorColor(emax > 0 ? e / emax : 0);
        const k = picks(a, b);
        for (let q = 0; q < k; q++) {
          const j = q === k - 1 ? b - 1 : a + q * step;
          this.toScene(l.origin, p.positions[3 * j]!, p.positions[3 * j + 1]!, p.positions[3 * j + 2]!, P, 3 * v);
          C[4 * v] = c[0];
          C[4 * v + 1] = c[1];
          C[4 * v + 2] = c[2];
          C[4 * v + 3] = 1;
          if (ok && q + 1 < k) {
            I[ii++] = v;
            I[ii++] = v + 1;
          }
          v++;
        }
      }
    }
    for (let i = 0; i < P.length; i++) if (!Number.isFinite(P[i]!)) P[i] = 0;
    const mesh = this.lineMesh(`pred:${l.key}`, P, C, I);
    this.predMeshes.set(l.key, { mesh, layer: l, count, vertices: nv, step });
    this.growBox(l.origin, l.bbox);
    this.rebuildGrid();
  }

  /** Highlights prediction set `s` of layer `key` (its predictions bright, its ground truth white); -1 clears. */
  highlightSet(key: string, s: number): void {
    const id = `${key}#${s}`;
    if (id === this.highlightKey) return;
    this.highlightKey = id;
    this.highlight?.dispose();
    this.highlight = null;
    const e = this.predMeshes.get(key);
    if (!e || s < 0 || s >= e.layer.t0.length) return;
    const l = e.layer;
    const a = l.offsets[s]!,
      b = l.offsets[s + 1]!,
      T = b - a;
    const lines = [l.gt, ...l.preds.map((p) => p.positions)];
    const P = new Float32Array(3 * T * lines.length),
      C = new Float32Array(4 * T * lines.length),
      I: number[] = [];
    lines.forEach((arr, k) => {
      const c: Rgb = k === 0 ? [1, 1, 1] : [0.2, 1, 1];
      for (let j = 0; j < T; j++) {
        const v = k * T + j;
        this.toScene(l.origin, arr[3 * (a + j)]!, arr[3 * (a + j) + 1]!, arr[3 * (a + j) + 2]!, P, 3 * v);
        if (!Number.isFinite(P[3 * v]!)) P.fill(0, 3 * v, 3 * v + 3);
        C.set([c[0], c[1], c[2], 1], 4 * v);
        if (j + 1 < T) I.push(v, v + 1);
      }
    });
    this.highlight = this.lineMesh('highlight', P, C, Uint32Array.from(I));
  }

  /** Removes every layer whose key starts with `prefix`. */
  removeLayers(prefix: string): void {
    for (const [k, v] of this.trajMeshes)
      if (k.startsWith(prefix)) {
        v.mesh.dispose();
        this.trajMeshes.delete(k);
      }
    for (const [k, v] of this.predMeshes)
      if (k.startsWith(prefix)) {
        v.mesh.dispose();
        this.predMeshes.delete(k);
      }
  }

  /** Poses the marker at `pos` (data coordinates), pointing towards `ahead`. */
  setMarker(pos: number[] | null, ahead?: number[]): void {
    if (!pos || !this.up) {
      this.marker.setEnabled(false);
      this.markerData = null;
      return;
    }
    const p = new Float32Array(3);
    this.toScene([0, 0, 0], pos[0]!, pos[1]!, pos[2]!, p, 0);
    this.marker.setEnabled(true);
    this.marker.position.set(p[0]!, p[1]!, p[2]!);
    if (ahead) {
      const q = new Float32Array(3);
      this.toScene([0, 0, 0], ahead[0]!, ahead[1]!, ahead[2]!, q, 0);
      if (Math.hypot(q[0]! - p[0]!, q[1]! - p[1]!, q[2]! - p[2]!) > 1e-6) this.marker.lookAt(new Vector3(q[0]!, q[1]!, q[2]!));
    }
    this.markerData = [pos[0]!, pos[1]!, pos[2]!];
  }

  /** Marker size (metres) from the scene's extent. */
  private scaleMarker(): void {
    const b = this.dataBox;
    if (!b) return;
    const d = Math.hypot(b.max[0]! - b.min[0]!, b.max[1]! - b.min[1]!, b.max[2]! - b.min[2]!);
    const s = Math.max(0.2, d / 60);
    this.marker.scaling.set(s, s, s);
  }

  /** Ground grid under the data (spacing 1-2-5 x 10^k, ~20 lines a side) and the axes at the scene origin. */
  private rebuildGrid(): void {
    this.grid?.dispose();
    this.axes?.dispose();
    let cx = 0,
      cz = 0,
      half = 10,
      y0 = 0;
    if (this.dataBox && this.up) {
      const b = this.dataBox;
      const lo = new Float32Array(3),
        hi = new Float32Array(3);
      this.toScene([0, 0, 0], b.min[0]!, b.min[1]!, b.min[2]!, lo, 0);
      this.toScene([0, 0, 0], b.max[0]!, b.max[1]!, b.max[2]!, hi, 0);
      cx = (lo[0]! + hi[0]!) / 2;
      cz = (lo[2]! + hi[2]!) / 2;
      half = Math.max(1, Math.abs(hi[0]! - lo[0]!), Math.abs(hi[2]! - lo[2]!)) * 0.6;
      y0 = Math.min(lo[1]!, hi[1]!) - 0.01 * half;
      this.camera.target.set(cx, (lo[1]! + hi[1]!) / 2, cz);
      this.camera.radius = Math.max(5, 2.2 * half);
      this.camera.maxZ = 40 * half;
      this.scaleMarker();
    }
    const raw = (2 * half) / 20;
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
    const n = Math.ceil(half / step);
    const gx = Math.round(cx / step) * step,
      gz = Math.round(cz / step) * step;
    const P: number[] = [],
      C: number[] = [],
      I: number[] = [];
    const seg = (a: number[], b: number[], c: number[]): void => {
      const v = P.length / 3;
      P.push(...a, ...b);
      C.push(...c, 1, ...c, 1);
      I.push(v, v + 1);
    };
    for (let i = -n; i <= n; i++) {
      const c = i === 0 ? [0.35, 0.37, 0.42] : [0.22, 0.23, 0.27];
      seg([gx + i * step, y0, gz - n * step], [gx + i * step, y0, gz + n * step], c);
      seg([gx - n * step, y0, gz + i * step], [gx + n * step, y0, gz + i * step], c);
    }
    this.grid = this.lineMesh('grid', Float32Array.from(P), Float32Array.from(C), Uint32Array.from(I));
    const L = step * 2;
    const A: number[] = [],
      AC: number[] = [],
      AI: number[] = [];
    const axis = (d: number[], c: number[]): void => {
      const v = A.length / 3;
      A.push(0, y0, 0, d[0]! * L, y0 + d[1]! * L, d[2]! * L);
      AC.push(...c, 1, ...c, 1);
      AI.push(v, v + 1);
    };
    // data x (red), data y (green), up (blue), drawn at the scene origin
    axis([1, 0, 0], [1, 0.25, 0.25]);
    axis(this.up === 'y-down' ? [0, 0, 1] : [0, 0, 1], [0.3, 1, 0.3]);
    axis([0, 1, 0], [0.3, 0.5, 1]);
    this.axes = this.lineMesh('axes', Float32Array.from(A), Float32Array.from(AC), Uint32Array.from(AI));
  }

  /** Shows a terrain grid coloured by one of its layers (gradients: diverging map around 0); null removes it. */
  setTerrain(g: TerrainGrid | null, colorLayer?: string, heightLayer = 'height'): void {
    this.terrainMesh?.dispose();
    this.terrainMesh = null;
    this.terrainInfo = null;
    if (!g) return;
    const hl = g.layers.find((l) => l.name === heightLayer) ?? null;
    const cl = g.layers.find((l) => l.name === colorLayer) ?? hl ?? g.layers[0]!;
    const { columns: W, rows: H } = g;
    if (!this.up) {
      this.up = 'z';
      this.sceneOrigin = [g.origin[0], g.origin[1], g.origin[2]];
    }
    const P = new Float32Array(3 * W * H),
      C = new Float32Array(4 * W * H);
    const signed = /grad/i.test(cl.name);
    const amax = Math.max(Math.abs(cl.min), Math.abs(cl.max)) || 1;
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++) {
        const i = r * W + c;
        const h = hl ? hl.values[i]! : 0;
        this.toScene(g.origin, (c + 0.5) * g.cellSize[0], (r + 0.5) * g.cellSize[1], Number.isFinite(h) ? h : 0, P, 3 * i);
        const v = cl.values[i]!;
        const col = signed ? divergingColor(v / amax) : terrainColor(cl.max > cl.min ? (v - cl.min) / (cl.max - cl.min) : 0.5);
        C.set([col[0], col[1], col[2], 1], 4 * i);
      }
    const I: number[] = [];
    for (let r = 0; r + 1 < H; r++)
      for (let c = 0; c + 1 < W; c++) {
        const a = r * W + c;
        I.push(a, a + W, a + 1, a + 1, a + W, a + W + 1);
      }
    const mesh = new Mesh(`terrain:${g.name}`, this.scene);
    const vd = new VertexData();
    vd.positions = P;
    vd.colors = C;
    vd.indices = Uint32Array.from(I);
    const normals: number[] = [];
    VertexData.ComputeNormals(P, vd.indices, normals);
    // the axis swap of z-up data mirrors the winding: make the normals point up
    let ny = 0;
    for (let i = 1; i < normals.length; i += 3) ny += normals[i]!;
    if (ny < 0) for (let i = 0; i < normals.length; i++) normals[i] = -normals[i]!;
    vd.normals = normals;
    vd.applyToMesh(mesh);
    const mat = new StandardMaterial('terrainMat', this.scene);
    mat.backFaceCulling = false;
    mat.twoSidedLighting = true;
    mat.emissiveColor = new Color3(0.15, 0.15, 0.15);
    mat.specularColor = new Color3(0.05, 0.05, 0.05);
    mesh.material = mat;
    mesh.isPickable = false;
    this.terrainMesh = mesh;
    this.terrainInfo = { grid: g.name, layer: cl.name };
    const ox = g.origin,
      ext = [W * g.cellSize[0], H * g.cellSize[1]];
    this.growBox([0, 0, 0], {
      min: [ox[0], ox[1], hl ? ox[2] + hl.min : ox[2]],
      max: [ox[0] + ext[0]!, ox[1] + ext[1]!, hl ? ox[2] + hl.max : ox[2]],
    });
    this.rebuildGrid();
  }

  /** Orbit (free) or follow (the camera target tracks the marker). */
  setFollow(on: boolean): void {
    this.follow = on;
  }
  get following(): boolean {
    return this.follow;
  }

  /** Frames all data. */
  frameAll(): void {
    this.rebuildGrid();
  }

  /** Facts about what is drawn (test hook, bench). */
  facts(): SceneFacts {
    let points = 0,
      preds = 0,
      drawn = 0,
      lodStep = 1;
    for (const { layer } of this.trajMeshes.values()) points += layer.pos.length / 3;
    for (const e of this.predMeshes.values()) {
      preds += e.count;
      drawn += e.vertices;
      lodStep = Math.max(lodStep, e.step);
      const S = e.layer.t0.length;
      for (const p of e.layer.preds) for (let s = 0; s < S; s++) if (Number.isFinite(p.fde[s]!)) points += e.layer.offsets[s + 1]! - e.layer.offsets[s]!;
    }
    return {
      trajectoryCount: this.trajMeshes.size,
      predictedTrajectoryCount: preds,
      pointCount: points,
      bbox: this.dataBox ? { min: [...this.dataBox.min], max: [...this.dataBox.max] } : null,
      drawCalls: this.lastDrawCalls,
      meshes: this.scene.meshes.filter((m) => m.isEnabled() && m.isVisible).length,
      marker: this.markerData,
      camera: this.follow ? 'follow' : 'orbit',
      up: this.up ?? 'z',
      terrain: this.terrainInfo,
      fps: this.engine.getFps(),
      software: this.software,
      predictionVerticesDrawn: drawn,
      lodStep,
    };
  }

  /** Mean frame time (ms) of the last frames (instrumentation). */
  frameTimeMs(): number {
    return this.inst.frameTimeCounter.lastSecAverage || this.inst.frameTimeCounter.average;
  }
}
