// Public API of the desktop app's Electron shell (app/electron). The entry Electron runs is
// bootstrap.mjs -> main.ts; this index is for code that embeds or tests the shell. Nothing here
// loads Electron at import time (startShell loads it when called without a fake).

export { startShell, createMainWindow, SHELL_PATHS, type ShellOptions, type ShellHandle, type ShellPaths, type BackendContext } from './shell.ts';
export { registerIpc, handleCall, senderRefusal, forwardEvents, envelopeSchema, type CallReply, type ReplyError, type IpcOptions } from './ipc.ts';
export { CALL_CHANNEL, EVENT_CHANNEL, type ImpulseBridge, type BridgeError, type ShellEvent } from './bridge.ts';
export { buildWindowOptions, installContentsGuards, installSessionGuards, isSafeExternalUrl, isAllowedRequest } from './security.ts';
export { RENDERER_CSP, buildCsp } from './csp.ts';
export { createRendererHandler, resolveRendererPath, RENDERER_URL, RENDERER_SCHEME } from './protocol.ts';
export { RecentFiles } from './recent-files.ts';
export { buildMenuTemplate } from './menu.ts';
export { buildElectron, buildPreload, buildIcons } from './build.ts';
export type { ShellBackend, ShellLogger } from './types.ts';
