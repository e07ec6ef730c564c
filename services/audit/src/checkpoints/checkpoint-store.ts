import type { DataSource, EntityManager } from 'typeorm';
import { merkleStore } from '../transparency/merkle-store.js';
import { rootHash } from '../transparency/merkle-tree.js';
import { signCheckpoint, type NoteSigner } from '../transparency/checkpoint.js';

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  time: Date;
  /** The signed note exactly as published. */
  note: string;
}

export interface CheckpointPolicy {
  /** The log's origin: the checkpoint's first line. */
  origin: string;
  /** Sign once the tree grew by this many records since the last checkpoint... */
  everyRecords: number;
  /** ...or this many seconds passed since it and the tree grew at all. */
  everySeconds: number;
}

/** A transaction-level advisory lock: the replica that holds it is the one that signs. */
const CHECKPOINT_LOCK = [0x61756469, 0x636b7074] as const; // "audi", "ckpt"

interface Row {
  size: string;
  root: Buffer;
  signed_at: Date;
  note: string;
}

const fromRow = (row: Row): StoredCheckpoint => ({
  size: Number(row.size),
  root: row.root,
  time: row.signed_at,
  note: row.note,
});

/** The only place that builds queries on `audit_checkpoints`. */
export const checkpointStore = {
  async latest(db: Queryable): Promise<StoredCheckpoint | undefined> {
    const rows = await db.query<Row[]>(
      `SELECT size, root, signed_at, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`,
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  },

  /** Up to `limit` checkpoints after size `afterSize`, smallest first. */
  async readAfter(db: Queryable, afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    const rows = await db.query<Row[]>(
      `SELECT size, root, signed_at, note FROM audit_checkpoints WHERE size > $1
        ORDER BY size LIMIT $2`,
      [afterSize, limit],
    );
    return rows.map(fromRow);
  },

  /** The largest checkpoint of a size from `above + 1` to `atMost`, if any. */
  async largestBetween(
    db: Queryable,
    above: number,
    atMost: number,
  ): Promise<StoredCheckpoint | undefined> {
    const rows = await db.query<Row[]>(
      `SELECT size, root, signed_at, note FROM audit_checkpoints WHERE size > $1 AND size <= $2
        ORDER BY size DESC LIMIT 1`,
      [above, atMost],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  },

  async insert(db: Queryable, checkpoint: StoredCheckpoint): Promise<void> {
    await db.query(
      `INSERT INTO audit_checkpoints (size, root, signed_at, note) VALUES ($1, $2, $3, $4)`,
      [checkpoint.size, checkpoint.root, checkpoint.time.toISOString(), checkpoint.note],
    );
  },
};

/**
 * Signs a checkpoint of the tree as it is now when one is due by `policy`, stores it and runs
 * `published` (the outbox write) in the same transaction. One replica at a time (a try-lock: the
 * others skip this round), and a size is signed at most once (the table's key). Answers the new
 * checkpoint, or undefined when none was due or another replica is signing.
 */
export async function signCheckpointIfDue(
  dataSource: DataSource,
  signer: NoteSigner,
  policy: CheckpointPolicy,
  options: {
    now?: Date;
    published?: (transaction: EntityManager, checkpoint: StoredCheckpoint) => Promise<void>;
  } = {},
): Promise<StoredCheckpoint | undefined> {
  return dataSource.transaction(async (transaction) => {
    const [lock] = await transaction.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock($1, $2) AS locked`,
      [...CHECKPOINT_LOCK],
    );
    if (!lock?.locked) return undefined;
    const size = await merkleStore.size(transaction);
    const last = await checkpointStore.latest(transaction);
    if (size === 0 || (last && size <= last.size)) return undefined;
    const now = options.now ?? new Date();
    const due =
      !last ||
      size - last.size >= policy.everyRecords ||
      now.getTime() - last.time.getTime() >= policy.everySeconds * 1000;
    if (!due) return undefined;
    const root = await merkleStore.compute(transaction, size, (tree) => rootHash(tree));
    const note = await signCheckpoint({ origin: policy.origin, size, root, time: now }, signer);
    const checkpoint = { size, root, time: now, note };
    await checkpointStore.insert(transaction, checkpoint);
    await options.published?.(transaction, checkpoint);
    return checkpoint;
  });
}
