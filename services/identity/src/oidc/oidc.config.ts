import { z } from 'zod';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Environment variables of the OpenID Connect provider (merged into the identity config). */
export const oidcConfigShape = {
  /**
   * Key-management's base URL (directly or through the gateway), where the token-signing keys come
   * from. Unset: the provider is not mounted (tests of accounts alone); production requires it.
   */
  IDENTITY_KMS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * This service's private encryption key (`identity.enc.jwk`), to which key-management encrypts
   * the private signing keys. Default: `identity.enc.jwk` next to WORKLOAD_KEY_FILE.
   */
  WORKLOAD_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  /**
   * Signs the provider's cookies (and keys the pages' CSRF tokens): at least 32 characters,
   * the same in every replica. Unset: a random secret per process, which production refuses.
   */
  IDENTITY_COOKIE_SECRET: z.string().min(32).optional(),
  /** A session ends after this long without use... */
  IDENTITY_SESSION_IDLE_SECONDS: seconds(60, 7 * 24 * 3600, 30 * 60),
  /** ...and this long after sign-in, however busy. */
  IDENTITY_SESSION_MAX_SECONDS: seconds(300, 90 * 24 * 3600, 12 * 3600),
  /**
   * Where the first start writes the administrator's and the admin client's credentials (0600,
   * once). Unset: nothing is bootstrapped (an operator provisions through SCIM and the admin API).
   */
  IDENTITY_BOOTSTRAP_FILE: z.string().min(1).optional(),
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: seconds(30, 24 * 3600, 10 * 60),
  IDENTITY_REFRESH_TOKEN_TTL_SECONDS: seconds(300, 365 * 24 * 3600, 14 * 24 * 3600),
};

const _oidcConfigObject = z.object(oidcConfigShape);
export type OidcConfig = z.infer<typeof _oidcConfigObject>;

/** Cross-field rules, for the service schema's superRefine. */
export function checkOidcConfig(
  config: OidcConfig & { RAMPART_MODE: 'development' | 'production' },
  issue: (variable: string, message: string) => void,
): void {
  if (config.IDENTITY_SESSION_IDLE_SECONDS > config.IDENTITY_SESSION_MAX_SECONDS) {
    issue('IDENTITY_SESSION_IDLE_SECONDS', 'must not exceed IDENTITY_SESSION_MAX_SECONDS');
  }
  if (config.RAMPART_MODE !== 'production') return;
  if (!config.IDENTITY_KMS_URL) {
    issue('IDENTITY_KMS_URL', 'required when RAMPART_MODE=production (token-signing keys)');
  }
  if (!config.IDENTITY_COOKIE_SECRET) {
    issue(
      'IDENTITY_COOKIE_SECRET',
      'required when RAMPART_MODE=production (every replica must verify the same cookies)',
    );
  }
}
