/**
 * A quota: at most `limit` requests per `windowSeconds`, spread by GCRA (ADR 0030): a client may
 * spend the whole quota at once, then earns one request back every `windowSeconds / limit`.
 */
export interface RateLimitPolicy {
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

/** What one hit on one key came to. Seconds are whole, rounded up, as HTTP headers carry them. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Requests still allowed right now. */
  readonly remaining: number;
  /** Seconds until the full quota is available again. */
  readonly resetSeconds: number;
  /** When refused: seconds until the next request would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/**
 * Where the gateway keeps, per key, how far ahead of now its quota has been spent. Keys are
 * already free of secrets (credentials are hashed before they become part of a key).
 */
export interface RateLimitStore {
  /** Spends `cost` units of `policy` for `key`, unless that would exceed the quota. */
  consume(key: string, cost: number, policy: RateLimitPolicy): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

/**
 * Floating-point slack: with a window that does not divide evenly by the limit (60 s / 7), the
 * seventh emission interval may land a hair past the window and must still count as inside it.
 */
const SLACK_MS = 0.001;

export function emissionIntervalMs(policy: RateLimitPolicy): number {
  return (policy.windowSeconds * 1000) / policy.limit;
}

/** The largest distance ahead of now the theoretical arrival time may be pushed. */
export function toleranceMs(policy: RateLimitPolicy): number {
  return policy.windowSeconds * 1000 + SLACK_MS;
}

/**
 * GCRA's answer once the store has decided, from the theoretical arrival time (TAT) it now holds:
 * the new one if the hit was granted, the unchanged one if it was refused.
 */
export function describeDecision(
  allowed: boolean,
  arrivalMs: number,
  nowMs: number,
  cost: number,
  policy: RateLimitPolicy,
): RateLimitDecision {
  const interval = emissionIntervalMs(policy);
  const ahead = Math.max(arrivalMs, nowMs) - nowMs;
  const resetSeconds = Math.ceil(ahead / 1000);
  if (allowed) {
    const remaining = Math.floor((toleranceMs(policy) - ahead) / interval);
    return { allowed, remaining: Math.max(0, remaining), resetSeconds, retryAfterSeconds: 0 };
  }
  const wait = ahead + cost * interval - toleranceMs(policy);
  return {
    allowed,
    remaining: 0,
    resetSeconds,
    // A refusal never says "retry now": that would invite an immediate, equally refused retry.
    retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
  };
}

/**
 * One GCRA step in memory: the TAT after a granted hit, or the unchanged one when refused.
 * The PostgreSQL store does the same in one SQL statement.
 */
export function spend(
  heldArrivalMs: number | undefined,
  nowMs: number,
  cost: number,
  policy: RateLimitPolicy,
): { allowed: boolean; arrivalMs: number } {
  const next = Math.max(heldArrivalMs ?? nowMs, nowMs) + cost * emissionIntervalMs(policy);
  if (next - nowMs <= toleranceMs(policy)) return { allowed: true, arrivalMs: next };
  return { allowed: false, arrivalMs: heldArrivalMs ?? nowMs };
}
