import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  entryHash,
  canonicalJsonOfParsed,
  entryHashOfCanonical,
  GENESIS_HASH,
  isCanonicalText,
} from './chain-hash.js';

describe('chain hash', () => {
  it('canonicalises as RFC 8785 does: sorted keys, no whitespace, ECMAScript numbers', () => {
    // From RFC 8785 section 3.2.2 (key order) and 3.2.2.3 (numbers).
    expect(
      canonicalJson({ b: [1e30, 4.5, 0.002, 1e-27], a: 'é\n', '\u20ac': true, '1': null }),
    ).toBe('{"1":null,"a":"é\\n","b":[1e+30,4.5,0.002,1e-27],"€":true}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ s: '\ud800' })).toThrow();
  });

  it('is SHA-256 over the canonical JSON of { sequence, previousHash, record }', () => {
    const record = { time: 1, class_uid: 6003, metadata: { uid: 'e-1' } };
    const expected = createHash('sha256')
      .update(
        `{"previousHash":"${GENESIS_HASH}","record":{"class_uid":6003,"metadata":{"uid":"e-1"},"time":1},"sequence":1}`,
      )
      .digest('hex');
    expect(entryHash(1, GENESIS_HASH, record).toString('hex')).toBe(expected);
    // Key order in the input does not matter; every other change does.
    expect(
      entryHash(1, GENESIS_HASH, { metadata: { uid: 'e-1' }, class_uid: 6003, time: 1 }),
    ).toEqual(entryHash(1, GENESIS_HASH, record));
    expect(entryHash(2, GENESIS_HASH, record)).not.toEqual(entryHash(1, GENESIS_HASH, record));
    expect(entryHash(1, 'f'.repeat(64), record)).not.toEqual(entryHash(1, GENESIS_HASH, record));
    expect(entryHash(1, GENESIS_HASH, { ...record, time: 2 })).not.toEqual(
      entryHash(1, GENESIS_HASH, record),
    );
  });

  it('hashes a record given as canonical text exactly as the record itself', () => {
    const records = [
      { time: 1, class_uid: 6003, metadata: { uid: 'e-1' } },
      { z: [{ b: 1, a: 'x"\\\u2028' }], '10': 1, '9': -0.5, '': null, é: '\u0000' },
    ];
    for (const record of records) {
      for (const sequence of [1, 42, Number.MAX_SAFE_INTEGER]) {
        const previous = sequence === 1 ? GENESIS_HASH : 'ab'.repeat(32);
        const generic = createHash('sha256')
          .update(canonicalJson({ sequence, previousHash: previous, record }), 'utf8')
          .digest();
        expect(entryHashOfCanonical(sequence, previous, canonicalJson(record))).toEqual(generic);
        expect(entryHash(sequence, previous, record)).toEqual(generic);
      }
    }
  });

  it('tells a canonical record text from any other text of the same record', () => {
    const records: unknown[] = [
      { time: 1, class_uid: 6003, metadata: { uid: 'e-1', list: [3, { b: 1, a: 2 }] } },
      { '10': 1, '9': -0.5, '': null, a: 'x"\\\u2028é', z: 1e21, y: 0.1 },
      [{ b: 1, a: 2 }, 'x'],
    ];
    for (const record of records) {
      const canonical = canonicalJson(record);
      expect(isCanonicalText(canonical, JSON.parse(canonical))).toBe(true);
      const reordered = JSON.stringify(record);
      if (reordered !== canonical) {
        expect(isCanonicalText(reordered, JSON.parse(reordered))).toBe(false);
      }
      const spaced = JSON.stringify(record, null, 1);
      expect(isCanonicalText(spaced, JSON.parse(spaced))).toBe(false);
    }
    for (const record of records) {
      expect(canonicalJsonOfParsed(JSON.parse(JSON.stringify(record)))).toBe(canonicalJson(record));
    }
    // Same value, other spelling: an escaped character, an exponent, a trailing zero.
    expect(isCanonicalText('{"a":"\\u0061"}', { a: 'a' })).toBe(false);
    expect(isCanonicalText('{"a":1E2}', { a: 100 })).toBe(false);
    expect(isCanonicalText('{"a":1.0}', { a: 1 })).toBe(false);
    // A lone surrogate has no canonical form at all.
    const lone = '{"s":"\\ud800"}';
    expect(isCanonicalText(lone, JSON.parse(lone))).toBe(false);
  });

  it('refuses a sequence or previous hash a verifier could not reproduce', () => {
    expect(() => entryHash(0, GENESIS_HASH, {})).toThrow(RangeError);
    expect(() => entryHash(1.5, GENESIS_HASH, {})).toThrow(RangeError);
    expect(() => entryHash(1, GENESIS_HASH.toUpperCase().replace(/0/g, 'A'), {})).toThrow(
      RangeError,
    );
    expect(() => entryHash(1, 'ab', {})).toThrow(RangeError);
  });
});
