import { z } from 'zod';
import { TOKEN_SIGNING_ALGORITHMS } from '@rampart/contracts';

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `90s`, `15m`, `24h` or `30d`, in milliseconds; `min` and `max` likewise. */
function duration(min: string, max: string) {
  const toMs = (text: string) => {
    const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
    return match ? Number(match[1]) * UNITS_MS[match[2] as keyof typeof UNITS_MS] : Number.NaN;
  };
  return z
    .string()
    .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'must be a duration such as 90s, 15m, 24h or 30d')
    .transform(toMs)
    .refine((ms) => ms >= toMs(min) && ms <= toMs(max), `must be between ${min} and ${max}`);
}

/**
 * How long relying parties may cache `GET /kms/v1/jwks`. A NEXT key is published a whole rotation
 * period before it signs and a PREVIOUS key stays a whole grace period after, so both periods
 * must be longer than this (the config bounds below make sure of it).
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** Token-signing settings, spread into the key-management config schema. */
export const tokenSigningConfigShape = {
  /** Algorithm of newly generated signing keys; existing keys keep theirs. */
  KMS_TOKEN_SIGNING_ALGORITHM: z.enum(TOKEN_SIGNING_ALGORITHMS).default('ES256'),
  /** How long a key signs as CURRENT before the scheduled rotation. */
  KMS_TOKEN_SIGNING_ROTATION_PERIOD: duration('1h', '365d').prefault('30d'),
  /**
   * How long a PREVIOUS key stays published: at least the longest token lifetime plus the JWKS
   * cache time, or tokens signed just before a rotation stop verifying early.
   */
  KMS_TOKEN_SIGNING_GRACE_PERIOD: duration('10m', '90d').prefault('24h'),
  /** How often the leader checks whether a rotation or retirement is due. */
  KMS_TOKEN_SIGNING_CHECK_INTERVAL: duration('100ms', '1h').prefault('1m'),
};

export interface TokenSigningSettings {
  algorithm: (typeof TOKEN_SIGNING_ALGORITHMS)[number];
  rotationPeriodMs: number;
  gracePeriodMs: number;
  checkIntervalMs: number;
}
