#!/usr/bin/env node
// The `rampart` command. `npm ci` builds it (the root `prepare` script); the code is in src/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('rampart: not built yet; run `npx nx run cli:build` in the repository.\n');
  process.exit(70);
}
await import(main.href);
