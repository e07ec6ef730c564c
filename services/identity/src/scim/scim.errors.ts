import type { ProblemDetails } from '@rampart/contracts';
import { RampartError } from '@rampart/platform';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 section 3.12 that this server answers with. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue';

/** A SCIM error body (RFC 7644 section 3.12): `status` is a string there. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: string;
  detail?: string;
}

/**
 * SCIM refusals are RampartErrors like any other (so logging, 5xx hiding and error ids stay the
 * platform's); the `scimType` travels as an extension of the problem, which the SCIM response
 * hook turns into the SCIM error body.
 */
export function invalidValue(detail: string): RampartError {
  return new RampartError('validation-failed', detail, { scimType: 'invalidValue' });
}

export function invalidPath(detail: string): RampartError {
  return new RampartError('validation-failed', detail, { scimType: 'invalidPath' });
}

export function noTarget(detail: string): RampartError {
  return new RampartError('validation-failed', detail, { scimType: 'noTarget' });
}

export function uniqueness(detail: string): RampartError {
  return new RampartError('conflict', detail, { scimType: 'uniqueness' });
}

export function resourceNotFound(
  resourceType: 'User' | 'Group' | 'ResourceType' | 'Schema',
): RampartError {
  return new RampartError('not-found', `No ${resourceType} with this id.`);
}

/** If-Match named another version: RFC 7644 section 3.14 answers 412. */
export function preconditionFailed(): RampartError {
  return new RampartError(
    'failed-precondition',
    'The resource has changed: If-Match does not name its current version.',
    {},
    { status: 412 },
  );
}

/**
 * The SCIM error body for a problem document. Field issues of a `validation-failed` problem are
 * folded into `detail`, since the SCIM body has no place for them. A 400 without a `scimType`
 * of its own is `invalidValue` when the body was read but refused, `invalidSyntax` when it could
 * not be read (malformed JSON, an empty body).
 */
export function toScimError(problem: ProblemDetails): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(problem.status) };
  const scimType =
    typeof problem['scimType'] === 'string'
      ? problem['scimType']
      : problem.status === 400
        ? problem.code === 'validation-failed'
          ? 'invalidValue'
          : 'invalidSyntax'
        : undefined;
  if (scimType !== undefined) body.scimType = scimType;
  const issues = Array.isArray(problem.errors)
    ? problem.errors.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
    : '';
  const detail = [problem.detail, issues].filter(Boolean).join(' ');
  if (detail) body.detail = detail;
  return body;
}
