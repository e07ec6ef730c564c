import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { assertPrivateFile } from '@rampart/platform';

export const ROOT_KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * The root of trust: every key version at rest is wrapped by it (AES-256-GCM), bound to what it
 * protects (a key name and version) as associated data, so a wrapped value copied under another
 * name or version does not unwrap.
 *
 * Every implementation produces the same layout, `iv (12) | tag (16) | ciphertext`, and the same
 * `id` for the same key material: a key moved from a file into an HSM keeps its id and its rows.
 */
export abstract class RootKey {
  /** A stable fingerprint of the key (never the key): recorded beside every value it wraps. */
  abstract readonly id: string;
  abstract wrap(material: Buffer, binding: string): Promise<Buffer>;
  /** Throws when the value was not wrapped by this key under this binding, or was altered. */
  abstract unwrap(wrapped: Buffer, binding: string): Promise<Buffer>;
  /** Releases what the key holds open (an HSM session); the key is unusable afterwards. */
  async close(): Promise<void> {}

  /** A root key read from a file of exactly 32 random bytes that only its owner may read. */
  static fromFile(path: string): Promise<RootKey> {
    return FileRootKey.open(path);
  }
}

/**
 * What the fingerprint encrypts: one zero block under an all-zero IV, with its own associated
 * data. Wrapping uses random 96-bit IVs, so the fixed IV meets real data with probability 2^-96;
 * the hash keeps even this block's keystream out of sight. Computable inside an HSM, where the key
 * cannot be read.
 */
export const FINGERPRINT_IV = Buffer.alloc(IV_BYTES);
export const FINGERPRINT_BLOCK = Buffer.alloc(16);
export const FINGERPRINT_AAD = Buffer.from('rampart.kms.root-key-fingerprint', 'utf8');

/** The id of a root key from its encryption of the fingerprint block (ciphertext | tag). */
export function fingerprintFrom(sealedBlock: Buffer): string {
  return `root-${createHash('sha256').update(sealedBlock).digest('hex').slice(0, 16)}`;
}

/** A root key held in memory, read once from a mounted secret. */
export class FileRootKey extends RootKey {
  readonly id: string;

  private constructor(private readonly key: KeyObject) {
    super();
    const cipher = createCipheriv('aes-256-gcm', key, FINGERPRINT_IV).setAAD(FINGERPRINT_AAD);
    this.id = fingerprintFrom(
      Buffer.concat([cipher.update(FINGERPRINT_BLOCK), cipher.final(), cipher.getAuthTag()]),
    );
  }

  static async open(path: string): Promise<FileRootKey> {
    await assertPrivateFile(path);
    const bytes = await readFile(path);
    try {
      if (bytes.length !== ROOT_KEY_BYTES) {
        throw new Error(
          `${path} must hold exactly ${ROOT_KEY_BYTES} random bytes (it holds ${bytes.length})`,
        );
      }
      return new FileRootKey(createSecretKey(bytes));
    } finally {
      bytes.fill(0);
    }
  }

  /** iv | tag | ciphertext */
  wrap(material: Buffer, binding: string): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(binding, 'utf8'));
    const sealed = Buffer.concat([cipher.update(material), cipher.final()]);
    return Promise.resolve(Buffer.concat([iv, cipher.getAuthTag(), sealed]));
  }

  unwrap(wrapped: Buffer, binding: string): Promise<Buffer> {
    // A throwing executor rejects: a refused value surfaces as a rejected promise, as from an HSM.
    return new Promise((resolve) => {
      // Node's GCM would accept a short tag; a truncated value is refused outright.
      if (wrapped.length < IV_BYTES + TAG_BYTES) throw new Error('wrapped value too short');
      const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(binding, 'utf8'))
        .setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      resolve(
        Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]),
      );
    });
  }
}

/** What a key version's material is bound to when wrapped. */
export function versionBinding(name: string, version: number): string {
  return `rampart.kms.key-version:${name}:${version}`;
}
