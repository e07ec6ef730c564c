import type { DataSource, EntityManager } from 'typeorm';
import { auditChainRepository, type StoredRecord } from './audit-chain.repository.js';
import { recordColumns, type AuditRecord, type ChainEntry } from './audit-record.js';
import { entryHashOfCanonical, GENESIS_HASH, isCanonicalText } from './chain-hash.js';

/** What went wrong first, as far as the chain can tell (docs/architecture/audit.md). */
export type ChainProblem = 'modified' | 'deleted' | 'reordered' | 'inserted' | 'pruned-unarchived';

export type VerifyResult =
  | {
      valid: true;
      records: number;
      /** How many of them are tombstones: pruned after archiving (ADR 0025). */
      pruned: number;
      head: string;
    }
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

/** The record text as JSON, or undefined when it is not JSON at all. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The hash the entry should have with `sequence`, or undefined when it cannot be computed. Over the
 * record text as it is: whether that text is the record's canonical form is `canonical`'s check.
 */
function hashAt(entry: ChainEntry, record: unknown, sequence: number): Buffer | undefined {
  if (record === undefined || entry.record === null) return undefined;
  if (entry.previousHash.length !== 32 || sequence < 1) return undefined;
  try {
    return entryHashOfCanonical(sequence, entry.previousHash.toString('hex'), entry.record);
  } catch {
    return undefined;
  }
}

/** The record text is canonical JSON. */
function canonical(text: string, record: unknown): boolean {
  return isCanonicalText(text, record);
}

/** The indexed columns say what the hashed record says. */
function columnsAgree(row: StoredRecord, record: unknown): boolean {
  try {
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
    const archives = await archiveRanges(transaction);
    let buffer: StoredRecord[] = [];
    let index = 0;
    let after: number | null = null;
    let exhausted = false;
    let checked = 0;
    /** The next batch, asked for as soon as the current one arrived: read while this is checked. */
    let readAhead: Promise<StoredRecord[]> | undefined;
    return walkChain<StoredRecord>({
      async next() {
        if (index >= buffer.length) {
          if (exhausted) return undefined;
          progress?.(checked);
          buffer = await (readAhead ??
            auditChainRepository.readAfter(transaction, after, batchSize));
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
        checked += 1;
        return buffer[index++];
      },
      columnsAgree,
      // A tombstone counts only where a recorded archive holds the record it replaced.
      prunedOk: (row) => {
        const archive = row.archiveId === null ? undefined : archives.get(row.archiveId);
        return (
          archive !== undefined && archive.first <= row.sequence && row.sequence <= archive.last
        );
      },
      onDone: () => progress?.(checked),
    });
  });
}

/** The recorded archives' ranges by id (a short table: one row per retention run that archived). */
async function archiveRanges(
  transaction: EntityManager,
): Promise<Map<string, { first: number; last: number }>> {
  const rows = await transaction.query<{ id: string; first: string; last: string }[]>(
    `SELECT id, first_sequence AS first, last_sequence AS last FROM audit_archives`,
  );
  return new Map(rows.map((row) => [row.id, { first: Number(row.first), last: Number(row.last) }]));
}

/** Where the entries come from, and what the source can check beyond the hashes. */
export interface ChainSource<E extends ChainEntry> {
  next(): Promise<E | undefined>;
  /** Checks of the entry's own copies of record fields (the database's indexed columns). */
  columnsAgree?: (entry: E, record: unknown) => boolean;
  /** Whether a tombstone is accounted for (the database: an archive covering it is recorded). */
  prunedOk?: (entry: E) => boolean;
  /**
   * Where a partial copy (an export after some sequence) begins: its first entry's sequence and
   * the hash it links to, taken on trust here (a signed checkpoint's root vouches for it).
   */
  start?: { sequence: number; previousHash: string };
  onDone?: () => void;
}

/**
 * The chain check itself, over entries from any source, in the order the source gives them: see
 * `verifyChain` for what is checked and how a failure is classified. A tombstone (a pruned
 * record, `record` null) cannot be rehashed: it must link to its predecessor, and its successor
 * to its stored hash, which is what keeps the chain whole around it.
 */
export async function walkChain<E extends ChainEntry>(
  source: ChainSource<E>,
): Promise<VerifyResult> {
  let expected = source.start?.sequence ?? 1;
  let previous = source.start?.previousHash ?? GENESIS_HASH;
  /** The hash of the record before `previous` (genesis counts), for spotting an insertion. */
  let beforePrevious: string | null = null;
  let records = 0;
  let pruned = 0;
  const bad = (firstBadSequence: number, problem: ChainProblem): VerifyResult => ({
    valid: false,
    firstBadSequence,
    problem,
  });

  let row = await source.next();
  while (row) {
    const next = await source.next();
    if (row.sequence < expected) return bad(row.sequence, 'inserted');
    // Two neighbours moved as a whole, numbers and all (lines of a file swapped).
    if (row.sequence === expected + 1 && next?.sequence === expected) {
      return bad(expected, 'reordered');
    }
    if (row.sequence > expected) return bad(expected, 'deleted');
    const pointsTo = row.previousHash.toString('hex');
    const record = row.record === null ? undefined : parsed(row.record);
    const selfOk =
      row.record !== null && (hashAt(row, record, row.sequence)?.equals(row.hash) ?? false);
    if (pointsTo === previous) {
      if (row.record === null) {
        if (row.hash.length !== 32) return bad(expected, 'modified');
        if (source.prunedOk && !source.prunedOk(row)) return bad(expected, 'pruned-unarchived');
        pruned += 1;
      } else if (
        !selfOk ||
        !canonical(row.record, record) ||
        (source.columnsAgree && !source.columnsAgree(row, record))
      ) {
        return bad(expected, 'modified');
      }
    } else {
      if (next && row.previousHash.equals(next.hash)) return bad(expected, 'reordered');
      if (beforePrevious !== null && pointsTo === beforePrevious) {
        return bad(expected - 1, 'inserted');
      }
      if (
        !selfOk &&
        row.record !== null &&
        hashAt(row, record, row.sequence + 1)?.equals(row.hash)
      ) {
        return bad(expected, 'deleted');
      }
      // A tombstone cannot vouch for itself: a broken link to one blames the tombstone.
      const linkBroken = selfOk || row.record === null;
      return bad(
        linkBroken && expected > (source.start?.sequence ?? 1) ? expected - 1 : expected,
        'modified',
      );
    }
    beforePrevious = previous;
    previous = row.hash.toString('hex');
    expected += 1;
    records += 1;
    row = next;
  }
  source.onDone?.();
  return { valid: true, records, pruned, head: previous };
}
