import { z } from 'zod';
import { ValidationFailedError } from '@rampart/platform';

/** Page size when `limit` is not given, and the most one page may hold. */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/**
 * A filter value: any text up to 256 characters but control characters (PostgreSQL text cannot
 * hold U+0000, and no identifier has the others). Anything else, markup or quotes included, is
 * compared as a plain value and simply matches nothing it does not equal.
 */
const filterText = z
  .string()
  .min(1)
  .max(256)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

const rfc3339 = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' });

export const eventsQuerySchema = z
  .strictObject({
    from: rfc3339.optional().describe('Events that happened at or after this time (RFC 3339)'),
    to: rfc3339.optional().describe('Events that happened before this time (RFC 3339)'),
    actor: filterText
      .optional()
      .describe('Who acted: actor.user.uid, actor.app_uid or actor.app_name of the record'),
    subject: filterText.optional().describe('What the event was about: target.uid of the record'),
    class: z
      .string()
      .regex(/^\d{1,6}$/, 'must be an OCSF class_uid')
      .transform(Number)
      .optional()
      .describe('OCSF class_uid, e.g. 3002 (Authentication)'),
    outcome: z
      .enum(['success', 'failure'])
      .optional()
      .describe('OCSF status: success (status_id 1) or failure (status_id 2)'),
    service: filterText.optional().describe('The producing service: metadata.product.name'),
    cursor: z.string().max(64).optional().describe('nextCursor of the previous page, to read on'),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be an integer from 1 to 1000')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_LIMIT))
      .optional()
      .describe(`Records per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`),
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) < Date.parse(query.to), {
    path: ['to'],
    message: 'must be later than from',
  });

export type EventsQueryInput = z.infer<typeof eventsQuerySchema>;

/** The filters of a query, validated; `after` is the sequence number the cursor stands for. */
export interface EventsQuery {
  from?: string;
  to?: string;
  actor?: string;
  subject?: string;
  class?: number;
  outcome?: 'success' | 'failure';
  service?: string;
  after?: number;
  limit: number;
}

const KNOWN = new Set(Object.keys(eventsQuerySchema.shape));

/** The cursor of the page after `sequence`: opaque to callers, base64url of a tagged number. */
export function encodeCursor(sequence: number): string {
  return Buffer.from(`after:${sequence}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const match = /^after:(\d{1,15})$/.exec(text);
  const sequence = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(sequence)) {
    throw new ValidationFailedError([{ path: 'cursor', message: 'not a cursor of this API' }]);
  }
  return sequence;
}

/**
 * The query string of `GET /audit/v1/events`, validated: an unknown or repeated parameter, a bad
 * value or cursor is a 400 that names the parameter.
 */
export function parseEventsQuery(raw: unknown): EventsQuery {
  const input = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const unknown = Object.keys(input).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    throw new ValidationFailedError(
      unknown.map((key) => ({ path: key.slice(0, 64), message: 'unknown parameter' })),
    );
  }
  const result = eventsQuerySchema.safeParse(input);
  if (!result.success) {
    throw new ValidationFailedError(
      result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(query)',
        message: Array.isArray(input[String(issue.path[0])]) ? 'must be given once' : issue.message,
      })),
    );
  }
  const { cursor, limit, ...filters } = result.data;
  const query: EventsQuery = { limit: limit ?? DEFAULT_LIMIT };
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined) Object.assign(query, { [key]: value });
  }
  if (cursor !== undefined) query.after = decodeCursor(cursor);
  return query;
}

export const auditEventView = z.object({
  sequence: z.number().int().describe('Place of the record in the chain'),
  previousHash: z.string().describe('Hash of the record before it (hex)'),
  hash: z.string().describe('Hash of this chain entry (hex), as /audit/v1/verify computes it'),
  record: z
    .record(z.string(), z.unknown())
    .describe('The stored OCSF record: persons pseudonymised, their details sealed (as hashed)'),
  details: z
    .union([
      z.strictObject({ erased: z.literal(true) }),
      z.object({ data: z.unknown(), src_endpoint: z.unknown().optional() }),
    ])
    .optional()
    .describe(
      "The record's sealed details, opened: its original data and source endpoint, or { erased: true } once the person was erased. Absent when nothing was sealed.",
    ),
});

export const eventsPageView = z.object({
  events: z.array(auditEventView),
  nextCursor: z
    .string()
    .nullable()
    .describe('Pass as cursor to read the next page; null on the last page'),
});

export type AuditEventView = z.infer<typeof auditEventView>;
export type EventsPage = z.infer<typeof eventsPageView>;
