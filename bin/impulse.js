#!/usr/bin/env node
// The `impulse` command: loads the TypeScript CLI (app/cli.ts) through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli.ts');
await main(process.argv);
