import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { KeyPolicyBinding } from './key-policy.js';

export interface KeyPolicyRow {
  bindings: KeyPolicyBinding[];
  version: number;
  updated_by: string;
  updated_at: Date;
}

/** A ring's own policy is stored under the empty key name. */
const RING = '';

/** The only place that builds queries on key policies. */
@Injectable()
export class KeyPoliciesRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async find(ring: string, key: string | undefined): Promise<KeyPolicyRow | undefined> {
    const rows = await this.dataSource.query<KeyPolicyRow[]>(
      `SELECT bindings, version, updated_by, updated_at FROM key_policies WHERE key_ring = $1 AND key_name = $2`,
      [ring, key ?? RING],
    );
    return rows[0];
  }

  /**
   * Replaces the policy if its version is still `expected` (any version when undefined; 0 means
   * "no policy yet"), as one compare-and-set statement. Returns the new version, or undefined when
   * the stored policy moved on.
   */
  async replace(
    transaction: EntityManager,
    target: { ring: string; key?: string | undefined },
    bindings: KeyPolicyBinding[],
    expected: number | undefined,
    updatedBy: string,
  ): Promise<{ version: number; updatedAt: Date } | undefined> {
    const rows = await transaction.query<{ version: number; updated_at: Date; created: boolean }[]>(
      `INSERT INTO key_policies AS stored (key_ring, key_name, bindings, version, updated_by)
       VALUES ($1, $2, $3::jsonb, 1, $4)
       ON CONFLICT (key_ring, key_name) DO UPDATE
          SET bindings = EXCLUDED.bindings, version = stored.version + 1,
              updated_by = EXCLUDED.updated_by, updated_at = now()
        WHERE $5::int IS NULL OR stored.version = $5::int
       RETURNING version, updated_at, (xmax = 0) AS created`,
      [target.ring, target.key ?? RING, JSON.stringify(bindings), updatedBy, expected ?? null],
    );
    const row = rows[0];
    if (!row) return undefined;
    // Inserted although the caller based the change on an existing version: that one is gone.
    if (row.created && expected !== undefined && expected !== 0) return undefined;
    return { version: row.version, updatedAt: row.updated_at };
  }
}
