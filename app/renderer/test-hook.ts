// The renderer's test hook (app/renderer): `window.__impulseTest`, always present, so e2e tests,
// the bench and curious users (devtools console) can ask what the app shows without reading
// pixels. Read-only apart from `seek`, `play`, `pause` and `openPath`, which do what the UI does.
//
//   __impulseTest.facts()   -> { ready, pending, trajectoryCount, predictedTrajectoryCount,
//                                pointCount, bbox {min, max} (data frame, m), drawCalls, meshes,
//                                predictionVerticesDrawn, lodStep (level of detail), software,
//                                cursorTime, timeline {start, end, playing, speed, loop},
//                                marker [x, y, z] | null (data frame), camera, plotCount,
//                                plotsRendered [ids], errors [messages], files, trajectories,
//                                metrics (last APE/RPE), predictionMetrics, runs, terrain, fps }
//   __impulseTest.seek(t) / play() / pause() / setSpeed(x)
//   __impulseTest.plotArea(id) -> the plot's area in page pixels (to click it), or null
//   __impulseTest.frameTimeMs() -> mean frame time of the last second (Babylon instrumentation)
//   __impulseTest.openPath(path) -> Promise (as the Open button)

import type { Scene3D } from './scene3d.ts';
import type { Timeline } from './timeline.ts';
import type { Plot } from './plots.ts';
import type { ErrorPanel } from './ui.ts';

/** What the hook reads. */
export interface TestHookSources {
  scene: Scene3D;
  timeline: Timeline;
  plots: Plot[];
  errors: ErrorPanel;
  files(): unknown[];
  trajectories(): unknown[];
  metrics(): unknown;
  predMetrics(): unknown;
  runs(): unknown[];
  pending(): number;
  openPath(path: string): Promise<void>;
}

/** The hook's interface. */
export interface ImpulseTestHook {
  version: 1;
  facts(): Record<string, unknown>;
  seek(t: number): void;
  play(): void;
  pause(): void;
  setSpeed(x: number): void;
  plotArea(id: string): { left: number; top: number; width: number; height: number } | null;
  frameTimeMs(): number;
  openPath(path: string): Promise<void>;
}

declare global {
  interface Window {
    __impulseTest: ImpulseTestHook;
  }
}

/** Installs `window.__impulseTest`. */
export function installTestHook(s: TestHookSources): void {
  window.__impulseTest = {
    version: 1,
    facts() {
      const tl = s.timeline;
      return {
        ready: document.body.dataset.ready === 'true' && s.pending() === 0,
        pending: s.pending(),
        ...s.scene.facts(),
        cursorTime: tl.time,
        timeline: { start: tl.start, end: tl.end, playing: tl.playing, speed: tl.speed, loop: tl.loop },
        plotCount: s.plots.length,
        plotsRendered: s.plots.filter((p) => p.rendered).map((p) => p.id),
        errors: [...s.errors.messages],
        files: s.files(),
        trajectories: s.trajectories(),
        metrics: s.metrics(),
        predictionMetrics: s.predMetrics(),
        runs: s.runs(),
      };
    },
    seek: (t) => s.timeline.seek(t),
    play: () => s.timeline.setPlaying(true),
    pause: () => s.timeline.setPlaying(false),
    setSpeed: (x) => s.timeline.setSpeed(x),
    plotArea: (id) => s.plots.find((p) => p.id === id)?.area() ?? null,
    frameTimeMs: () => s.scene.frameTimeMs(),
    openPath: (p) => s.openPath(p),
  };
}
