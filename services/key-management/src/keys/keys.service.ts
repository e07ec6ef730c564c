import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RampartError } from '@rampart/platform';
import { freshIvs, MalformedCiphertextError, open, parseHeader, seal } from './ciphertext.js';
import {
  macMessage,
  signMessage,
  verifyMac,
  verifySignature,
  type Purpose,
  type SigningAlgorithm,
} from './key-algorithms.js';
import { KeyMaterial } from './key-material.js';
import {
  decryptionFailed,
  versionNotFound,
  versionUnavailable,
  wrongPurpose,
} from './keys.errors.js';
import type { KeyRow } from './keys.repository.js';

export interface Ciphertext {
  ciphertext: Buffer;
  keyVersion: number;
}

/** One item of a batch: its result, or the problem it met (the other items still go through). */
export type BatchResult<T> = T | { error: { code: string; detail: string } };

/**
 * The cryptographic operations on keys. Material never leaves this service, except data keys
 * from generateDataKey, which exist to be handed out.
 */
@Injectable()
export class KeysService {
  constructor(private readonly material: KeyMaterial) {}

  async encrypt(name: string, plaintext: Buffer, associatedData: Buffer): Promise<Ciphertext> {
    const key = await this.keyFor(name, 'ENCRYPT_DECRYPT', 'encrypt');
    const { version, secret } = await this.primary(key);
    return {
      ciphertext: seal(secret!, { name, version }, plaintext, associatedData),
      keyVersion: version,
    };
  }

  async decrypt(
    name: string,
    ciphertext: Buffer,
    associatedData: Buffer,
  ): Promise<{ plaintext: Buffer; keyVersion: number }> {
    let header: { name: string; version: number };
    try {
      header = parseHeader(ciphertext);
    } catch (error) {
      if (error instanceof MalformedCiphertextError) throw decryptionFailed();
      throw error;
    }
    // A ciphertext of another key is refused exactly like a tampered one.
    if (header.name !== name) throw decryptionFailed();
    const key = await this.keyFor(name, 'ENCRYPT_DECRYPT', 'decrypt');
    if (header.version < key.min_decryption_version) {
      throw versionUnavailable(name, header.version, 'below the minimum decryption version');
    }
    const { secret } = await this.material.version(key, header.version, decryptionFailed);
    try {
      return { plaintext: open(secret!, ciphertext, associatedData), keyVersion: header.version };
    } catch {
      throw decryptionFailed();
    }
  }

  /** Encrypts many plaintexts with the primary version, resolving the key once for all of them. */
  async encryptMany(
    name: string,
    items: readonly { plaintext: Buffer; associatedData: Buffer }[],
  ): Promise<Ciphertext[]> {
    const key = await this.keyFor(name, 'ENCRYPT_DECRYPT', 'encrypt');
    const { version, secret } = await this.primary(key);
    const ivs = freshIvs(items.length);
    return items.map((item, index) => ({
      ciphertext: seal(secret!, { name, version }, item.plaintext, item.associatedData, ivs[index]),
      keyVersion: version,
    }));
  }

  /**
   * Re-encrypts under the primary version without the plaintext leaving the service: after a
   * rotation, callers move their stored ciphertext forward with this.
   */
  async rewrap(name: string, ciphertext: Buffer, associatedData: Buffer): Promise<Ciphertext> {
    const { plaintext } = await this.decrypt(name, ciphertext, associatedData);
    try {
      return await this.encrypt(name, plaintext, associatedData);
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * A fresh 256-bit data key for envelope encryption: its plaintext for the caller to encrypt
   * locally with, and the same key encrypted under this key to store beside the data.
   */
  async generateDataKey(
    name: string,
    associatedData: Buffer,
  ): Promise<Ciphertext & { plaintext: Buffer }> {
    const plaintext = randomBytes(32);
    return { plaintext, ...(await this.encrypt(name, plaintext, associatedData)) };
  }

  async sign(name: string, message: Buffer): Promise<{ signature: Buffer; keyVersion: number }> {
    const key = await this.keyFor(name, 'SIGN_VERIFY', 'sign');
    const { version, secret } = await this.primary(key);
    return {
      signature: await signMessage(key.algorithm as SigningAlgorithm, secret!, message),
      keyVersion: version,
    };
  }

  /** Verifies with the given version, or the primary one. A disabled or destroyed version refuses. */
  async verify(
    name: string,
    message: Buffer,
    signature: Buffer,
    keyVersion?: number,
  ): Promise<{ valid: boolean; keyVersion: number }> {
    const key = await this.keyFor(name, 'SIGN_VERIFY', 'verify');
    const { version, publicKey } = await this.chosen(key, keyVersion);
    return {
      valid: await verifySignature(
        key.algorithm as SigningAlgorithm,
        publicKey!,
        message,
        signature,
      ),
      keyVersion: version,
    };
  }

  async mac(name: string, message: Buffer): Promise<{ mac: Buffer; keyVersion: number }> {
    const key = await this.keyFor(name, 'MAC', 'mac');
    const { version, secret } = await this.primary(key);
    return { mac: macMessage(secret!, message), keyVersion: version };
  }

  async verifyMac(
    name: string,
    message: Buffer,
    mac: Buffer,
    keyVersion?: number,
  ): Promise<{ valid: boolean; keyVersion: number }> {
    const key = await this.keyFor(name, 'MAC', 'verifyMac');
    const { version, secret } = await this.chosen(key, keyVersion);
    return { valid: verifyMac(secret!, message, mac), keyVersion: version };
  }

  /**
   * Runs `operation` on every item; an item's failure becomes its result (with the same stable
   * code the single call would answer), so one bad ciphertext does not sink the batch.
   */
  async batch<I, T>(
    items: readonly I[],
    operation: (item: I, index: number) => Promise<T>,
  ): Promise<BatchResult<T>[]> {
    return Promise.all(
      items.map((item, index) =>
        operation(item, index).catch((error: unknown): BatchResult<T> => {
          if (error instanceof RampartError && error.expose) {
            return { error: { code: error.code, detail: error.message } };
          }
          throw error;
        }),
      ),
    );
  }

  private async keyFor(name: string, purpose: Purpose, operation: string): Promise<KeyRow> {
    const key = await this.material.key(name);
    if (key.purpose !== purpose) throw wrongPurpose(name, key.purpose, operation);
    return key;
  }

  private primary(key: KeyRow) {
    return this.material.version(key, key.primary_version, () =>
      versionNotFound(key.name, key.primary_version),
    );
  }

  private chosen(key: KeyRow, version: number | undefined) {
    const wanted = version ?? key.primary_version;
    return this.material.version(key, wanted, () => versionNotFound(key.name, wanted));
  }
}
