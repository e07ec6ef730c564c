import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { WrappedTable } from './wrapped-tables.js';

export interface WrappedRow {
  /** The row's key columns, by name. */
  key: Record<string, unknown>;
  wrapped: Buffer;
  wrappedBy: string | null;
}

export interface TableProgress {
  table: string;
  /** Values wrapped by the current root. */
  rewrapped: number;
  /** Values wrapped by another root (or by one not recorded), still to rewrap. */
  remaining: number;
}

/** How many values each root (by id; null: not recorded) wraps in a table. */
export type RootCounts = Map<string | null, number>;

const quote = (identifier: string) => `"${identifier}"`;

/** The only place that builds queries over the registered wrapped tables. */
@Injectable()
export class RootRotationRepository {
  constructor(private readonly dataSource: DataSource) {}

  async countByRoot(table: WrappedTable): Promise<RootCounts> {
    const rows = await this.dataSource.query<{ wrapped_by: string | null; count: number }[]>(
      `SELECT wrapped_by, count(*)::int AS count FROM ${quote(table.table)}
        WHERE ${quote(table.materialColumn)} IS NOT NULL GROUP BY wrapped_by`,
    );
    return new Map(rows.map((row) => [row.wrapped_by, row.count]));
  }

  /**
   * Tries to become the one replica that rotates, on the runner's session (released when the
   * session ends: a crashed leader frees the lock).
   */
  async tryLead(runner: QueryRunner, lock: string): Promise<boolean> {
    const rows = await runner.manager.query<{ leader: boolean }[]>(
      `SELECT pg_try_advisory_lock(hashtext($1)) AS leader`,
      [lock],
    );
    return rows[0]?.leader === true;
  }

  async resign(runner: QueryRunner, lock: string): Promise<void> {
    await runner.manager.query(`SELECT pg_advisory_unlock(hashtext($1))`, [lock]);
  }

  /**
   * The next rows after `after` (key order) not wrapped by `rootKeyId` but by one of `readable`
   * (or by an unrecorded root), locked until the batch commits. Rows another transaction holds (a
   * version being destroyed) are left for a later pass.
   */
  async lockBatch(
    transaction: EntityManager,
    table: WrappedTable,
    rootKeyId: string,
    readable: readonly string[],
    after: readonly unknown[] | undefined,
    limit: number,
  ): Promise<WrappedRow[]> {
    const keys = table.keyColumns.map(quote).join(', ');
    const cursor = after
      ? `AND (${keys}) > (${table.keyColumns.map((_, index) => `$${index + 4}`).join(', ')})`
      : '';
    const rows = await transaction.query<Record<string, unknown>[]>(
      `SELECT ${keys}, ${quote(table.materialColumn)} AS rampart_wrapped, wrapped_by AS rampart_wrapped_by
         FROM ${quote(table.table)}
        WHERE ${quote(table.materialColumn)} IS NOT NULL AND wrapped_by IS DISTINCT FROM $1
          AND (wrapped_by IS NULL OR wrapped_by = ANY($3::text[])) ${cursor}
        ORDER BY ${keys} LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [rootKeyId, limit, readable, ...(after ?? [])],
    );
    return rows.map((row) => ({
      key: Object.fromEntries(table.keyColumns.map((column) => [column, row[column]])),
      wrapped: row['rampart_wrapped'] as Buffer,
      wrappedBy: row['rampart_wrapped_by'] as string | null,
    }));
  }

  async store(
    transaction: EntityManager,
    table: WrappedTable,
    row: WrappedRow,
    wrapped: Buffer,
    rootKeyId: string,
  ): Promise<void> {
    const where = table.keyColumns
      .map((column, index) => `${quote(column)} = $${index + 3}`)
      .join(' AND ');
    await transaction.query(
      `UPDATE ${quote(table.table)} SET ${quote(table.materialColumn)} = $1, wrapped_by = $2 WHERE ${where}`,
      [wrapped, rootKeyId, ...table.keyColumns.map((column) => row.key[column])],
    );
  }

  runner(): QueryRunner {
    return this.dataSource.createQueryRunner();
  }
}
