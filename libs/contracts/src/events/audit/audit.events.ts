import { z } from 'zod';
import { defineEvent, defineTopic, type TopicDefinition, type TopicName } from '../envelope.js';

/**
 * Reads of the audit log: every `GET /audit/v1/events` is itself an event, appended to the chain
 * like any other. It names who asked, the filters and how many records came back, never the
 * records themselves.
 */
export const AuditQueryTopic = defineTopic({
  service: 'audit',
  aggregate: 'query',
  version: 1,
  description:
    'Queries of the audit log (who asked, the filters, how many records were returned; never the records), keyed by the caller.',
});

const filterText = z.string().min(1).max(256);

export const AuditQueryEvents = {
  performed: defineEvent({
    type: 'rampart.audit.query.performed',
    topic: AuditQueryTopic,
    data: z.strictObject({
      /** A filtered page (`GET /audit/v1/events`) or an NDJSON export (`GET /audit/v1/export`). */
      operation: z.enum(['query', 'export']).default('query'),
      /** The caller as `user:<sub>` (the access token's subject) or `workload:<service>`. */
      actor: z.string().min(1).max(1100),
      /** The OAuth client the token was issued to, when it names one. */
      clientId: z.string().min(1).max(256).optional(),
      /**
       * The filters as given (after validation), `actor` and `subject` as the pseudonyms the log
       * compared when it protects personal data (ADR 0024); absent ones are left out.
       */
      filters: z.strictObject({
        from: z.iso.datetime({ offset: true }).optional(),
        to: z.iso.datetime({ offset: true }).optional(),
        actor: filterText.optional(),
        subject: filterText.optional(),
        class: z.number().int().min(0).optional(),
        outcome: z.enum(['success', 'failure']).optional(),
        service: filterText.optional(),
      }),
      /** Whether the request continued a previous page or export (the cursor is not recorded). */
      continued: z.boolean(),
      limit: z.number().int().min(1).max(10_000),
      /** How many records the answer held. */
      returned: z.number().int().min(0),
    }),
    description:
      'A caller with audit:read queried the audit log; the event records who, with which filters and how many records were returned.',
  }),
};

/**
 * The security teams' stream: every record appended to the audit chain, as its normalised OCSF
 * record with its sequence number and hashes (docs/security-teams-stream.md). Named outside the
 * `rampart.<service>.<aggregate>.v<n>` pattern on purpose: it is the audit log itself, a
 * documented contract for consumers outside Rampart.
 */
export const AuditStreamTopic: TopicDefinition = {
  name: 'rampart.audit.v1' as TopicName,
  service: 'audit',
  aggregate: 'record',
  version: 1,
  description:
    'Every record appended to the audit chain, as normalised OCSF with its sequence number and hash, in chain order under one key; the contract for security teams (docs/security-teams-stream.md).',
};

/** The partition key (CloudEvents `subject`) of every message on the stream: one key, one order. */
export const AUDIT_STREAM_KEY = 'audit-chain';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

export const AuditStreamEvents = {
  appended: defineEvent({
    type: 'rampart.audit.record.appended',
    topic: AuditStreamTopic,
    data: z.strictObject({
      /** The record's place in the chain: 1, 2, 3, … without gaps. */
      sequence: z.number().int().min(1),
      /** Hash of the record before it (64 zeros for the first), lower-case hex. */
      previousHash: hex32,
      /** SHA-256 of the JCS canonical JSON of `{ sequence, previousHash, record }`, lower-case hex. */
      hash: hex32,
      /** The normalised OCSF record exactly as hashed and stored. */
      record: z.record(z.string(), z.unknown()),
    }),
    description:
      'A record was appended to the audit chain: the normalised OCSF record with its sequence number, previous hash and hash, published in the transaction of the append.',
  }),
};
