// The desktop app's menu (app/electron): File (Open File, Open Run Folder, Open Recent, Close,
// Quit), Edit, View (reload and DevTools in development builds only, zoom, full screen), Window
// (macOS) and Help (About), with the usual accelerators. Built as a plain template from the
// current recent-files list so it is tested without Electron; the shell rebuilds it when the list
// changes.

import { basename, dirname } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';

/** What the menu items do (wired by the shell). */
export interface MenuActions {
  openFiles(): void;
  openFolder(): void;
  openRecent(path: string): void;
  clearRecent(): void;
  about(): void;
}

/** Inputs of the menu template. */
export interface MenuInput {
  platform: NodeJS.Platform;
  /** Development build: Reload, Force Reload and Toggle DevTools are present. */
  dev: boolean;
  /** Recent paths, newest first. */
  recent: readonly string[];
  actions: MenuActions;
  appName?: string;
}

/** How many recent entries the submenu shows. */
export const MENU_RECENT_LIMIT = 10;

/** The label of a recent entry: `name — folder` (the full path is in the tooltip). */
export function recentLabel(path: string): string {
  return `${basename(path)} — ${dirname(path)}`;
}

/** Builds the application menu template. */
export function buildMenuTemplate(input: MenuInput): MenuItemConstructorOptions[] {
  const mac = input.platform === 'darwin';
  const name = input.appName ?? 'Impulse';
  const recent = input.recent.slice(0, MENU_RECENT_LIMIT);
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((p, i): MenuItemConstructorOptions => ({
          label: recentLabel(p),
          toolTip: p,
          accelerator: i < 9 ? `CmdOrCtrl+Alt+${i + 1}` : undefined,
          click: () => input.actions.openRecent(p),
        })),
        { type: 'separator' },
        { label: 'Clear Recent', click: () => input.actions.clearRecent() },
      ]
    : [{ label: 'No Recent Files', enabled: false }];

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open File…', accelerator: 'CmdOrCtrl+O', click: () => input.actions.openFiles() },
      { label: 'Open Run Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => input.actions.openFolder() },
      { label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      { label: 'Close Window', role: 'close', accelerator: 'CmdOrCtrl+W' },
      ...(mac ? [] : ([{ type: 'separator' }, { label: 'Quit', role: 'quit', accelerator: 'Ctrl+Q' }] as MenuItemConstructorOptions[])),
    ],
  };
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { role: 'undo', accelerator: 'CmdOrCtrl+Z' },
      { role: 'redo', accelerator: mac ? 'Shift+Cmd+Z' : 'Ctrl+Y' },
      { type: 'separator' },
      { role: 'cut', accelerator: 'CmdOrCtrl+X' },
      { role: 'copy', accelerator: 'CmdOrCtrl+C' },
      { role: 'paste', accelerator: 'CmdOrCtrl+V' },
      { role: 'selectAll', accelerator: 'CmdOrCtrl+A' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      ...(input.dev
        ? ([
            { role: 'reload', accelerator: 'CmdOrCtrl+R' },
            { role: 'forceReload', accelerator: 'CmdOrCtrl+Shift+R' },
            { role: 'toggleDevTools', accelerator: mac ? 'Alt+Cmd+I' : 'Ctrl+Shift+I' },
            { type: 'separator' },
          ] as MenuItemConstructorOptions[])
        : []),
      { role: 'resetZoom', accelerator: 'CmdOrCtrl+0' },
      { role: 'zoomIn', accelerator: 'CmdOrCtrl+Plus' },
      { role: 'zoomOut', accelerator: 'CmdOrCtrl+-' },
      { type: 'separator' },
      { role: 'togglefullscreen', accelerator: mac ? 'Ctrl+Cmd+F' : 'F11' },
    ],
  };
  const help: MenuItemConstructorOptions = {
    label: '&Help',
    role: 'help',
    submenu: [{ label: `About ${name}`, click: () => input.actions.about() }],
  };
  const template: MenuItemConstructorOptions[] = [file, edit, view];
  if (mac) {
    template.unshift({ label: name, role: 'appMenu' });
    template.push({ role: 'windowMenu' });
  }
  template.push(help);
  return template;
}
