import type { EntityManager } from 'typeorm';
import type { AuditEventView, EventsQuery } from './events-query.js';

/**
 * The query of `GET /audit/v1/events`: only the conditions of the filters given, every value a
 * bound parameter, in sequence order. Every filter is an indexed column (migrations
 * 1765400000000 and 1765900000000), each index ending in `sequence`, the order of the answer.
 */
export async function queryAuditRecords(
  db: Pick<EntityManager, 'query'>,
  query: EventsQuery,
  limit: number,
): Promise<AuditEventView[]> {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const bind = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  if (query.after !== undefined) conditions.push(`sequence > ${bind(query.after)}::bigint`);
  if (query.from !== undefined) conditions.push(`occurred_at >= ${bind(query.from)}::timestamptz`);
  if (query.to !== undefined) conditions.push(`occurred_at < ${bind(query.to)}::timestamptz`);
  if (query.subject !== undefined) conditions.push(`subject = ${bind(query.subject)}`);
  if (query.service !== undefined) conditions.push(`service = ${bind(query.service)}`);
  if (query.class !== undefined) conditions.push(`class_uid = ${bind(query.class)}`);
  if (query.outcome !== undefined) {
    conditions.push(`status_id = ${bind(query.outcome === 'success' ? 1 : 2)}`);
  }
  if (query.actor !== undefined) {
    const actor = bind(query.actor);
    conditions.push(
      `(actor_user = ${actor} OR actor_app_uid = ${actor} OR actor_app_name = ${actor})`,
    );
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
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
