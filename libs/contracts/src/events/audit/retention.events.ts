import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/** The audit log's retention: what was archived, and what was pruned after it (ADR 0025). */
export const AuditRetentionTopic = defineTopic({
  service: 'audit',
  aggregate: 'retention',
  version: 1,
  description:
    'Archives of the audit log written before records leave the hot store, and the pruning of records past their retention.',
});

const sequence = z.number().int().positive();

export const AuditRetentionEvents = {
  archived: defineEvent({
    type: 'rampart.audit.retention.archived',
    topic: AuditRetentionTopic,
    data: z.strictObject({
      /** The archive's id: also its directory's name under AUDIT_ARCHIVE_DIR. */
      archiveId: z.string().min(1),
      /** The contiguous range of sequence numbers the archive holds in full. */
      firstSequence: sequence,
      lastSequence: sequence,
      /** The signed checkpoint the archive proves its records against (its size is lastSequence). */
      checkpointSize: sequence,
      /** SHA-256 of the archive's log.ndjson, hex. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    description:
      'The audit service wrote an archive bundle (full records, frontier, signed checkpoints), read it back and verified it. Hashes and numbers only: no record content.',
  }),
  pruned: defineEvent({
    type: 'rampart.audit.retention.pruned',
    topic: AuditRetentionTopic,
    data: z.strictObject({
      /** Records pruned in this run, per OCSF class. */
      classes: z.array(
        z.strictObject({
          classUid: z.number().int().positive(),
          /** Records of this class that happened before this time were due. */
          before: z.iso.datetime(),
          pruned: z.number().int().positive(),
        }),
      ),
      /** All records pruned in this run. */
      total: z.number().int().positive(),
    }),
    description:
      'The audit service removed the bodies of records past their class retention that an archive holds; their chain links and Merkle leaves stay. Counts only.',
  }),
};
