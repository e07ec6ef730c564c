import { textArrayFromJson } from '@rampart/platform';
import type { EntityManager } from 'typeorm';
import {
  recordColumns,
  type AuditRecord,
  type ChainEntry,
  type RecordColumns,
} from './audit-record.js';

/**
 * A row of `audit_records` as the verifier reads it: its indexed columns and its chain link. A
 * tombstone (ADR 0025) has no record and no subject, and keeps its Merkle leaf hash instead.
 */
export interface StoredRecord extends ChainEntry, Omit<RecordColumns, 'subject'> {
  subject: string | null;
  /** Set on tombstones only: the leaf hash the pruned record had. */
  leafHash: Buffer | null;
  /** Set on tombstones only: the archive that holds the pruned record. */
  archiveId: string | null;
}

/** A record with its place in the chain, ready to insert. */
export interface ChainedRecord {
  sequence: number;
  record: AuditRecord;
  recordJson: string;
  previousHash: Buffer;
  hash: Buffer;
}

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

/**
 * Keys of the transaction-level advisory lock that serialises appends across replicas. The
 * two-integer form lives apart from the single-key space the outbox relay's leadership lock uses.
 */
const CHAIN_LOCK = [0x61756469, 0x63686e31] as const; // "audi", "chn1"

/** The only place that builds queries on `audit_records`. */
export const auditChainRepository = {
  /** Blocks until no other transaction may append; released at commit or rollback. */
  async lockForAppend(transaction: Queryable): Promise<void> {
    await transaction.query(`SELECT pg_advisory_xact_lock($1, $2)`, [...CHAIN_LOCK]);
  },

  async head(transaction: Queryable): Promise<{ sequence: number; hash: Buffer } | undefined> {
    const rows = await transaction.query<{ sequence: string; hash: Buffer }[]>(
      `SELECT sequence, hash FROM audit_records ORDER BY sequence DESC LIMIT 1`,
    );
    const row = rows[0];
    return row ? { sequence: Number(row.sequence), hash: row.hash } : undefined;
  },

  async existingEventIds(transaction: Queryable, eventIds: string[]): Promise<Set<string>> {
    const rows = await transaction.query<{ event_id: string }[]>(
      `SELECT event_id FROM audit_records WHERE event_id = ANY($1::text[])`,
      [eventIds],
    );
    return new Set(rows.map((row) => row.event_id));
  },

  async insert(transaction: Queryable, records: ChainedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const columns = records.map((entry) => recordColumns(entry.record));
    await transaction.query(
      `INSERT INTO audit_records
         (sequence, event_id, event_type, service, subject, occurred_at, recorded_at, record,
          previous_hash, hash, class_uid, status_id, actor_user, actor_app_uid, actor_app_name)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                            $6::timestamptz[], $7::timestamptz[], ${textArrayFromJson('$8')},
                            $9::bytea[], $10::bytea[],
                            $11::integer[], $12::smallint[], $13::text[], $14::text[], $15::text[])`,
      [
        records.map((entry) => entry.sequence),
        columns.map((column) => column.eventId),
        columns.map((column) => column.eventType),
        columns.map((column) => column.service),
        columns.map((column) => column.subject),
        columns.map((column) => column.occurredAt.toISOString()),
        columns.map((column) => column.recordedAt.toISOString()),
        // The longest column, as one JSON array: see textArrayFromJson.
        JSON.stringify(records.map((entry) => entry.recordJson)),
        records.map((entry) => entry.previousHash),
        records.map((entry) => entry.hash),
        columns.map((column) => column.classUid),
        columns.map((column) => column.statusId),
        columns.map((column) => column.actorUser),
        columns.map((column) => column.actorAppUid),
        columns.map((column) => column.actorAppName),
      ],
    );
  },

  /**
   * Up to `limit` records after `afterSequence` (from the very first when null, so a row slipped
   * in below sequence 1 is read too), in sequence order.
   */
  async readAfter(
    db: Queryable,
    afterSequence: number | null,
    limit: number,
  ): Promise<StoredRecord[]> {
    const rows = await db.query<
      {
        sequence: string;
        event_id: string;
        event_type: string;
        service: string;
        subject: string | null;
        occurred_at: Date;
        recorded_at: Date;
        record: string | null;
        previous_hash: Buffer;
        hash: Buffer;
        class_uid: number | null;
        status_id: number | null;
        actor_user: string | null;
        actor_app_uid: string | null;
        actor_app_name: string | null;
        leaf_hash: Buffer | null;
        archive_id: string | null;
      }[]
    >(
      `SELECT sequence, event_id, event_type, service, subject, occurred_at, recorded_at, record,
              previous_hash, hash, class_uid, status_id, actor_user, actor_app_uid, actor_app_name,
              leaf_hash, archive_id
         FROM audit_records WHERE $1::bigint IS NULL OR sequence > $1 ORDER BY sequence LIMIT $2`,
      [afterSequence, limit],
    );
    return rows.map((row) => ({
      sequence: Number(row.sequence),
      eventId: row.event_id,
      eventType: row.event_type,
      service: row.service,
      subject: row.subject,
      occurredAt: row.occurred_at,
      recordedAt: row.recorded_at,
      record: row.record,
      previousHash: row.previous_hash,
      hash: row.hash,
      // NaN never equals the record's value: a row that lost its class fails the column check.
      classUid: row.class_uid ?? Number.NaN,
      statusId: row.status_id,
      actorUser: row.actor_user,
      actorAppUid: row.actor_app_uid,
      actorAppName: row.actor_app_name,
      leafHash: row.leaf_hash,
      archiveId: row.archive_id,
    }));
  },
};
