import type { CompiledPolicy } from './key-policy.js';

/**
 * How long a policy read on the hot path is reused. A change made through this instance is seen
 * at once; one made through another replica within this time (the same bound as for key rows).
 */
export const POLICY_CACHE_TTL_MS = 1_000;
const CACHE_LIMIT = 10_000;

/**
 * Compiled policies by resource, including "no policy" (most resources have none, and asking the
 * database for that on every call would put a query on the hot path). Concurrent misses for one
 * resource share one load; a failed load is not remembered.
 */
export class PolicyCache {
  private readonly entries = new Map<
    string,
    { value: Promise<CompiledPolicy | undefined>; until: number }
  >();

  constructor(private readonly ttlMs = POLICY_CACHE_TTL_MS) {}

  get(id: string, load: () => Promise<CompiledPolicy | undefined>) {
    const now = Date.now();
    const hit = this.entries.get(id);
    if (hit && hit.until > now) return hit.value;
    if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
    const value = load();
    this.entries.set(id, { value, until: now + this.ttlMs });
    value.catch(() => {
      if (this.entries.get(id)?.value === value) this.entries.delete(id);
    });
    return value;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
