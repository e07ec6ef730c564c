import { createHash } from 'node:crypto';
import { canonicalJsonOfParsed } from '../chain/chain-hash.js';
import type { ChainEntry } from '../chain/audit-record.js';
import { walkChain, type VerifyResult } from '../chain/chain-verifier.js';
import {
  openCheckpointNote,
  type CheckpointsVerifyResult,
} from '../checkpoints/merkle-verifier.js';
import { leafData } from '../transparency/merkle-store.js';
import { EMPTY_ROOT, HASH_BYTES, leafHash, nodeHash } from '../transparency/merkle-tree.js';
import { frontierOf } from '../transparency/stored-subtrees.js';

/**
 * The line kinds of an export or archive file (docs/architecture/audit.md, "Export and archive
 * files"). A plain export holds record lines (and tombstones where records were pruned); an
 * export with `proofs=true` and an archive's `log.ndjson` start with a frontier line and the
 * checkpoint lines, so the file proves itself against signed checkpoints.
 */
export interface RecordLine {
  sequence: number;
  previousHash: string;
  hash: string;
  record: Record<string, unknown>;
}
export interface TombstoneLine {
  sequence: number;
  previousHash: string;
  hash: string;
  /** The pruned record's Merkle leaf hash, hex. */
  leafHash: string;
  pruned: { archive: string; at: string };
}
/** The tree before the file's first record: its size and its frontier's hashes (hex). */
export interface FrontierLine {
  frontier: { size: number; hashes: string[] };
}
export interface CheckpointLine {
  checkpoint: { size: number; note: string };
}

export const frontierLine = (size: number, hashes: readonly Buffer[]): string =>
  `${JSON.stringify({ frontier: { size, hashes: hashes.map((hash) => hash.toString('hex')) } } satisfies FrontierLine)}\n`;

export const checkpointLine = (checkpoint: { size: number; note: string }): string =>
  `${JSON.stringify({ checkpoint: { size: checkpoint.size, note: checkpoint.note } } satisfies CheckpointLine)}\n`;

/** A line of the file that is none of the kinds above, or comes where it may not. */
export class ExportFileError extends Error {
  override readonly name = 'ExportFileError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** What the file's records add up to in the Merkle tree. */
export type FileMerkleResult =
  | { checked: true; leaves: number; root: string }
  /** The file starts after sequence 1 without a frontier line: its tree cannot be rebuilt. */
  | { checked: false; firstSequence: number };

export interface ExportFileResult {
  chain: VerifyResult;
  merkle: FileMerkleResult;
  checkpoints: CheckpointsVerifyResult;
  /** The first and last sequence numbers in the file (undefined when it has no records). */
  range: { first: number; last: number } | undefined;
  /** SHA-256 of the bytes read, hex (an archive's manifest names it). */
  sha256: string;
}

const HEX = /^[0-9a-f]*$/;
const bytes = (value: unknown): Buffer =>
  typeof value === 'string' && HEX.test(value) && value.length % 2 === 0
    ? Buffer.from(value, 'hex')
    : Buffer.alloc(0);

interface FileEntry extends ChainEntry {
  leaf: Buffer;
}

/** A record line or a tombstone as a chain entry; a line of any other shape is refused. */
function entryOf(value: Record<string, unknown>, line: number): FileEntry {
  const { sequence } = value;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence)) {
    throw new ExportFileError(line, 'a record line has an integer "sequence"');
  }
  const previousHash = bytes(value['previousHash']);
  const hash = bytes(value['hash']);
  if ('pruned' in value) {
    const leaf = bytes(value['leafHash']);
    return { sequence, previousHash, hash, record: null, leaf };
  }
  const { record } = value;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new ExportFileError(line, 'a record line has a "record" object');
  }
  let text: string;
  try {
    text = canonicalJsonOfParsed(record);
  } catch {
    throw new ExportFileError(line, 'the record has no canonical JSON form');
  }
  const leaf =
    previousHash.length === HASH_BYTES
      ? leafHash(leafData(sequence, previousHash, text))
      : Buffer.alloc(HASH_BYTES);
  return { sequence, previousHash, hash, record: text, leaf };
}

/**
 * The right edge of a Merkle tree, growing leaf by leaf: enough to know the root at every size
 * it passes, in O(log n) memory, starting from the frontier of the records before the file.
 */
class Frontier {
  private readonly stack: { level: number; hash: Buffer }[];
  constructor(
    public size: number,
    hashes: readonly Buffer[],
  ) {
    const edge = frontierOf(size);
    if (edge.length !== hashes.length || hashes.some((hash) => hash.length !== HASH_BYTES)) {
      throw new RangeError(`a tree of ${size} has ${edge.length} frontier hashes of 32 bytes`);
    }
    this.stack = edge.map(({ level }, index) => ({ level, hash: hashes[index]! }));
  }

  append(leaf: Buffer): void {
    let carried = { level: 0, hash: leaf.length === HASH_BYTES ? leaf : Buffer.alloc(HASH_BYTES) };
    while (this.stack.at(-1)?.level === carried.level) {
      const left = this.stack.pop()!;
      carried = { level: carried.level + 1, hash: nodeHash(left.hash, carried.hash) };
    }
    this.stack.push(carried);
    this.size += 1;
  }

  /** RFC 9162's root: the perfect subtrees of the edge, folded from the right. */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let folded = this.stack.at(-1)!.hash;
    for (let index = this.stack.length - 2; index >= 0; index -= 1) {
      folded = nodeHash(this.stack[index]!.hash, folded);
    }
    return folded;
  }
}

/**
 * Verifies an export or archive file read as lines: the hash chain of its records (as
 * `verifyChain` does the database's, from the first line's link on), the Merkle tree they make
 * (from the frontier line, or from the first record when the file starts at sequence 1), and every
 * checkpoint line: its note, its signature when `verifierKey` is given, and its root against the
 * tree at its size. Memory stays O(log n) whatever the file's length.
 */
export async function verifyExportFile(
  lines: AsyncIterable<string>,
  options: { verifierKey?: string | undefined; onLine?: (bytes: number) => void } = {},
): Promise<ExportFileResult> {
  const digest = createHash('sha256');
  const iterator = lines[Symbol.asyncIterator]();
  let lineNumber = 0;
  let pending: FileEntry | undefined;
  let tree: Frontier | undefined;
  const checkpoints: CheckpointLine['checkpoint'][] = [];
  let checkpointIndex = 0;
  let checkpointsResult: CheckpointsVerifyResult | undefined;
  let checked = 0;
  let range: { first: number; last: number } | undefined;

  const failCheckpoint = (
    size: number,
    problem: 'signature' | 'root' | 'note' | 'beyond-log' | 'outside-file',
  ) => {
    checkpointsResult ??= { valid: false, firstBadSize: size, problem };
  };
  /**
   * Checks the checkpoints of the tree's current size as the records reach it; one of a size the
   * tree had before the file began cannot be checked from the file.
   */
  const checkDue = () => {
    while (
      tree &&
      checkpoints[checkpointIndex] &&
      checkpoints[checkpointIndex]!.size <= tree.size
    ) {
      const checkpoint = checkpoints[checkpointIndex++]!;
      if (checkpoint.size < tree.size) {
        failCheckpoint(checkpoint.size, 'outside-file');
        continue;
      }
      const opened = openCheckpointNote(checkpoint.note, checkpoint.size, options.verifierKey);
      if (typeof opened === 'string') failCheckpoint(checkpoint.size, opened);
      else if (!opened.root.equals(tree.root())) failCheckpoint(checkpoint.size, 'root');
      else checked += 1;
    }
  };

  const readLine = async (): Promise<Record<string, unknown> | undefined> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return undefined;
      lineNumber += 1;
      digest.update(`${next.value}\n`, 'utf8');
      options.onLine?.(Buffer.byteLength(next.value) + 1);
      if (next.value.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(next.value);
      } catch {
        throw new ExportFileError(lineNumber, 'not JSON');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ExportFileError(lineNumber, 'not a JSON object');
      }
      return value as Record<string, unknown>;
    }
  };

  /** The next record or tombstone, fed to the tree as it passes; header lines before the first. */
  const nextEntry = async (): Promise<FileEntry | undefined> => {
    if (pending) {
      const entry = pending;
      pending = undefined;
      return entry;
    }
    const value = await readLine();
    if (!value) return undefined;
    if ('frontier' in value || 'checkpoint' in value) {
      throw new ExportFileError(
        lineNumber,
        'frontier and checkpoint lines come before the records',
      );
    }
    return admit(entryOf(value, lineNumber));
  };
  const admit = (entry: FileEntry): FileEntry => {
    range = { first: range?.first ?? entry.sequence, last: entry.sequence };
    if (!tree && entry.sequence === 1 && range.first === 1) tree = new Frontier(0, []);
    if (tree) {
      tree.append(entry.leaf);
      checkDue();
    }
    return entry;
  };

  // The header: an optional frontier line, then checkpoint lines, then the first record.
  for (;;) {
    const value = await readLine();
    if (!value) break;
    if ('frontier' in value) {
      const frontier = value['frontier'] as FrontierLine['frontier'] | undefined;
      if (
        tree ||
        checkpoints.length > 0 ||
        typeof frontier?.size !== 'number' ||
        !Array.isArray(frontier.hashes)
      ) {
        throw new ExportFileError(
          lineNumber,
          'one frontier line {size, hashes}, first in the file',
        );
      }
      try {
        tree = new Frontier(frontier.size, frontier.hashes.map(bytes));
      } catch (error) {
        throw new ExportFileError(lineNumber, (error as Error).message);
      }
      continue;
    }
    if ('checkpoint' in value) {
      const checkpoint = value['checkpoint'] as CheckpointLine['checkpoint'] | undefined;
      if (typeof checkpoint?.size !== 'number' || typeof checkpoint.note !== 'string') {
        throw new ExportFileError(lineNumber, 'a checkpoint line is {checkpoint: {size, note}}');
      }
      if ((checkpoints.at(-1)?.size ?? 0) >= checkpoint.size) {
        throw new ExportFileError(lineNumber, 'checkpoint lines come in increasing size');
      }
      checkpoints.push({ size: checkpoint.size, note: checkpoint.note });
      continue;
    }
    pending = admit(entryOf(value, lineNumber));
    break;
  }
  const first = pending;
  // Where the chain starts: after the frontier when there is one (so a missing first record is
  // a deletion), at sequence 1 for a whole log, else where a partial export starts, on trust.
  const startSize = tree ? tree.size - (first ? 1 : 0) : undefined;
  const start =
    startSize !== undefined && startSize > 0 && first
      ? { sequence: startSize + 1, previousHash: first.previousHash.toString('hex') }
      : startSize === undefined && first && first.sequence !== 1
        ? { sequence: first.sequence, previousHash: first.previousHash.toString('hex') }
        : undefined;
  const chain = await walkChain<FileEntry>({ next: nextEntry, ...(start ? { start } : {}) });
  // A broken chain still has a tree to rebuild: read on, so the checkpoints say what they can.
  while (await nextEntry());
  const unreached = checkpoints[checkpointIndex];
  if (unreached) failCheckpoint(unreached.size, tree ? 'beyond-log' : 'outside-file');

  return {
    chain,
    merkle: tree
      ? { checked: true, leaves: tree.size, root: tree.root().toString('hex') }
      : { checked: false, firstSequence: range?.first ?? 1 },
    checkpoints: checkpointsResult ?? {
      valid: true,
      checked,
      signaturesChecked: options.verifierKey !== undefined,
      latestSize: checkpoints.at(-1)?.size ?? null,
    },
    range,
    sha256: digest.digest('hex'),
  };
}
