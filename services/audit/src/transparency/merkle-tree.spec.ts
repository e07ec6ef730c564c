import { describe, expect, it } from '@jest/globals';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MemoryMerkleTree,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle-tree.js';

/** RFC 9162's definitions written as directly as they read, to hold the fast version against. */
const reference = {
  root(leaves: Buffer[]): Buffer {
    if (leaves.length === 0) return EMPTY_ROOT;
    if (leaves.length === 1) return leafHash(leaves[0]!);
    const k = largestPowerOfTwoBelow(leaves.length);
    return nodeHash(this.root(leaves.slice(0, k)), this.root(leaves.slice(k)));
  },
  path(m: number, leaves: Buffer[]): Buffer[] {
    if (leaves.length <= 1) return [];
    const k = largestPowerOfTwoBelow(leaves.length);
    return m < k
      ? [...this.path(m, leaves.slice(0, k)), this.root(leaves.slice(k))]
      : [...this.path(m - k, leaves.slice(k)), this.root(leaves.slice(0, k))];
  },
  subproof(m: number, leaves: Buffer[], whole: boolean): Buffer[] {
    if (m === leaves.length) return whole ? [] : [this.root(leaves)];
    const k = largestPowerOfTwoBelow(leaves.length);
    return m <= k
      ? [...this.subproof(m, leaves.slice(0, k), whole), this.root(leaves.slice(k))]
      : [...this.subproof(m - k, leaves.slice(k), false), this.root(leaves.slice(0, k))];
  },
};

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const hex = (value: Buffer) => value.toString('hex');

/** The leaves of the RFC 6962 reference tests (certificate-transparency's test vectors). */
const VECTOR_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((value) => Buffer.from(value, 'hex'));

function treeOf(leaves: Buffer[]): MemoryMerkleTree {
  const tree = new MemoryMerkleTree();
  for (const leaf of leaves) tree.append(leaf);
  return tree;
}

const leavesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`audit record ${i}`));

describe('RFC 9162 Merkle tree', () => {
  it('matches the published reference roots', () => {
    const tree = treeOf(VECTOR_LEAVES);
    expect(hex(rootHash(tree, 0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(rootHash(tree, 1))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(hex(rootHash(tree, 8))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });

  it('agrees with the RFC definitions for every size, leaf and prefix up to 70 leaves', () => {
    const leaves = leavesOf(70);
    const tree = treeOf(leaves);
    for (let size = 1; size <= leaves.length; size += 1) {
      const prefix = leaves.slice(0, size);
      const root = rootHash(tree, size);
      expect([size, hex(root)]).toEqual([size, hex(reference.root(prefix))]);
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(tree, index, size);
        expect(proof.map(hex)).toEqual(reference.path(index, prefix).map(hex));
        expect(verifyInclusion(leafHash(leaves[index]!), index, size, proof, root)).toBe(true);
      }
      for (let first = 1; first < size; first += 1) {
        const proof = consistencyProof(tree, first, size);
        expect(proof.map(hex)).toEqual(reference.subproof(first, prefix, true).map(hex));
        expect(verifyConsistency(first, size, proof, rootHash(tree, first), root)).toBe(true);
      }
    }
  });

  it('refuses an inclusion proof for the wrong leaf, index, size or root, or a changed path', () => {
    const leaves = leavesOf(37);
    const tree = treeOf(leaves);
    const root = rootHash(tree);
    const proof = inclusionProof(tree, 12);
    const leaf = leafHash(leaves[12]!);
    expect(verifyInclusion(leaf, 12, 37, proof, root)).toBe(true);
    expect(verifyInclusion(leafHash(leaves[13]!), 12, 37, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 13, 37, proof, root)).toBe(false);
    // A path binds the root, not the size (the signed checkpoint binds the two together); a size
    // that changes the path's shape is refused.
    expect(verifyInclusion(leaf, 12, 16, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 12, 13, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 12, 37, proof, rootHash(tree, 36))).toBe(false);
    expect(verifyInclusion(leaf, 12, 37, proof.slice(1), root)).toBe(false);
    expect(verifyInclusion(leaf, 12, 37, [...proof, proof[0]!], root)).toBe(false);
    const flipped = proof.map((hash, i) => (i === 2 ? Buffer.from(hash).fill(7, 0, 1) : hash));
    expect(verifyInclusion(leaf, 12, 37, flipped, root)).toBe(false);
    expect(verifyInclusion(leaf, 37, 37, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, -1, 37, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 12, 37, [...proof.slice(1), Buffer.alloc(3)], root)).toBe(false);
  });

  it('refuses a consistency proof between trees that do not extend each other', () => {
    const tree = treeOf(leavesOf(29));
    const proof = consistencyProof(tree, 11, 29);
    const first = rootHash(tree, 11);
    const second = rootHash(tree, 29);
    expect(verifyConsistency(11, 29, proof, first, second)).toBe(true);
    // A log that rewrote its history: the same sizes, another first tree.
    const rewritten = treeOf([...leavesOf(10), Buffer.from('forged'), ...leavesOf(29).slice(11)]);
    expect(verifyConsistency(11, 29, proof, rootHash(rewritten, 11), second)).toBe(false);
    expect(verifyConsistency(11, 29, proof, first, rootHash(rewritten, 29))).toBe(false);
    expect(verifyConsistency(10, 29, proof, first, second)).toBe(false);
    expect(verifyConsistency(11, 16, proof, first, second)).toBe(false);
    expect(verifyConsistency(11, 29, proof.slice(0, -1), first, second)).toBe(false);
    expect(verifyConsistency(11, 29, [], first, second)).toBe(false);
    expect(verifyConsistency(29, 11, proof, first, second)).toBe(false);
    expect(verifyConsistency(11, 29, [Buffer.alloc(31), ...proof.slice(1)], first, second)).toBe(
      false,
    );
    // Equal sizes need equal roots and no proof.
    expect(verifyConsistency(29, 29, [], second, second)).toBe(true);
    expect(verifyConsistency(29, 29, [], first, second)).toBe(false);
  });

  it('says which argument is out of range instead of answering for a tree it does not have', () => {
    const tree = treeOf(leavesOf(5));
    expect(() => rootHash(tree, 6)).toThrow('the tree has 5 leaves, not 6');
    expect(() => inclusionProof(tree, 5)).toThrow('leaf 5 is not in a tree of 5');
    expect(() => consistencyProof(tree, 6, 5)).toThrow(RangeError);
    expect(() => tree.appendLeafHash(Buffer.alloc(31))).toThrow('a leaf hash is 32 bytes');
    expect(consistencyProof(tree, 0, 5)).toEqual([]);
    expect(hex(rootHash(new MemoryMerkleTree()))).toBe(hex(EMPTY_ROOT));
  });

  it('keeps every perfect subtree, so a proof in a large tree reads only O(log n) of them', () => {
    const tree = new MemoryMerkleTree();
    for (let i = 0; i < 100_000; i += 1) tree.appendLeafHash(leafHash(Buffer.from(String(i))));
    let reads = 0;
    const counting = {
      size: tree.size,
      perfect: (level: number, index: number) => {
        reads += 1;
        return tree.perfect(level, index);
      },
    };
    const proof = inclusionProof(counting, 54_321);
    expect(
      verifyInclusion(leafHash(Buffer.from('54321')), 54_321, 100_000, proof, rootHash(tree)),
    ).toBe(true);
    expect(proof.length).toBeLessThanOrEqual(17);
    expect(reads).toBeLessThan(17 * 17);
  });
});
