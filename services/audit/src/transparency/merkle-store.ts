import type { EntityManager } from 'typeorm';
import { auditChainRepository } from '../chain/audit-chain.repository.js';
import { entryText } from '../chain/chain-hash.js';
import { leafHash } from './merkle-tree.js';
import {
  appendLeaves,
  frontierOf,
  withStoredSubtrees,
  type SubtreeRow,
} from './stored-subtrees.js';
import type { PerfectSubtrees } from './merkle-tree.js';

/** Either a data source or a transaction: anything that runs a query. */
type Queryable = Pick<EntityManager, 'query'>;

/**
 * The leaf data of the record with `sequence`: the UTF-8 bytes of the JCS canonical JSON of
 * `{ sequence, previousHash, record }`, exactly what its chain hash is computed over
 * (`entryText` in chain-hash.ts). `recordJson` is the stored record text, already canonical.
 */
export function leafData(sequence: number, previousHash: Buffer, recordJson: string): Buffer {
  return Buffer.from(entryText(sequence, previousHash.toString('hex'), recordJson), 'utf8');
}

/** The leaf hash of a stored row: from its record, or as kept by its tombstone (ADR 0025). */
export function storedLeafHash(row: {
  sequence: number;
  previousHash: Buffer;
  record: string | null;
  leafHash: Buffer | null;
}): Buffer {
  if (row.record !== null) return leafHash(leafData(row.sequence, row.previousHash, row.record));
  // A tombstone without one cannot be a leaf: an all-zero hash matches no stored tree.
  return row.leafHash ?? Buffer.alloc(32);
}

/** The only place that builds queries on `audit_merkle_subtrees`. */
export const merkleStore = {
  /** The named subtrees that exist (a `ReadSubtrees` for `withStoredSubtrees`). */
  async read(
    db: Queryable,
    wanted: readonly { level: number; index: number }[],
  ): Promise<SubtreeRow[]> {
    if (wanted.length === 0) return [];
    const rows = await db.query<{ level: number; index: string; hash: Buffer }[]>(
      `SELECT s.level, s.index, s.hash
         FROM audit_merkle_subtrees s
         JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, index)
           ON s.level = w.level AND s.index = w.index`,
      [wanted.map((entry) => entry.level), wanted.map((entry) => entry.index)],
    );
    return rows.map((row) => ({ level: row.level, index: Number(row.index), hash: row.hash }));
  },

  /** The hashes of the right edge of the tree of `size` leaves, in `frontierOf(size)` order. */
  async frontier(db: Queryable, size: number): Promise<Buffer[]> {
    const edge = frontierOf(size);
    const stored = await merkleStore.read(db, edge);
    const byKey = new Map(stored.map((row) => [`${row.level}/${row.index}`, row.hash]));
    return edge.map(({ level, index }) => {
      const hash = byKey.get(`${level}/${index}`);
      if (!hash) throw new Error(`the Merkle tree has no subtree ${index} at level ${level}`);
      return hash;
    });
  },

  /** The number of leaves stored (the tree's size). */
  async size(db: Queryable): Promise<number> {
    const rows = await db.query<{ last: string | null }[]>(
      `SELECT max(index) AS last FROM audit_merkle_subtrees WHERE level = 0`,
    );
    const last = rows[0]?.last;
    return last === null || last === undefined ? 0 : Number(last) + 1;
  },

  async insert(db: Queryable, rows: readonly SubtreeRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO audit_merkle_subtrees (level, index, hash)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
      [rows.map((row) => row.level), rows.map((row) => row.index), rows.map((row) => row.hash)],
    );
  },

  /** Runs a computation of `merkle-tree.ts` over the stored tree cut at `size` leaves. */
  compute<T>(db: Queryable, size: number, compute: (tree: PerfectSubtrees) => T): Promise<T> {
    return withStoredSubtrees(size, (wanted) => merkleStore.read(db, wanted), compute);
  },
};

/** Records read per query when the tree catches up with the chain. */
const CATCH_UP_BATCH = 1_000;

/**
 * Adds the records just chained, in `transaction`, as leaves after the first `size` (the chain's
 * head before them). Called under the chain's advisory lock, so the frontier read here is the
 * tree's current right edge and no other writer moves it before commit.
 */
export async function appendRecordLeaves(
  transaction: Queryable,
  size: number,
  entries: readonly { sequence: number; previousHash: Buffer; recordJson: string }[],
): Promise<void> {
  if (entries.length === 0) return;
  const treeSize = await merkleStore.size(transaction);
  if (treeSize < size) await catchUp(transaction, treeSize, size);
  else if (treeSize > size) {
    throw new Error(`the Merkle tree has ${treeSize} leaves but the chain only ${size} records`);
  }
  await extend(transaction, size, entries);
}

/**
 * Adds the records a log started before the tree existed (sequences `from + 1` to `to`), read
 * from `audit_records` a batch at a time: a one-off, on the first append after the upgrade.
 */
async function catchUp(transaction: Queryable, from: number, to: number): Promise<void> {
  let size = from;
  while (size < to) {
    const batch = await auditChainRepository.readAfter(
      transaction,
      size,
      Math.min(CATCH_UP_BATCH, to - size),
    );
    if (batch.length === 0) throw new Error(`the chain has no record after ${size}`);
    await extend(
      transaction,
      size,
      batch.map((row) => {
        // Pruning needs the record's leaf in the tree first, so a tombstone never comes here.
        if (row.record === null)
          throw new Error(`record ${row.sequence} was pruned before the tree had it`);
        return { sequence: row.sequence, previousHash: row.previousHash, recordJson: row.record };
      }),
    );
    size += batch.length;
  }
}

async function extend(
  transaction: Queryable,
  size: number,
  entries: readonly { sequence: number; previousHash: Buffer; recordJson: string }[],
): Promise<void> {
  const frontier = await merkleStore.frontier(transaction, size);
  const leaves = entries.map((entry, offset) => {
    if (entry.sequence !== size + offset + 1) {
      throw new Error(`leaf ${size + offset} is not the record with sequence ${entry.sequence}`);
    }
    return leafHash(leafData(entry.sequence, entry.previousHash, entry.recordJson));
  });
  const { rows } = appendLeaves(size, frontier, leaves);
  await merkleStore.insert(transaction, rows);
}
