// Training configuration of the ego-motion predictor (ego/), validated with zod (strict: an unknown
// key is an error naming it). Every field has a default that works out of the box on KITTI 00 and
// on a ROS 2 odometry log; `impulse train --config FILE.json` overrides any subset.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MODEL_KINDS } from './predictors.ts';
import { EgoError } from './windows.ts';

const limitsSchema = z
  .object({
    accel: z.number().positive(),
    yawRate: z.number().positive(),
    steer: z.number().positive().max(1.5),
    wheelbase: z.number().positive(),
  })
  .strict();

/** The zod schema of a training config. */
export const egoConfigSchema = z
  .object({
    /** Learned models to train: 'nn' (pure neural), 'physics' (model A), 'mpc' (model B). */
    models: z.array(z.enum(MODEL_KINDS)).min(1).default(['nn', 'physics', 'mpc']),
    /** Kinematic model of the physics-informed predictors. */
    vehicle: z.enum(['unicycle', 'bicycle']).default('unicycle'),
    /** Hidden layer widths of the MLP. */
    hidden: z.array(z.number().int().positive()).default([64, 64]),
    epochs: z.number().int().positive().default(20),
    batchSize: z.number().int().positive().default(64),
    learningRate: z.number().positive().default(3e-3),
    /** Learning-rate schedule over the epochs: cosine decay to 5% or constant. */
    schedule: z.enum(['cosine', 'constant']).default('cosine'),
    /** Fraction of the training windows used (a seeded random subset; data-efficiency runs). */
    trainFraction: z.number().gt(0).max(1).default(1),
    /** Vehicle limits, or 'auto': 1.2 x the largest acceleration / yaw rate / steering seen in the training part. */
    limits: z.union([z.literal('auto'), limitsSchema]).default('auto'),
    /** Wheelbase of the bicycle when limits are 'auto' (m; KITTI's VW Passat: 2.71). */
    wheelbase: z.number().positive().default(2.71),
    /** MPC solver of model B. */
    mpc: z
      .object({ maxIter: z.number().int().positive().default(30), tol: z.number().positive().default(1e-6) })
      .strict()
      .default({ maxIter: 30, tol: 1e-6 }),
    /** Sampling rate of the windows (Hz): inputs whose rate differs by more than 10% are resampled. */
    rateHz: z.number().positive().default(10),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();

/** A validated config (defaults filled in). */
export type EgoConfig = z.infer<typeof egoConfigSchema>;

/**
 * Validates a config object against a zod schema; the error names the source, the key path and
 * the problem (shared by every training config).
 */
export function parseConfigWith<S extends z.ZodTypeAny>(schema: S, raw: unknown, source = '<config>'): z.infer<S> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    const keys = 'keys' in issue ? ` (${(issue.keys as string[]).join(', ')})` : '';
    throw new ConfigError(`${source}: ${path}: ${issue.message}${keys}`);
  }
  return r.data as z.infer<S>;
}

/** Reads a JSON config file and validates it against a zod schema (errors name the file). */
export function readConfigWith<S extends z.ZodTypeAny>(schema: S, path: string): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the config (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  return parseConfigWith(schema, raw, path);
}

/** Validates an ego-motion config object; the error names the source, the key path and the problem. */
export function parseEgoConfig(raw: unknown, source = '<config>'): EgoConfig {
  return parseConfigWith(egoConfigSchema, raw, source);
}

/** Reads and validates a JSON ego-motion config file. */
export function readEgoConfig(path: string): EgoConfig {
  return readConfigWith(egoConfigSchema, path);
}

/** A config that does not validate. */
export class ConfigError extends EgoError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
