/** A JSON value as stored in a record: what canonical JSON can carry. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One normalised audit record, shaped after OCSF 1.3 (docs/architecture/audit.md, "Record
 * format"). The fields below are the ones the chain relies on; the mapping adds the rest.
 */
export interface AuditRecord {
  [key: string]: unknown;
  class_uid: number;
  /** When the event happened: epoch milliseconds, from the event's `time`. */
  time: number;
  target: { uid: string; type: string };
  metadata: {
    [key: string]: unknown;
    /** The original event's id: a record exists once per event. */
    uid: string;
    /** The original event's type, e.g. `rampart.identity.login.failed`. */
    event_code: string;
    product: { name: string; vendor_name: string };
    /** When the audit service appended the record: epoch milliseconds. */
    logged_time: number;
  };
}

/** The indexed columns of `audit_records`, every one of them taken from the hashed record. */
export interface RecordColumns {
  eventId: string;
  eventType: string;
  service: string;
  subject: string;
  occurredAt: Date;
  recordedAt: Date;
  /** The query API's filters, as columns so that an insert parses no JSON (migration 1765900000000). */
  classUid: number;
  statusId: number | null;
  actorUser: string | null;
  actorAppUid: string | null;
  actorAppName: string | null;
}

/** A string field of the record, or null when absent or not a string. */
function textAt(value: unknown, ...path: string[]): string | null {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return null;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' ? current : null;
}

export function recordColumns(record: AuditRecord): RecordColumns {
  return {
    eventId: record.metadata.uid,
    eventType: record.metadata.event_code,
    service: record.metadata.product.name,
    subject: record.target.uid,
    occurredAt: new Date(record.time),
    recordedAt: new Date(record.metadata.logged_time),
    classUid: record.class_uid,
    statusId: typeof record['status_id'] === 'number' ? record['status_id'] : null,
    actorUser: textAt(record, 'actor', 'user', 'uid'),
    actorAppUid: textAt(record, 'actor', 'app_uid'),
    actorAppName: textAt(record, 'actor', 'app_name'),
  };
}

/** One link of the chain as a verifier sees it, read from the database or from a file. */
export interface ChainEntry {
  sequence: number;
  previousHash: Buffer;
  hash: Buffer;
  /**
   * The record's canonical JSON, exactly the text that was hashed; null for a tombstone, a
   * record pruned after it was archived (ADR 0025).
   */
  record: string | null;
}
