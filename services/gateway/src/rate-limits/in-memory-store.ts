import {
  describeDecision,
  spend,
  type RateLimitDecision,
  type RateLimitPolicy,
  type RateLimitStore,
} from './rate-limit-store.js';

/** How often keys whose quota is whole again are forgotten. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * The quota of each key in this process only (all-in-one, a single replica, and the fallback of
 * the PostgreSQL store). Memory is bounded: a key whose quota has fully recovered carries no
 * information and is swept, and past `maxKeys` the key touched longest ago is dropped, so a flood
 * of distinct keys costs at most `maxKeys` entries. A key under attack is touched on every hit,
 * refused ones included, so it is the last to go.
 */
export class InMemoryRateLimitStore implements RateLimitStore {
  /** Key -> theoretical arrival time (ms), in order of last touch (a Map keeps insertion order). */
  private readonly arrivals = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  get size(): number {
    return this.arrivals.size;
  }

  consume(key: string, cost: number, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    return Promise.resolve(this.consumeNow(key, cost, policy));
  }

  consumeNow(key: string, cost: number, policy: RateLimitPolicy): RateLimitDecision {
    const now = this.now();
    const held = this.arrivals.get(key);
    const { allowed, arrivalMs } = spend(held, now, cost, policy);
    this.arrivals.delete(key);
    this.arrivals.set(key, arrivalMs);
    if (this.arrivals.size > this.maxKeys) {
      const oldest = this.arrivals.keys().next().value;
      if (oldest !== undefined) this.arrivals.delete(oldest);
    }
    return describeDecision(allowed, arrivalMs, now, cost, policy);
  }

  /** Forgets every key whose quota is whole again: it would behave exactly like a new key. */
  sweep(): void {
    const now = this.now();
    for (const [key, arrival] of this.arrivals) {
      if (arrival <= now) this.arrivals.delete(key);
    }
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.arrivals.clear();
    return Promise.resolve();
  }
}
