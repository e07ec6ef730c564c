import { describe, expect, it } from '@jest/globals';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MemoryMerkleTree,
  rootHash,
} from './merkle-tree.js';
import {
  appendLeaves,
  frontierOf,
  withStoredSubtrees,
  type SubtreeRow,
} from './stored-subtrees.js';

const leaves = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => leafHash(Buffer.from(`record ${from + i}`)));

/** A store of subtree rows, as the audit table would hold them, counting its reads. */
class RowStore {
  readonly rows = new Map<string, Buffer>();
  reads = 0;

  write(rows: readonly SubtreeRow[]): void {
    for (const row of rows) {
      const key = `${row.level}/${row.index}`;
      if (this.rows.has(key)) throw new Error(`subtree ${key} written twice`);
      this.rows.set(key, row.hash);
    }
  }

  read = (wanted: readonly { level: number; index: number }[]) => {
    this.reads += 1;
    return Promise.resolve(
      wanted.flatMap(({ level, index }) => {
        const hash = this.rows.get(`${level}/${index}`);
        return hash ? [{ level, index, hash }] : [];
      }),
    );
  };
}

describe('stored subtrees', () => {
  it('names the right edge of a tree: the perfect subtrees its size is made of', () => {
    expect(frontierOf(0)).toEqual([]);
    expect(frontierOf(1)).toEqual([{ level: 0, index: 0 }]);
    expect(frontierOf(6)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
    ]);
    expect(frontierOf(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('appends batches of any size into exactly the subtrees an in-memory tree holds', async () => {
    const store = new RowStore();
    const memory = new MemoryMerkleTree();
    let size = 0;
    let frontier: Buffer[] = [];
    for (const batch of [1, 1, 5, 0, 16, 3, 64, 7, 30]) {
      const added = leaves(size, size + batch);
      const appended = appendLeaves(size, frontier, added);
      store.write(appended.rows);
      for (const leaf of added) memory.appendLeafHash(leaf);
      size += batch;
      frontier = appended.frontier;
      const edge = frontierOf(size).map(({ level, index }) => memory.perfect(level, index));
      expect(frontier.map((hash) => hash.toString('hex'))).toEqual(
        edge.map((hash) => hash.toString('hex')),
      );
      const storedRoot = await withStoredSubtrees(size, store.read, (tree) => rootHash(tree));
      expect(storedRoot.toString('hex')).toBe(rootHash(memory).toString('hex'));
    }
    // Every complete subtree of the 127-leaf tree, and nothing else.
    let expected = 0;
    for (let level = 0; 2 ** level <= size; level += 1) expected += Math.floor(size / 2 ** level);
    expect(store.rows.size).toBe(expected);
  });

  it('answers proofs from the store with one read each, equal to the in-memory ones', async () => {
    const store = new RowStore();
    const memory = new MemoryMerkleTree();
    const all = leaves(0, 1_000);
    store.write(appendLeaves(0, [], all).rows);
    for (const leaf of all) memory.appendLeafHash(leaf);
    for (const [index, size] of [
      [0, 1_000],
      [999, 1_000],
      [517, 600],
    ] as const) {
      const before = store.reads;
      const proof = await withStoredSubtrees(1_000, store.read, (tree) =>
        inclusionProof(tree, index, size),
      );
      expect(store.reads - before).toBe(1);
      expect(proof.map((hash) => hash.toString('hex'))).toEqual(
        inclusionProof(memory, index, size).map((hash) => hash.toString('hex')),
      );
    }
    const consistency = await withStoredSubtrees(1_000, store.read, (tree) =>
      consistencyProof(tree, 333, 1_000),
    );
    expect(consistency.map((hash) => hash.toString('hex'))).toEqual(
      consistencyProof(memory, 333, 1_000).map((hash) => hash.toString('hex')),
    );
  });

  it('says what is missing or wrong instead of answering from a broken store', async () => {
    const store = new RowStore();
    store.write(appendLeaves(0, [], leaves(0, 8)).rows);
    // The root of 8 leaves is the one level-3 subtree.
    store.rows.delete('3/0');
    await expect(withStoredSubtrees(8, store.read, (tree) => rootHash(tree))).rejects.toThrow(
      'the store has no subtree 0 at level 3',
    );
    expect(() => appendLeaves(8, [], leaves(8, 9))).toThrow(
      'a tree of 8 has 1 frontier subtrees, not 0',
    );
    expect(() => appendLeaves(0, [], [Buffer.alloc(5)])).toThrow('a leaf hash is 32 bytes');
  });
});
