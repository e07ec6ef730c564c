import { afterEach, describe, expect, it } from '@jest/globals';
import { InMemoryRateLimitStore } from './in-memory-store.js';
import type { RateLimitPolicy } from './rate-limit-store.js';

const FIVE_A_MINUTE: RateLimitPolicy = { name: 'test', limit: 5, windowSeconds: 60 };

describe('InMemoryRateLimitStore', () => {
  let now = 1_000_000;
  let store: InMemoryRateLimitStore;
  const open = (maxKeys = 1_000) => (store = new InMemoryRateLimitStore(maxKeys, () => now));
  afterEach(() => store.close());

  it('grants the whole quota at once, then refuses with how long to wait', () => {
    open();
    const remaining = [];
    for (let hit = 0; hit < 5; hit++) {
      const decision = store.consumeNow('client', 1, FIVE_A_MINUTE);
      expect(decision.allowed).toBe(true);
      remaining.push(decision.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = store.consumeNow('client', 1, FIVE_A_MINUTE);
    // One request comes back every 12 s; the full quota after a minute.
    expect(refused).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 60,
      retryAfterSeconds: 12,
    });
  });

  it('gives one request back per emission interval, and refused hits do not push it further', () => {
    open();
    for (let hit = 0; hit < 5; hit++) store.consumeNow('client', 1, FIVE_A_MINUTE);
    now += 6_000;
    expect(store.consumeNow('client', 1, FIVE_A_MINUTE)).toMatchObject({
      allowed: false,
      retryAfterSeconds: 6,
    });
    now += 6_000;
    expect(store.consumeNow('client', 1, FIVE_A_MINUTE)).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    expect(store.consumeNow('client', 1, FIVE_A_MINUTE).allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    open();
    for (let hit = 0; hit < 5; hit++) store.consumeNow('a', 1, FIVE_A_MINUTE);
    expect(store.consumeNow('a', 1, FIVE_A_MINUTE).allowed).toBe(false);
    expect(store.consumeNow('b', 1, FIVE_A_MINUTE)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('spends a quota that does not divide the window evenly to the last unit', () => {
    open();
    const seven: RateLimitPolicy = { name: 'seven', limit: 7, windowSeconds: 60 };
    const granted = Array.from({ length: 8 }, () => store.consumeNow('k', 1, seven).allowed);
    expect(granted).toEqual([true, true, true, true, true, true, true, false]);
  });

  it('sweeps keys whose quota has fully recovered', () => {
    open();
    store.consumeNow('short', 1, FIVE_A_MINUTE);
    store.consumeNow('long', 1, { name: 'hour', limit: 1, windowSeconds: 3600 });
    now += 13_000;
    store.sweep();
    expect(store.size).toBe(1);
    now += 3600_000;
    store.sweep();
    expect(store.size).toBe(0);
  });

  it('stays within maxKeys under a flood of distinct keys, keeping the key under attack', () => {
    open(1_000);
    for (let hit = 0; hit < 6; hit++) store.consumeNow('attacker', 1, FIVE_A_MINUTE);
    for (let flood = 0; flood < 50_000; flood++) {
      store.consumeNow(`flood-${flood}`, 1, FIVE_A_MINUTE);
      // The attacker keeps hammering, so its key stays among the most recently touched.
      if (flood % 100 === 0) store.consumeNow('attacker', 1, FIVE_A_MINUTE);
      expect(store.size).toBeLessThanOrEqual(1_000);
    }
    expect(store.consumeNow('attacker', 1, FIVE_A_MINUTE).allowed).toBe(false);
  });
});
