import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { mediaType, RampartError, replyWithProblem, type Logger } from '@rampart/platform';
import { CSP_REPORT_PATH } from './content-security-policy.js';

/** Browsers send a handful of short reports; anything bigger is not one. */
export const CSP_REPORT_MAX_BYTES = 16 * 1024;

/** Reports logged from one body at most: the Reporting API batches, an attacker could too. */
const MAX_LOGGED_PER_BODY = 10;

/** CSP level 2's `report-uri` body (`application/csp-report`). */
export const legacyReport = z.object({
  'csp-report': z.looseObject({
    'document-uri': z.string().optional(),
    'effective-directive': z.string().optional(),
    'violated-directive': z.string().optional(),
    'blocked-uri': z.string().optional(),
    disposition: z.string().optional(),
  }),
});

/** The Reporting API's batch (`application/reports+json`); only CSP reports are read. */
export const reportingBatch = z.array(
  z.looseObject({
    type: z.string(),
    body: z
      .looseObject({
        documentURL: z.string().optional(),
        effectiveDirective: z.string().optional(),
        blockedURL: z.string().optional(),
        disposition: z.string().optional(),
      })
      .optional(),
  }),
);

interface Violation {
  directive: string;
  blocked: string;
  document: string;
  disposition: string;
}

/** Only the origin of what was blocked: a full URL may carry tokens or personal data. */
function blockedOrigin(value: string | undefined): string {
  if (!value) return 'unknown';
  if (/^[a-z-]{1,32}$/i.test(value)) return value.toLowerCase(); // inline, eval, self, data...
  try {
    const url = new URL(value);
    return url.origin === 'null' ? url.protocol : url.origin;
  } catch {
    return 'invalid';
  }
}

/** Only the path of the page: its query may carry codes, states or e-mail addresses. */
function documentPath(value: string | undefined): string {
  try {
    return value ? new URL(value).pathname.slice(0, 256) : 'unknown';
  } catch {
    return 'invalid';
  }
}

/** A directive name, nothing else: the field is free text from the browser. */
function directiveName(value: string | undefined): string {
  return /^[a-z-]{1,40}/i.exec(value?.trim() ?? '')?.[0]?.toLowerCase() ?? 'unknown';
}

function violations(contentType: string, body: unknown): Violation[] {
  if (contentType === 'application/csp-report') {
    const parsed = legacyReport.safeParse(body);
    if (!parsed.success) throw new RampartError('validation-failed', 'Not a CSP report.');
    const report = parsed.data['csp-report'];
    return [
      {
        directive: directiveName(report['effective-directive'] ?? report['violated-directive']),
        blocked: blockedOrigin(report['blocked-uri']),
        document: documentPath(report['document-uri']),
        disposition: report.disposition === 'report' ? 'report' : 'enforce',
      },
    ];
  }
  const parsed = reportingBatch.safeParse(body);
  if (!parsed.success) throw new RampartError('validation-failed', 'Not a report batch.');
  return parsed.data
    .filter((report) => report.type === 'csp-violation' && report.body)
    .map(({ body: report }) => ({
      directive: directiveName(report!.effectiveDirective),
      blocked: blockedOrigin(report!.blockedURL),
      document: documentPath(report!.documentURL),
      disposition: report!.disposition === 'report' ? 'report' : 'enforce',
    }));
}

/**
 * `POST /csp-reports`: where browsers report what the policy blocked. Public (a browser sends no
 * credentials with reports), bounded, and logged as one short line per violation with nothing
 * that could identify a person. Rate limiting belongs to the gateway's limiter (later).
 */
export async function registerCspReports(app: NestFastifyApplication, logger: Logger) {
  const log = logger.child({ component: 'csp-reports' });
  await app.register((scope: FastifyInstance, _options: unknown, done: (error?: Error) => void) => {
    // Only the two report types; anything else is 415 from Fastify itself.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/csp-report', 'application/reports+json'],
      { parseAs: 'string', bodyLimit: CSP_REPORT_MAX_BYTES },
      (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(new RampartError('bad-request', 'The report is not valid JSON.'), undefined);
        }
      },
    );
    scope.setErrorHandler((error, request, reply) => replyWithProblem(request, reply, error, log));
    scope.post(CSP_REPORT_PATH, { bodyLimit: CSP_REPORT_MAX_BYTES }, (request, reply) => {
      const contentType = mediaType(request.headers['content-type']) ?? '';
      if (request.body === undefined)
        throw new RampartError(
          'unsupported-media-type',
          'Send application/csp-report or application/reports+json.',
        );
      for (const violation of violations(contentType, request.body).slice(0, MAX_LOGGED_PER_BODY))
        log.warn({ cspViolation: violation }, 'content security policy violation');
      return reply.status(204).send();
    });
    done();
  });
}
