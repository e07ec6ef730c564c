import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RootKey, versionBinding } from '../root-of-trust/root-key.js';
import { importPublic, importSecret } from './key-algorithms.js';
import { keyDestroyed, keyNotFound, versionUnavailable } from './keys.errors.js';
import { KeysRepository, type KeyRow, type KeyVersionRow } from './keys.repository.js';

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

export interface UsableVersion {
  version: number;
  /** The unwrapped secret or private key; absent for WRAP keys, whose private half is the recipient's. */
  secret: KeyObject | undefined;
  publicKey: KeyObject | undefined;
}

/**
 * Key and version rows on the hot path, and version material unwrapped by the root key, cached
 * within the bounds above. Every operation asks here, so a version's state is checked on every call.
 */
@Injectable()
export class KeyMaterial {
  private readonly unwrapped = new Map<string, UsableVersion>();
  private readonly rows = new RowCache();

  constructor(
    private readonly keys: KeysRepository,
    private readonly rootKey: RootKey,
  ) {}

  async key(name: string): Promise<KeyRow> {
    const key = await this.rows.get(`key:${name}`, () => this.keys.find(name));
    if (!key) throw keyNotFound(name);
    return key;
  }

  /** The version if it exists and is enabled (its state at most ROW_TTL_MS old); `missing` otherwise. */
  async version(key: KeyRow, version: number, missing: () => Error): Promise<UsableVersion> {
    const row = await this.rows.get(`version:${key.name}:${version}`, () =>
      this.keys.version(key.name, version),
    );
    if (!row) throw missing();
    const id = `${key.name}:${version}`;
    if (row.state !== 'ENABLED') {
      this.unwrapped.delete(id);
      throw row.state === 'DESTROYED'
        ? keyDestroyed(key.name, version)
        : versionUnavailable(key.name, version, row.state);
    }
    const cached = this.unwrapped.get(id);
    if (cached) return cached;
    const usable = await this.unwrap(key, row);
    if (this.unwrapped.size >= CACHE_LIMIT) {
      const oldest = this.unwrapped.keys().next();
      if (!oldest.done) this.unwrapped.delete(oldest.value);
    }
    this.unwrapped.set(id, usable);
    return usable;
  }

  /** After a change by this instance: the next call reads the rows again. */
  forget(name: string, versions: readonly number[] = []): void {
    this.rows.forget(`key:${name}`);
    for (const version of versions) {
      this.rows.forget(`version:${name}:${version}`);
      this.unwrapped.delete(`${name}:${version}`);
    }
  }

  private async unwrap(key: KeyRow, row: KeyVersionRow): Promise<UsableVersion> {
    let secret: KeyObject | undefined;
    if (row.wrapped_material) {
      const bytes = await this.rootKey.unwrap(
        row.wrapped_material,
        versionBinding(key.name, row.version),
      );
      secret = importSecret(key.algorithm, bytes);
      bytes.fill(0);
    }
    return {
      version: row.version,
      secret,
      publicKey: row.public_key ? importPublic(row.public_key) : undefined,
    };
  }
}
