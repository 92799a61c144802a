// Generation of a terrain dataset (ego/terrain): sample i of (seed, split) is generated,
// simulated in Rapier and encoded by `generateSampleBytes`, a pure function of its arguments,
// so the same sample made by any process or machine has the same bytes. `generateDataset`
// runs it for every index in this process; the job queue (jobs.ts) spreads the same calls
// over workers.
import { rmSync } from 'node:fs';
import { generateTerrain, DEFAULT_SPEC, type TerrainSpec } from './generate.ts';
import { encodeSample, sampleRecord, writeManifest, writeSampleFile, type SampleRecord, type TerrainManifest } from './format.ts';
import { rapierGroundTruth } from './rapier-truth.ts';
import { join } from 'node:path';

/** Generates, simulates and encodes sample `index`: its manifest record and file bytes. */
export async function generateSampleBytes(spec: TerrainSpec, seed: number, index: number, ood: boolean): Promise<{ record: SampleRecord; bytes: Uint8Array }> {
  const sample = generateTerrain(spec, seed, index, ood);
  const truth = await rapierGroundTruth(spec, sample);
  const bytes = encodeSample(spec, sample, truth);
  return { record: sampleRecord(sample, index, bytes), bytes };
}

/** Options of {@link generateDataset}. */
export interface GenerateOptions {
  n: number;
  seed: number;
  out: string;
  ood?: boolean;
  spec?: TerrainSpec;
  /** Called after each sample with the number done. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of a generation: the manifest and the rate. */
export interface GenerateResult {
  manifest: TerrainManifest;
  out: string;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Checks n and seed; throws a RangeError naming the option. */
export function checkGenerateArgs(n: number, seed: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--n ${n}: expected an integer >= 1`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`--seed ${seed}: expected an integer in [0, 2^32)`);
}

/**
 * Generates a dataset in this process: every sample file (atomically), then the manifest.
 * The manifest of a previous run in `out` is removed first, so a folder with a manifest is
 * always complete.
 */
export async function generateDataset(opts: GenerateOptions): Promise<GenerateResult> {
  checkGenerateArgs(opts.n, opts.seed);
  const spec = opts.spec ?? DEFAULT_SPEC;
  rmSync(join(opts.out, 'manifest.json'), { force: true });
  const t0 = performance.now();
  const records: SampleRecord[] = [];
  for (let i = 0; i < opts.n; i++) {
    const { record, bytes } = await generateSampleBytes(spec, opts.seed, i, !!opts.ood);
    writeSampleFile(opts.out, record, bytes);
    records.push(record);
    opts.onProgress?.(i + 1, opts.n);
  }
  const manifest = writeManifest(opts.out, spec, opts.ood ? 'ood' : 'train', opts.seed, records);
  const seconds = (performance.now() - t0) / 1000;
  return { manifest, out: opts.out, samples: opts.n, seconds, samplesPerSecond: opts.n / seconds };
}
