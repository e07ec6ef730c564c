import { z } from 'zod';

const position = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const base64Hash = z.base64().describe('32 bytes, base64');

export const inclusionQuery = z
  .strictObject({
    sequence: position.describe(
      'The record whose inclusion is proved (its leaf index is sequence - 1)',
    ),
    treeSize: position.describe('The size of the tree the proof is for, as in a checkpoint'),
  })
  .refine((query) => query.sequence <= query.treeSize, {
    path: ['sequence'],
    message: 'must not exceed treeSize',
  });

export const consistencyQuery = z
  .strictObject({
    from: position.describe('The smaller tree size'),
    to: position.describe('The larger tree size'),
  })
  .refine((query) => query.from <= query.to, { path: ['from'], message: 'must not exceed to' });

export const checkpointView = z.object({
  origin: z.string(),
  size: z.number().int(),
  rootHash: base64Hash,
  time: z.string().describe('When it was signed (ISO 8601)'),
  note: z.string().describe('The C2SP signed note, exactly as signed and published'),
  verifierKey: z
    .string()
    .nullable()
    .describe(
      'The log key to open the note with (null until the service has read it from the KMS)',
    ),
});

export const inclusionView = z.object({
  sequence: z.number().int(),
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  leafHash: base64Hash,
  proof: z.array(base64Hash).describe('RFC 9162 inclusion proof, bottom up'),
});

export const consistencyView = z.object({
  from: z.number().int(),
  to: z.number().int(),
  proof: z.array(base64Hash).describe('RFC 9162 consistency proof'),
});
