// The evo_ape / evo_rpe pipeline (data/, bottom layer): associate by time (when both trajectories
// have timestamps; else equal lengths are required, as evo's kitti mode), align (Umeyama SE(3),
// Sim(3), scale, origin), compute the per-pair errors and evo's statistics.

import { AssociationError } from '../errors.ts';
import type { Trajectory } from '../trajectory.ts';
import { alignTrajectory, type AlignOptions, type AlignMode } from './align.ts';
import { associateTrajectories, type AssociationOptions } from './associate.ts';
import { apeErrors, relationTitle, relationUnit, rpeErrors, type PoseRelation, type RpeOptions, type DeltaUnit } from './pose-error.ts';
import { errorStatistics, type ErrorStatistics } from './stats.ts';

/** Options of {@link evaluateApe} and {@link evaluateRpe}. */
export interface EvaluateOptions extends AssociationOptions, AlignOptions {
  relation?: PoseRelation;
}

/** What was compared and how it was aligned. */
export interface EvaluationSetup {
  refPoses: number;
  estPoses: number;
  /** True when the pairs come from time association (false: pose i with pose i). */
  associated: boolean;
  matches: number;
  maxPairs: number;
  maxDiff: number | null;
  offset: number | null;
  align: AlignMode;
  nAlign: number;
  alignOrigin: boolean;
  /** Umeyama result (null for none/scale-free parts). */
  rotation: number[] | null;
  translation: number[] | null;
  scale: number;
}

/** Result of {@link evaluateApe}. */
export interface ApeResult {
  metric: 'ape';
  title: string;
  relation: PoseRelation;
  unit: string;
  setup: EvaluationSetup;
  stats: ErrorStatistics;
  errors: Float64Array;
  /** Timestamps of the associated reference poses (null without timestamps). */
  timestamps: Float64Array | null;
}

/** Result of {@link evaluateRpe}. */
export interface RpeResult extends Omit<ApeResult, 'metric'> {
  metric: 'rpe';
  delta: number;
  deltaUnit: DeltaUnit;
  allPairs: boolean;
  pairs: [number, number][];
}

function prepare(ref: Trajectory, est: Trajectory, opts: EvaluateOptions): { ref: Trajectory; est: Trajectory; setup: EvaluationSetup } {
  let r = ref,
    e = est;
  let associated = false,
    matches = Math.min(ref.length, est.length),
    maxPairs = matches;
  if (ref.timestamps && est.timestamps) {
    const a = associateTrajectories(ref, est, opts);
    r = a.ref;
    e = a.est;
    associated = true;
    matches = a.matches;
    maxPairs = a.maxPairs;
  } else if (ref.length !== est.length) {
    throw new AssociationError(
      `without timestamps on both trajectories the poses are paired by index, but the reference has ${ref.length} poses and the estimate ${est.length}`,
      { file: est.source || undefined },
    );
  }
  const al = alignTrajectory(e, r, opts);
  const setup: EvaluationSetup = {
    refPoses: ref.length,
    estPoses: est.length,
    associated,
    matches,
    maxPairs,
    maxDiff: associated ? (opts.maxDiff ?? 0.01) : null,
    offset: associated ? (opts.offset ?? 0) : null,
    align: al.mode,
    nAlign: opts.nAlign ?? -1,
    alignOrigin: !!opts.alignOrigin,
    rotation: al.R ? Array.from(al.R) : null,
    translation: al.t ? Array.from(al.t) : null,
    scale: al.s,
  };
  return { ref: r, est: al.est, setup };
}

/** evo_ape: absolute pose error of `est` against `ref`. */
export function evaluateApe(ref: Trajectory, est: Trajectory, opts: EvaluateOptions = {}): ApeResult {
  const rel = opts.relation ?? 'trans';
  const p = prepare(ref, est, opts);
  const errors = apeErrors(p.ref, p.est, rel);
  return {
    metric: 'ape',
    title: `APE w.r.t. ${relationTitle(rel)} (${relationUnit(rel)})`,
    relation: rel,
    unit: relationUnit(rel),
    setup: p.setup,
    stats: errorStatistics(errors),
    errors,
    timestamps: p.ref.timestamps,
  };
}

/** evo_rpe: relative pose error of `est` against `ref`. */
export function evaluateRpe(ref: Trajectory, est: Trajectory, opts: EvaluateOptions & RpeOptions = {}): RpeResult {
  const rel = opts.relation ?? 'trans';
  const p = prepare(ref, est, opts);
  const { errors, pairs } = rpeErrors(p.ref, p.est, rel, opts);
  const delta = opts.delta ?? 1;
  const deltaUnit = opts.deltaUnit ?? 'f';
  const unitName = { f: 'frames', m: 'm', deg: 'deg', rad: 'rad' }[deltaUnit];
  return {
    metric: 'rpe',
    title: `RPE w.r.t. ${relationTitle(rel)} (${relationUnit(rel)}) for delta = ${delta} (${unitName}) using ${opts.allPairs ? 'all pairs' : 'consecutive pairs'}`,
    relation: rel,
    unit: relationUnit(rel),
    setup: p.setup,
    stats: errorStatistics(errors),
    errors,
    timestamps: p.ref.timestamps ? Float64Array.from(pairs, ([, j]) => p.ref.timestamps![j]!) : null,
    delta,
    deltaUnit,
    allPairs: !!opts.allPairs,
    pairs,
  };
}
