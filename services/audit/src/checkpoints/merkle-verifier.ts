import type { DataSource, EntityManager } from 'typeorm';
import { auditChainRepository } from '../chain/audit-chain.repository.js';
import {
  openCheckpoint,
  parseCheckpointText,
  type Checkpoint,
} from '../transparency/checkpoint.js';
import { storedLeafHash } from '../transparency/merkle-store.js';
import { MemoryMerkleTree, rootHash } from '../transparency/merkle-tree.js';
import { checkpointStore } from './checkpoint-store.js';

/** The stored tree against the tree rebuilt from the records. */
export type MerkleVerifyResult =
  | { valid: true; leaves: number; root: string }
  | {
      valid: false;
      /** The first subtree row (by level, then index) that is wrong, missing or extra. */
      level: number;
      index: number;
      problem: 'modified' | 'missing' | 'unexpected';
    };

/** Every stored checkpoint: its note, its signature, and its root against the rebuilt tree. */
export type CheckpointsVerifyResult =
  | {
      valid: true;
      checked: number;
      /** False when no verifier key was given: the roots were checked, the signatures not. */
      signaturesChecked: boolean;
      latestSize: number | null;
    }
  | {
      valid: false;
      firstBadSize: number;
      /** `outside-file`: only from an export, a checkpoint of the records before the file's. */
      problem: 'signature' | 'root' | 'note' | 'beyond-log' | 'outside-file';
    };

export interface TreeVerifyResult {
  merkle: MerkleVerifyResult;
  checkpoints: CheckpointsVerifyResult;
}

/**
 * Rebuilds the Merkle tree from the records (their leaf data, `batchSize` records per query),
 * then checks every stored subtree row against it and every stored checkpoint: the note's text
 * names the stored size and root, the root is the rebuilt tree's at that size, and (given the
 * log's `verifierKey`) the signature is the log's. One `REPEATABLE READ READ ONLY` snapshot.
 * The chain itself is `verifyChain`'s business: a record rewritten with its leaf shows here as a
 * modified level-0 row.
 */
export async function verifyTree(
  dataSource: DataSource,
  options: { batchSize?: number; verifierKey?: string | undefined } = {},
): Promise<TreeVerifyResult> {
  const batchSize = options.batchSize ?? 1_000;
  return dataSource.transaction('REPEATABLE READ', async (transaction) => {
    await transaction.query('SET TRANSACTION READ ONLY');
    const tree = await rebuild(transaction, batchSize);
    return {
      merkle: await checkRows(transaction, tree, batchSize),
      checkpoints: await checkCheckpoints(transaction, tree, batchSize, options.verifierKey),
    };
  });
}

async function rebuild(transaction: EntityManager, batchSize: number): Promise<MemoryMerkleTree> {
  const tree = new MemoryMerkleTree();
  let after: number | null = null;
  for (;;) {
    const rows = await auditChainRepository.readAfter(transaction, after, batchSize);
    for (const row of rows) tree.appendLeafHash(storedLeafHash(row));
    if (rows.length < batchSize) return tree;
    after = rows.at(-1)!.sequence;
  }
}

interface SubtreeRowText {
  level: number;
  index: string;
  hash: Buffer;
}

/** The rows a tree of `size` leaves has at `level`. */
const rowsAt = (size: number, level: number) => Math.floor(size / 2 ** level);

async function checkRows(
  transaction: EntityManager,
  tree: MemoryMerkleTree,
  batchSize: number,
): Promise<MerkleVerifyResult> {
  // The expected rows, in (level, index) order, walked beside the stored ones.
  let level = 0;
  let index = 0;
  const advance = () => {
    index += 1;
    while (level < 64 && index >= rowsAt(tree.size, level)) {
      level += 1;
      index = 0;
    }
  };
  if (rowsAt(tree.size, 0) === 0) level = 64;
  let after: { level: number; index: number } | null = null;
  for (;;) {
    const rows: SubtreeRowText[] = await transaction.query<SubtreeRowText[]>(
      `SELECT level, index, hash FROM audit_merkle_subtrees
        WHERE $1::int IS NULL OR (level, index) > ($1::int, $2::bigint)
        ORDER BY level, index LIMIT $3`,
      [after?.level ?? null, after?.index ?? null, batchSize],
    );
    for (const row of rows) {
      const stored = { level: row.level, index: Number(row.index) };
      if (
        level === 64 ||
        stored.level > level ||
        (stored.level === level && stored.index > index)
      ) {
        // The expected row is not there (or nothing more was expected).
        return level === 64
          ? { valid: false, ...stored, problem: 'unexpected' }
          : { valid: false, level, index, problem: 'missing' };
      }
      if (stored.level < level || stored.index < index) {
        return { valid: false, ...stored, problem: 'unexpected' };
      }
      if (!tree.perfect(level, index).equals(row.hash)) {
        return { valid: false, level, index, problem: 'modified' };
      }
      advance();
    }
    if (rows.length < batchSize) break;
    const last: SubtreeRowText = rows.at(-1)!;
    after = { level: last.level, index: Number(last.index) };
  }
  if (level !== 64) return { valid: false, level, index, problem: 'missing' };
  return { valid: true, leaves: tree.size, root: rootHash(tree).toString('hex') };
}

/**
 * A checkpoint's note read as the checkpoint of `size`: `note` when its text does not parse or
 * names another size, `signature` when `verifierKey` is given and does not open it.
 */
export function openCheckpointNote(
  note: string,
  size: number,
  verifierKey: string | undefined,
): Checkpoint | 'note' | 'signature' {
  const end = note.indexOf('\n\n');
  let text: Checkpoint;
  try {
    if (end < 0) return 'note';
    text = parseCheckpointText(note.slice(0, end + 1));
  } catch {
    return 'note';
  }
  if (text.size !== size) return 'note';
  if (verifierKey !== undefined) {
    try {
      openCheckpoint(note, verifierKey);
    } catch {
      return 'signature';
    }
  }
  return text;
}

async function checkCheckpoints(
  transaction: EntityManager,
  tree: MemoryMerkleTree,
  batchSize: number,
  verifierKey: string | undefined,
): Promise<CheckpointsVerifyResult> {
  let checked = 0;
  let latestSize: number | null = null;
  let after = 0;
  for (;;) {
    const batch = await checkpointStore.readAfter(transaction, after, batchSize);
    for (const checkpoint of batch) {
      const fail = (problem: 'signature' | 'root' | 'note' | 'beyond-log') =>
        ({ valid: false, firstBadSize: checkpoint.size, problem }) as const;
      const opened = openCheckpointNote(checkpoint.note, checkpoint.size, verifierKey);
      if (typeof opened === 'string') return fail(opened);
      if (
        !opened.root.equals(checkpoint.root) ||
        opened.time?.getTime() !== checkpoint.time.getTime()
      ) {
        return fail('note');
      }
      if (checkpoint.size > tree.size) return fail('beyond-log');
      if (!rootHash(tree, checkpoint.size).equals(checkpoint.root)) return fail('root');
      checked += 1;
      latestSize = checkpoint.size;
    }
    if (batch.length < batchSize) break;
    after = batch.at(-1)!.size;
  }
  return { valid: true, checked, signaturesChecked: verifierKey !== undefined, latestSize };
}
