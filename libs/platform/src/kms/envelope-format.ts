import { DATA_PROTECTION, dataCategoryById, type DataCategory } from '@rampart/contracts';

/**
 * Envelope format, version 1 (ADR 0014). All integers big-endian.
 *
 *   "RE" | 0x01 | category id (1) | key kind (1) | key name length (1) | key name (UTF-8) |
 *   key version (u32) | wrapped data key length (u16) | wrapped data key |   <- header
 *   iv (12) | AES-256-GCM ciphertext | tag (16)
 *
 * The header is authenticated as AAD together with the caller's encryption context, so changing
 * the category, the key it names or the wrapped key makes decryption fail. The iv is not part of
 * the AAD (GCM authenticates it anyway); leaving it out keeps the AAD the same for every record
 * sealed under one cached data key, so it is built once per data key instead of once per record.
 */
const MAGIC_0 = 0x52; // R
const MAGIC_1 = 0x45; // E
export const ENVELOPE_FORMAT_VERSION = 1;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Magic, version, category, kind and name length; the name follows. */
const FIXED_PREFIX = 6;

/** Which kind of KMS key wraps the data key. */
export const KEY_KIND = { named: 1, subject: 2 } as const;
export type KeyKind = keyof typeof KEY_KIND;

export interface EnvelopeHeader {
  category: DataCategory;
  keyKind: KeyKind;
  keyName: string;
  keyVersion: number;
  wrappedKey: Buffer;
}

export interface ParsedEnvelope extends EnvelopeHeader {
  /** The header bytes, authenticated as the first part of the AAD. */
  header: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Not an envelope this code can read; callers answer it like any other decryption failure. */
export class MalformedEnvelopeError extends Error {}

/** An encryption context (key-value pairs bound to the record, like the AWS Encryption SDK's). */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Upper bound on an encoded context: it travels to the KMS as associated data on every unwrap. */
const MAX_CONTEXT_BYTES = 8 * 1024;

export function encodeHeader(header: EnvelopeHeader): Buffer {
  const name = Buffer.from(header.keyName, 'utf8');
  if (name.length === 0 || name.length > 255)
    throw new RangeError('key names are 1 to 255 bytes long');
  if (header.wrappedKey.length > 0xffff) throw new RangeError('wrapped data key too long');
  const out = Buffer.alloc(FIXED_PREFIX + name.length + 4 + 2 + header.wrappedKey.length);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = ENVELOPE_FORMAT_VERSION;
  out[3] = DATA_PROTECTION[header.category].id;
  out[4] = KEY_KIND[header.keyKind];
  out[5] = name.length;
  name.copy(out, FIXED_PREFIX);
  let offset = FIXED_PREFIX + name.length;
  out.writeUInt32BE(header.keyVersion, offset);
  offset += 4;
  out.writeUInt16BE(header.wrappedKey.length, offset);
  header.wrappedKey.copy(out, offset + 2);
  return out;
}

/** Reads an envelope's structure without decrypting anything. */
export function parseEnvelope(envelope: Buffer): ParsedEnvelope {
  if (envelope.length < FIXED_PREFIX || envelope[0] !== MAGIC_0 || envelope[1] !== MAGIC_1)
    throw new MalformedEnvelopeError('not a Rampart envelope');
  if (envelope[2] !== ENVELOPE_FORMAT_VERSION)
    throw new MalformedEnvelopeError(`unknown envelope version ${envelope[2]}`);
  const category = dataCategoryById(envelope[3]!);
  if (!category) throw new MalformedEnvelopeError('unknown data category');
  const keyKind =
    envelope[4] === KEY_KIND.named
      ? 'named'
      : envelope[4] === KEY_KIND.subject
        ? 'subject'
        : undefined;
  if (!keyKind) throw new MalformedEnvelopeError('unknown key kind');
  const nameEnd = FIXED_PREFIX + envelope[5]!;
  if (envelope.length < nameEnd + 6) throw new MalformedEnvelopeError('truncated envelope');
  const keyVersion = envelope.readUInt32BE(nameEnd);
  const wrappedEnd = nameEnd + 6 + envelope.readUInt16BE(nameEnd + 4);
  if (envelope.length < wrappedEnd + IV_BYTES + TAG_BYTES)
    throw new MalformedEnvelopeError('truncated envelope');
  return {
    category,
    keyKind,
    keyName: envelope.toString('utf8', FIXED_PREFIX, nameEnd),
    keyVersion,
    wrappedKey: envelope.subarray(nameEnd + 6, wrappedEnd),
    header: envelope.subarray(0, wrappedEnd),
    iv: envelope.subarray(wrappedEnd, wrappedEnd + IV_BYTES),
    ciphertext: envelope.subarray(wrappedEnd + IV_BYTES, envelope.length - TAG_BYTES),
    tag: envelope.subarray(envelope.length - TAG_BYTES),
  };
}

/** The context's pairs sorted by key: the same context always gives the same bytes and cache id. */
export function canonicalContext(context: EncryptionContext): [string, string][] {
  return Object.keys(context)
    .sort()
    .map((key) => {
      const value = context[key];
      if (typeof value !== 'string')
        throw new TypeError(`encryption context value "${key}" must be a string`);
      return [key, value];
    });
}

/** count (u16), then per pair: key length (u16), key, value length (u16), value; UTF-8. */
export function encodeContext(pairs: readonly (readonly [string, string])[]): Buffer {
  let length = 2;
  for (const [key, value] of pairs)
    length += 4 + Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  if (length > MAX_CONTEXT_BYTES)
    throw new RangeError(`encryption context exceeds ${MAX_CONTEXT_BYTES} bytes`);
  // One allocation: this runs on every decryption, cached key or not.
  const encoded = Buffer.allocUnsafe(length);
  let offset = encoded.writeUInt16BE(pairs.length, 0);
  for (const [key, value] of pairs) {
    for (const text of [key, value]) {
      const written = encoded.write(text, offset + 2, 'utf8');
      encoded.writeUInt16BE(written, offset);
      offset += 2 + written;
    }
  }
  return encoded;
}

const WRAP_LABEL = Buffer.from('rampart.envelope.v1', 'utf8');

/**
 * Associated data the data key is wrapped with at the KMS: the category and the caller's context.
 * A wrapped key therefore unwraps only for the category and context it was made for, even before
 * the record's own tag is checked.
 */
export function wrapAssociatedData(category: DataCategory, encodedContext: Buffer): Buffer {
  return Buffer.concat([WRAP_LABEL, Buffer.from([DATA_PROTECTION[category].id]), encodedContext]);
}
