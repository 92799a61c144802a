// Builds the app's renderer bundle: dist/renderer/{index.html,app.js,app.css} (`npm run build:renderer`).
// The web server and the e2e tests also build it on demand when it is missing or stale.
import { register } from 'tsx/esm/api';

register();
const { buildRenderer } = await import('../app/server/renderer-build.ts');
const r = await buildRenderer();
console.log(
  `renderer built in ${r.ms} ms: ${Object.entries(r.bytes)
    .map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} KiB`)
    .join(', ')} -> ${r.outDir}`,
);
