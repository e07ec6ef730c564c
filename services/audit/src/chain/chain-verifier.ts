import type { DataSource, EntityManager } from 'typeorm';
import { auditChainRepository, type StoredRecord } from './audit-chain.repository.js';
import { recordColumns, type AuditRecord } from './audit-record.js';
import { entryHashOfCanonical, GENESIS_HASH, isCanonicalText } from './chain-hash.js';

/** What went wrong first, as far as the chain can tell (docs/architecture/audit.md). */
export type ChainProblem = 'modified' | 'deleted' | 'reordered' | 'inserted';

export type VerifyResult =
  | { valid: true; records: number; head: string }
  | { valid: false; firstBadSequence: number; problem: ChainProblem };

export interface VerifyOptions {
  /** Records read per query; memory stays bounded by it however long the chain (default 1,000). */
  batchSize?: number;
  /**
   * Told after each batch how many records are checked of how many the snapshot holds (the count
   * costs one query, made only when this is given).
   */
  onProgress?: (checked: number, total: number) => void;
}

/** The stored record text as JSON, or undefined when it is not JSON at all. */
function parsed(row: StoredRecord): unknown {
  try {
    return JSON.parse(row.record) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The hash the row should have with `sequence`, or undefined when it cannot be computed. Over the
 * stored text as it is: whether that text is the record's canonical form is `consistent`'s check.
 */
function hashAt(row: StoredRecord, record: unknown, sequence: number): Buffer | undefined {
  if (record === undefined || row.previousHash.length !== 32 || sequence < 1) return undefined;
  try {
    return entryHashOfCanonical(sequence, row.previousHash.toString('hex'), row.record);
  } catch {
    return undefined;
  }
}

/** The record text is canonical JSON, and the indexed columns say what the hashed record says. */
function consistent(row: StoredRecord, record: unknown): boolean {
  try {
    if (!isCanonicalText(row.record, record)) return false;
    const columns = recordColumns(record as AuditRecord);
    return (
      columns.eventId === row.eventId &&
      columns.eventType === row.eventType &&
      columns.service === row.service &&
      columns.subject === row.subject &&
      columns.occurredAt.getTime() === row.occurredAt.getTime() &&
      columns.recordedAt.getTime() === row.recordedAt.getTime() &&
      columns.classUid === row.classUid &&
      columns.statusId === row.statusId &&
      columns.actorUser === row.actorUser &&
      columns.actorAppUid === row.actorAppUid &&
      columns.actorAppName === row.actorAppName
    );
  } catch {
    return false;
  }
}

/**
 * Walks the whole chain in sequence order, a batch at a time, in one read-only snapshot, and
 * checks every record: its sequence number is the next one, its `previousHash` is the hash of the
 * record before it (64 zeros for the first), its hash recomputes from its own content, and its
 * columns match its record. The first failure is classified by what the surrounding hashes show:
 *
 * - `deleted`: a sequence number is missing, or the record's hash only recomputes with the next
 *   number (records after a deletion were renumbered down).
 * - `reordered`: the record points back to the record that comes right after it.
 * - `inserted`: the record points back past its predecessor, to the one before: the predecessor
 *   was slipped in (reported at the predecessor's sequence). A number below 1 is an insertion too.
 * - `modified`: anything else, i.e. a record whose content no longer matches its hash, or whose
 *   hash was recomputed so that its successor no longer links to it (reported at that record).
 *
 * Not detectable by a chain alone: removing records from the end, or rewriting a record and every
 * record after it. Comparing `head` with one noted earlier catches both; signed checkpoints will.
 */
export async function verifyChain(
  dataSource: DataSource,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const batchSize = options.batchSize ?? 1_000;
  return dataSource.transaction('REPEATABLE READ', async (transaction) => {
    await transaction.query('SET TRANSACTION READ ONLY');
    let progress: ((checked: number) => void) | undefined;
    if (options.onProgress) {
      const report = options.onProgress;
      const [{ total }] = await transaction.query<[{ total: string }]>(
        'SELECT count(*) AS total FROM audit_records',
      );
      progress = (checked) => report(checked, Number(total));
    }
    return walk(transaction, batchSize, progress);
  });
}

async function walk(
  transaction: EntityManager,
  batchSize: number,
  progress?: (checked: number) => void,
): Promise<VerifyResult> {
  let buffer: StoredRecord[] = [];
  let index = 0;
  let after: number | null = null;
  let exhausted = false;
  /** The next batch, asked for as soon as the current one arrived: read while this is checked. */
  let readAhead: Promise<StoredRecord[]> | undefined;
  const pull = async (): Promise<StoredRecord | undefined> => {
    if (index >= buffer.length) {
      if (exhausted) return undefined;
      progress?.(expected - 1);
      buffer = await (readAhead ?? auditChainRepository.readAfter(transaction, after, batchSize));
      index = 0;
      exhausted = buffer.length < batchSize;
      const last = buffer.at(-1);
      if (!last) return undefined;
      after = last.sequence;
      readAhead = exhausted
        ? undefined
        : auditChainRepository.readAfter(transaction, after, batchSize);
      // Awaited on the next pull; if the walk stops first, its failure must not go unhandled.
      readAhead?.catch(() => undefined);
    }
    return buffer[index++];
  };

  let expected = 1;
  let previous = GENESIS_HASH;
  /** The hash of the record before `previous` (genesis counts), for spotting an insertion. */
  let beforePrevious: string | null = null;
  const bad = (firstBadSequence: number, problem: ChainProblem): VerifyResult => ({
    valid: false,
    firstBadSequence,
    problem,
  });

  let row = await pull();
  while (row) {
    const next = await pull();
    if (row.sequence < expected) return bad(row.sequence, 'inserted');
    if (row.sequence > expected) return bad(expected, 'deleted');
    const pointsTo = row.previousHash.toString('hex');
    const record = parsed(row);
    const selfOk = hashAt(row, record, row.sequence)?.equals(row.hash) ?? false;
    if (pointsTo === previous) {
      if (!selfOk || !consistent(row, record)) return bad(expected, 'modified');
    } else {
      if (next && row.previousHash.equals(next.hash)) return bad(expected, 'reordered');
      if (beforePrevious !== null && pointsTo === beforePrevious) {
        return bad(expected - 1, 'inserted');
      }
      if (!selfOk && hashAt(row, record, row.sequence + 1)?.equals(row.hash)) {
        return bad(expected, 'deleted');
      }
      return bad(selfOk && expected > 1 ? expected - 1 : expected, 'modified');
    }
    beforePrevious = previous;
    previous = row.hash.toString('hex');
    expected += 1;
    row = next;
  }
  progress?.(expected - 1);
  return { valid: true, records: expected - 1, head: previous };
}
