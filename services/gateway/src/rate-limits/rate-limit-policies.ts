import { createHash } from 'node:crypto';
import type { RateLimitPolicy } from './rate-limit-store.js';

/** The quotas the gateway enforces, each from its own `GATEWAY_RATE_LIMIT_*` variable. */
export interface RateLimitPolicies {
  /** Every request, per client address. */
  readonly default: RateLimitPolicy;
  /** Every request carrying a bearer (or DPoP) access token, per token. */
  readonly bearer: RateLimitPolicy;
  /** Password and code entry: per client address. */
  readonly signIn: RateLimitPolicy;
  /** Client-authenticated OAuth endpoints: per client address and per client credential. */
  readonly token: RateLimitPolicy;
  /** Creating accounts and clients, confirming e-mail addresses: per client address. */
  readonly registration: RateLimitPolicy;
  /** Account recovery: per client address. */
  readonly recovery: RateLimitPolicy;
}

/** One quota one request spends from: `name` is what the RateLimit headers call it. */
export interface RateLimitBucket {
  readonly name: string;
  readonly policy: RateLimitPolicy;
  readonly key: string;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;
const MAX_WINDOW_SECONDS = 24 * 3600;

/**
 * Reads `<limit>/<window>`, e.g. `10/1m` (ten requests a minute) or `5/1h`. Throws with the
 * reason for anything else, so a typo stops the gateway at start instead of silently disabling
 * a limit.
 */
export function parseRateLimit(name: string, value: string): RateLimitPolicy {
  const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,5})(s|m|h)\s*$/.exec(value);
  if (!match) throw new Error(`"${value}" is not <limit>/<window>, e.g. 10/1m, 600/60s or 5/1h`);
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]) * UNIT_SECONDS[match[3] as keyof typeof UNIT_SECONDS];
  if (limit < 1) throw new Error(`"${value}": the limit must be at least 1`);
  if (windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS)
    throw new Error(`"${value}": the window must be between 1s and 24h`);
  return { name, limit, windowSeconds };
}

/**
 * Secrets never become part of a key as they are: a store row or a log line must not be a usable
 * credential. SHA-256 truncated to 128 bits keeps keys short and still collision-free in practice;
 * it is not a password hash, which is fine for high-entropy tokens and client secrets.
 */
export function credentialDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

/** What a request is matched on: its method and its path, made canonical. */
export interface RequestFacts {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  /** From ClientAddress: an IPv4 address or an IPv6 /64. */
  readonly client: string;
}

/**
 * The path as a router downstream may understand it: without query, percent-decoded, repeated
 * and trailing slashes collapsed, lower case. Matching the canonical form means `/OIDC//token/`
 * or `/oidc/%74oken` cannot slip past a strict limit if some router below would accept them.
 */
export function canonicalPath(url: string): string {
  const raw = url.split('?')[0] ?? '/';
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Malformed escapes: match what was sent.
  }
  const collapsed = decoded.toLowerCase().replace(/\/{2,}/g, '/');
  return collapsed.length > 1 ? collapsed.replace(/\/$/, '') : collapsed;
}

type StrictPolicy = 'signIn' | 'token' | 'registration' | 'recovery';

/**
 * The identity service's endpoints that guess-and-check attacks aim at, by canonical path.
 * Only unsafe methods count: reading the sign-in page is not a sign-in attempt.
 */
const STRICT_ROUTES: readonly { policy: StrictPolicy; path: RegExp }[] = [
  // The password step of a sign-in, the device flow's user code, the account centre's password
  // change (it checks the current password).
  { policy: 'signIn', path: /^\/interaction\/[^/]+\/login$/ },
  { policy: 'signIn', path: /^\/oidc\/device$/ },
  { policy: 'signIn', path: /^\/account\/password$/ },
  // Every endpoint that authenticates an OAuth client, so client secrets cannot be guessed.
  { policy: 'token', path: /^\/oidc\/token($|\/introspection$|\/revocation$)/ },
  { policy: 'token', path: /^\/oidc\/(par|device\/auth|backchannel)$/ },
  // Dynamic client registration, account sign-up and its e-mail confirmation.
  { policy: 'registration', path: /^\/oidc\/register($|\/)/ },
  { policy: 'registration', path: /^\/account\/(register|verify)$/ },
  // Account recovery, where identity will serve it (no route yet: ADR 0030).
  { policy: 'recovery', path: /^\/account\/recovery($|\/)/ },
  { policy: 'recovery', path: /^\/interaction\/[^/]+\/recovery($|\/)/ },
];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const POLICY_LABELS: Record<StrictPolicy, string> = {
  signIn: 'sign-in',
  token: 'token',
  registration: 'registration',
  recovery: 'recovery',
};

/**
 * The quotas a request spends from, in the order they are checked. The per-address default comes
 * first: it bounds how many distinct keys one address can create in the other buckets (a caller
 * inventing a fresh bearer token per request still spends its address's quota).
 */
export function bucketsFor(request: RequestFacts, policies: RateLimitPolicies): RateLimitBucket[] {
  const buckets: RateLimitBucket[] = [
    { name: 'default', policy: policies.default, key: `default:${request.client}` },
  ];
  const credential = request.authorization?.trim();
  if (!SAFE_METHODS.has(request.method.toUpperCase())) {
    const path = canonicalPath(request.url);
    const strict = STRICT_ROUTES.find((route) => route.path.test(path))?.policy;
    if (strict) {
      const label = POLICY_LABELS[strict];
      buckets.push({ name: label, policy: policies[strict], key: `${label}:${request.client}` });
      if (strict === 'token' && credential) {
        // Per client as well: a client's own credential, whichever address it calls from.
        buckets.push({
          name: 'token-client',
          policy: policies.token,
          key: `token-client:${credentialDigest(credential)}`,
        });
      }
      return buckets;
    }
  }
  if (credential && /^(bearer|dpop)\s+\S/i.test(credential)) {
    buckets.push({
      name: 'bearer',
      policy: policies.bearer,
      key: `bearer:${credentialDigest(credential.replace(/^\S+\s+/, ''))}`,
    });
  }
  return buckets;
}
