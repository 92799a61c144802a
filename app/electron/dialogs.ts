// Native dialogs of the desktop app (app/electron): the options of the Open File and Open Run
// Folder dialogs (filters over the formats the app reads) and the About box's text. Plain data,
// tested without Electron.

import type { MessageBoxOptions, OpenDialogOptions } from 'electron';

/** Extensions of the files the app opens: TUM / KITTI / EuRoC / MonoForce text, JSON, MCAP. */
export const SUPPORTED_EXTENSIONS = ['tum', 'txt', 'csv', 'json', 'mcap'] as const;

/** File > Open File…: one or more files, filtered to the supported formats (all files as an escape hatch). */
export function openFilesDialogOptions(defaultPath?: string): OpenDialogOptions {
  const options: OpenDialogOptions = {
    title: 'Open trajectories, predictions or logs',
    buttonLabel: 'Open',
    properties: ['openFile', 'multiSelections'],
    filters: [
      { name: 'Trajectories, predictions and logs', extensions: [...SUPPORTED_EXTENSIONS] },
      { name: 'MCAP logs', extensions: ['mcap'] },
      { name: 'Trajectories (TUM, KITTI, EuRoC, CSV)', extensions: ['tum', 'txt', 'csv'] },
      { name: 'JSON (trajectories, predictions)', extensions: ['json'] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
  if (defaultPath) options.defaultPath = defaultPath;
  return options;
}

/** File > Open Run Folder…: one folder written by `impulse train` or `impulse sim run`. */
export function openFolderDialogOptions(defaultPath?: string): OpenDialogOptions {
  const options: OpenDialogOptions = { title: 'Open a run folder', buttonLabel: 'Open', properties: ['openDirectory'] };
  if (defaultPath) options.defaultPath = defaultPath;
  return options;
}

/** Versions shown in the About box. */
export interface AboutInfo {
  appVersion: string;
  electron?: string;
  chrome?: string;
  node?: string;
  platform: string;
}

/** Help > About: name, version, description and the runtime versions. */
export function aboutBoxOptions(info: AboutInfo): MessageBoxOptions {
  const runtime = [
    info.electron && `Electron ${info.electron}`,
    info.chrome && `Chromium ${info.chrome}`,
    info.node && `Node ${info.node}`,
    info.platform,
  ].filter(Boolean);
  return {
    type: 'info',
    title: 'About Impulse',
    message: `Impulse ${info.appVersion}`,
    detail: `Differentiable robotics simulation and trajectory viewer.\n\n${runtime.join(' · ')}\nLicense: MIT`,
    buttons: ['OK'],
    noLink: true,
  };
}
