import { z } from 'zod';

/** The Merkle tree and the checkpoints, beside the chain's own fields. */
const treeFields = {
  merkle: z
    .union([
      z.object({
        valid: z.literal(true),
        leaves: z.number().int().min(0),
        root: z.string().describe('Root hash of the whole tree, hex'),
      }),
      z.object({
        valid: z.literal(false),
        level: z.number().int(),
        index: z.number().int(),
        problem: z.enum(['modified', 'missing', 'unexpected']),
      }),
    ])
    .describe('The stored subtrees against the tree rebuilt from the records'),
  checkpoints: z
    .union([
      z.object({
        valid: z.literal(true),
        checked: z.number().int().min(0),
        signaturesChecked: z.boolean(),
        latestSize: z.number().int().nullable(),
      }),
      z.object({
        valid: z.literal(false),
        firstBadSize: z.number().int(),
        problem: z.enum(['signature', 'root', 'note', 'beyond-log']),
      }),
    ])
    .describe("Every stored checkpoint's note, signature and root"),
};

export const verifyView = z.union([
  z.object({
    valid: z.literal(true),
    records: z.number().int().min(0).describe('Records in the chain'),
    pruned: z
      .number()
      .int()
      .min(0)
      .describe('How many of them are tombstones, pruned after archiving (ADR 0025)'),
    head: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe(
        'Hash of the last record (64 zeros when empty): note it to detect truncation later',
      ),
    ...treeFields,
  }),
  z.object({
    valid: z.literal(false),
    firstBadSequence: z.number().int().describe('Sequence number of the first bad record'),
    problem: z.enum(['modified', 'deleted', 'reordered', 'inserted', 'pruned-unarchived']),
    ...treeFields,
  }),
]);
