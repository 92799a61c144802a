// Entry of the desktop app's main process (app/electron), loaded by bootstrap.mjs: starts the
// shell with the real app API backend (app/api). Everything else lives in shell.ts, which takes
// the backend factory as a parameter. The backend keeps its own recent list (listRecent) in the
// user-data folder; the packaged app writes the runs it starts there too (its working folder is
// not the repository).

import { join } from 'node:path';
import { createApiBackend } from '../api/backend.ts';
import { startShell } from './shell.ts';

startShell({
  createBackend: ({ userData, packaged }) =>
    createApiBackend({ recentFile: join(userData, 'api-recent.json'), ...(packaged ? { runsDir: join(userData, 'runs') } : {}) }),
});
