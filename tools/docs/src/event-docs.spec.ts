import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_CATALOGUE } from '@rampart/contracts';
import { renderEventDocs } from './event-docs.js';

describe('docs/events', () => {
  it('matches the event catalogue (run `npx nx run docs-tools:events` after changing contracts)', () => {
    const committed = readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), '../../../docs/events/README.md'),
      'utf8',
    );
    expect(committed).toBe(renderEventDocs());
  });

  it('documents every event type of the catalogue', () => {
    const docs = renderEventDocs();
    for (const event of EVENT_CATALOGUE) expect(docs).toContain(`### \`${event.type}\``);
  });
});
