import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Ciphertext names its key and version, so decryption needs no other input:
 *   "RK" 0x01 | name length (1 byte) | name (UTF-8) | version (u32, big-endian) | iv (12) |
 *   AES-256-GCM ciphertext | tag (16)
 * The header up to and including the iv is authenticated together with the caller's associated
 * data, so changing the named key or version makes decryption fail.
 */
const MAGIC = Buffer.from([0x52, 0x4b, 0x01]);
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CiphertextHeader {
  name: string;
  version: number;
}

export class MalformedCiphertextError extends Error {}

function header(name: string, version: number, iv: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const versionBytes = Buffer.alloc(4);
  versionBytes.writeUInt32BE(version);
  return Buffer.concat([MAGIC, Buffer.from([nameBytes.length]), nameBytes, versionBytes, iv]);
}

function aad(head: Buffer, associatedData: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, associatedData]);
}

/** Fresh random IVs for `count` seals, drawn at once: one CSPRNG call instead of one per item. */
export function freshIvs(count: number): Buffer[] {
  const bytes = randomBytes(IV_BYTES * count);
  return Array.from({ length: count }, (_, index) =>
    bytes.subarray(index * IV_BYTES, (index + 1) * IV_BYTES),
  );
}

export function seal(
  key: KeyObject,
  target: CiphertextHeader,
  plaintext: Buffer,
  associatedData: Buffer,
  iv: Buffer = randomBytes(IV_BYTES),
): Buffer {
  const head = header(target.name, target.version, iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(head, associatedData));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([head, sealed, cipher.getAuthTag()]);
}

/** Reads the header without decrypting: which key version to fetch. */
export function parseHeader(ciphertext: Buffer): CiphertextHeader & { headerLength: number } {
  if (ciphertext.length < MAGIC.length + 1 || !ciphertext.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new MalformedCiphertextError('not a Rampart ciphertext');
  }
  const nameLength = ciphertext[MAGIC.length]!;
  const nameEnd = MAGIC.length + 1 + nameLength;
  const headerLength = nameEnd + 4 + IV_BYTES;
  if (ciphertext.length < headerLength + TAG_BYTES)
    throw new MalformedCiphertextError('truncated ciphertext');
  const version = ciphertext.readUInt32BE(nameEnd);
  // Versions start at 1 and are stored as PostgreSQL integers.
  if (version < 1 || version > 0x7fffffff) throw new MalformedCiphertextError('no such version');
  return {
    name: ciphertext.subarray(MAGIC.length + 1, nameEnd).toString('utf8'),
    version,
    headerLength,
  };
}

/** Throws on any authentication failure; callers turn every failure into one answer. */
export function open(key: KeyObject, ciphertext: Buffer, associatedData: Buffer): Buffer {
  const { headerLength } = parseHeader(ciphertext);
  const head = ciphertext.subarray(0, headerLength);
  const iv = head.subarray(headerLength - IV_BYTES);
  const body = ciphertext.subarray(headerLength, ciphertext.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv)
    .setAAD(aad(head, associatedData))
    .setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
  return Buffer.concat([decipher.update(body), decipher.final()]);
}
