// Public API of the app's backend (app/api): the request schemas, the backend both shells serve
// (Electron IPC and the web server), its errors, events and packed arrays.
export { createApiBackend, type ApiBackend, type ApiBackendOptions } from './backend.ts';
export { ApiError, toApiError, type ApiErrorCode } from './errors.ts';
export type { ApiEvent } from './events.ts';
export { pack, unpack, type Packed } from './packed.ts';
export {
  requestSchema,
  parseRequest,
  toRequest,
  parseRunArgs,
  describeIssue,
  trajectoryRefSchema,
  API_METHODS,
  ALIGN_MODES,
  RUN_KINDS,
  RUN_KIND_NAMES,
  type ApiRequest,
  type ApiMethod,
  type RunKind,
} from './schema.ts';
export { IMPULSE_BIN, type RunInfo } from './runs.ts';
