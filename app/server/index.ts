// Public API of the app's web mode (app/server): the token-guarded HTTP + WebSocket server and the
// renderer bundle it serves.
export { startWebServer, contentSecurityPolicy, type WebServer, type WebServerOptions } from './server.ts';
export { buildRenderer, ensureRendererBuilt, rendererIsStale, RENDERER_OUT, RENDERER_SRC } from './renderer-build.ts';
