import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PublicWrapJwk, WrappedKey } from './dto/sharing.dto.js';

export interface WrapKeyRow {
  user_id: string;
  public_jwk: PublicWrapJwk;
  fingerprint: string;
  updated_at: Date;
}

export interface SharedObjectRow {
  id: string;
  owner: string;
  version: number;
  ciphertext: Buffer;
  updated_at: Date;
}

/** A wrapped key as stored: with the fingerprint of the WRAP key it was made for. */
export type StoredWrappedKey = WrappedKey & { fingerprint: string };

/** The only place that builds queries on WRAP keys, shared objects and their wrapped keys. */
@Injectable()
export class SharingRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async putWrapKey(user: string, jwk: PublicWrapJwk, fingerprint: string): Promise<WrapKeyRow> {
    const rows = await this.dataSource.query<WrapKeyRow[]>(
      `INSERT INTO wrap_keys (user_id, public_jwk, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE
         SET public_jwk = excluded.public_jwk, fingerprint = excluded.fingerprint, updated_at = now()
       RETURNING user_id, public_jwk, fingerprint, updated_at`,
      [user, JSON.stringify(jwk), fingerprint],
    );
    return rows[0]!;
  }

  async wrapKey(user: string): Promise<WrapKeyRow | undefined> {
    const rows = await this.dataSource.query<WrapKeyRow[]>(
      `SELECT user_id, public_jwk, fingerprint, updated_at FROM wrap_keys WHERE user_id = $1`,
      [user],
    );
    return rows[0];
  }

  /** Current fingerprints of these users' WRAP keys; users without one are absent. */
  async fingerprints(transaction: EntityManager, users: string[]): Promise<Map<string, string>> {
    const rows = await transaction.query<{ user_id: string; fingerprint: string }[]>(
      `SELECT user_id, fingerprint FROM wrap_keys WHERE user_id = ANY($1)`,
      [users],
    );
    return new Map(rows.map((row) => [row.user_id, row.fingerprint]));
  }

  /** False when the id is taken. */
  async createObject(
    transaction: EntityManager,
    object: { id: string; owner: string; ciphertext: Buffer },
  ): Promise<boolean> {
    const inserted = await transaction.query<unknown[]>(
      `INSERT INTO shared_objects (id, owner, ciphertext) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [object.id, object.owner, object.ciphertext],
    );
    return inserted.length === 1;
  }

  /**
   * The object with the caller's wrapped key, only if the caller is one of its readers: the
   * query cannot return an object to someone it was not shared with.
   */
  async objectFor(
    reader: string,
    id: string,
  ): Promise<(SharedObjectRow & { jwe: string }) | undefined> {
    const rows = await this.dataSource.query<(SharedObjectRow & { jwe: string })[]>(
      `SELECT o.id, o.owner, o.version, o.ciphertext, o.updated_at, k.jwe
         FROM shared_objects o JOIN shared_object_keys k ON k.object_id = o.id
        WHERE o.id = $1 AND k.recipient = $2`,
      [id, reader],
    );
    return rows[0];
  }

  /** The object locked for the rest of the transaction: shares and revocations are serialised. */
  async lockObject(transaction: EntityManager, id: string): Promise<SharedObjectRow | undefined> {
    const rows = await transaction.query<SharedObjectRow[]>(
      `SELECT id, owner, version, ciphertext, updated_at FROM shared_objects WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  async readers(id: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows = await manager.query<{ recipient: string }[]>(
      `SELECT recipient FROM shared_object_keys WHERE object_id = $1 ORDER BY recipient`,
      [id],
    );
    return rows.map((row) => row.recipient);
  }

  async addWrappedKeys(
    transaction: EntityManager,
    id: string,
    keys: StoredWrappedKey[],
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO shared_object_keys (object_id, recipient, jwe, key_fingerprint)
       SELECT $1, recipient, jwe, fingerprint
         FROM unnest($2::text[], $3::text[], $4::text[]) AS k (recipient, jwe, fingerprint)`,
      [
        id,
        keys.map((key) => key.recipient),
        keys.map((key) => key.jwe),
        keys.map((key) => key.fingerprint),
      ],
    );
  }

  /** New content under a new data key: every previous wrapped key goes, the given ones replace them. */
  async replaceContent(
    transaction: EntityManager,
    id: string,
    ciphertext: Buffer,
    keys: StoredWrappedKey[],
  ): Promise<SharedObjectRow> {
    await transaction.query(`DELETE FROM shared_object_keys WHERE object_id = $1`, [id]);
    await this.addWrappedKeys(transaction, id, keys);
    // TypeORM answers an UPDATE with [rows, count].
    const [rows] = await transaction.query<[SharedObjectRow[], number]>(
      `UPDATE shared_objects SET ciphertext = $2, version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING id, owner, version, ciphertext, updated_at`,
      [id, ciphertext],
    );
    return rows[0]!;
  }
}
