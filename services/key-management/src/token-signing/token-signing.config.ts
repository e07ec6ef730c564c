import { z } from 'zod';
import { TOKEN_SIGNING_ALGORITHMS } from '@rampart/contracts';

/**
 * How long relying parties may cache `GET /kms/v1/jwks`. A NEXT key is published a whole rotation
 * period before it signs and a PREVIOUS key stays a whole grace period after, so both periods
 * must be longer than this (the bounds below make sure of it).
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * Token-signing settings, spread into the key-management config schema. The check interval is
 * the service's `KMS_SCHEDULER_INTERVAL_SECONDS`, shared with scheduled key rotations.
 */
export const tokenSigningConfigShape = {
  /** Algorithm of newly generated signing keys; existing keys keep theirs. */
  KMS_TOKEN_SIGNING_ALGORITHM: z.enum(TOKEN_SIGNING_ALGORITHMS).default('ES256'),
  /** Days a key signs as CURRENT before the scheduled rotation. */
  KMS_TOKEN_SIGNING_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /**
   * Hours a PREVIOUS key stays published: at least the longest token lifetime plus the JWK Set
   * cache time, or tokens signed just before a rotation stop verifying early.
   */
  KMS_TOKEN_SIGNING_GRACE_HOURS: z.coerce.number().int().min(1).max(2_160).default(24),
};

export interface TokenSigningSettings {
  algorithm: (typeof TOKEN_SIGNING_ALGORITHMS)[number];
  rotationPeriodMs: number;
  gracePeriodMs: number;
  checkIntervalMs: number;
}
