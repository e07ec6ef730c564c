import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';

/** The audit log's signed checkpoints, for witnesses and auditors that keep them. */
export const AuditCheckpointTopic = defineTopic({
  service: 'audit',
  aggregate: 'checkpoint',
  version: 1,
  description:
    "Signed checkpoints (tree size, root hash, time) of the audit log's Merkle tree, as C2SP signed notes.",
});

export const AuditCheckpointEvents = {
  signed: defineEvent({
    type: 'rampart.audit.checkpoint.signed',
    topic: AuditCheckpointTopic,
    data: z.strictObject({
      /** The number of records the tree covers (sequences 1 to size). */
      size: z.number().int().positive(),
      /** The RFC 9162 root hash of those records, base64. */
      rootHash: z.base64(),
      /** When the log signed it (also the note's `time` line). */
      time: z.iso.datetime(),
      /** The C2SP signed note, exactly as stored: the checkpoint text, a blank line, signatures. */
      note: z.string().min(1),
      /** The log's note verifier key, `<name>+<key id>+<base64 key>`, to open the note with. */
      verifierKey: z.string().min(1),
    }),
    description:
      'The audit log signed a checkpoint of its Merkle tree with its Ed25519 key held in key-management. Public data only: no record content.',
  }),
};
