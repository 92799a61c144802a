// Training configuration of the terrain predictor (ego/terrain), validated with zod (strict: an
// unknown key is an error naming it). The defaults train the CNN terrain model and the pure-NN
// trajectory regressor on ~160 terrains in minutes on two cores (with a few dozen terrains the
// CNN fits its training terrains but does not generalise to held-out ones);
// `impulse train ego-terrain --config FILE.json` overrides any subset.
import { z } from 'zod';
import { parseConfigWith, readConfigWith } from '../config.ts';

/** The learned models of a terrain run. */
export const TERRAIN_MODELS = ['terrain-cnn', 'pure-nn'] as const;
export type TerrainModelName = (typeof TERRAIN_MODELS)[number];

/** The zod schema of a terrain training config. */
export const terrainConfigSchema = z
  .object({
    /** Learned models: 'terrain-cnn' (CNN maps rolled out by the engine), 'pure-nn' (trajectory regressed from heightmap and commands). */
    models: z.array(z.enum(TERRAIN_MODELS)).min(1).default(['terrain-cnn', 'pure-nn']),
    /** Epochs of the terrain CNN (each sees every training terrain once). */
    epochs: z.number().int().positive().default(4),
    /** Terrains per gradient step of the terrain CNN. */
    batchSize: z.number().int().positive().default(8),
    /** Adam learning rate of the terrain CNN (cosine decay to 5% over the epochs). */
    learningRate: z.number().positive().default(0.003),
    /** Weight of the heightmap term (mean squared error against the true heights). */
    heightWeight: z.number().nonnegative().default(1),
    /** Cells of the heightmap term: 'all' (the true height is known on every cell of a generated terrain) or 'seen' (only where the sensor saw). */
    heightCells: z.enum(['all', 'seen']).default('all'),
    /** Friction and stiffness of the CNN: 'map' (a value per cell) or 'global' (one value per terrain; see createTerrainNet). */
    materials: z.enum(['map', 'global']).default('map'),
    /** Kernel size of the CNN's full-resolution filter of the sensor map added to the height correction (0: none; see createTerrainNet). */
    heightFilter: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .refine((k) => k === 0 || k % 2 === 1, 'must be 0 or odd'),
    /** Channels of the CNN's hidden convolutions. */
    channels: z.number().int().positive().default(16),
    /** Pure NN: hidden widths, epochs (it is cheap: many more than the CNN), batch size, learning rate. */
    nnHidden: z.array(z.number().int().positive()).default([128, 128]),
    nnEpochs: z.number().int().positive().default(300),
    nnBatchSize: z.number().int().positive().default(8),
    nnLearningRate: z.number().positive().default(1e-3),
    /** Fractions of the dataset's samples (last by index) held out for test and, before them, validation. */
    testFraction: z.number().gt(0).lt(1).default(0.2),
    valFraction: z.number().gt(0).lt(1).default(0.15),
    /** Worker threads of the engine rollouts. */
    threads: z.number().int().positive().default(2),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .refine((c) => c.testFraction + c.valFraction < 0.9, { message: 'testFraction + valFraction must leave at least 10% for training', path: ['valFraction'] });

/** A validated terrain training config (defaults filled in). */
export type TerrainTrainConfig = z.infer<typeof terrainConfigSchema>;

/** Validates a config object; the error names the source, the key path and the problem. */
export function parseTerrainConfig(raw: unknown, source = '<config>'): TerrainTrainConfig {
  return parseConfigWith(terrainConfigSchema, raw, source);
}

/** Reads and validates a JSON terrain config file. */
export function readTerrainConfig(path: string): TerrainTrainConfig {
  return readConfigWith(terrainConfigSchema, path);
}
