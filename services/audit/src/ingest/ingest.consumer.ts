import { AuditStreamTopic, EVENT_CATALOGUE } from '@rampart/contracts';
import { defineConsumer, on } from '@rampart/platform';
import { appendToChain } from '../chain/chain-appender.js';
import { raiseDeadLetterAlerts } from './dead-letter-alert.js';
import { toAuditRecord } from './ocsf-mapping.js';

const INGEST_CONSUMER = 'audit.ingest';

/**
 * Every event Rampart produces, appended to the audit chain. The transports subscribe to named
 * topics only (no pattern subscription, on Kafka or in-process), so the consumer declares each
 * event of the contracts catalogue, and with it every `rampart.*` topic; an event added to the
 * catalogue is audited from the next build on. The inbox settles a batch in one transaction and
 * calls this handler per event in it: the first append of the batch takes the chain lock, the
 * rest follow on the same head (see `appendToChain`), and the inbox's own dedup plus the log's
 * unique event id keep a redelivered event from being recorded twice. The one exception is the
 * security teams' stream, `rampart.audit.v1`: it is the log itself, and ingesting it would append
 * a record for every record, for ever. A message the inbox dead-letters raises an alert event
 * in the same transaction (see `raiseDeadLetterAlerts`); the next messages are ingested as usual.
 */
export const ingestConsumer = defineConsumer({
  name: INGEST_CONSUMER,
  handlers: EVENT_CATALOGUE.filter(
    (definition) => definition.topic.name !== AuditStreamTopic.name,
  ).map((definition) =>
    on(definition, async (event, transaction) => {
      await appendToChain(transaction, [toAuditRecord(event, new Date())]);
    }),
  ),
  onDeadLettered: (letters, transaction) =>
    raiseDeadLetterAlerts(INGEST_CONSUMER, letters, transaction),
});
