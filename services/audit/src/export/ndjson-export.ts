import { z } from 'zod';
import type { EntityManager } from 'typeorm';
import { ValidationFailedError } from '@rampart/platform';
import { queryAuditRecords } from '../query/audit-query.repository.js';

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
});

export interface ExportRange {
  after: number;
  limit: number;
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
  return { after: result.data.after ?? 0, limit: result.data.limit ?? DEFAULT_EXPORT_LIMIT };
}

/**
 * A SIEM export: the records after `range.after`, in sequence order, as NDJSON — one line per
 * record, each `{"sequence","previousHash","hash","record"}`, the `data` of the stream's messages
 * (docs/security-teams-stream.md), so a file is verified the same way. Continue from the last
 * line's sequence. Returns the text and how many records it holds.
 */
export async function exportNdjson(
  db: Pick<EntityManager, 'query'>,
  range: ExportRange,
): Promise<{ ndjson: string; records: number; last: number | undefined }> {
  const records = await queryAuditRecords(
    db,
    { after: range.after, limit: range.limit },
    range.limit,
  );
  return {
    ndjson: records.map((record) => `${JSON.stringify(record)}\n`).join(''),
    records: records.length,
    last: records.at(-1)?.sequence,
  };
}
