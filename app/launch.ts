// Starts the desktop app (app layer): Electron when the optional `electron` package and its
// binary are installed and there is a display, otherwise tells the caller why, so it can fall
// back to the web mode (`impulse app --web`). Detection is cheap: resolve the package, ask it for
// its binary path (plain Node gets a path from require('electron')), check the file exists.
// Electron itself is never imported here.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { packageRoot } from '../data/package-root.ts';

const ROOT = packageRoot();
/** The main-process entry Electron is started on. */
export const ELECTRON_ENTRY = join(ROOT, 'app', 'electron', 'bootstrap.mjs');
/** The built renderer's page (npm run build:renderer). */
export const RENDERER_INDEX = join(ROOT, 'dist', 'renderer', 'index.html');

/** Whether Electron can be started, and if not why. */
export type ElectronProbe = { available: true; binary: string; version: string } | { available: false; reason: string };

/** Options of probeElectron. */
export interface ProbeOptions {
  /** Environment (default process.env): DISPLAY / WAYLAND_DISPLAY on Linux. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Resolves and loads a package (default: require relative to this file; tests inject one). */
  require?: NodeJS.Require;
}

/**
 * Checks that the optional `electron` package is installed, that its binary exists (its
 * download is a separate step, skipped with ELECTRON_SKIP_BINARY_DOWNLOAD) and that there is a
 * display to open a window on (Linux: DISPLAY or WAYLAND_DISPLAY).
 */
export function probeElectron(opts: ProbeOptions = {}): ElectronProbe {
  const req = opts.require ?? createRequire(import.meta.url);
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  let pkgJson: string;
  try {
    pkgJson = req.resolve('electron/package.json');
  } catch {
    return { available: false, reason: "the optional dependency 'electron' is not installed (npm install electron)" };
  }
  let binary: unknown;
  try {
    binary = req('electron');
  } catch {
    // node_modules/electron/index.js throws when its download step left no path.txt
    return {
      available: false,
      reason:
        "the Electron binary is not installed (the 'electron' package is there but its binary download was skipped or failed); install it with `npm install electron` where the download is allowed",
    };
  }
  if (typeof binary !== 'string') return { available: false, reason: "the 'electron' package did not give its binary's path" };
  if (!existsSync(binary) || !statSync(binary).isFile()) return { available: false, reason: `the Electron binary is not installed (${binary} is missing)` };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return { available: false, reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  let version = 'unknown';
  try {
    version = (req(pkgJson) as { version?: string }).version ?? version;
  } catch {
    // the version is informative only
  }
  return { available: true, binary, version };
}

/** Options of launchApp. */
export interface LaunchOptions {
  /** Files and run folders to open. */
  files?: string[];
  /** Skip Electron (the caller wants the web mode). */
  preferWeb?: boolean;
  /** Extra arguments for the main process (e.g. the self-test flag). */
  extraArgs?: string[];
  /** Environment of the Electron process (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** stdio of the Electron process (default inherit). */
  stdio?: 'inherit' | 'pipe';
  /** Probe override (tests). */
  probe?: ElectronProbe;
}

/** What launchApp did: started Electron, or the reason the caller should serve the web mode. */
export type LaunchResult = { mode: 'electron'; child: ChildProcess; version: string; exited: Promise<number> } | { mode: 'web'; reason: string };

/**
 * Starts the desktop app on `files`, or returns `{ mode: 'web', reason }` when Electron cannot
 * run here. Throws (naming the file) when a file to open does not exist or the renderer is not
 * built; builds the preload and icons (dist/electron) before starting. `exited` resolves with
 * the app's exit code when it is closed.
 */
export async function launchApp(opts: LaunchOptions = {}): Promise<LaunchResult> {
  if (opts.preferWeb) return { mode: 'web', reason: 'web mode requested' };
  const probe = opts.probe ?? probeElectron({ env: opts.env });
  if (!probe.available) return { mode: 'web', reason: probe.reason };
  const files = (opts.files ?? []).map((f) => resolve(f));
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: no such file or folder`);
  if (!existsSync(RENDERER_INDEX)) throw new Error(`the renderer is not built: ${RENDERER_INDEX} is missing (run \`npm run build:renderer\`)`);
  const { buildElectron } = await import('./electron/build.ts');
  await buildElectron();
  const env = { ...(opts.env ?? process.env) };
  delete env.ELECTRON_RUN_AS_NODE; // would make the binary a plain Node
  const child = spawn(probe.binary, [ELECTRON_ENTRY, ...(opts.extraArgs ?? []), '--', ...files], { stdio: opts.stdio ?? 'inherit', env });
  await new Promise<void>((ok, fail) => {
    child.once('spawn', ok);
    child.once('error', (e) => fail(new Error(`could not start Electron (${probe.binary}): ${e.message}`)));
  });
  const exited = new Promise<number>((ok) => child.once('exit', (code, signal) => ok(code ?? (signal ? 128 : 1))));
  return { mode: 'electron', child, version: probe.version, exited };
}
