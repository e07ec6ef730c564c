import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/**
 * The audit service's own ingest: what it could not record. An event that fails its schema (or
 * whose handler keeps failing) is dead-lettered so ingestion goes on; this alert is how the
 * security team learns of it, through the chain and the stream like any other record.
 */
export const AuditIngestTopic = defineTopic({
  service: 'audit',
  aggregate: 'ingest',
  version: 1,
  description:
    'Alerts from the audit ingest: messages it dead-lettered instead of appending to the chain, with the reason, keyed by the source topic.',
});

export const AuditIngestEvents = {
  eventDeadLettered: defineEvent({
    type: 'rampart.audit.ingest.event-dead-lettered',
    topic: AuditIngestTopic,
    data: z.strictObject({
      /** The consumer group that gave up on the message (`audit.ingest`). */
      consumer: z.string().min(1).max(256),
      /** The topic the message came from, and the dead-letter topic it went to. */
      topic: z.string().min(1).max(256),
      deadLetterTopic: z.string().min(1).max(260),
      /** Where the message was on the source topic ("partition/offset" on Kafka). */
      position: z.string().min(1).max(256),
      /**
       * The event's id, or `raw:<sha-256 of topic and value>` for a message that is not a valid
       * event: it names the message in the dead-letter topic without repeating its content.
       */
      messageId: z.string().min(1).max(256),
      /** Why: the schema violation or the handler's last error, cut to 1,000 characters. */
      reason: z.string().min(1).max(1_000),
      /** Handler attempts made; 0 when the message was refused before any handler ran. */
      attempts: z.number().int().min(0),
    }),
    description:
      'The audit ingest dead-lettered a message instead of recording it (it failed its schema, or its handler kept failing): where it was, where it went and why, never its content. Severity High.',
  }),
};
