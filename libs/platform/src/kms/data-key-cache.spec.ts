import { describe, expect, it } from '@jest/globals';
import { BoundedKeyCache, DecryptionKey, EncryptionKey } from './data-key-cache.js';

const bounds = { maxAgeMs: 1_000, maxMessages: 2, maxBytes: 100 };
const encryptionKey = (createdAt = 0) =>
  new EncryptionKey(
    Buffer.alloc(32, 7),
    createdAt,
    bounds,
    Buffer.alloc(0),
    Buffer.alloc(0),
    'k',
    'key:k',
  );

describe('data-key cache', () => {
  it('lets a data key take records only within its bounds', () => {
    const key = encryptionKey();
    expect(key.reserve(60, 10)).toBe(true);
    expect(key.reserve(50, 10)).toBe(false); // 110 bytes
    expect(key.reserve(40, 10)).toBe(true);
    expect(key.reserve(0, 10)).toBe(false); // third record
    const old = encryptionKey();
    expect(old.reserve(1, 5_000)).toBe(true); // the record it was fetched for, however late
    expect(old.reserve(1, 5_000)).toBe(false); // too old for a second one
    const zeroed = encryptionKey();
    zeroed.zero();
    expect(zeroed.reserve(1, 0)).toBe(false);
  });

  it('zeroes keys it evicts, replaces, deletes, sweeps and clears', () => {
    const cache = new BoundedKeyCache<DecryptionKey>(2);
    const keys = Array.from(
      { length: 6 },
      (_, index) => new DecryptionKey(Buffer.alloc(32, 1), index, 100, 'k'),
    );
    cache.set('a', keys[0]!);
    cache.set('b', keys[1]!);
    cache.set('c', keys[2]!); // evicts "a", the oldest
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(keys[0]!.key.every((byte) => byte === 0)).toBe(true);
    expect(keys[0]!.retired).toBe(true);
    cache.set('b', keys[3]!); // replaces "b"
    expect(keys[1]!.retired).toBe(true);
    cache.delete('c', keys[2]!);
    expect(keys[2]!.retired).toBe(true);
    cache.set('d', keys[4]!);
    cache.sweep((entry) => entry === keys[4]);
    expect(keys[4]!.retired).toBe(true);
    expect(cache.get('b')).toBe(keys[3]);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(keys[3]!.key.every((byte) => byte === 0)).toBe(true);
    expect(keys[5]!.retired).toBe(false);
    expect(() => new BoundedKeyCache(0)).toThrow(RangeError);
  });

  it('keeps decryption keys for their age only', () => {
    const key = new DecryptionKey(Buffer.alloc(32, 1), 1_000, 50, 'k');
    expect(key.usable(1_049)).toBe(true);
    expect(key.usable(1_050)).toBe(false);
  });
});
