import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface KeyRow {
  name: string;
  purpose: 'ENCRYPT_DECRYPT';
  primary_version: number;
  min_decryption_version: number;
}

export interface KeyVersionRow {
  version: number;
  state: 'ENABLED' | 'DISABLED' | 'DESTROY_SCHEDULED' | 'DESTROYED';
  wrapped_material: Buffer | null;
  created_at: Date;
}

/** The only place that builds queries on keys and their versions. */
@Injectable()
export class KeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async find(
    name: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<KeyRow | undefined> {
    const rows = await manager.query<KeyRow[]>(
      `SELECT name, purpose, primary_version, min_decryption_version FROM keys WHERE name = $1`,
      [name],
    );
    return rows[0];
  }

  /** The key row locked for the rest of the transaction: rotations of one key are serialised. */
  async lock(transaction: EntityManager, name: string): Promise<KeyRow | undefined> {
    const rows = await transaction.query<KeyRow[]>(
      `SELECT name, purpose, primary_version, min_decryption_version FROM keys WHERE name = $1 FOR UPDATE`,
      [name],
    );
    return rows[0];
  }

  async versions(name: string): Promise<KeyVersionRow[]> {
    return this.dataSource.query<KeyVersionRow[]>(
      `SELECT version, state, NULL AS wrapped_material, created_at FROM key_versions WHERE key_name = $1 ORDER BY version`,
      [name],
    );
  }

  async version(name: string, version: number): Promise<KeyVersionRow | undefined> {
    const rows = await this.dataSource.query<KeyVersionRow[]>(
      `SELECT version, state, wrapped_material, created_at FROM key_versions WHERE key_name = $1 AND version = $2`,
      [name, version],
    );
    return rows[0];
  }

  /** Inserts the key with its first version; false when the name is taken. */
  async create(
    transaction: EntityManager,
    name: string,
    purpose: string,
    wrapped: Buffer,
    wrappedBy: string,
  ): Promise<boolean> {
    const inserted = await transaction.query<unknown[]>(
      `INSERT INTO keys (name, purpose, primary_version) VALUES ($1, $2, 1) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [name, purpose],
    );
    if (inserted.length === 0) return false;
    await this.addVersion(transaction, name, 1, wrapped, wrappedBy);
    return true;
  }

  async addVersion(
    transaction: EntityManager,
    name: string,
    version: number,
    wrapped: Buffer,
    /** The id of the root key that wrapped it (root rotation rewraps the others). */
    wrappedBy: string,
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO key_versions (key_name, version, state, wrapped_material, wrapped_by) VALUES ($1, $2, 'ENABLED', $3, $4)`,
      [name, version, wrapped, wrappedBy],
    );
  }

  async setPrimary(transaction: EntityManager, name: string, version: number): Promise<void> {
    await transaction.query(`UPDATE keys SET primary_version = $2 WHERE name = $1`, [
      name,
      version,
    ]);
  }
}
