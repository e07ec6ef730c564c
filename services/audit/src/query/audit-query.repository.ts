import type { EntityManager } from 'typeorm';
import type { EventsQuery } from './events-query.js';
import type { RecordLine, TombstoneLine } from '../export/export-file.js';

/** A page's row as stored: the record's text is parsed, the hashes are hex. */
export interface StoredEvent {
  sequence: number;
  previousHash: string;
  hash: string;
  record: Record<string, unknown>;
}

/**
 * The identifiers a query compares with: the value as given, and its pseudonym (ADR 0024). The
 * given value still matches identifiers stored in clear: clients, workloads, services, records
 * written before pseudonymisation or in development without a KMS.
 */
export interface FilterPseudonyms {
  actor?: string;
  subject?: string;
}

/**
 * The query of `GET /audit/v1/events`: only the conditions of the filters given, every value a
 * bound parameter, in sequence order. Every filter is an indexed column (migrations
 * 1765400000000 and 1765900000000), each index ending in `sequence`, the order of the answer.
 */
export async function queryAuditRecords(
  db: Pick<EntityManager, 'query'>,
  query: EventsQuery,
  limit: number,
  pseudonyms: FilterPseudonyms = {},
): Promise<StoredEvent[]> {
  // Tombstones (pruned records, ADR 0025) have nothing left to match or show.
  const conditions: string[] = ['record IS NOT NULL'];
  const parameters: unknown[] = [];
  const bind = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  if (query.after !== undefined) conditions.push(`sequence > ${bind(query.after)}::bigint`);
  if (query.from !== undefined) conditions.push(`occurred_at >= ${bind(query.from)}::timestamptz`);
  if (query.to !== undefined) conditions.push(`occurred_at < ${bind(query.to)}::timestamptz`);
  const either = (value: string, pseudonym: string | undefined) =>
    bind(pseudonym === undefined ? [value] : [value, pseudonym]);
  if (query.subject !== undefined) {
    conditions.push(`subject = ANY(${either(query.subject, pseudonyms.subject)}::text[])`);
  }
  if (query.service !== undefined) conditions.push(`service = ${bind(query.service)}`);
  if (query.class !== undefined) conditions.push(`class_uid = ${bind(query.class)}`);
  if (query.outcome !== undefined) {
    conditions.push(`status_id = ${bind(query.outcome === 'success' ? 1 : 2)}`);
  }
  if (query.actor !== undefined) {
    const actor = bind(query.actor);
    const person = either(query.actor, pseudonyms.actor);
    conditions.push(
      `(actor_user = ANY(${person}::text[]) OR actor_app_uid = ${actor} OR actor_app_name = ${actor})`,
    );
  }
  const where = `WHERE ${conditions.join(' AND ')}`;
  const rows = await db.query<
    { sequence: string; record: string; previous_hash: Buffer; hash: Buffer }[]
  >(
    `SELECT sequence, record, previous_hash, hash FROM audit_records ${where}
      ORDER BY sequence LIMIT ${bind(limit)}`,
    parameters,
  );
  return rows.map((row) => ({
    sequence: Number(row.sequence),
    previousHash: row.previous_hash.toString('hex'),
    hash: row.hash.toString('hex'),
    record: JSON.parse(row.record) as Record<string, unknown>,
  }));
}

/** A line of an export: a record, or the tombstone of a pruned one (`export-file.ts`). */
export type ExportedLine = RecordLine | TombstoneLine;

/** Up to `limit` records after `after`, tombstones included, as export lines. */
export async function readExportLines(
  db: Pick<EntityManager, 'query'>,
  after: number,
  limit: number,
): Promise<ExportedLine[]> {
  const rows = await db.query<
    {
      sequence: string;
      record: string | null;
      previous_hash: Buffer;
      hash: Buffer;
      leaf_hash: Buffer | null;
      archive_id: string | null;
      pruned_at: Date | null;
    }[]
  >(
    `SELECT sequence, record, previous_hash, hash, leaf_hash, archive_id, pruned_at
       FROM audit_records WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
    [after, limit],
  );
  return rows.map((row) => {
    const link = {
      sequence: Number(row.sequence),
      previousHash: row.previous_hash.toString('hex'),
      hash: row.hash.toString('hex'),
    };
    return row.record === null
      ? {
          ...link,
          leafHash: row.leaf_hash!.toString('hex'),
          pruned: { archive: row.archive_id!, at: row.pruned_at!.toISOString() },
        }
      : { ...link, record: JSON.parse(row.record) as Record<string, unknown> };
  });
}
