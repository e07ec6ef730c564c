import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEventDocs } from './event-docs.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/events/README.md');
writeFileSync(target, renderEventDocs());
process.stdout.write(`wrote ${target}\n`);
