import { AuditIngestEvents, deadLetterTopic } from '@rampart/contracts';
import type { DeadLetteredMessage } from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import { auditOutbox } from '../messaging/audit-outbox.js';

const MAX_TEXT = 256;
const MAX_REASON = 1_000;

/** Within the contract's bounds whatever came in: an alert that failed its own schema would fail
 * the batch that dead-lettered the message, and with it ingestion, for ever. */
function bounded(text: string, max: number): string {
  const clean = text.toWellFormed().replaceAll('\u0000', '\ufffd');
  return clean.length === 0 ? 'unknown' : clean.slice(0, max);
}

/**
 * Raises `rampart.audit.ingest.event-dead-lettered` for each message the ingest consumer
 * dead-lettered, in the same transaction: the dead letter and its alert commit together or not at
 * all. The alert goes through the outbox and comes back through the ingest like any event, so it
 * is appended to the chain (severity High) and reaches the security teams' stream.
 */
export async function raiseDeadLetterAlerts(
  consumer: string,
  letters: readonly DeadLetteredMessage[],
  transaction: EntityManager,
): Promise<void> {
  await auditOutbox(transaction).writeMany(
    transaction,
    letters.map((letter) => ({
      definition: AuditIngestEvents.eventDeadLettered,
      subject: bounded(letter.topic, MAX_TEXT),
      data: {
        consumer: bounded(consumer, MAX_TEXT),
        topic: bounded(letter.topic, MAX_TEXT),
        deadLetterTopic: bounded(deadLetterTopic(letter.topic), MAX_TEXT + 4),
        position: bounded(letter.position, MAX_TEXT),
        messageId: bounded(letter.messageId, MAX_TEXT),
        reason: bounded(letter.reason, MAX_REASON),
        attempts: Math.max(0, Math.trunc(letter.attempts)),
      },
    })),
  );
}
