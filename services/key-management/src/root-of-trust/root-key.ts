import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { assertPrivateFile } from '@rampart/platform';

const ROOT_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The root of trust: every key version at rest is wrapped by it (AES-256-GCM), bound to its key
 * name and version as associated data, so a wrapped version copied under another name or version
 * does not unwrap. The key is read once from a file only its owner may read.
 */
export class RootKey {
  private constructor(private readonly key: KeyObject) {}

  static async fromFile(path: string): Promise<RootKey> {
    await assertPrivateFile(path);
    const bytes = await readFile(path);
    if (bytes.length !== ROOT_KEY_BYTES) {
      throw new Error(
        `${path} must hold exactly ${ROOT_KEY_BYTES} random bytes (it holds ${bytes.length})`,
      );
    }
    return new RootKey(createSecretKey(bytes));
  }

  /** iv | tag | ciphertext. Asynchronous because other roots of trust (an HSM) answer later. */
  // eslint-disable-next-line @typescript-eslint/require-await
  async wrap(material: Buffer, binding: string): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(binding, 'utf8'));
    const sealed = Buffer.concat([cipher.update(material), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async unwrap(wrapped: Buffer, binding: string): Promise<Buffer> {
    const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(0, IV_BYTES))
      .setAAD(Buffer.from(binding, 'utf8'))
      .setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
  }
}

/** What a key version's material is bound to when wrapped. */
export function versionBinding(name: string, version: number): string {
  return `rampart.kms.key-version:${name}:${version}`;
}
