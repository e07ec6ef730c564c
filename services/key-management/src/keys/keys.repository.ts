import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Algorithm, Purpose } from './key-algorithms.js';

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROY_SCHEDULED' | 'DESTROYED';

export interface KeyRow {
  name: string;
  key_ring: string;
  purpose: Purpose;
  algorithm: Algorithm;
  primary_version: number;
  min_decryption_version: number;
  rotation_period_seconds: number | null;
  next_rotation_at: Date | null;
  destruction_waiting_days: number;
  subject_tenant: string | null;
  created_at: Date;
}

export interface KeyVersionRow {
  key_name: string;
  version: number;
  state: VersionState;
  wrapped_material: Buffer | null;
  public_key: Buffer | null;
  destroy_at: Date | null;
  destroyed_at: Date | null;
  created_at: Date;
}

export interface NewKey {
  name: string;
  keyRing: string;
  purpose: Purpose;
  algorithm: Algorithm;
  rotationPeriodSeconds: number | null;
  destructionWaitingDays: number;
  subjectTenant: string | null;
}

const KEY_COLUMNS = `name, key_ring, purpose, algorithm, primary_version, min_decryption_version,
  rotation_period_seconds, next_rotation_at, destruction_waiting_days, subject_tenant, created_at`;
const VERSION_COLUMNS = `key_name, version, state, wrapped_material, public_key, destroy_at,
  destroyed_at, created_at`;

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
    const rows = await manager.query<KeyRow[]>(`SELECT ${KEY_COLUMNS} FROM keys WHERE name = $1`, [
      name,
    ]);
    return rows[0];
  }

  /** Keys of a ring in name order, a page at a time (`after`: the last name of the previous page). */
  async list(keyRing: string, after: string, limit: number): Promise<KeyRow[]> {
    return this.dataSource.query<KeyRow[]>(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE key_ring = $1 AND name > $2 ORDER BY name LIMIT $3`,
      [keyRing, after, limit],
    );
  }

  /** The key row locked for the rest of the transaction: changes to one key are serialised. */
  async lock(transaction: EntityManager, name: string): Promise<KeyRow | undefined> {
    const rows = await transaction.query<KeyRow[]>(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE name = $1 FOR UPDATE`,
      [name],
    );
    return rows[0];
  }

  async versions(name: string, manager: EntityManager = this.dataSource.manager) {
    return manager.query<KeyVersionRow[]>(
      `SELECT ${VERSION_COLUMNS} FROM key_versions WHERE key_name = $1 ORDER BY version`,
      [name],
    );
  }

  async version(name: string, version: number): Promise<KeyVersionRow | undefined> {
    const rows = await this.dataSource.query<KeyVersionRow[]>(
      `SELECT ${VERSION_COLUMNS} FROM key_versions WHERE key_name = $1 AND version = $2`,
      [name, version],
    );
    return rows[0];
  }

  /** Inserts the key (without versions); false when the name is taken. */
  async create(transaction: EntityManager, key: NewKey): Promise<boolean> {
    const inserted = await transaction.query<unknown[]>(
      `INSERT INTO keys (name, key_ring, purpose, algorithm, primary_version, rotation_period_seconds,
         next_rotation_at, destruction_waiting_days, subject_tenant)
       VALUES ($1, $2, $3, $4, 1, $5::int, now() + make_interval(secs => $5::int), $6, $7)
       ON CONFLICT (name) DO NOTHING RETURNING name`,
      [
        key.name,
        key.keyRing,
        key.purpose,
        key.algorithm,
        key.rotationPeriodSeconds,
        key.destructionWaitingDays,
        key.subjectTenant,
      ],
    );
    return inserted.length > 0;
  }

  async addVersion(
    transaction: EntityManager,
    name: string,
    version: number,
    /** `wrappedBy`: the id of the root key that wrapped `wrapped` (root rotation rewraps the others). */
    material: { wrapped: Buffer | null; publicKey: Buffer | null; wrappedBy?: string | null },
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO key_versions (key_name, version, state, wrapped_material, public_key, wrapped_by)
       VALUES ($1, $2, 'ENABLED', $3, $4, $5)`,
      [name, version, material.wrapped, material.publicKey, material.wrappedBy ?? null],
    );
  }

  /** Makes `version` primary and, for keys rotated on a schedule, sets the next rotation. */
  async setPrimary(transaction: EntityManager, name: string, version: number): Promise<void> {
    await transaction.query(
      `UPDATE keys SET primary_version = $2,
         next_rotation_at = now() + make_interval(secs => rotation_period_seconds)
       WHERE name = $1`,
      [name, version],
    );
  }

  async update(
    transaction: EntityManager,
    name: string,
    changes: {
      minDecryptionVersion?: number | undefined;
      rotationPeriodSeconds?: number | null | undefined;
      destructionWaitingDays?: number | undefined;
    },
  ): Promise<void> {
    await transaction.query(
      `UPDATE keys SET
         min_decryption_version = COALESCE($2, min_decryption_version),
         rotation_period_seconds = CASE WHEN $3 THEN $4::int ELSE rotation_period_seconds END,
         next_rotation_at = CASE WHEN $3 THEN now() + make_interval(secs => $4::int) ELSE next_rotation_at END,
         destruction_waiting_days = COALESCE($5, destruction_waiting_days)
       WHERE name = $1`,
      [
        name,
        changes.minDecryptionVersion ?? null,
        changes.rotationPeriodSeconds !== undefined,
        changes.rotationPeriodSeconds ?? null,
        changes.destructionWaitingDays ?? null,
      ],
    );
  }

  async setState(
    transaction: EntityManager,
    name: string,
    version: number,
    state: 'ENABLED' | 'DISABLED',
  ): Promise<void> {
    await transaction.query(
      `UPDATE key_versions SET state = $3 WHERE key_name = $1 AND version = $2`,
      [name, version, state],
    );
  }

  /** Schedules versions for destruction at `destroyAt`, remembering their state for a cancel. */
  async scheduleDestruction(
    transaction: EntityManager,
    name: string,
    versions: number[],
    destroyAt: Date,
  ): Promise<void> {
    await transaction.query(
      `UPDATE key_versions SET state_before_destruction = state, state = 'DESTROY_SCHEDULED',
         destroy_at = $3
       WHERE key_name = $1 AND version = ANY($2::int[])`,
      [name, versions, destroyAt],
    );
  }

  async cancelDestruction(transaction: EntityManager, name: string, versions: number[]) {
    await transaction.query(
      `UPDATE key_versions SET state = state_before_destruction, state_before_destruction = NULL,
         destroy_at = NULL
       WHERE key_name = $1 AND version = ANY($2::int[]) AND state = 'DESTROY_SCHEDULED'`,
      [name, versions],
    );
  }

  /** Erasure without waiting (an erasure request): the material is gone when this commits. */
  async destroyNow(transaction: EntityManager, name: string, versions: number[]): Promise<void> {
    await transaction.query(
      `UPDATE key_versions SET state = 'DESTROYED', wrapped_material = NULL,
         state_before_destruction = NULL, destroy_at = NULL, destroyed_at = now()
       WHERE key_name = $1 AND version = ANY($2::int[]) AND state <> 'DESTROYED'`,
      [name, versions],
    );
  }

  /** Erases the material of versions whose waiting period is over; returns what it destroyed. */
  async destroyDue(transaction: EntityManager, limit: number) {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected count].
    const [rows] = await transaction.query<[{ key_name: string; version: number }[], number]>(
      `WITH due AS (
         SELECT key_name, version FROM key_versions
         WHERE state = 'DESTROY_SCHEDULED' AND destroy_at <= now()
         ORDER BY destroy_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE key_versions v SET state = 'DESTROYED', wrapped_material = NULL,
         state_before_destruction = NULL, destroy_at = NULL, destroyed_at = now()
       FROM due
       WHERE v.key_name = due.key_name AND v.version = due.version
       RETURNING v.key_name, v.version`,
      [limit],
    );
    return rows;
  }

  /** Keys whose scheduled rotation is due, locked so that one replica rotates each. */
  async dueRotations(transaction: EntityManager, limit: number): Promise<KeyRow[]> {
    return transaction.query<KeyRow[]>(
      // WRAP keys are rotated by their recipient; a key whose primary version is disabled or
      // going to be destroyed is being retired, and must not come back to life with a new version.
      `SELECT ${KEY_COLUMNS} FROM keys k WHERE next_rotation_at <= now() AND purpose <> 'WRAP'
         AND EXISTS (SELECT 1 FROM key_versions v WHERE v.key_name = k.name
                     AND v.version = k.primary_version AND v.state = 'ENABLED')
       ORDER BY next_rotation_at LIMIT $1 FOR UPDATE OF k SKIP LOCKED`,
      [limit],
    );
  }
}
