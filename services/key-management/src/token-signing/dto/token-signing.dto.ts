import { z } from 'zod';
import { TOKEN_SIGNING_ALGORITHMS, TOKEN_SIGNING_KEY_STATES } from '@rampart/contracts';

export { jwkSet, tokenSigningKeysResponse } from '@rampart/contracts';

export const rotateRequest = z.strictObject({
  /** Algorithm of the new NEXT key; the configured one when absent. */
  algorithm: z.enum(TOKEN_SIGNING_ALGORITHMS).optional(),
  /**
   * For a compromised key: the CURRENT key leaves the JWK Set at once instead of staying published
   * for the grace period, so the tokens it signed stop verifying.
   */
  retireCurrent: z.boolean().optional(),
});

export const tokenSigningKeyView = z.object({
  kid: z.string(),
  algorithm: z.enum(TOKEN_SIGNING_ALGORITHMS),
  state: z.enum(TOKEN_SIGNING_KEY_STATES),
  createdAt: z.string(),
  activatedAt: z.string().optional(),
  deactivatedAt: z.string().optional(),
});

export const tokenSigningKeysView = z.object({ keys: z.array(tokenSigningKeyView) });

export type TokenSigningKeysView = z.infer<typeof tokenSigningKeysView>;
