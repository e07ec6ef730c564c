import { z } from 'zod';

/** Environment variables of the signed checkpoints (merged into the audit config). */
export const checkpointConfigShape = {
  /**
   * Key-management's base URL, where the checkpoint signing key lives. Unset: no checkpoints are
   * signed (the tree is still kept and proofs still served).
   */
  AUDIT_KMS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The log's origin, the first line of every checkpoint and the key name in its notes. Default:
   * `<host of ACCESS_TOKEN_ISSUER>/audit`, or `rampart/audit` without an issuer.
   */
  AUDIT_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/, 'no spaces or "+"')
    .optional(),
  /** The name of the Ed25519 (EdDSA) key in key-management, in the `audit` key ring. */
  AUDIT_CHECKPOINT_KEY: z.string().min(1).default('audit-checkpoints'),
  /** A checkpoint is signed once the tree grew by this many records since the last one... */
  AUDIT_CHECKPOINT_RECORDS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** ...or once this many seconds passed since it, if the tree grew at all. */
  AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
};

/** The origin from the config: as set, else derived from the access-token issuer's host. */
export function logOrigin(config: {
  AUDIT_LOG_ORIGIN?: string | undefined;
  ACCESS_TOKEN_ISSUER?: string | undefined;
}): string {
  if (config.AUDIT_LOG_ORIGIN) return config.AUDIT_LOG_ORIGIN;
  if (config.ACCESS_TOKEN_ISSUER) return `${new URL(config.ACCESS_TOKEN_ISSUER).host}/audit`;
  return 'rampart/audit';
}
