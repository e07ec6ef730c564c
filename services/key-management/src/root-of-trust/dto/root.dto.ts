import { z } from 'zod';

const count = z.number().int().min(0);

export const rootView = z.object({
  rootKeyId: z
    .string()
    .describe('Fingerprint of the root key that wraps new values (never the key)'),
  previousRootKeyIds: z
    .array(z.string())
    .describe('Roots this replica still unwraps with until rotation is complete'),
  rewrapped: count.describe('Values at rest wrapped by the current root'),
  remaining: count.describe('Values still wrapped by a previous root: 0 when rotation is complete'),
  missingRootKeyIds: z
    .array(z.string())
    .describe('Roots that remaining values name but this replica lacks: configure them'),
  tables: z.array(z.object({ table: z.string(), rewrapped: count, remaining: count })),
});

export type RootView = z.infer<typeof rootView>;
