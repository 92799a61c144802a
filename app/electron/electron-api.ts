// Electron's main-process API for the shell (app/electron), loaded lazily with require: inside
// Electron, CommonJS `require('electron')` always returns the built-in module, whichever ESM
// loader hooks (tsx) are registered; in plain Node it returns the binary's path (or throws),
// which is refused with a clear message. The shell takes this API as a parameter, so tests pass
// a fake one.

import { createRequire } from 'node:module';

/** The parts of Electron's main-process API the shell uses. */
export type ElectronMain = Pick<typeof import('electron'), 'app' | 'BrowserWindow' | 'dialog' | 'ipcMain' | 'Menu' | 'protocol' | 'session' | 'shell'>;

/** Loads Electron's API; throws when not running inside Electron. */
export function loadElectron(): ElectronMain {
  let electron: unknown;
  try {
    electron = createRequire(import.meta.url)('electron');
  } catch (e) {
    throw new Error(`app/electron must run inside Electron (${(e as Error).message.split('\n')[0]}); start it with \`npm run app\``);
  }
  if (typeof electron !== 'object' || electron === null || !('app' in electron)) {
    throw new Error('app/electron must run inside Electron (require("electron") gave the binary path); start it with `npm run app`');
  }
  return electron as ElectronMain;
}
