import { isIP } from 'node:net';
import { z } from 'zod';
import { GATEWAY_DEFAULT_PORT, SERVICE_ROUTES, type ServiceRoute } from '@rampart/contracts';
import { baseConfigSchema } from '@rampart/platform';
import { parseRateLimit } from '../rate-limits/rate-limit-policies.js';
import { parseCorsAllowlist } from '../security/cors.js';

/** `key-management` -> `UPSTREAM_KEY_MANAGEMENT_URL`. */
export function upstreamVariable(service: ServiceRoute['service']): string {
  return `UPSTREAM_${service.toUpperCase().replace(/-/g, '_')}_URL`;
}

const upstreams = Object.fromEntries(
  SERVICE_ROUTES.map((route) => [
    upstreamVariable(route.service),
    z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${route.defaultPort}`),
  ]),
);

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
/** A security.txt without a configured expiry is valid for half a year from the gateway's start. */
const DEFAULT_SECURITY_TXT_LIFETIME_MS = YEAR_MS / 2;

/** `10.0.0.0/8`, `192.0.2.7`, `fd00::/8`: an address or a CIDR block. */
function isAddressOrBlock(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

/** A `GATEWAY_RATE_LIMIT_*` quota, `<limit>/<window>` (rate-limit-policies.ts). */
function rateLimit(name: string, fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((value, context) => {
      try {
        return parseRateLimit(name, value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

export const gatewayConfigSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(GATEWAY_DEFAULT_PORT),
    GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    /** Deepest nesting of objects and arrays a JSON body may have (400 beyond). */
    GATEWAY_MAX_JSON_DEPTH: z.coerce.number().int().min(2).max(512).default(32),
    /**
     * Proxies (a TLS-terminating load balancer) whose `X-Forwarded-Proto` the gateway believes,
     * by address or CIDR block. Nobody else's is: a caller could claim TLS it never used.
     */
    GATEWAY_TRUSTED_PROXIES: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
      )
      .refine((entries) => entries.every(isAddressOrBlock), 'must be IP addresses or CIDR blocks'),
    /**
     * Cross-origin callers per path prefix: `<prefix>=<origin> <origin>;...` (see cors.ts). Unset:
     * no cross-origin access at all.
     */
    GATEWAY_CORS_ALLOWLIST: z
      .string()
      .default('')
      .transform((value, context) => {
        try {
          return parseCorsAllowlist(value);
        } catch (error) {
          context.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    /** RFC 9116 `Contact`: where to report a vulnerability (`mailto:`, `https:` or `tel:`). */
    GATEWAY_SECURITY_CONTACT: z
      .url({ protocol: /^(mailto|https|tel)$/ })
      .default('mailto:security@rampart.invalid'),
    /** RFC 9116 `Expires`; at most a year ahead, as the RFC recommends. */
    GATEWAY_SECURITY_TXT_EXPIRES: z.iso
      .datetime({ offset: true })
      .transform((value) => new Date(value))
      .refine((date) => date.getTime() > Date.now(), 'must be in the future')
      .refine((date) => date.getTime() <= Date.now() + YEAR_MS, 'must be at most a year ahead')
      .default(() => new Date(Date.now() + DEFAULT_SECURITY_TXT_LIFETIME_MS)),
    /** RFC 9116 `Policy`: the published security policy (SECURITY.md). Unset: no Policy line. */
    GATEWAY_SECURITY_POLICY_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** The public origin of the gateway, for security.txt's `Canonical`. Unset: no Canonical line. */
    GATEWAY_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Rate limits (docs/architecture/security.md, "Rate limits"). `memory` counts in this process;
     * `postgres` shares the counts between replicas through GATEWAY_RATE_LIMIT_DATABASE_URL.
     */
    GATEWAY_RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),
    GATEWAY_RATE_LIMIT_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    GATEWAY_RATE_LIMIT_DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
      .default('gateway'),
    /**
     * How long a hit waits for the shared store before this replica decides it alone (ADR 0030).
     */
    GATEWAY_RATE_LIMIT_DATABASE_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(10)
      .max(10_000)
      .default(250),
    /** Keys the in-memory store (or the PostgreSQL store's fallback) holds at most. */
    GATEWAY_RATE_LIMIT_MEMORY_MAX_KEYS: z.coerce
      .number()
      .int()
      .min(1_000)
      .max(10_000_000)
      .default(100_000),
    GATEWAY_RATE_LIMIT_DEFAULT: rateLimit('default', '600/1m'),
    GATEWAY_RATE_LIMIT_BEARER: rateLimit('bearer', '600/1m'),
    GATEWAY_RATE_LIMIT_SIGN_IN: rateLimit('sign-in', '10/1m'),
    GATEWAY_RATE_LIMIT_TOKEN: rateLimit('token', '300/1m'),
    GATEWAY_RATE_LIMIT_REGISTRATION: rateLimit('registration', '10/1h'),
    GATEWAY_RATE_LIMIT_RECOVERY: rateLimit('recovery', '5/1h'),
    ...upstreams,
  })
  .superRefine((config, context) => {
    // Without a trusted issuer the edge refuses every token: in production that is a mistake.
    if (config.RAMPART_MODE === 'production' && !config.ACCESS_TOKEN_ISSUER) {
      context.addIssue({
        code: 'custom',
        path: ['ACCESS_TOKEN_ISSUER'],
        message:
          'must be set when RAMPART_MODE=production (the gateway verifies access tokens at the edge)',
      });
    }
    // A placeholder contact in production would send reports nowhere.
    if (
      config.RAMPART_MODE === 'production' &&
      config.GATEWAY_SECURITY_CONTACT === 'mailto:security@rampart.invalid'
    ) {
      context.addIssue({
        code: 'custom',
        path: ['GATEWAY_SECURITY_CONTACT'],
        message: 'must be set when RAMPART_MODE=production',
      });
    }
    if (config.GATEWAY_RATE_LIMIT_STORE === 'postgres' && !config.GATEWAY_RATE_LIMIT_DATABASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['GATEWAY_RATE_LIMIT_DATABASE_URL'],
        message: 'must be set when GATEWAY_RATE_LIMIT_STORE=postgres',
      });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export function upstreamUrl(config: GatewayConfig, service: ServiceRoute['service']): string {
  return (config as unknown as Record<string, string>)[upstreamVariable(service)]!;
}
