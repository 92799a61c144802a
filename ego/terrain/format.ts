// On-disk format of the terrain dataset (ego/terrain), its writer and its validating reader.
// A dataset folder holds `manifest.json` (settings, robot, array layout and one record per
// sample with its SHA-256) and `samples/<id>.bin`, each the sample's little-endian float32
// arrays back to back in the manifest's `arrays` order. Every file is written atomically; the
// reader names the file and record of anything missing, partial, corrupt or non-finite.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../../data/index.ts';
import { TerrainDataError, TerrainShapeError } from './errors.ts';
import type { TerrainGridSpec, TerrainSample, TerrainSpec } from './generate.ts';
import type { GroundTruth } from './rapier-truth.ts';
import { RAPIER_DT, SETTLE_TIME } from './rapier-truth.ts';
import { ROBOT, TRACKS, robotPoints } from './robot.ts';

/** Format name and version written into every manifest. */
export const TERRAIN_FORMAT = 'impulse.terrain-dataset';
export const TERRAIN_FORMAT_VERSION = 1;

/** Names of the arrays of a sample file, in file order. */
export const ARRAY_NAMES = ['heights', 'friction', 'stiffness', 'sensorHeights', 'sensorMask', 'commands', 'poses', 'velocity0'] as const;
export type ArrayName = (typeof ARRAY_NAMES)[number];

/** Shapes of a sample's arrays for the dataset settings. */
export function arrayLayout(spec: TerrainSpec): { name: ArrayName; dtype: 'float32'; shape: number[] }[] {
  const { nx, ny } = spec.grid;
  const nCmd = Math.round(spec.duration / spec.commandDt);
  const nPose = Math.round(spec.duration / spec.recordDt) + 1;
  const shapes: Record<ArrayName, number[]> = {
    heights: [ny, nx],
    friction: [ny, nx],
    stiffness: [ny, nx],
    sensorHeights: [ny, nx],
    sensorMask: [ny, nx],
    commands: [nCmd, 2],
    poses: [nPose, 7],
    velocity0: [6],
  };
  return ARRAY_NAMES.map((name) => ({ name, dtype: 'float32' as const, shape: shapes[name] }));
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((v) => v > 0, 'must be > 0');
const posInt = z.number().int().positive();

const SpecSchema = z.object({
  grid: z.object({ nx: posInt.min(2), ny: posInt.min(2), cellSize: positive, origin: z.tuple([finite, finite]) }),
  patches: posInt,
  duration: positive,
  recordDt: positive,
  commandDt: positive,
  sensorNoise: finite.refine((v) => v >= 0, 'must be >= 0'),
  sensorHeight: finite,
  sensorRange: positive,
});

const RecordSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only'),
  index: z.number().int().nonnegative(),
  kinds: z.array(z.string()),
  start: z.tuple([finite, finite, finite]),
  file: z.string(),
  bytes: posInt,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256'),
});

/** The manifest schema (zod). */
export const ManifestSchema = z.object({
  format: z.literal(TERRAIN_FORMAT),
  version: z.literal(TERRAIN_FORMAT_VERSION),
  split: z.enum(['train', 'ood']),
  seed: z.number().int(),
  spec: SpecSchema,
  robot: z.object({
    mass: positive,
    radius: positive,
    points: z.array(z.tuple([finite, finite, finite])).min(1),
    tracks: z.object({ right: z.array(z.number().int()), left: z.array(z.number().int()) }),
    kp: positive,
    fMax: positive,
  }),
  groundTruth: z.object({ engine: z.string(), dt: positive, settle: finite }),
  arrays: z.array(z.object({ name: z.enum(ARRAY_NAMES), dtype: z.literal('float32'), shape: z.array(posInt) })),
  samples: z.array(RecordSchema),
});
export type TerrainManifest = z.infer<typeof ManifestSchema>;
export type SampleRecord = z.infer<typeof RecordSchema>;

/** A sample as read back: the generated inputs and the Rapier ground truth (float64 copies of the stored float32). */
export interface StoredSample {
  record: SampleRecord;
  sample: TerrainSample;
  truth: GroundTruth;
}

/** Encodes a sample and its ground truth as the bytes of its sample file. */
export function encodeSample(spec: TerrainSpec, s: TerrainSample, gt: GroundTruth): Uint8Array {
  const layout = arrayLayout(spec);
  const parts: Record<ArrayName, Float64Array> = {
    heights: s.heights,
    friction: s.friction,
    stiffness: s.stiffness,
    sensorHeights: s.sensorHeights,
    sensorMask: s.sensorMask,
    commands: s.commands,
    poses: gt.poses,
    velocity0: gt.velocity0,
  };
  const total = layout.reduce((a, l) => a + l.shape.reduce((p, d) => p * d, 1), 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const l of layout) {
    const n = l.shape.reduce((p, d) => p * d, 1);
    const src = parts[l.name];
    if (src.length !== n) throw new TerrainShapeError(`sample ${s.id}: ${l.name} has ${src.length} values, expected ${n} (shape ${l.shape.join(' x ')})`);
    out.set(src, o);
    o += n;
  }
  return new Uint8Array(out.buffer);
}

/** The manifest record of an encoded sample. */
export function sampleRecord(s: TerrainSample, index: number, bytes: Uint8Array): SampleRecord {
  return {
    id: s.id,
    index,
    kinds: [...s.kinds],
    start: [...s.start],
    file: `samples/${s.id}.bin`,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Writes one sample file atomically (idempotent: the same sample always has the same bytes and path). */
export function writeSampleFile(dir: string, record: SampleRecord, bytes: Uint8Array): void {
  mkdirSync(join(dir, 'samples'), { recursive: true });
  writeFileAtomicSync(join(dir, record.file), bytes);
}

/** Builds the manifest for a finished dataset and writes it atomically (last, so a folder with a manifest is complete). */
export function writeManifest(dir: string, spec: TerrainSpec, split: 'train' | 'ood', seed: number, records: SampleRecord[]): TerrainManifest {
  const m: TerrainManifest = {
    format: TERRAIN_FORMAT,
    version: TERRAIN_FORMAT_VERSION,
    split,
    seed,
    spec,
    robot: {
      mass: ROBOT.mass,
      radius: ROBOT.radius,
      points: robotPoints(),
      tracks: { right: [...TRACKS.right], left: [...TRACKS.left] },
      kp: ROBOT.kp,
      fMax: ROBOT.fMax,
    },
    groundTruth: { engine: 'rapier3d-compat 0.21 (heightfield collider per friction patch, stiffness as static sinkage)', dt: RAPIER_DT, settle: SETTLE_TIME },
    arrays: arrayLayout(spec),
    samples: [...records].sort((a, b) => a.index - b.index),
  };
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 1) + '\n');
  return m;
}

/** A dataset folder opened for reading: the validated manifest and a loader per sample. */
export interface TerrainDataset {
  dir: string;
  manifest: TerrainManifest;
  spec: TerrainSpec;
  size: number;
  /** Reads, checks (size, SHA-256, finite values) and decodes sample `i` of the manifest. */
  load(i: number): StoredSample;
}

/**
 * Opens a dataset folder: reads and validates `manifest.json` (format, version, settings,
 * array layout against the settings, unique ids) and checks that every sample file exists
 * with the recorded size. Errors name the file and the record.
 */
export function openTerrainDataset(dir: string): TerrainDataset {
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) throw new TerrainDataError(`no manifest.json: not a terrain dataset folder, or generation did not finish`, { file: mpath });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(mpath, 'utf8'));
  } catch (e) {
    throw new TerrainDataError(`not valid JSON (${(e as Error).message})`, { file: mpath });
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path;
    const record = path[0] === 'samples' && typeof path[1] === 'number' ? path[1] : undefined;
    throw new TerrainDataError(`field '${path.join('.')}': ${issue.message}`, { file: mpath, record });
  }
  const m = parsed.data;
  const spec = m.spec as TerrainSpec;
  const want = arrayLayout(spec);
  want.forEach((w, k) => {
    const got = m.arrays[k];
    if (!got || got.name !== w.name || got.shape.join('x') !== w.shape.join('x'))
      throw new TerrainShapeError(
        `${mpath}: arrays[${k}] is ${got ? `${got.name} [${got.shape.join(' x ')}]` : 'missing'}, expected ${w.name} [${w.shape.join(' x ')}] for the grid and timing in 'spec'`,
      );
  });
  const bytesPer = 4 * want.reduce((a, l) => a + l.shape.reduce((p, d) => p * d, 1), 0);
  const ids = new Set<string>();
  m.samples.forEach((r, k) => {
    if (ids.has(r.id)) throw new TerrainDataError(`duplicate sample id '${r.id}'`, { file: mpath, record: k });
    ids.add(r.id);
    if (r.bytes !== bytesPer) throw new TerrainDataError(`record says ${r.bytes} bytes, the layout needs ${bytesPer}`, { file: mpath, record: k });
    const f = join(dir, r.file);
    if (!existsSync(f)) throw new TerrainDataError(`sample file is missing (record '${r.id}')`, { file: f, record: k });
    const size = statSync(f).size;
    if (size !== bytesPer)
      throw new TerrainDataError(`partial or wrong-size sample file: ${size} bytes, expected ${bytesPer} (record '${r.id}')`, { file: f, record: k });
  });
  return {
    dir,
    manifest: m,
    spec,
    size: m.samples.length,
    load(i: number): StoredSample {
      const r = m.samples[i];
      if (!r) throw new RangeError(`sample ${i} is out of range [0, ${m.samples.length})`);
      const f = join(dir, r.file);
      let buf: Buffer;
      try {
        buf = readFileSync(f);
      } catch (e) {
        throw new TerrainDataError(`cannot read sample file (${(e as Error).message})`, { file: f, record: i });
      }
      if (buf.length !== bytesPer) throw new TerrainDataError(`partial sample file: ${buf.length} bytes, expected ${bytesPer}`, { file: f, record: i });
      const sha = createHash('sha256').update(buf).digest('hex');
      if (sha !== r.sha256)
        throw new TerrainDataError(`corrupt sample file: SHA-256 ${sha.slice(0, 12)}... does not match the manifest's ${r.sha256.slice(0, 12)}...`, {
          file: f,
          record: i,
        });
      const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      const arrs = {} as Record<ArrayName, Float64Array>;
      let o = 0;
      for (const l of want) {
        const n = l.shape.reduce((p, d) => p * d, 1);
        const a = Float64Array.from(all.subarray(o, o + n));
        for (let q = 0; q < n; q++)
          if (!Number.isFinite(a[q]!)) throw new TerrainDataError(`non-finite value in '${l.name}' at flat index ${q}`, { file: f, record: i });
        arrs[l.name] = a;
        o += n;
      }
      const sample: TerrainSample = {
        id: r.id,
        seed: m.seed,
        kinds: r.kinds as TerrainSample['kinds'],
        heights: arrs.heights,
        friction: arrs.friction,
        stiffness: arrs.stiffness,
        sensorHeights: arrs.sensorHeights,
        sensorMask: arrs.sensorMask,
        start: [...r.start],
        commands: arrs.commands,
      };
      return { record: r, sample, truth: { poses: arrs.poses, velocity0: arrs.velocity0 } };
    },
  };
}

/** Throws TerrainShapeError unless `got` is the grid `want` (what a model or rollout was built for). */
export function checkGrid(want: TerrainGridSpec, got: TerrainGridSpec, what = 'terrain'): void {
  const same = want.nx === got.nx && want.ny === got.ny && Math.abs(want.cellSize - got.cellSize) < 1e-9;
  if (!same)
    throw new TerrainShapeError(
      `${what}: grid ${got.ny} x ${got.nx} at ${got.cellSize} m does not match the expected ${want.ny} x ${want.nx} at ${want.cellSize} m`,
    );
}
