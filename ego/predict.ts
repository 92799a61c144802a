// Running a trained ego-motion predictor along a recorded trajectory or ROS 2 log (ego/): every
// window of the input (frames 5..n-16 after resampling to the run's rate) gets the predictions of
// the run's learned models and of the CV / CTRV baselines, written with their ground truth as an
// impulse.predictions JSON file or as impulse.PredictionSet messages in an MCAP file (Foxglove).
import { extname } from 'node:path';
import { McapLogWriter, formatPredictionsJson, secToNs, writeFileAtomicSync, type PredictionsJson } from '../data/index.ts';
import { resampleTrack } from './dataset.ts';
import { buildWindows } from './features.ts';
import { predictAll, predictionsFile } from './evaluate.ts';
import { RunFolder } from './run-folder.ts';
import { loadTrainedModels } from './train.ts';
import { EgoError, HISTORY, HORIZON, checkTimes, loadTrack, type Plane } from './windows.ts';

/** Options of {@link predictAlong}. */
export interface PredictOptions {
  /** Run folder of `impulse train`. */
  model: string;
  input: string;
  topic?: string;
  timesFile?: string;
  /** Ground plane (default: the run's). */
  plane?: Plane;
  /** Output: .json (impulse.predictions) or .mcap (impulse.PredictionSet on `/ego/prediction`). */
  out: string;
}

/** Summary of a prediction run. */
export interface PredictSummary {
  out: string;
  format: 'json' | 'mcap';
  windows: number;
  labels: string[];
  frames: number;
}

/** MCAP topic of the prediction sets. */
export const PREDICTION_TOPIC = '/ego/prediction';

/** Predicts along a trajectory with a trained run and writes the predictions with their ground truth. */
export async function predictAlong(o: PredictOptions): Promise<PredictSummary> {
  const ext = extname(o.out).toLowerCase();
  if (ext !== '.json' && ext !== '.mcap') throw new EgoError(`--out ${o.out}: the output must end in .json (impulse.predictions) or .mcap`);
  const run = new RunFolder(o.model);
  const rc = run.readConfig();
  const { models, state } = await loadTrainedModels(run, rc.config);
  const plane = o.plane ?? rc.input.plane;
  const raw = await loadTrack(o.input, { topic: o.topic, timesFile: o.timesFile, plane });
  const track = resampleTrack(raw, rc.config.rateHz);
  checkTimes(track);
  const frames = Array.from({ length: Math.max(0, track.t.length - HORIZON - HISTORY) }, (_, k) => HISTORY + k);
  if (frames.length === 0)
    throw new EgoError(`${o.input}: ${track.t.length} frames at ${rc.config.rateHz} Hz; a prediction window needs ${HISTORY + HORIZON + 1}`);
  const set = buildWindows(track, frames);
  const preds = await predictAll(track, set, models, state.meta.normaliser);
  const file: PredictionsJson = predictionsFile(`${o.input}${o.topic ? ` ${o.topic}` : ''} with ${o.model}`, track, set, preds, state.meta.period);
  if (ext === '.json') writeFileAtomicSync(o.out, formatPredictionsJson(file));
  else {
    const w = await McapLogWriter.create(o.out);
    try {
      const pose = (p: number[]) => ({ position: p, orientation: [0, 0, 0, 1] });
      for (const s of file.sets)
        await w.addPredictionSet(PREDICTION_TOPIC, {
          stampNs: secToNs(s.t0),
          frameId: file.frame_id ?? 'odom',
          groundTruth: { times: s.times, poses: s.gt.map(pose) },
          predictions: s.predictions.map((p) => ({ label: p.label, times: s.times, poses: p.positions.map(pose) })),
        });
      await w.close();
    } catch (e) {
      await w.abort();
      throw e;
    }
  }
  return { out: o.out, format: ext === '.json' ? 'json' : 'mcap', windows: set.frames.length, labels: [...preds.keys()], frames: track.t.length };
}
