import { z } from 'zod';

export const verifyView = z.union([
  z.object({
    valid: z.literal(true),
    records: z.number().int().min(0).describe('Records in the chain'),
    head: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe(
        'Hash of the last record (64 zeros when empty): note it to detect truncation later',
      ),
  }),
  z.object({
    valid: z.literal(false),
    firstBadSequence: z.number().int().describe('Sequence number of the first bad record'),
    problem: z.enum(['modified', 'deleted', 'reordered', 'inserted']),
  }),
]);
