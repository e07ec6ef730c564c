import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyEvents } from '@rampart/contracts';
import { Outbox } from '@rampart/platform';
import { RootKey, versionBinding } from '../root-of-trust/root-key.js';
import { MalformedCiphertextError, open, parseHeader, seal } from './ciphertext.js';
import type { KeyView } from './dto/keys.dto.js';
import { decryptionFailed, keyExists, keyNotFound, versionUnavailable } from './keys.errors.js';
import { KeysRepository, type KeyRow } from './keys.repository.js';

/** Unwrapped version keys kept in memory; versions never change their material, only their state. */
const CACHE_LIMIT = 1_000;

/**
 * How long a key or version row read on the hot path is reused. A change made by this instance
 * is seen at once; one made by another replica (a rotation, a disabled version) within this time.
 */
const ROW_TTL_MS = 1_000;

class RowCache {
  private readonly entries = new Map<string, { value: Promise<unknown>; until: number }>();

  get<T>(id: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(id);
    if (hit && hit.until > now) return hit.value as Promise<T>;
    if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
    const value = load();
    this.entries.set(id, { value, until: now + ROW_TTL_MS });
    // A failed load is not remembered.
    value.catch(() => this.entries.delete(id));
    return value;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}

@Injectable()
export class KeysService {
  private readonly material = new Map<string, KeyObject>();
  private readonly rows = new RowCache();

  constructor(
    private readonly keys: KeysRepository,
    private readonly rootKey: RootKey,
    private readonly outbox: Outbox,
  ) {}

  async create(name: string, purpose: 'ENCRYPT_DECRYPT', caller: string): Promise<KeyView> {
    const created = await this.keys.transaction(async (transaction) => {
      const wrapped = await this.rootKey.wrap(randomBytes(32), versionBinding(name, 1));
      if (!(await this.keys.create(transaction, name, purpose, wrapped, this.rootKey.id))) {
        return false;
      }
      await this.outbox.write(transaction, KeyEvents.created, {
        subject: name,
        data: { name, purpose, version: 1, caller },
      });
      return true;
    });
    if (!created) throw keyExists(name);
    this.rows.forget(`key:${name}`);
    return this.describe(name);
  }

  async describe(name: string): Promise<KeyView> {
    const key = await this.requireKey(name);
    const versions = await this.keys.versions(name);
    return {
      name: key.name,
      purpose: key.purpose,
      primaryVersion: key.primary_version,
      minDecryptionVersion: key.min_decryption_version,
      versions: versions.map((version) => ({
        version: version.version,
        state: version.state,
        createdAt: version.created_at.toISOString(),
      })),
    };
  }

  async rotate(name: string, caller: string): Promise<KeyView> {
    await this.keys.transaction(async (transaction) => {
      const key = await this.keys.lock(transaction, name);
      if (!key) throw keyNotFound(name);
      const version = key.primary_version + 1;
      await this.keys.addVersion(
        transaction,
        name,
        version,
        await this.rootKey.wrap(randomBytes(32), versionBinding(name, version)),
        this.rootKey.id,
      );
      await this.keys.setPrimary(transaction, name, version);
      await this.outbox.write(transaction, KeyEvents.rotated, {
        subject: name,
        data: { name, purpose: key.purpose, version, caller },
      });
    });
    this.rows.forget(`key:${name}`);
    return this.describe(name);
  }

  async encrypt(
    name: string,
    plaintext: Buffer,
    associatedData: Buffer,
  ): Promise<{ ciphertext: Buffer; keyVersion: number }> {
    const key = await this.requireKey(name);
    const material = await this.usableVersion(name, key.primary_version);
    return {
      ciphertext: seal(material, { name, version: key.primary_version }, plaintext, associatedData),
      keyVersion: key.primary_version,
    };
  }

  /**
   * Re-encrypts under the primary version without the plaintext leaving the service: after a
   * rotation, callers move their stored ciphertext forward with this.
   */
  async rewrap(
    name: string,
    ciphertext: Buffer,
    associatedData: Buffer,
  ): Promise<{ ciphertext: Buffer; keyVersion: number }> {
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
  ): Promise<{ plaintext: Buffer; ciphertext: Buffer; keyVersion: number }> {
    const plaintext = randomBytes(32);
    const { ciphertext, keyVersion } = await this.encrypt(name, plaintext, associatedData);
    return { plaintext, ciphertext, keyVersion };
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
    const key = await this.requireKey(name);
    if (header.version < key.min_decryption_version) {
      throw versionUnavailable(name, header.version, 'below the minimum decryption version');
    }
    const material = await this.usableVersion(name, header.version);
    try {
      return { plaintext: open(material, ciphertext, associatedData), keyVersion: header.version };
    } catch {
      throw decryptionFailed();
    }
  }

  private async requireKey(name: string): Promise<KeyRow> {
    const key = await this.rows.get(`key:${name}`, () => this.keys.find(name));
    if (!key) throw keyNotFound(name);
    return key;
  }

  /** The version's key, if the version exists and is enabled (its state at most ROW_TTL_MS old). */
  private async usableVersion(name: string, version: number): Promise<KeyObject> {
    const row = await this.rows.get(`version:${name}:${version}`, () =>
      this.keys.version(name, version),
    );
    if (!row) throw decryptionFailed();
    if (row.state !== 'ENABLED' || !row.wrapped_material)
      throw versionUnavailable(name, version, row.state);
    const id = `${name}:${version}`;
    let key = this.material.get(id);
    if (!key) {
      key = createSecretKey(
        await this.rootKey.unwrap(row.wrapped_material, versionBinding(name, version)),
      );
      if (this.material.size >= CACHE_LIMIT) {
        const oldest = this.material.keys().next();
        if (!oldest.done) this.material.delete(oldest.value);
      }
      this.material.set(id, key);
    }
    return key;
  }
}
