// Electron's main-process API for the shell (app/electron), loaded with require: inside
// Electron, CommonJS `require('electron')` always returns the built-in module, whichever ESM
// loader hooks (tsx) are registered. Only the main-process modules that need Electron at run
// time import this file; everything unit-tested uses type-only imports.

import { createRequire } from 'node:module';

const electron = createRequire(import.meta.url)('electron') as typeof import('electron');
if (typeof electron !== 'object' || !electron.app) {
  throw new Error('app/electron must run inside Electron (require("electron") returned the binary path: start it with `npm run app`)');
}

export const { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } = electron;
