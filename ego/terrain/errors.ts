// Named errors of the terrain dataset (ego/terrain): every message names the file, the
// sample record or the terrain / robot / step where the problem was found.

/** A dataset folder, manifest or sample file that is missing, corrupt, partial or inconsistent. */
export class TerrainDataError extends Error {
  /** The file at fault, when known. */
  readonly file?: string;
  /** The sample record (index in the manifest) at fault, when known. */
  readonly record?: number;
  constructor(message: string, where: { file?: string; record?: number } = {}) {
    const prefix = [where.file, where.record !== undefined ? `record ${where.record}` : undefined].filter((s) => s !== undefined).join(', ');
    super(prefix ? `${prefix}: ${message}` : message);
    this.name = 'TerrainDataError';
    this.file = where.file;
    this.record = where.record;
  }
}

/** A terrain whose grid does not match the one a model or rollout expects. */
export class TerrainShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerrainShapeError';
  }
}

/** A rollout (Rapier or engine) that produced NaN or Inf: names the terrain (sample), robot (world) and step. */
export class RolloutNonFiniteError extends Error {
  readonly terrain: string;
  readonly robot: number;
  readonly step: number;
  constructor(engine: string, terrain: string, robot: number, step: number, what: string) {
    super(`${engine} rollout: non-finite ${what} on terrain ${terrain}, robot ${robot}, step ${step}`);
    this.name = 'RolloutNonFiniteError';
    this.terrain = terrain;
    this.robot = robot;
    this.step = step;
  }
}

/** The job queue (Redis) is unreachable or went away for longer than allowed. */
export class QueueUnavailableError extends Error {
  readonly url: string;
  constructor(url: string, detail: string) {
    super(`job queue ${url}: ${detail}`);
    this.name = 'QueueUnavailableError';
    this.url = url;
  }
}
