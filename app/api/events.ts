// Events the app API pushes to the renderer (app/api): run lifecycle, progress, live loss and log
// lines. The web server sends them over its WebSocket, the Electron main process over IPC.

/** One event. */
export type ApiEvent =
  | { type: 'run-started'; runId: string; kind: string; title: string; dir: string; argv: string[] }
  | { type: 'run-progress'; runId: string; value: number; total: number; label: string }
  | { type: 'run-loss'; runId: string; series: string; epoch: number; loss: number }
  | { type: 'run-log'; runId: string; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'run-done'; runId: string; exitCode: number; dir: string; opened: unknown }
  | { type: 'run-error'; runId: string; message: string; cancelled?: boolean };
