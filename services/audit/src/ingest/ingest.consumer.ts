import { AuditStreamTopic, EVENT_CATALOGUE } from '@rampart/contracts';
import { defineConsumer, on } from '@rampart/platform';
import { appendToChain } from '../chain/chain-appender.js';
import { toAuditRecord } from './ocsf-mapping.js';

/**
 * Every event Rampart produces, appended to the audit chain. The transports subscribe to named
 * topics only (no pattern subscription, on Kafka or in-process), so the consumer declares each
 * event of the contracts catalogue, and with it every `rampart.*` topic; an event added to the
 * catalogue is audited from the next build on. The inbox settles a batch in one transaction and
 * hands it to `handleBatch` whole; when that fails it falls back to the handlers, one event at a
 * time: the first append of the batch takes the chain lock, the rest follow on the same head (see
 * `appendToChain`). The inbox's own dedup plus the log's unique event id keep a redelivered event
 * from being recorded twice. The one exception is the security teams' stream,
 * `rampart.audit.v1`: it is the log itself, and ingesting it would append a record for every
 * record, for ever.
 */
export const ingestConsumer = defineConsumer({
  name: 'audit.ingest',
  // A batch is appended with one lock, one insert per table and one outbox write: a round trip
  // per event would cap ingest at a few thousand events a second. The per-event handlers below
  // are the careful path when the batch fails.
  handleBatch: async (events, transaction) => {
    const loggedAt = new Date();
    await appendToChain(
      transaction,
      events.map((event) => toAuditRecord(event, loggedAt)),
    );
  },
  handlers: EVENT_CATALOGUE.filter(
    (definition) => definition.topic.name !== AuditStreamTopic.name,
  ).map((definition) =>
    on(definition, async (event, transaction) => {
      await appendToChain(transaction, [toAuditRecord(event, new Date())]);
    }),
  ),
});
