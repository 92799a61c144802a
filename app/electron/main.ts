// Entry of the desktop app's main process (app/electron), loaded by bootstrap.mjs: starts the
// shell with the real app API backend (app/api). Everything else lives in shell.ts, which takes
// the backend as a parameter.

import { createApiBackend } from '../api/backend.ts';
import { startShell } from './shell.ts';

startShell({ createBackend: () => createApiBackend({}) });
