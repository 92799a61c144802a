// The desktop app's main-process entry (package.json "main" when packaged; `npm run app`):
// registers tsx's loader, then loads the TypeScript shell. The shell runs from its sources, as
// the `impulse` command does, so every module keeps its own import.meta.url (data paths, the
// CLI the app spawns for runs). The top-level await makes Electron wait for main.ts before
// emitting `ready` (main.ts registers the app:// scheme, which must happen before it).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
