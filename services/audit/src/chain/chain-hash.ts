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
 * Whether `text` is the RFC 8785 canonical JSON of `value` (which `text` parsed to), several
 * times faster than canonicalising again for the records a verifier reads by the million.
 * `JSON.stringify` writes strings and numbers exactly as JCS does and keys in the object's own
 * order, which for parsed JSON is the text's order; so a text that round-trips, with every
 * object's keys in UTF-16 code unit order (JavaScript's string comparison), is canonical. The
 * rest takes the full canonicalisation: integer-like keys (V8 puts them first, so the round
 * trip differs even for a canonical text) and escaped lone surrogates (which JCS refuses).
 */
export function isCanonicalText(text: string, value: unknown): boolean {
  if (JSON.stringify(value) === text && keysInOrder(value) && !LONE_SURROGATE.test(text)) {
    return true;
  }
  try {
    return canonicalJson(value) === text;
  } catch {
    return false;
  }
}

/**
 * `canonicalJson` of a value parsed from JSON, through `JSON.stringify` when that already is the
 * canonical form (keys in order, as in a record the log wrote): a file verifier's shortcut.
 */
export function canonicalJsonOfParsed(value: unknown): string {
  const text = JSON.stringify(value);
  return isCanonicalText(text, value) ? text : canonicalJson(value);
}

/** `JSON.stringify` escapes a lone surrogate as `\ud800`-`\udfff`, in lower case. */
const LONE_SURROGATE = /\\ud[89a-f]/;

function keysInOrder(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysInOrder);
  if (value === null || typeof value !== 'object') return true;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!keysInOrder((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * The hash of a chain entry: SHA-256 over the UTF-8 bytes of the JCS canonical JSON of
 * `{ sequence, previousHash, record }`, with `previousHash` as lower-case hex and `record` the
 * normalised record itself (an object, not its text). Returns 32 bytes.
 */
export function entryHash(sequence: number, previousHash: string, record: unknown): Buffer {
  return entryHashOfCanonical(sequence, previousHash, canonicalJson(record));
}

/**
 * `entryHash` of a record already in canonical JSON (`recordJson`), without canonicalising it
 * again: the appender has the text it stores, the verifier the text it read.
 */
export function entryHashOfCanonical(
  sequence: number,
  previousHash: string,
  recordJson: string,
): Buffer {
  return createHash('sha256')
    .update(entryText(sequence, previousHash, recordJson), 'utf8')
    .digest();
}

/**
 * The canonical JSON of `{ sequence, previousHash, record }` given the record's canonical JSON:
 * JCS sorts the three keys as previousHash, record, sequence, a hex string needs no escaping and
 * a safe integer prints as JavaScript prints it, so the entry is the three parts put together.
 * What the chain hash and the Merkle leaf are computed over.
 */
export function entryText(sequence: number, previousHash: string, recordJson: string): string {
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    throw new RangeError(`not a chain sequence number: ${sequence}`);
  }
  if (!HEX_HASH.test(previousHash)) {
    throw new RangeError('previousHash must be 64 lower-case hex digits');
  }
  return `{"previousHash":"${previousHash}","record":${recordJson},"sequence":${sequence}}`;
}

const HEX_HASH = /^[0-9a-f]{64}$/;
