import { AuditStreamTopic, EVENT_CATALOGUE } from '@rampart/contracts';
import { defineConsumer, on, RetryBatchLaterError } from '@rampart/platform';
import { appendToChain } from '../chain/chain-appender.js';
import { personalDataOf } from '../personal-data/personal-data.service.js';
import { toAuditRecord } from './ocsf-mapping.js';

/**
 * Every event Rampart produces, appended to the audit chain. The transports subscribe to named
 * topics only (no pattern subscription, on Kafka or in-process), so the consumer declares each
 * event of the contracts catalogue, and with it every `rampart.*` topic; an event added to the
 * catalogue is audited from the next build on. The inbox settles a batch in one transaction and
 * calls this handler per event in it: the first append of the batch takes the chain lock, the
 * rest follow on the same head (see `appendToChain`), and the inbox's own dedup plus the log's
 * unique event id keep a redelivered event from being recorded twice. The one exception is the
 * security teams' stream, `rampart.audit.v1`: it is the log itself, and ingesting it would append
 * a record for every record, for ever.
 *
 * Identifiers and personal details are protected before the append (`PersonalData`, ADR 0024).
 * Events that arrive before the service finished starting, or while key-management does not
 * answer, leave their batch unsettled: it is delivered again, never dead-lettered.
 */
export const ingestConsumer = defineConsumer({
  name: 'audit.ingest',
  handlers: EVENT_CATALOGUE.filter(
    (definition) => definition.topic.name !== AuditStreamTopic.name,
  ).map((definition) =>
    on(definition, async (event, transaction) => {
      const personalData = personalDataOf(transaction.connection);
      if (!personalData) {
        throw new RetryBatchLaterError('the audit service is still starting: events wait for it');
      }
      const record = await personalData.protect(toAuditRecord(event, new Date()), event);
      await appendToChain(transaction, [record]);
    }),
  ),
});
