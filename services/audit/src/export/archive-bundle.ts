import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { verifyExportFile, type ExportFileResult } from './export-file.js';

/** The files of an archive bundle (ADR 0025): the log, and what it claims to hold. */
export const ARCHIVE_LOG_FILE = 'log.ndjson';
export const ARCHIVE_MANIFEST_FILE = 'manifest.json';
export const ARCHIVE_FORMAT = 'rampart-audit-archive/1';

export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  id: string;
  /** The records `firstSequence` to `lastSequence`, all of them, every class. */
  firstSequence: number;
  lastSequence: number;
  /** The signed checkpoint that closes the range (its size is `lastSequence`). */
  checkpointSize: number;
  /** SHA-256 of `log.ndjson`, hex. */
  sha256: string;
  createdAt: string;
}

/** A file's lines, streamed (an archive can be far larger than memory). */
export function fileLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
}

export type ArchiveProblem = 'manifest' | 'digest' | 'range' | 'no-checkpoint';

export interface ArchiveVerifyResult extends ExportFileResult {
  manifest: ArchiveManifest | undefined;
  /** The bundle as a whole: its manifest against its log, on top of the log's own checks. */
  archive: { valid: true } | { valid: false; problem: ArchiveProblem };
}

function readManifest(text: string): ArchiveManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<ArchiveManifest>;
    const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
    if (
      value.format !== ARCHIVE_FORMAT ||
      typeof value.id !== 'string' ||
      !whole(value.firstSequence) ||
      !whole(value.lastSequence) ||
      !whole(value.checkpointSize) ||
      typeof value.sha256 !== 'string' ||
      typeof value.createdAt !== 'string'
    ) {
      return undefined;
    }
    return value as ArchiveManifest;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an archive bundle: its log as any export file (chain, tree from the frontier,
 * checkpoints and their signatures), and that the log is the one its manifest describes: the
 * same digest, the whole announced range, closed by a valid signed checkpoint of its last record.
 */
export async function verifyArchiveDirectory(
  directory: string,
  options: { verifierKey?: string | undefined; onLine?: (bytes: number) => void } = {},
): Promise<ArchiveVerifyResult> {
  const manifest = readManifest(await readFile(join(directory, ARCHIVE_MANIFEST_FILE), 'utf8'));
  await stat(join(directory, ARCHIVE_LOG_FILE));
  const result = await verifyExportFile(fileLines(join(directory, ARCHIVE_LOG_FILE)), options);
  const problem = ((): ArchiveProblem | undefined => {
    if (!manifest) return 'manifest';
    if (manifest.sha256 !== result.sha256) return 'digest';
    if (
      result.range?.first !== manifest.firstSequence ||
      result.range.last !== manifest.lastSequence ||
      manifest.checkpointSize !== manifest.lastSequence
    ) {
      return 'range';
    }
    if (!result.checkpoints.valid || result.checkpoints.latestSize !== manifest.checkpointSize) {
      return 'no-checkpoint';
    }
    return undefined;
  })();
  return { ...result, manifest, archive: problem ? { valid: false, problem } : { valid: true } };
}

/** Everything checked out: the chain, the tree, the checkpoints and the bundle. */
export const archiveValid = (result: ArchiveVerifyResult): boolean =>
  result.chain.valid && result.merkle.checked && result.checkpoints.valid && result.archive.valid;
