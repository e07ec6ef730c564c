import { hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1), the one Trillian,
 * Tessera, Rekor and the C2SP witnesses use, so that an outside party can check the audit log with
 * their tools: SHA-256, leaves hashed as `0x00 || data`, interior nodes as `0x01 || left || right`,
 * and a tree of n leaves split at the largest power of two below n.
 */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.from([0x00]);

/** The hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

export function leafHash(data: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');
}

/**
 * One reused input buffer: node hashing is most of building and verifying a tree, and the
 * one-shot `hash()` over it is about half again as fast as a `createHash` per node.
 */
const nodeInput = Buffer.alloc(1 + 2 * HASH_BYTES, 0x01);

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) {
    throw new RangeError('a node hashes two 32-byte hashes');
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_BYTES);
  return hash('sha256', nodeInput, 'buffer');
}

/** The largest power of two strictly below n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The hashes of the tree's perfect subtrees: `perfect(level, index)` is the root of the 2^level
 * leaves from `index * 2^level`, defined only where all of them exist. Any range hash, root and
 * proof is assembled from O(log n) of these, so a log of millions of records answers proofs
 * without rehashing its leaves.
 */
export interface PerfectSubtrees {
  readonly size: number;
  perfect(level: number, index: number): Buffer;
}

/**
 * The RFC 9162 hash of leaves [start, end), where `start` is a multiple of the largest power of two
 * not above `end - start` (true of every range the RFC's recursion visits): the left-perfect tree
 * of its perfect chunks, largest first, folded from the right.
 */
function rangeHash(tree: PerfectSubtrees, start: number, end: number): Buffer {
  if (end - start === 0) return EMPTY_ROOT;
  const chunks: Buffer[] = [];
  let at = start;
  while (at < end) {
    let level = 0;
    while (2 ** (level + 1) <= end - at) level += 1;
    chunks.push(tree.perfect(level, at / 2 ** level));
    at += 2 ** level;
  }
  let folded = chunks.pop()!;
  while (chunks.length > 0) folded = nodeHash(chunks.pop()!, folded);
  return folded;
}

/** The root hash of the tree's first `size` leaves (default: all of them). */
export function rootHash(tree: PerfectSubtrees, size = tree.size): Buffer {
  checkSize(tree, size);
  return rangeHash(tree, 0, size);
}

/**
 * The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 section
 * 2.1.3.1), leaf side first.
 */
export function inclusionProof(tree: PerfectSubtrees, index: number, size = tree.size): Buffer[] {
  checkSize(tree, size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  }
  const path: Buffer[] = [];
  const walk = (m: number, start: number, end: number): void => {
    if (end - start <= 1) return;
    const k = splitPoint(end - start);
    if (m < k) {
      walk(m, start, start + k);
      path.push(rangeHash(tree, start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(rangeHash(tree, start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/**
 * The proof that the tree of `first` leaves is a prefix of the tree of `second` (RFC 9162 section
 * 2.1.4.1). Empty when the sizes are equal or `first` is 0.
 */
export function consistencyProof(
  tree: PerfectSubtrees,
  first: number,
  second = tree.size,
): Buffer[] {
  checkSize(tree, second);
  if (!Number.isSafeInteger(first) || first < 0 || first > second) {
    throw new RangeError(`a tree of ${first} cannot be a prefix of a tree of ${second}`);
  }
  if (first === 0 || first === second) return [];
  const proof: Buffer[] = [];
  const walk = (m: number, start: number, end: number, whole: boolean): void => {
    if (m === end - start) {
      if (!whole) proof.push(rangeHash(tree, start, end));
      return;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      walk(m, start, start + k, whole);
      proof.push(rangeHash(tree, start + k, end));
    } else {
      walk(m - k, start + k, end, false);
      proof.push(rangeHash(tree, start, start + k));
    }
  };
  walk(first, 0, second, true);
  return proof;
}

/** Whether `proof` shows `leaf` (a leaf hash) at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return false;
  }
  if (!allHashes([leaf, root, ...proof])) return false;
  // RFC 9162 section 2.1.3.2 (sizes are safe integers, below 2^53).
  let fn = index;
  let sn = size - 1;
  let computed: Buffer = Buffer.from(leaf);
  for (const sibling of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      computed = nodeHash(sibling, computed);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      computed = nodeHash(computed, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && computed.equals(root);
}

/** Whether `proof` shows the tree of `first` leaves with `firstRoot` to be a prefix of the other. */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second)) return false;
  if (!allHashes([firstRoot, secondRoot, ...proof])) return false;
  if (first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  // RFC 9162 section 2.1.4.2.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/** A proof from outside may hold anything: only 32-byte values are hashes. */
function allHashes(values: readonly Uint8Array[]): boolean {
  return values.every((value) => value instanceof Uint8Array && value.length === HASH_BYTES);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && splitPoint(n + 1) === n;
}

function checkSize(tree: PerfectSubtrees, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > tree.size) {
    throw new RangeError(`the tree has ${tree.size} leaves, not ${size}`);
  }
}

/**
 * A tree held in memory: every perfect subtree's hash, level by level in contiguous buffers
 * (about 64 bytes per leaf in all). Appending a leaf hashes at most log2(n) new nodes. What the
 * audit service keeps for proofs and checkpoints, and what an outside verifier builds from an
 * export.
 */
export class MemoryMerkleTree implements PerfectSubtrees {
  /** levels[l] holds the 2^l-leaf subtrees' hashes, `counts[l]` of them. */
  private readonly levels: Buffer[] = [];
  private readonly counts: number[] = [];

  get size(): number {
    return this.counts[0] ?? 0;
  }

  /** Appends a leaf by its leaf hash (`leafHash(data)`). */
  appendLeafHash(leaf: Uint8Array): void {
    if (leaf.length !== HASH_BYTES) throw new RangeError('a leaf hash is 32 bytes');
    let level = 0;
    let carried: Buffer = Buffer.from(leaf);
    for (;;) {
      const index = this.push(level, carried);
      // A right child completes its parent.
      if (index % 2 === 0) return;
      carried = nodeHash(this.perfect(level, index - 1), carried);
      level += 1;
    }
  }

  append(data: Uint8Array): void {
    this.appendLeafHash(leafHash(data));
  }

  perfect(level: number, index: number): Buffer {
    const count = this.counts[level] ?? 0;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`no complete subtree ${index} at level ${level}`);
    }
    return this.levels[level]!.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  private push(level: number, node: Buffer): number {
    const count = this.counts[level] ?? 0;
    let buffer = this.levels[level] ?? Buffer.alloc(HASH_BYTES * 64);
    if ((count + 1) * HASH_BYTES > buffer.length) {
      const grown = Buffer.alloc(buffer.length * 2);
      buffer.copy(grown);
      buffer = grown;
    }
    node.copy(buffer, count * HASH_BYTES);
    this.levels[level] = buffer;
    this.counts[level] = count + 1;
    return count;
  }
}
