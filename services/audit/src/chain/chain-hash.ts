import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The `previousHash` of the first record: 32 zero bytes, in hex. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * RFC 8785 (JCS) canonical JSON of a value. Refuses what JSON cannot carry faithfully (NaN,
 * Infinity, lone surrogates), so a record is never hashed in a form a verifier cannot reproduce.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/**
 * The hash of a chain entry: SHA-256 over the UTF-8 bytes of the JCS canonical JSON of
 * `{ sequence, previousHash, record }`, with `previousHash` as lower-case hex and `record` the
 * normalised record itself (an object, not its text). Returns 32 bytes.
 */
export function entryHash(sequence: number, previousHash: string, record: unknown): Buffer {
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    throw new RangeError(`not a chain sequence number: ${sequence}`);
  }
  if (!/^[0-9a-f]{64}$/.test(previousHash)) {
    throw new RangeError('previousHash must be 64 lower-case hex digits');
  }
  return createHash('sha256')
    .update(canonicalJson({ sequence, previousHash, record }), 'utf8')
    .digest();
}
