// Command-line arguments of the desktop app's main process (app/electron): files and run folders
// to open, and the shell's own flags. Electron's argv holds the binary and, unpackaged, the entry
// script first; Chromium switches may be mixed in and are ignored.

import { resolve } from 'node:path';

/** The flag that runs the launch self-test (load, check the bridge and security, print, quit). */
export const SMOKE_TEST_FLAG = '--impulse-smoke-test';

/** What the main process was asked to do. */
export interface ShellArgs {
  /** Absolute paths to open, in order. */
  files: string[];
  /** Launch self-test mode. */
  smokeTest: boolean;
}

/**
 * Parses the main process's argv. `packaged`: whether the binary is the packaged app (then argv
 * has no entry script). Arguments starting with `-` are switches (ignored unless ours); after a
 * bare `--` everything is a path. Paths are resolved against `cwd`.
 */
export function parseShellArgs(argv: readonly string[], packaged: boolean, cwd = process.cwd()): ShellArgs {
  const rest = argv.slice(packaged ? 1 : 2);
  const files: string[] = [];
  let smokeTest = false;
  let positional = false;
  for (const a of rest) {
    if (!positional && a === '--') positional = true;
    else if (!positional && a === SMOKE_TEST_FLAG) smokeTest = true;
    else if (!positional && a.startsWith('-')) continue;
    else if (a !== '') files.push(resolve(cwd, a));
  }
  return { files, smokeTest };
}
