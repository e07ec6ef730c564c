import { z } from 'zod';
import type { EntityManager } from 'typeorm';
import { ValidationFailedError } from '@rampart/platform';
import { readExportLines } from '../query/audit-query.repository.js';
import { checkpointStore } from '../checkpoints/checkpoint-store.js';
import { merkleStore } from '../transparency/merkle-store.js';
import { checkpointLine, frontierLine } from './export-file.js';

/** Records per export when `limit` is not given, and the most one export may hold. */
export const DEFAULT_EXPORT_LIMIT = 1000;
export const MAX_EXPORT_LIMIT = 10_000;

export const exportQuerySchema = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a sequence number')
    .transform(Number)
    .optional()
    .describe('Export the records after this sequence number (default 0: from the first)'),
  limit: z
    .string()
    .regex(/^\d{1,5}$/, `must be an integer from 1 to ${MAX_EXPORT_LIMIT}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_EXPORT_LIMIT))
    .optional()
    .describe(`Records in the file, 1 to ${MAX_EXPORT_LIMIT} (default ${DEFAULT_EXPORT_LIMIT})`),
  proofs: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe(
      'Begin the file with the Merkle frontier before it and the signed checkpoints within it, so that `rampart audit verify --file` checks it against them (default false)',
    ),
});

export interface ExportRange {
  after: number;
  limit: number;
  /** Whether the frontier and checkpoint lines come first (`export-file.ts`). */
  proofs?: boolean;
}

/** The query string of `GET /audit/v1/export`; a bad or unknown parameter is a 400 naming it. */
export function parseExportQuery(raw: unknown): ExportRange {
  const result = exportQuerySchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ValidationFailedError(
      result.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: key.slice(0, 64), message: 'unknown parameter' }))
          : [{ path: issue.path.map(String).join('.') || '(query)', message: issue.message }],
      ),
    );
  }
  return {
    after: result.data.after ?? 0,
    limit: result.data.limit ?? DEFAULT_EXPORT_LIMIT,
    proofs: result.data.proofs ?? false,
  };
}

/**
 * A SIEM export: the records after `range.after`, in sequence order, as NDJSON — one line per
 * record, each `{"sequence","previousHash","hash","record"}`, the `data` of the stream's messages
 * (docs/security-teams-stream.md), so a file is verified the same way; a pruned record is its
 * tombstone line. With `proofs`, the frontier and checkpoint lines come first. Continue from the
 * last line's sequence. Returns the text and how many records it holds.
 */
export async function exportNdjson(
  db: Pick<EntityManager, 'query'>,
  range: ExportRange,
): Promise<{ ndjson: string; records: number; last: number | undefined }> {
  const lines = await readExportLines(db, range.after, range.limit);
  const last = lines.at(-1)?.sequence;
  const header = range.proofs && last !== undefined ? await proofHeader(db, range.after, last) : '';
  return {
    ndjson: header + lines.map((line) => `${JSON.stringify(line)}\n`).join(''),
    records: lines.length,
    last,
  };
}

/**
 * The lines that let a file of the records `after + 1` to `last` prove itself: the stored tree's
 * frontier at `after` (nothing for a file from the first record) and every signed checkpoint of a
 * size in the file's range.
 */
export async function proofHeader(
  db: Pick<EntityManager, 'query'>,
  after: number,
  last: number,
): Promise<string> {
  let header = '';
  if (after > 0) header += frontierLine(after, await merkleStore.frontier(db, after));
  for (let from = after; ;) {
    const batch = await checkpointStore.readAfter(db, from, 1_000);
    const inRange = batch.filter((checkpoint) => checkpoint.size <= last);
    header += inRange.map(checkpointLine).join('');
    if (inRange.length < batch.length || batch.length < 1_000) return header;
    from = batch.at(-1)!.size;
  }
}
