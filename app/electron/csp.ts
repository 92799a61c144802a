// The Content-Security-Policy of the desktop app's renderer (app/electron): everything from the
// app's own origin (app://impulse), nothing remote, no eval or WebAssembly compilation, no
// inline scripts or style elements (images and workers may also be data:/blob: URLs), no
// plugins, frames, forms or base-URL changes. Sent as a response header by the app://
// protocol handler on every renderer file.

/** The policy's directives, in order. */
export const CSP_DIRECTIVES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['default-src', ["'none'"]],
  ['script-src', ["'self'"]],
  ['style-src', ["'self'"]],
  ['img-src', ["'self'", 'data:', 'blob:']],
  ['font-src', ["'self'"]],
  ['connect-src', ["'self'"]],
  ['worker-src', ["'self'", 'blob:']],
  ['media-src', ["'none'"]],
  ['object-src', ["'none'"]],
  ['frame-src', ["'none'"]],
  ['child-src', ["'none'"]],
  ['frame-ancestors', ["'none'"]],
  ['form-action', ["'none'"]],
  ['base-uri', ["'none'"]],
];

/** Builds the header value from directives. */
export function buildCsp(directives: ReadonlyArray<readonly [string, readonly string[]]> = CSP_DIRECTIVES): string {
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}

/** The renderer's Content-Security-Policy header value. */
export const RENDERER_CSP = buildCsp();
