// `npm run app [-- FILE...]`: starts the desktop app (Electron) on the given files and run
// folders and waits until it is closed; where Electron cannot run, says why and points to the
// web mode.
import { launchApp } from '../app/launch.ts';

try {
  const r = await launchApp({ files: process.argv.slice(2) });
  if (r.mode === 'web') {
    process.stderr.write(`impulse app: Electron cannot start: ${r.reason}.\nThe same app runs in the browser: npx impulse app --web\n`);
    process.exit(1);
  }
  process.exitCode = await r.exited;
} catch (e) {
  process.stderr.write(`impulse app: ${(e as Error).message}\n`);
  process.exit(1);
}
