import type { DataKeyCacheBounds } from '@rampart/contracts';

/** A data key held in memory; `zero()` overwrites it, after which it must never be used again. */
export interface CachedKey {
  readonly key: Buffer;
  readonly createdAt: number;
  readonly retired: boolean;
  zero(): void;
}

/**
 * Plaintext data keys by id, at most `maxEntries` of them. When full, the oldest entry goes: keys
 * also expire by age, so the oldest is the one closest to its end anyway, and insertion order
 * needs no bookkeeping on the hot path. Every key that leaves is zeroed.
 */
export class BoundedKeyCache<E extends CachedKey> {
  private readonly entries = new Map<string, E>();

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): E | undefined {
    return this.entries.get(id);
  }

  set(id: string, entry: E): void {
    const previous = this.entries.get(id);
    if (previous && previous !== entry) this.remove(id, previous);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.remove(oldest.value[0], oldest.value[1]);
    }
    this.entries.set(id, entry);
  }

  /** Removes and zeroes `entry` if it is still the one cached under `id`; zeroes it regardless. */
  delete(id: string, entry: E): void {
    if (this.entries.get(id) === entry) this.entries.delete(id);
    entry.zero();
  }

  /** Removes and zeroes every entry `expired` selects. */
  sweep(expired: (entry: E, id: string) => boolean): void {
    for (const [id, entry] of this.entries) if (expired(entry, id)) this.remove(id, entry);
  }

  clear(): void {
    for (const [id, entry] of this.entries) this.remove(id, entry);
  }

  private remove(id: string, entry: E): void {
    this.entries.delete(id);
    entry.zero();
  }
}

abstract class HeldKey implements CachedKey {
  private zeroed = false;

  constructor(
    readonly key: Buffer,
    readonly createdAt: number,
  ) {}

  get retired(): boolean {
    return this.zeroed;
  }

  zero(): void {
    this.zeroed = true;
    this.key.fill(0);
  }
}

/**
 * A data key used for encryption, with what the envelope needs besides it (its header and the
 * AAD, both fixed for the key's life) and how much it has been used, against its bounds.
 */
export class EncryptionKey extends HeldKey {
  messages = 0;
  bytes = 0;

  constructor(
    key: Buffer,
    createdAt: number,
    readonly bounds: Pick<DataKeyCacheBounds, 'maxAgeMs' | 'maxMessages' | 'maxBytes'>,
    /** The envelope header, up to and excluding the iv. */
    readonly header: Buffer,
    /** The header followed by the encoded encryption context. */
    readonly aad: Buffer,
    /** The KMS key that wrapped it, to forget a subject's keys by name. */
    readonly keyName: string,
    /** Which named key or subject it was fetched for. */
    readonly target: string,
  ) {
    super(key, createdAt);
  }

  /**
   * Counts one more record of `length` bytes against the key, if the key may still take it.
   * Callers encrypt synchronously right after a successful reservation, so a key zeroed later
   * has already been copied into the cipher.
   */
  reserve(length: number, now: number): boolean {
    if (this.retired) return false;
    // A key fetched for a record always takes that record, however short its age bound: a
    // bound shorter than a KMS round trip must not make the caller fetch keys forever.
    if (this.messages > 0 && now - this.createdAt >= this.bounds.maxAgeMs) return false;
    if (this.messages + 1 > this.bounds.maxMessages || this.bytes + length > this.bounds.maxBytes)
      return false;
    this.messages += 1;
    this.bytes += length;
    return true;
  }
}

/** An unwrapped data key kept for decryption until `maxAgeMs` after it was unwrapped. */
export class DecryptionKey extends HeldKey {
  constructor(
    key: Buffer,
    createdAt: number,
    readonly maxAgeMs: number,
    readonly keyName: string,
  ) {
    super(key, createdAt);
  }

  usable(now: number): boolean {
    return !this.retired && now - this.createdAt < this.maxAgeMs;
  }
}
