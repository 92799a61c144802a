// `impulse app [--web] [--port N] [--no-open] [FILES...]`: starts the desktop app (Electron) where
// it is installed and there is a display; otherwise, or with --web, serves the app's renderer and API on
// 127.0.0.1 with a per-launch token (app/server), opens FILES (trajectories, prediction files,
// MCAP logs, run folders) so the app shows them at start, prints the URL, opens the default browser
// where there is a display, and runs until Ctrl-C (clean shutdown: runs cancelled, uploads removed).
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

interface AppOptions {
  web?: boolean;
  port?: string;
  open: boolean;
  json?: boolean;
}

/** Whether a browser window can be shown here (a display on Linux; always on macOS/Windows). */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return !!(env.DISPLAY || env.WAYLAND_DISPLAY);
}

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`impulse app: could not open a browser (${cmd}); open the URL above yourself\n`));
    child.unref();
  } catch {
    process.stderr.write('impulse app: could not open a browser; open the URL above yourself\n');
  }
}

export function register(program: Command): void {
  program
    .command('app')
    .description('the Impulse viewer: trajectories vs ground truth, log replay, plots, metrics, runs (--web: in the browser)')
    .argument('[files...]', 'files or run folders to open at start (TUM, KITTI, EuRoC, JSON, impulse.predictions, MCAP, run folders)')
    .option('--web', 'serve the app on 127.0.0.1 for a browser (the mode used where Electron is absent)')
    .option('--port <n>', 'port (default: a free one)')
    .option('--no-open', 'do not open the default browser')
    .option('--json', 'print {url, token, port} as JSON on stdout')
    .action(async (files: string[], opts: AppOptions) => {
      let port: number | undefined;
      if (opts.port !== undefined) {
        port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`app: --port must be an integer 0..65535, got '${opts.port}'`);
      }
      if (!opts.web) {
        const { ensureRendererBuilt } = await import('../server/index.ts');
        const { launchApp } = await import('../launch.ts');
        await ensureRendererBuilt();
        const r = await launchApp({ files });
        if (r.mode === 'electron') {
          process.stderr.write(`impulse app: started the desktop app (Electron ${r.version}); close it to return\n`);
          process.exitCode = await r.exited;
          return;
        }
        process.stderr.write(`impulse app: Electron cannot start (${r.reason}); starting the web mode\n`);
      }
      const { startWebServer } = await import('../server/index.ts');
      const server = await startWebServer({ port, backend: { recentFile: join(homedir(), '.impulse-app-recent.json') } });
      for (const f of files) {
        try {
          await server.api.call({ method: 'openFile', path: f });
        } catch (e) {
          process.stderr.write(`impulse app: ${(e as Error).message}\n`);
        }
      }
      if (opts.json) console.log(JSON.stringify({ url: server.urlWithToken, token: server.token, port: server.port }));
      else {
        console.log(`Impulse app at ${server.urlWithToken}`);
        console.log('(the token is required; press Ctrl-C to stop)');
      }
      if (opts.open && hasDisplay()) openBrowser(server.urlWithToken);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write('impulse app: shutting down\n');
          void server.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
