import { randomUUID } from 'node:crypto';
import { ERROR_CODES, problemType, type ErrorCode, type ProblemDetails } from '@rampart/contracts';
import { RampartError } from './rampart-error.js';

export interface ProblemLogger {
  error(object: Record<string, unknown>, message: string): void;
}

/**
 * The code of a framework error that carries only a status. Several codes share 400; the first
 * declared (`bad-request`) is the general one, so a malformed URL or JSON body is not reported
 * as, say, a `failed-precondition`.
 */
const STATUS_TO_CODE = new Map<number, ErrorCode>();
for (const [code, { status }] of Object.entries(ERROR_CODES)) {
  if (!STATUS_TO_CODE.has(status)) STATUS_TO_CODE.set(status, code as ErrorCode);
}

function codeForStatus(status: number): ErrorCode {
  return STATUS_TO_CODE.get(status) ?? (status >= 500 ? 'internal' : 'bad-request');
}

/** Errors thrown by Fastify or Nest that carry an HTTP status of their own. */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { getStatus?: () => number; statusCode?: unknown; status?: unknown };
  if (typeof candidate.getStatus === 'function') return candidate.getStatus();
  if (typeof candidate.statusCode === 'number') return candidate.statusCode;
  return undefined;
}

/**
 * Turns anything thrown into an RFC 9457 problem document. 4xx keep their detail; every 5xx gets
 * a fresh error id that is logged together with the real error and returned instead of it, so an
 * operator can find the cause while the client learns nothing about internals.
 */
export function toProblem(error: unknown, instance: string, logger: ProblemLogger): ProblemDetails {
  if (error instanceof RampartError) {
    const problem: ProblemDetails = {
      type: problemType(error.code),
      title: ERROR_CODES[error.code].title,
      status: error.status,
      code: error.code,
      instance,
    };
    if (error.expose) {
      if (error.detail) problem.detail = error.detail;
      Object.assign(problem, error.extensions);
      return problem;
    }
    return withErrorId(problem, error, logger);
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    const code = codeForStatus(status);
    return {
      type: problemType(code),
      title: ERROR_CODES[code].title,
      status,
      code,
      instance,
      // Framework 4xx messages describe the request, not our internals (e.g. "Route GET /x not found").
      detail: error instanceof Error ? error.message : undefined,
    };
  }
  const code = status !== undefined && status >= 500 ? codeForStatus(status) : 'internal';
  return withErrorId(
    {
      type: problemType(code),
      title: ERROR_CODES[code].title,
      status: ERROR_CODES[code].status,
      code,
      instance,
    },
    error,
    logger,
  );
}

function withErrorId(
  problem: ProblemDetails,
  error: unknown,
  logger: ProblemLogger,
): ProblemDetails {
  const errorId = randomUUID();
  logger.error({ err: error, errorId, status: problem.status }, 'request failed');
  return {
    ...problem,
    errorId,
    detail: `The request failed. Quote error id ${errorId} when reporting it.`,
  };
}
