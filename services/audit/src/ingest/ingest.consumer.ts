import { AuditStreamTopic, EVENT_CATALOGUE, type CloudEventEnvelope } from '@rampart/contracts';
import { defineConsumer, on, RetryBatchLaterError } from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import type { AuditRecord } from '../chain/audit-record.js';
import { appendToChain } from '../chain/chain-appender.js';
import { personalDataOf } from '../personal-data/personal-data.service.js';
import { raiseDeadLetterAlerts } from './dead-letter-alert.js';
import { toAuditRecord } from './ocsf-mapping.js';

const INGEST_CONSUMER = 'audit.ingest';

/**
 * The events as records in their stored form: mapped, then their personal data protected. The
 * people of a batch are protected concurrently: a new person's data key is a KMS round trip.
 */
async function storedRecords(
  events: readonly CloudEventEnvelope[],
  transaction: EntityManager,
): Promise<AuditRecord[]> {
  const personalData = personalDataOf(transaction.connection);
  if (!personalData) {
    throw new RetryBatchLaterError('the audit service is still starting: events wait for it');
  }
  const loggedAt = new Date();
  return Promise.all(
    events.map((event) => personalData.protect(toAuditRecord(event, loggedAt), event)),
  );
}

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
 * record, for ever. A message the inbox dead-letters raises an alert event in the same
 * transaction (see `raiseDeadLetterAlerts`); the next messages are ingested as usual.
 *
 * Identifiers and personal details are protected before the append (`PersonalData`, ADR 0024).
 * Events that arrive before the service finished starting, or while key-management does not
 * answer, leave their batch unsettled: it is delivered again, never dead-lettered.
 */
export const ingestConsumer = defineConsumer({
  name: INGEST_CONSUMER,
  // A batch is appended with one lock, one insert per table and one outbox write: a round trip
  // per event would cap ingest at a few thousand events a second. The per-event handlers below
  // are the careful path when the batch fails.
  handleBatch: async (events, transaction) => {
    await appendToChain(transaction, await storedRecords(events, transaction));
  },
  handlers: EVENT_CATALOGUE.filter(
    (definition) => definition.topic.name !== AuditStreamTopic.name,
  ).map((definition) =>
    on(definition, async (event, transaction) => {
      await appendToChain(transaction, await storedRecords([event], transaction));
    }),
  ),
  onDeadLettered: (letters, transaction) =>
    raiseDeadLetterAlerts(INGEST_CONSUMER, letters, transaction),
});
