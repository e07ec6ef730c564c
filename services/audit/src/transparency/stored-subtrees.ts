import { HASH_BYTES, nodeHash, type PerfectSubtrees } from './merkle-tree.js';

/**
 * The Merkle tree's perfect subtrees kept as rows (level, index, hash) in a store such as
 * PostgreSQL, where reads are asynchronous and should be few. Two pieces:
 * - `withStoredSubtrees` runs any root or proof computation of `merkle-tree.ts` against the store
 *   with one batched read: the subtrees a computation asks for depend only on sizes and indexes,
 *   never on hash values, so a dry run names them all first.
 * - `appendLeaves` extends the tree by a batch of leaves from its right edge (its "frontier"),
 *   returning exactly the subtree rows that become complete, to be written in the same transaction
 *   as the records they cover.
 */
export interface SubtreeRow {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

export type SubtreeKey = `${number}/${number}`;

const keyOf = (level: number, index: number): SubtreeKey => `${level}/${index}`;

/** Reads the named subtrees; every one of them exists when the computation is within the size. */
export type ReadSubtrees = (
  wanted: readonly { level: number; index: number }[],
) => Promise<readonly SubtreeRow[]>;

export async function withStoredSubtrees<T>(
  size: number,
  read: ReadSubtrees,
  compute: (tree: PerfectSubtrees) => T,
): Promise<T> {
  const wanted = new Map<SubtreeKey, { level: number; index: number }>();
  const placeholder = Buffer.alloc(HASH_BYTES);
  compute({
    size,
    perfect(level, index) {
      wanted.set(keyOf(level, index), { level, index });
      return placeholder;
    },
  });
  const rows = await read([...wanted.values()]);
  const found = new Map(rows.map((row) => [keyOf(row.level, row.index), row.hash]));
  return compute({
    size,
    perfect(level, index) {
      const hash = found.get(keyOf(level, index));
      if (!hash) throw new RangeError(`the store has no subtree ${index} at level ${level}`);
      return hash;
    },
  });
}

/**
 * The right edge of a tree of `size` leaves: the perfect subtrees its size decomposes into,
 * largest (leftmost) first, as (level, index) pairs. Appending needs only their hashes.
 */
export function frontierOf(size: number): { level: number; index: number }[] {
  const edge: { level: number; index: number }[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level -= 1) {
    const width = 2 ** level;
    if (size - start >= width) {
      edge.push({ level, index: start / width });
      start += width;
    }
  }
  return edge;
}

/**
 * Appends `leaves` (leaf hashes) to a tree of `size` leaves whose frontier hashes are `frontier`
 * (in `frontierOf(size)` order). Returns the rows of every subtree the batch completes, leaves
 * (level 0) included, and the new frontier's hashes.
 */
export function appendLeaves(
  size: number,
  frontier: readonly Buffer[],
  leaves: readonly Buffer[],
): { rows: SubtreeRow[]; frontier: Buffer[] } {
  const edge = frontierOf(size);
  if (frontier.length !== edge.length) {
    throw new RangeError(
      `a tree of ${size} has ${edge.length} frontier subtrees, not ${frontier.length}`,
    );
  }
  // The open subtrees on the right edge, smallest last, as a stack of (level, hash).
  const stack = edge.map(({ level }, i) => ({ level, hash: frontier[i]! }));
  const rows: SubtreeRow[] = [];
  let count = size;
  for (const leaf of leaves) {
    if (leaf.length !== HASH_BYTES) throw new RangeError('a leaf hash is 32 bytes');
    let carried = { level: 0, hash: leaf };
    rows.push({ level: 0, index: count, hash: leaf });
    // Two neighbours of one level make their parent, as long as the stack's top matches.
    while (stack.length > 0 && stack.at(-1)!.level === carried.level) {
      const left = stack.pop()!;
      const level = carried.level + 1;
      const hash = nodeHash(left.hash, carried.hash);
      rows.push({ level, index: Math.floor(count / 2 ** level), hash });
      carried = { level, hash };
    }
    stack.push(carried);
    count += 1;
  }
  return { rows, frontier: stack.map((entry) => entry.hash) };
}
