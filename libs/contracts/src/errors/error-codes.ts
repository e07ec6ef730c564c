/**
 * The closed catalogue of error codes every Rampart API answers with. Codes are stable: clients
 * may branch on them. Each code maps to an RFC 9457 problem `type` URI and a default status.
 */
export const ERROR_CODES = {
  'bad-request': { status: 400, title: 'Bad request' },
  'validation-failed': { status: 400, title: 'Request validation failed' },
  /** Wrong key, wrong associated data or tampered ciphertext: deliberately one answer for all. */
  'decryption-failed': { status: 400, title: 'Decryption failed' },
  /** The resource exists but is not in a state that allows the operation (a disabled key version). */
  'failed-precondition': { status: 400, title: 'Failed precondition' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  /** The key (version) was destroyed: what it protected is unrecoverable, on purpose (crypto-shredding). */
  'key-destroyed': { status: 410, title: 'Key destroyed' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  'bad-gateway': { status: 502, title: 'Bad gateway' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  'gateway-timeout': { status: 504, title: 'Gateway timeout' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The `type` member of a problem document for a code. */
export function problemType(code: ErrorCode): string {
  return `urn:rampart:problem:${code}`;
}

/** RFC 9457 problem details as Rampart serialises them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ErrorCode;
  /** Present on every 5xx: the id under which the failure was logged. */
  errorId?: string;
  /** Field-level validation issues. */
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}
